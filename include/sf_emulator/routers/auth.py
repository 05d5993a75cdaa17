"""Logins at the OAuth 2.0 token endpoint: password, client-credentials and refresh-token grants.

Each issues a session id the REST routes accept (SOAP `login` is in `routers.soap`).
A refresh token stands for a user's approval of the connected app (the web-server flow,
which the control plane's `POST sessions {"refresh_token": true}` stands in for). The connected app's consumer
key/secret are fixed (`CONSUMER_KEY`/`CONSUMER_SECRET`); users log in with
their seeded password, with or without the security token appended (the
emulator's only network, 127.0.0.1, counts as a trusted IP range). Logins are
not API calls and are not counted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from sf_emulator.api import emulator
from sf_emulator.org import Emulator
from sf_emulator.sessions import hash_secret

CONSUMER_KEY = "SalesConnectEmulatorConsumerKey"
CONSUMER_SECRET = "emulator-consumer-secret"

router = APIRouter()
Org = Annotated[Emulator, Depends(emulator)]


def authenticate(org: Emulator, username: str | None, password: str | None) -> str | None:
    """The id of the active user with these credentials (password, or password + security token), else None."""
    if not username or not password:
        return None
    rows = org.store.read(
        "SELECT Id, IsActive, emu_password_hash, emu_security_token FROM sf_user WHERE lower(Username) = lower(?)",
        (username,),
    )
    if not rows or not rows[0]["IsActive"]:
        return None
    user = rows[0]
    token = user["emu_security_token"] or ""
    candidates = [password] + ([password[: -len(token)]] if token and password.endswith(token) else [])
    if any(hmac.compare_digest(hash_secret(c), user["emu_password_hash"] or "") for c in candidates):
        return user["Id"]
    return None


def instance_url_of(request: Request, org: Emulator) -> str:
    """The URL the client reached us on (a container peer uses a name other than 127.0.0.1)."""
    host = request.headers.get("host")
    return f"https://{host}" if host else org.base_url


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def _client_credentials(request: Request, form: dict) -> tuple[str | None, str | None]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            key, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None, None
        return key, secret
    return form.get("client_id"), form.get("client_secret")


async def token(request: Request, org: Org) -> JSONResponse:
    form = {k: str(v) for k, v in (await request.form()).items()}
    grant = form.get("grant_type")
    if grant not in ("password", "client_credentials", "refresh_token"):
        return _oauth_error("unsupported_grant_type", "grant type not supported")
    client_id, client_secret = _client_credentials(request, form)
    if client_id != CONSUMER_KEY:
        return _oauth_error("invalid_client_id", "client identifier invalid")
    # The refresh-token flow takes the secret only if the client sends one (a public client has none).
    if (grant != "refresh_token" or client_secret is not None) and \
            not hmac.compare_digest(client_secret or "", CONSUMER_SECRET):
        return _oauth_error("invalid_client", "invalid client credentials")
    if grant == "refresh_token":
        refreshed = org.sessions.refresh(form.get("refresh_token", ""))
        if refreshed is None:
            return _oauth_error("invalid_grant", "expired access/refresh token")
        access_token, user_id = refreshed
    else:
        # client_credentials runs as the connected app's "run as" user: the org's integration user.
        found = (authenticate(org, form.get("username"), form.get("password")) if grant == "password"
                 else org.api_user_id)
        if found is None:
            return _oauth_error("invalid_grant", "authentication failure")
        user_id, access_token = found, org.sessions.issue(found)
    instance_url = instance_url_of(request, org)
    issued_at = str(int(time.time() * 1000))
    signature = base64.b64encode(
        hmac.new(CONSUMER_SECRET.encode(), f"{instance_url}/id/{org.org_id}/{user_id}{issued_at}".encode(),
                 hashlib.sha256).digest()
    ).decode()
    return JSONResponse({
        "access_token": access_token,
        "instance_url": instance_url,
        "id": f"{instance_url}/id/{org.org_id}/{user_id}",
        "token_type": "Bearer",
        "issued_at": issued_at,
        "signature": signature,
        # Salesforce names the granted scopes only when a refresh token was presented.
        **({"scope": "refresh_token api"} if grant == "refresh_token" else {}),
    })


router.add_api_route("/services/oauth2/token", token, methods=["POST"])
