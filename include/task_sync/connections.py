"""How the sync reaches its two systems: the Airflow connections it reads.

``salesforce_default`` (conn_type ``salesforce``) decides how we log in; moving
from the emulator to a real org is a change of this connection only:

- username + password + security_token (extras): the hook's SOAP login, as
  with any real org; ``simple-salesforce`` renews the session itself.
- extras ``instance_url`` + ``consumer_key`` + ``consumer_secret``: the OAuth
  2.0 client-credentials grant at that instance's own token endpoint
  (``{instance_url}/services/oauth2/token``, the My Domain flow). A fresh
  token is fetched on every (re)connect, so an expired session is renewed.
- extras ``instance_url`` + ``session_id``: a fixed session (what the emulator
  prints at start). It cannot be renewed; when it expires the run fails with
  a message saying so.

The extra ``external_id_namespace`` names this installation in the external id it writes
(``task_sync.external_ids``); absent, one is generated on first use and pinned in the store.

The CA bundle that verifies HTTPS is the extra ``ca_bundle`` or the
``SALESFORCE_CA_BUNDLE`` environment variable (the emulator's CA); absent,
the system trust store is used. Secrets never reach a log line.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.request
from typing import Any

import requests
from simple_salesforce import Salesforce

from task_sync.salesforce import ConnectionInfo, Connector, SalesforceGateway

SALESFORCE_CONN_ID = "salesforce_default"
SALES_CONNECT_CONN_ID = "sales_connect_db"
# Extras that are credentials: never part of a connection's identity (nor of anything stored).
_SECRET_EXTRAS = frozenset({"security_token", "session_id", "consumer_secret", "client_secret", "private_key",
                            "password"})


class SalesforceConnectionError(RuntimeError):
    """The Salesforce connection is missing, incomplete or refused."""


def client_credentials_token(session: requests.Session, instance_url: str, key: str, secret: str) -> str:
    """An access token from the instance's OAuth endpoint (client-credentials grant)."""
    url = instance_url.rstrip("/") + "/services/oauth2/token"
    answer = session.post(url, data={"grant_type": "client_credentials"}, auth=(key, secret), timeout=30)
    if answer.status_code != 200:
        detail = _oauth_error(answer)
        raise SalesforceConnectionError(f"OAuth client-credentials login at {instance_url} refused: {detail}")
    return str(answer.json()["access_token"])


def _oauth_error(answer: requests.Response) -> str:
    try:
        body = answer.json()
    except ValueError:
        return f"HTTP {answer.status_code}"
    return f"HTTP {answer.status_code} {body.get('error', '')}: {body.get('error_description', '')}".strip()


def hook_connector(conn_id: str = SALESFORCE_CONN_ID) -> Connector:
    """A connector that logs in through Airflow's ``SalesforceHook`` using connection ``conn_id``."""

    def connect(session: requests.Session) -> Salesforce:
        from airflow.providers.salesforce.hooks.salesforce import SalesforceHook
        from airflow.sdk import BaseHook

        try:
            conn = BaseHook.get_connection(conn_id)
        except Exception as exc:  # Airflow raises its own not-found type per version
            raise SalesforceConnectionError(
                f"Airflow connection {conn_id!r} is not defined; see README 'Connections'"
            ) from exc
        extras: dict[str, Any] = conn.extra_dejson
        _trust(session, extras)
        session_id = _session_for(session, conn.login, extras)
        hook = SalesforceHook(salesforce_conn_id=conn_id, session_id=session_id, session=session)
        return hook.get_conn()

    return connect


def direct_connector(instance_url: str, session_id: str, ca_bundle: str | None = None) -> Connector:
    """A connector for a known instance and session (tests, tools, the demo's own checks)."""

    def connect(session: requests.Session) -> Salesforce:
        if ca_bundle:
            trust_ca(session, ca_bundle)
        return Salesforce(instance_url=instance_url, session_id=session_id, session=session)

    return connect


def open_gateway(conn_id: str = SALESFORCE_CONN_ID, *, bulk_wait: float = 2.0) -> SalesforceGateway:
    """The gateway the DAG's tasks use."""
    return SalesforceGateway(hook_connector(conn_id), bulk_wait=bulk_wait, connection=connection_info(conn_id))


def connection_info(conn_id: str) -> ConnectionInfo:
    """Who the connection logs in as and where, as a key that changes with them (no secret in it),
    and the external-id namespace it asks for."""
    from airflow.sdk import BaseHook

    try:
        conn = BaseHook.get_connection(conn_id)
    except Exception as exc:  # Airflow raises its own not-found type per version
        raise SalesforceConnectionError(
            f"Airflow connection {conn_id!r} is not defined; see README 'Connections'"
        ) from exc
    extras: dict[str, Any] = dict(conn.extra_dejson)
    identity = {"type": conn.conn_type, "host": conn.host, "login": conn.login, "schema": conn.schema,
                "port": conn.port, "extra": {k: v for k, v in extras.items() if k not in _SECRET_EXTRAS}}
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:16]
    namespace = extras.get("external_id_namespace") or None
    return ConnectionInfo(key=f"{conn_id}:{digest}", namespace=str(namespace) if namespace else None)


def _trust(session: requests.Session, extras: dict[str, Any]) -> None:
    ca_bundle = extras.get("ca_bundle") or os.environ.get("SALESFORCE_CA_BUNDLE")
    if ca_bundle:
        trust_ca(session, ca_bundle)


def trust_ca(session: requests.Session, ca_bundle: str) -> None:
    """Verify HTTPS with ``ca_bundle`` only.

    requests lets ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` override ``session.verify``, so
    environment trust is switched off; the proxy settings it would have read are carried over.
    """
    if not os.path.exists(ca_bundle):
        raise SalesforceConnectionError(f"CA bundle {ca_bundle} does not exist")
    session.verify = ca_bundle
    session.trust_env = False
    proxies = urllib.request.getproxies()
    if "no" in proxies:
        proxies["no_proxy"] = proxies.pop("no")
    session.proxies.update(proxies)


def _session_for(session: requests.Session, login: str | None, extras: dict[str, Any]) -> str | None:
    """The session id to hand the hook, or None to let the hook log in itself."""
    if login:
        return None
    instance_url = extras.get("instance_url")
    if instance_url and extras.get("consumer_key") and extras.get("consumer_secret"):
        return client_credentials_token(session, instance_url, extras["consumer_key"], extras["consumer_secret"])
    if instance_url and extras.get("session_id"):
        return str(extras["session_id"])
    raise SalesforceConnectionError(
        "the Salesforce connection needs a username/password/security_token, or an instance_url with "
        "consumer_key/consumer_secret (client credentials) or with session_id"
    )
