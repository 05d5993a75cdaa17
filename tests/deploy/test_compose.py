"""docker-compose.yaml, Dockerfile and .env.example: schema-valid, complete, consistent, secret-free.

Every check also runs on a deliberately broken copy, to prove it can fail.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from deploy_checks import (
    REPO,
    ca_volume_problems,
    common_block_problems,
    connection_problems,
    default_connection,
    dependency_problems,
    dockerfile_problems,
    emulator_reachability_problems,
    executor_problems,
    healthcheck_problems,
    interpolate,
    load_compose,
    missing_services,
    parse_env_file,
    salesforce_login_problems,
    schema_errors,
    secret_problems,
    undocumented_variables,
    work_dir_problems,
    worker_scaling_problems,
)

from sf_emulator.process import EmulatorProcess
from sf_emulator.routers.auth import CONSUMER_KEY, CONSUMER_SECRET
from task_sync.connections import open_gateway

COMPOSE_TEXT = (REPO / "docker-compose.yaml").read_text()
ENV_EXAMPLE = parse_env_file((REPO / ".env.example").read_text())
DOCKERFILE = (REPO / "Dockerfile").read_text()
REQUIREMENTS = (REPO / "requirements.txt").read_text()


@pytest.fixture
def compose() -> dict[str, Any]:
    return load_compose()


def test_compose_file_matches_the_compose_specification(compose: dict[str, Any]) -> None:
    assert schema_errors(compose) == []


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (lambda c: c["services"]["redis"].update(healthchek={"test": ["CMD", "true"]}), "healthchek"),
        (lambda c: c["services"]["airflow-worker"]["depends_on"]["redis"].update(condition="ready"), "ready"),
        (lambda c: c["services"]["postgres"].update(ports="5432:5432"), "ports"),
        (lambda c: c.update(servics={}), "servics"),
    ],
    ids=["misspelt-key", "bad-condition", "ports-not-a-list", "unknown-top-level"],
)
def test_schema_rejects_a_broken_compose_file(
    compose: dict[str, Any], breakage: Callable[[dict[str, Any]], None], expected: str
) -> None:
    broken = copy.deepcopy(compose)
    breakage(broken)
    errors = schema_errors(broken)
    assert errors and any(expected in e for e in errors), errors


def test_every_service_of_the_stack_is_defined(compose: dict[str, Any]) -> None:
    assert missing_services(compose) == []
    del compose["services"]["airflow-dag-processor"]
    assert missing_services(compose) == ["service airflow-dag-processor missing"]


def test_airflow_components_share_image_build_and_environment(compose: dict[str, Any]) -> None:
    assert common_block_problems(compose) == []
    assert compose["x-airflow-common"]["build"]["dockerfile"] == "Dockerfile"
    # The emulator runs from the same image (the library is installed in it).
    assert compose["services"]["sf-emulator"]["image"] == compose["x-airflow-common"]["image"]


def test_common_block_check_catches_drift(compose: dict[str, Any]) -> None:
    compose["services"]["airflow-scheduler"]["image"] = "apache/airflow:3.3.2"
    del compose["services"]["airflow-worker"]["environment"]["AIRFLOW__API_AUTH__JWT_SECRET"]
    assert common_block_problems(compose) == [
        "airflow-scheduler: image differs from x-airflow-common",
        "airflow-worker: environment AIRFLOW__API_AUTH__JWT_SECRET differs from x-airflow-common",
    ]


def test_long_running_services_have_health_checks(compose: dict[str, Any]) -> None:
    assert healthcheck_problems(compose) == []
    del compose["services"]["airflow-triggerer"]["healthcheck"]
    compose["services"]["redis"]["healthcheck"] = {"disable": True}
    assert healthcheck_problems(compose) == ["redis: no health check", "airflow-triggerer: no health check"]


def test_startup_order_uses_conditions(compose: dict[str, Any]) -> None:
    assert dependency_problems(compose) == []
    compose["services"]["airflow-worker"]["depends_on"]["airflow-apiserver"]["condition"] = "service_started"
    compose["services"]["airflow-scheduler"]["depends_on"] = ["postgres", "redis"]
    assert dependency_problems(compose) == [
        "airflow-scheduler: depends_on must use conditions",
        "airflow-worker: depends_on airflow-apiserver is 'service_started', expected 'service_healthy'",
    ]


def test_emulator_ca_is_shared_read_only_with_every_airflow_component(compose: dict[str, Any]) -> None:
    assert ca_volume_problems(compose) == []
    ca_file = default_connection(compose, "AIRFLOW_CONN_SALESFORCE_DEFAULT")["extra"]["ca_bundle"]
    assert ca_file == "/opt/airflow/sf-emulator-ca/ca.pem"
    worker = compose["services"]["airflow-worker"]
    worker["volumes"] = [v.replace(":ro", "") for v in worker["volumes"]]
    assert ca_volume_problems(compose) == [
        "airflow-worker: /opt/airflow/sf-emulator-ca should be sf-emulator-ca read-only, is ('sf-emulator-ca', 'rw')"
    ]


def test_sync_run_folder_is_one_volume_shared_by_every_component(compose: dict[str, Any]) -> None:
    assert work_dir_problems(compose) == []
    worker = compose["services"]["airflow-worker"]
    worker["volumes"] = [v for v in worker["volumes"] if not v.startswith("sales-connect-var:")]
    init = compose["services"]["airflow-init"]
    init["command"] = [line.replace(" /opt/airflow/var ", " ") for line in init["command"]]
    assert work_dir_problems(compose) == [
        "airflow-worker: nothing shared is mounted at /opt/airflow/var/runs",
        "airflow-init does not hand /opt/airflow/var to the Airflow user",
    ]


def test_emulator_is_reachable_under_the_name_in_the_connection(compose: dict[str, Any]) -> None:
    assert emulator_reachability_problems(compose) == []
    compose["services"]["sf-emulator"]["command"] = ["--port", "8443", "--state", "/var/lib/sf-emulator/org.sqlite3"]
    assert emulator_reachability_problems(compose) == [
        "sf-emulator must listen on 0.0.0.0 (--host) to be reachable from other containers",
        "sf-emulator certificate does not cover sf-emulator (--hostname)",
    ]


def test_salesforce_connection_uses_the_client_credentials_login_the_sync_reads(compose: dict[str, Any]) -> None:
    assert salesforce_login_problems(compose) == []
    env = compose["x-airflow-common"]["environment"]
    # The former layout: the emulator's session id in the password field, which the sync never reads.
    env["AIRFLOW_CONN_SALESFORCE_DEFAULT"] = (
        '{"conn_type": "salesforce", "password": "${SALESFORCE_SESSION_ID:?set it}",'
        ' "extra": {"instance_url": "https://sf-emulator:8443", "session_id": "${SALESFORCE_SESSION_ID:?set it}"}}'
    )
    assert salesforce_login_problems(compose) == [
        "salesforce_default has no consumer_key extra (the sync's client-credentials login)",
        "salesforce_default has no consumer_secret extra (the sync's client-credentials login)",
        "salesforce_default sets login/password: the sync would try a SOAP login instead",
        "salesforce_default carries a fixed session_id: it expires and must be copied by hand",
    ]


def test_salesforce_connection_logs_the_sync_in_to_an_emulator(
    compose: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The compose connection, filled in as .env.example says, is one the sync's own login code accepts.

    Only the address differs from a compose deployment: a local emulator instead of the
    sf-emulator service (no Docker engine here), set through the file's own variables.
    """
    with EmulatorProcess(state=tmp_path / "org.sqlite3") as emu:
        info = emu.info()
        env = {"SALESFORCE_INSTANCE_URL": emu.instance_url, "SALESFORCE_CA_BUNDLE": emu.ca_bundle,
               "SALESFORCE_CONSUMER_KEY": info["consumer_key"], "SALESFORCE_CONSUMER_SECRET": info["consumer_secret"]}
        conn = interpolate(compose["x-airflow-common"]["environment"]["AIRFLOW_CONN_SALESFORCE_DEFAULT"], env)
        monkeypatch.setenv("AIRFLOW_CONN_SALESFORCE_DEFAULT", conn)
        gateway = open_gateway("salesforce_default")
        assert abs(gateway.server_time() - emu.clock()) < dt.timedelta(minutes=1)
        # The emulator's connected app is what .env.example tells people to use.
        assert (info["consumer_key"], info["consumer_secret"]) == (CONSUMER_KEY, CONSUMER_SECRET)


