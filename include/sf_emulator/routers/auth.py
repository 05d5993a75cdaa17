"""Logins: the OAuth 2.0 token endpoint and the SOAP `login` call.

Both issue a session id the REST routes accept. The connected app's consumer
key/secret are fixed (`CONSUMER_KEY`/`CONSUMER_SECRET`); users log in with
their seeded password, with or without the security token appended (the
emulator's only network, 127.0.0.1, counts as a trusted IP range). Logins are
not API calls and are not counted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from typing import Annotated
from xml.sax.saxutils import escape

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

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


def _instance_url(request: Request, org: Emulator) -> str:
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
    if grant not in ("password", "client_credentials"):
        return _oauth_error("unsupported_grant_type", "grant type not supported")
    client_id, client_secret = _client_credentials(request, form)
    if client_id != CONSUMER_KEY:
        return _oauth_error("invalid_client_id", "client identifier invalid")
    if not hmac.compare_digest(client_secret or "", CONSUMER_SECRET):
        return _oauth_error("invalid_client", "invalid client credentials")
    # client_credentials runs as the connected app's "run as" user: the org's integration user.
    user_id = (authenticate(org, form.get("username"), form.get("password")) if grant == "password"
               else org.api_user_id)
    if user_id is None:
        return _oauth_error("invalid_grant", "authentication failure")
    access_token = org.sessions.issue(user_id)
    instance_url = _instance_url(request, org)
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
    })


_SOAP_ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"'
    ' xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    ' xmlns:sf="urn:fault.partner.soap.sforce.com"><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>'
)


def _xml_value(document: str, tag: str) -> str | None:
    match = re.search(rf"<(?:\w+:)?{tag}>(.*?)</(?:\w+:)?{tag}>", document, re.DOTALL)
    if match is None:
        return None
    text = match.group(1)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'").replace(
        "&amp;", "&")


def _soap_fault(code: str, message: str) -> Response:
    body = (f"<soapenv:Fault><faultcode>sf:{code}</faultcode><faultstring>{code}: {escape(message)}</faultstring>"
            f'<detail><sf:LoginFault xsi:type="sf:LoginFault"><sf:exceptionCode>{code}</sf:exceptionCode>'
            f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault>")
    return Response(_SOAP_ENVELOPE.format(body=body), status_code=500, media_type="text/xml")


async def soap_login(version: str, request: Request, org: Org) -> Response:
    document = (await request.body()).decode("utf-8", errors="replace")
    if not re.search(r"<(?:\w+:)?login[\s>]", document):
        return _soap_fault("UNKNOWN_EXCEPTION", "The emulator's SOAP endpoint supports only the login call")
    user_id = authenticate(org, _xml_value(document, "username"), _xml_value(document, "password"))
    if user_id is None:
        return _soap_fault("INVALID_LOGIN", "Invalid username, password, security token; or user locked out.")
    session_id = org.sessions.issue(user_id)
    user = org.store.read("SELECT Username, Name, Email, TimeZoneSidKey FROM sf_user WHERE Id = ?", (user_id,))[0]
    base = escape(_instance_url(request, org))
    server = f"{base}/services/Soap/u/{version}/{org.org_id[:15]}"
    body = (
        "<loginResponse><result>"
        f"<metadataServerUrl>{base}/services/Soap/m/{version}/{org.org_id[:15]}</metadataServerUrl>"
        "<passwordExpired>false</passwordExpired><sandbox>false</sandbox>"
        f"<serverUrl>{server}</serverUrl><sessionId>{escape(session_id)}</sessionId><userId>{user_id}</userId>"
        f"<userInfo><organizationId>{org.org_id}</organizationId><userEmail>{escape(user['Email'])}</userEmail>"
        f"<userFullName>{escape(user['Name'])}</userFullName><userId>{user_id}</userId>"
        f"<userName>{escape(user['Username'])}</userName><userTimeZone>{user['TimeZoneSidKey']}</userTimeZone>"
        "</userInfo></result></loginResponse>"
    )
    return Response(_SOAP_ENVELOPE.format(body=body), media_type="text/xml")


router.add_api_route("/services/oauth2/token", token, methods=["POST"])
router.add_api_route("/services/Soap/u/{version}", soap_login, methods=["POST"])
