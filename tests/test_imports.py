"""Every DAG file and plugin loads through Airflow's own loaders, with no import error."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_every_dag_file_imports_through_the_dagbag(airflow_db: Path) -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))

    assert bag.import_errors == {}
    assert "sales_connect_task_sync" in bag.dags
    dag = bag.dags["sales_connect_task_sync"]
    assert dag.max_active_runs == 1 and dag.catchup is False
    assert {"dry_run", "user_ids", "full_reconcile", "preview_enable"} <= set(dag.params)


def test_every_plugin_loads_through_the_plugins_manager(airflow_db: Path) -> None:
    from airflow import plugins_manager

    fastapi_apps, _middlewares = plugins_manager.get_fastapi_plugins()

    assert plugins_manager.get_import_errors() == {}
    names = {p["name"] for p in plugins_manager.get_plugin_info()}
    assert names, "no plugin was loaded from plugins/"
    assert fastapi_apps, "the plugin mounts no FastAPI app"
