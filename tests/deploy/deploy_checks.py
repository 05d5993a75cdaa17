"""Checks on docker-compose.yaml, the Dockerfile and .env.example, written as plain functions.

Each check returns a list of problems (empty = fine), so the tests can run it
on the real files and on deliberately broken copies, proving it can fail.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SCHEMA_PATH = HERE / "compose-spec.json"

AIRFLOW_SERVICES = (
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "airflow-init",
)
REQUIRED_SERVICES = (*AIRFLOW_SERVICES, "postgres", "redis", "sf-emulator")
ONE_SHOT_SERVICES = ("airflow-init",)
SECRET_SETTINGS = (
    "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__API__SECRET_KEY",
)
PLACEHOLDER = "CHANGE_ME"
_SECRET_NAME = re.compile(r"(PASSWORD|SECRET|FERNET|SESSION_ID|TOKEN)", re.IGNORECASE)
# Connection fields that hold a secret: each must be a required ${VAR:?...} from .env.
_LITERAL_CONN_SECRET = re.compile(
    r'"(?P<field>password|consumer_secret|session_id|security_token)":\s*"(?!\$\{[A-Za-z_][A-Za-z0-9_]*:\?)'
)
_INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def load_compose(path: Path = REPO / "docker-compose.yaml") -> dict[str, Any]:
    """The compose file as Compose reads it (anchors and `<<` merges resolved).

    The JSON round trip gives every service its own copy of aliased blocks, as
    Compose does, so changing one service in a test leaves the others alone.
    """
    return json.loads(json.dumps(yaml.safe_load(path.read_text())))


def schema_errors(compose: Mapping[str, Any]) -> list[str]:
    """Violations of the Compose Specification's JSON schema (vendored, see README.md here)."""
    schema = json.loads(SCHEMA_PATH.read_text())
    validator = jsonschema.Draft7Validator(schema)
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(compose)]


