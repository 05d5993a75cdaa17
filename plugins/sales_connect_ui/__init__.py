"""Sales Connect pages inside Airflow: settings, Command Center and sync history.

Web glue only: every rule lives in ``sales_connect`` (the store) and the sync
DAG; this package turns HTTP requests from signed-in Airflow users into store
calls and Airflow REST calls. ``plugins/sales_connect_plugin.py`` registers it.
"""