def test_executor_is_celery_on_redis_with_a_psycopg2_result_backend(compose: dict[str, Any]) -> None:
    assert executor_problems(compose) == []
    env = compose["x-airflow-common"]["environment"]
    env["AIRFLOW__CORE__EXECUTOR"] = "LocalExecutor"
    env["AIRFLOW__CELERY__RESULT_BACKEND"] = "db+postgresql://airflow:x@postgres/airflow"
    assert executor_problems(compose) == [
        "executor is 'LocalExecutor', not CeleryExecutor",
        "result backend must be db+postgresql+psycopg2:// (plain db+postgresql picks psycopg v3)",
    ]


def test_no_secret_is_committed(compose: dict[str, Any]) -> None:
    assert secret_problems(compose, ENV_EXAMPLE) == []


def test_secret_check_catches_literal_secrets(compose: dict[str, Any]) -> None:
    env = compose["x-airflow-common"]["environment"]
    env["AIRFLOW__CORE__FERNET_KEY"] = "Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyMTI="
    env["AIRFLOW__API__SECRET_KEY"] = "${AIRFLOW_API_SECRET_KEY:-not-so-secret}"
    env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = "postgresql+psycopg2://airflow:hunter2@postgres/airflow"
    env["AIRFLOW_CONN_SALESFORCE_DEFAULT"] = (
        '{"conn_type": "salesforce", "password": "00Dxx!abc", "extra": {"consumer_secret": "${SECRET:-s3cret}"}}'
    )
    example = {**ENV_EXAMPLE, "AIRFLOW_JWT_SECRET": "a-real-looking-secret"}
    assert secret_problems(compose, example) == [
        "AIRFLOW__CORE__FERNET_KEY: must be a required ${VAR:?...} from .env, not a value or a default",
        "AIRFLOW__API__SECRET_KEY: must be a required ${VAR:?...} from .env, not a value or a default",
        "AIRFLOW_CONN_SALESFORCE_DEFAULT: password must be a required ${VAR:?...} from .env",
        "AIRFLOW_CONN_SALESFORCE_DEFAULT: consumer_secret must be a required ${VAR:?...} from .env",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: password written into the file",
        ".env.example AIRFLOW_JWT_SECRET: must be the placeholder CHANGE_ME, not a value",
    ]