def parse_env_file(text: str) -> dict[str, str]:
    """KEY=VALUE lines of a .env file (comments and blanks skipped)."""
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, sep, value = line.partition("=")
            if not sep:
                raise ValueError(f"not KEY=VALUE: {line!r}")
            values[key.strip()] = value.strip()
    return values


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}`, `${VAR:?error}` and `$$` substitution."""

    def replace(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if env.get(name):
            return env[name]
        if op in (":-", "-"):
            return arg
        if op in (":?", "?"):
            raise KeyError(f"{name}: {arg}")
        return ""

    return _INTERPOLATION.sub(replace, value.replace("$$", "\0")).replace("\0", "$")


def variables_used(text: str) -> dict[str, str | None]:
    """Every `${VAR...}` in the file -> its operator (`:-`, `:?`, ... or None)."""
    return {m["name"]: m["op"] for m in _INTERPOLATION.finditer(text.replace("$$", ""))}


# --------------------------------------------------------------------------- structure
def missing_services(compose: Mapping[str, Any]) -> list[str]:
    return [f"service {name} missing" for name in REQUIRED_SERVICES if name not in compose.get("services", {})]


def common_block_problems(compose: Mapping[str, Any]) -> list[str]:
    """Every Airflow component runs the x-airflow-common image/build with the whole common environment."""
    common = compose["x-airflow-common"]
    problems = []
    for name in AIRFLOW_SERVICES:
        service = compose["services"].get(name, {})
        for key in ("image", "build"):
            if service.get(key) != common.get(key):
                problems.append(f"{name}: {key} differs from x-airflow-common")
        env = service.get("environment", {})
        for key, value in common["environment"].items():
            if env.get(key) != value:
                problems.append(f"{name}: environment {key} differs from x-airflow-common")
    return problems


def healthcheck_problems(compose: Mapping[str, Any]) -> list[str]:
    problems = []
    for name, service in compose["services"].items():
        if name in ONE_SHOT_SERVICES:
            continue
        check = service.get("healthcheck") or {}
        if not check.get("test") or check.get("disable"):
            problems.append(f"{name}: no health check")
    return problems


def dependency_problems(compose: Mapping[str, Any]) -> list[str]:
    """Airflow waits for healthy postgres+redis and a successful airflow-init; workers for the api-server."""
    services = compose["services"]
    problems = []
    for name in AIRFLOW_SERVICES:
        deps = services.get(name, {}).get("depends_on", {})
        if not isinstance(deps, dict):
            problems.append(f"{name}: depends_on must use conditions")
            continue
        expected = {"postgres": "service_healthy", "redis": "service_healthy"}
        if name != "airflow-init":
            expected["airflow-init"] = "service_completed_successfully"
        if name == "airflow-worker":
            expected["airflow-apiserver"] = "service_healthy"
        for dep, condition in expected.items():
            got = (deps.get(dep) or {}).get("condition")
            if got != condition:
                problems.append(f"{name}: depends_on {dep} is {got!r}, expected {condition!r}")
    for name, service in services.items():
        for dep in service.get("depends_on", {}) or {}:
            if dep not in services:
                problems.append(f"{name}: depends_on unknown service {dep}")
    return problems


def _mounts(service: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """target -> (source, mode) of a service's short-syntax volumes."""
    found = {}
    for spec in service.get("volumes", []):
        source, target, *mode = spec.split(":")
        found[target] = (source, mode[0] if mode else "rw")
    return found


def default_connection(compose: Mapping[str, Any], key: str) -> dict[str, Any]:
    """Connection ``key`` of x-airflow-common as Airflow gets it when .env sets only the required
    variables (each to ``PLACEHOLDER``) and leaves the defaulted ones to the compose file."""
    value = str(compose["x-airflow-common"]["environment"].get(key, "{}"))
    required = {name: PLACEHOLDER for name, op in variables_used(value).items() if op not in (":-", "-")}
    return json.loads(interpolate(value, required))


def ca_volume_problems(compose: Mapping[str, Any]) -> list[str]:
    """The emulator writes its CA into a named volume that every Airflow component mounts read-only
    at the directory of salesforce_default's default ``ca_bundle``."""
    services = compose["services"]
    ca_path = default_connection(compose, "AIRFLOW_CONN_SALESFORCE_DEFAULT").get("extra", {}).get("ca_bundle", "")
    if not ca_path:
        return ["salesforce_default has no ca_bundle extra"]
    ca_dir = str(Path(ca_path).parent)
    emulator = services.get("sf-emulator", {})
    state_arg = emulator.get("command", [])
    state = state_arg[state_arg.index("--state") + 1] if "--state" in state_arg else None
    if state is None:
        return ["sf-emulator: no --state argument"]
    tls_dir = f"{state}.tls"  # where the emulator keeps its CA (sf_emulator.__main__)
    emulator_mount = _mounts(emulator).get(tls_dir)
    if emulator_mount is None:
        return [f"sf-emulator: nothing mounted at its CA directory {tls_dir}"]
    volume = emulator_mount[0]
    problems = [] if volume in (compose.get("volumes") or {}) else [f"{volume} is not a named volume"]
    for name in AIRFLOW_SERVICES:
        if name in ONE_SHOT_SERVICES:
            continue
        mount = _mounts(services.get(name, {})).get(ca_dir)
        if mount != (volume, "ro"):
            problems.append(f"{name}: {ca_dir} should be {volume} read-only, is {mount}")
    return problems


def work_dir_problems(compose: Mapping[str, Any]) -> list[str]:
    """The sync's run folder (SALES_CONNECT_SYNC_WORK_DIR) lies on one named volume that every Airflow
    component mounts read-write and airflow-init prepares: a shard's frames, written by the worker that
    extracted it, are read by whichever worker diffs and loads it."""
    services = compose["services"]
    work_dir = compose["x-airflow-common"]["environment"].get("SALES_CONNECT_SYNC_WORK_DIR", "")
    if not work_dir:
        return ["SALES_CONNECT_SYNC_WORK_DIR not set in x-airflow-common"]
    problems = []
    volumes = set()
    for name in AIRFLOW_SERVICES:
        mounts = _mounts(services.get(name, {}))
        covering = [t for t in mounts if work_dir == t or work_dir.startswith(t.rstrip("/") + "/")]
        if not covering:
            problems.append(f"{name}: nothing shared is mounted at {work_dir}")
            continue
        source, mode = mounts[max(covering, key=len)]
        if source not in (compose.get("volumes") or {}):
            problems.append(f"{name}: {work_dir} is on {source}, not a named volume")
        if mode != "rw":
            problems.append(f"{name}: {work_dir} is mounted {mode}, tasks must write there")
        volumes.add(source)
    if len(volumes) > 1:
        problems.append(f"components see {work_dir} on different volumes: {sorted(volumes)}")
    init = "\n".join(map(str, services.get("airflow-init", {}).get("command", [])))
    if not re.search(rf"chown .*{re.escape(str(Path(work_dir).parent))}(?=\s|$)", init, re.MULTILINE):
        problems.append(f"airflow-init does not hand {Path(work_dir).parent} to the Airflow user")
    return problems


def emulator_reachability_problems(compose: Mapping[str, Any]) -> list[str]:
    """The emulator listens on the container network and its certificate covers the host Airflow dials."""
    command = compose["services"].get("sf-emulator", {}).get("command", [])
    conn = str(compose["x-airflow-common"]["environment"].get("AIRFLOW_CONN_SALESFORCE_DEFAULT", ""))
    default_url = re.search(r"\$\{SALESFORCE_INSTANCE_URL:-https://(?P<host>[^:/}]+)", conn)
    problems = []
    if "--host" not in command or command[command.index("--host") + 1] != "0.0.0.0":
        problems.append("sf-emulator must listen on 0.0.0.0 (--host) to be reachable from other containers")
    if default_url is None:
        problems.append("salesforce_default has no default instance_url")
    elif default_url["host"] not in [command[i + 1] for i, arg in enumerate(command) if arg == "--hostname"]:
        problems.append(f"sf-emulator certificate does not cover {default_url['host']} (--hostname)")
    return problems


def salesforce_login_problems(compose: Mapping[str, Any]) -> list[str]:
    """salesforce_default logs in the way task_sync.connections reads for a deployment: OAuth
    client credentials (instance_url + consumer_key + consumer_secret extras), never a fixed
    session id that someone must copy and that expires under a running sync."""
    conn = default_connection(compose, "AIRFLOW_CONN_SALESFORCE_DEFAULT")
    extra = conn.get("extra") or {}
    problems = []
    if conn.get("conn_type") != "salesforce":
        problems.append(f"salesforce_default has conn_type {conn.get('conn_type')!r}, not 'salesforce'")
    for field in ("instance_url", "consumer_key", "consumer_secret"):
        if not extra.get(field):
            problems.append(f"salesforce_default has no {field} extra (the sync's client-credentials login)")
    if conn.get("login") or conn.get("password"):
        problems.append("salesforce_default sets login/password: the sync would try a SOAP login instead")
    if "session_id" in extra:
        problems.append("salesforce_default carries a fixed session_id: it expires and must be copied by hand")
    return problems


def executor_problems(compose: Mapping[str, Any]) -> list[str]:
    env = compose["x-airflow-common"]["environment"]
    problems = []
    if env.get("AIRFLOW__CORE__EXECUTOR") != "CeleryExecutor":
        problems.append(f"executor is {env.get('AIRFLOW__CORE__EXECUTOR')!r}, not CeleryExecutor")
    if not str(env.get("AIRFLOW__CELERY__RESULT_BACKEND", "")).startswith("db+postgresql+psycopg2://"):
        problems.append("result backend must be db+postgresql+psycopg2:// (plain db+postgresql picks psycopg v3)")
    if not str(env.get("AIRFLOW__CELERY__BROKER_URL", "")).startswith("redis://redis:"):
        problems.append("broker must be the redis service")
    if "airflow-apiserver" not in str(env.get("AIRFLOW__CORE__EXECUTION_API_SERVER_URL", "")):
        problems.append("execution_api_server_url must point at the airflow-apiserver service")
    if str(env.get("AIRFLOW__CORE__LOAD_EXAMPLES", "")).lower() != "false":
        problems.append("example DAGs must be off")
    for conn in ("AIRFLOW_CONN_SALES_CONNECT_DB", "AIRFLOW_CONN_SALESFORCE_DEFAULT"):
        if conn not in env:
            problems.append(f"{conn} missing")
    return problems


def secret_problems(compose: Mapping[str, Any], env_example: Mapping[str, str]) -> list[str]:
    """Secrets come only from .env, as required variables without a default; .env.example holds placeholders."""
    problems = []
    envs = [compose["x-airflow-common"]["environment"]] + [
        s.get("environment") or {} for s in compose["services"].values()
    ]
    for env in envs:
        for key, value in env.items():
            if key.startswith("AIRFLOW_CONN_"):
                for match in _LITERAL_CONN_SECRET.finditer(str(value)):
                    problems.append(f"{key}: {match['field']} must be a required ${{VAR:?...}} from .env")
            elif (key in SECRET_SETTINGS or _SECRET_NAME.search(key)) and not key.endswith("_FILE"):
                used = variables_used(str(value))
                if not used or any(op not in (":?", "?") for op in used.values()):
                    problems.append(f"{key}: must be a required ${{VAR:?...}} from .env, not a value or a default")
    for url_key in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CELERY__RESULT_BACKEND"):
        url = str(compose["x-airflow-common"]["environment"].get(url_key, ""))
        if re.search(r"://[^:/@]+:(?!\$\{)[^@]+@", url):
            problems.append(f"{url_key}: password written into the file")
    for key, value in env_example.items():
        if (_SECRET_NAME.search(key) or key.endswith("_KEY")) and value != PLACEHOLDER:
            problems.append(f".env.example {key}: must be the placeholder {PLACEHOLDER}, not a value")
    return problems


def worker_scaling_problems(compose: Mapping[str, Any]) -> list[str]:
    """`--scale airflow-worker=N` needs no fixed container name or host port; replicas default to 2+."""
    worker = compose["services"].get("airflow-worker", {})
    problems = []
    if "container_name" in worker:
        problems.append("airflow-worker has a container_name, so it cannot scale")
    if worker.get("ports"):
        problems.append("airflow-worker publishes host ports, so replicas would clash")
    replicas = (worker.get("deploy") or {}).get("replicas", 1)
    if not isinstance(replicas, int) or replicas < 2:
        problems.append(f"airflow-worker deploy.replicas is {replicas!r}, expected an integer >= 2")
    if "celery worker" not in str(worker.get("command", "")):
        problems.append("airflow-worker does not run `celery worker`")
    return problems


def undocumented_variables(compose_text: str, env_example: Mapping[str, str]) -> list[str]:
    """Variables the compose file needs (no default) that .env.example does not list."""
    return [
        f"${{{name}}} used without a default but missing from .env.example"
        for name, op in variables_used(compose_text).items()
        if op not in (":-", "-") and name not in env_example
    ]


def connection_problems(compose: Mapping[str, Any], env_example: Mapping[str, str]) -> list[str]:
    """The AIRFLOW_CONN_* values are valid JSON connections once .env values are filled in."""
    problems = []
    filled = {key: "s3cret" if value == PLACEHOLDER else value for key, value in env_example.items()}
    for key, value in compose["x-airflow-common"]["environment"].items():
        if not key.startswith("AIRFLOW_CONN_"):
            continue
        try:
            conn = json.loads(interpolate(str(value), filled))
        except (json.JSONDecodeError, KeyError) as exc:
            problems.append(f"{key}: not a JSON connection after interpolation ({exc})")
            continue
        if "conn_type" not in conn:
            problems.append(f"{key}: no conn_type")
    return problems


# ------------------------------------------------------------------------- Dockerfile
def dockerfile_problems(dockerfile: str, requirements: str) -> list[str]:
    """The base image's Airflow version equals the apache-airflow pin in requirements.txt."""
    base = re.search(r"^FROM\s+apache/airflow:(?P<ver>[0-9][^\s-]*)-python(?P<py>[0-9.]+)", dockerfile, re.MULTILINE)
    pin = re.search(r"^apache-airflow(?:\[[^\]]*\])?==(?P<ver>\S+)", requirements, re.MULTILINE)
    if base is None:
        return ["Dockerfile does not start FROM apache/airflow:<version>-python<version>"]
    if pin is None:
        return ["requirements.txt does not pin apache-airflow"]
    problems = []
    if base["ver"] != pin["ver"]:
        problems.append(f"Dockerfile uses Airflow {base['ver']}, requirements.txt pins {pin['ver']}")
    if base["py"] != "3.11":
        problems.append(f"Dockerfile uses Python {base['py']}, the project needs 3.11")
    for needed in ("requirements.txt", "constraints.txt", "include"):
        if needed not in dockerfile:
            problems.append(f"Dockerfile does not install {needed}")
    return problems
