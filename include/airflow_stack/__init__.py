"""Run a complete Airflow stack on this machine as plain processes (no Docker).

The stack mirrors ``docker-compose.yaml`` (api-server, scheduler, dag-processor,
triggerer, Celery workers, the Salesforce emulator) on the machine's own
PostgreSQL and Redis, with databases, Airflow home, ports and Redis key prefix
private to each stack, so tests and demos running side by side never collide.
Use :class:`AirflowStack` from Python, or ``python -m airflow_stack`` from a shell.
"""

from airflow_stack.stack import AirflowStack, StackError, stop_stack

__all__ = ["AirflowStack", "StackError", "stop_stack"]
