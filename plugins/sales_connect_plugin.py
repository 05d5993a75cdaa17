"""Registers the Sales Connect pages with Airflow (issue #6).

The pages live in the ``sales_connect_ui`` package next to this file, which
``.airflowignore`` hides from Airflow's one-module-per-file plugin scan.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin
from sales_connect_ui.app import URL_PREFIX, create_app

_CATEGORY = "Sales Connect"


class SalesConnectPlugin(AirflowPlugin):
    name = "sales_connect"
    fastapi_apps = [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "Sales Connect"}]
    external_views = [
        {
            "name": "Command Center",
            "href": f"{URL_PREFIX}/command-center",
            "destination": "nav",
            "category": _CATEGORY,
            "url_route": "sales-connect",
        },
        {
            "name": "Sync settings",
            "href": f"{URL_PREFIX}/settings",
            "destination": "nav",
            "category": _CATEGORY,
            "url_route": "sales-connect-settings",
        },
        {
            "name": "Sync history",
            "href": f"{URL_PREFIX}/history",
            "destination": "nav",
            "category": _CATEGORY,
            "url_route": "sales-connect-history",
        },
    ]