def test_compose_refuses_to_start_without_the_secrets() -> None:
    secret = load_compose()["x-airflow-common"]["environment"]["AIRFLOW__API_AUTH__JWT_SECRET"]
    with pytest.raises(KeyError, match="AIRFLOW_JWT_SECRET"):
        interpolate(secret, {})
    assert interpolate(secret, {"AIRFLOW_JWT_SECRET": "abc"}) == "abc"


def test_worker_scales(compose: dict[str, Any]) -> None:
    assert worker_scaling_problems(compose) == []
    compose["services"]["airflow-worker"]["container_name"] = "worker"
    compose["services"]["airflow-worker"]["deploy"]["replicas"] = 1
    assert worker_scaling_problems(compose) == [
        "airflow-worker has a container_name, so it cannot scale",
        "airflow-worker deploy.replicas is 1, expected an integer >= 2",
    ]


def test_every_required_variable_is_documented_in_env_example() -> None:
    assert undocumented_variables(COMPOSE_TEXT, ENV_EXAMPLE) == []
    trimmed = {k: v for k, v in ENV_EXAMPLE.items() if k != "POSTGRES_PASSWORD"}
    assert undocumented_variables(COMPOSE_TEXT, trimmed) == [
        "${POSTGRES_PASSWORD} used without a default but missing from .env.example"
    ]


def test_connections_are_json_once_env_is_filled(compose: dict[str, Any]) -> None:
    assert connection_problems(compose, ENV_EXAMPLE) == []
    compose["x-airflow-common"]["environment"]["AIRFLOW_CONN_SALES_CONNECT_DB"] = '{"conn_type": "postgres",}'
    problems = connection_problems(compose, ENV_EXAMPLE)
    assert len(problems) == 1 and problems[0].startswith("AIRFLOW_CONN_SALES_CONNECT_DB: not a JSON connection")


def test_dockerfile_pins_the_airflow_version_of_requirements() -> None:
    assert dockerfile_problems(DOCKERFILE, REQUIREMENTS) == []
    drifted = DOCKERFILE.replace("apache/airflow:3.3.2-python3.11", "apache/airflow:3.3.1-python3.12")
    assert dockerfile_problems(drifted, REQUIREMENTS) == [
        "Dockerfile uses Airflow 3.3.1, requirements.txt pins 3.3.2",
        "Dockerfile uses Python 3.12, the project needs 3.11",
    ]


def test_docker_build_context_leaves_out_secrets_and_local_state() -> None:
    ignored = set((REPO / ".dockerignore").read_text().split())
    assert {".env", ".venv", ".git", "var"} <= ignored
