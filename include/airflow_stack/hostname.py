"""Hostname callable for Airflow components that share one machine.

Airflow records ``socket.getfqdn()`` as each task instance's hostname, so two
Celery workers on one machine are indistinguishable in the UI and the REST API.
The launcher points ``[core] hostname_callable`` here and gives each worker its
Celery node name (``worker1@host``) in ``AIRFLOW_STACK_HOSTNAME``.
"""

from __future__ import annotations

import os

HOSTNAME_ENV = "AIRFLOW_STACK_HOSTNAME"


def stack_hostname() -> str:
    """The name this process reports to Airflow: the launcher-assigned name, else Airflow's default."""
    from airflow.utils.net import getfqdn

    return os.environ.get(HOSTNAME_ENV) or getfqdn()
