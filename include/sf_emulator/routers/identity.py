"""The identity service: the identity URL a token response names, OpenID `userinfo`, and token revocation.

`GET /id/{orgId}/{userId}` (bearer header or `oauth_token` parameter) describes the
user and the org's API endpoints; its errors are the identity service's plain-text
codes (403 Missing_OAuth_Token / Bad_OAuth_Token / Wrong_Org, 404 Bad_Id).
`POST /services/oauth2/revoke` (form `token=`, or a GET with `?token=`) ends a session,
or a refresh token and the sessions it issued: 200, else 400 `invalid_token`.
None of these are API calls, so none is counted.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from sf_emulator.api import SUPPORTED_VERSIONS, emulator
from sf_emulator.org import Emulator
from sf_emulator.routers.auth import instance_url_of
from sf_emulator.wire import ApiError, storage_to_wire

router = APIRouter()
Org = Annotated[Emulator, Depends(emulator)]


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() in ("bearer", "oauth") and token.strip():
        return token.strip()
    return request.query_params.get("oauth_token")


def _caller(request: Request, org: Emulator) -> str | Response:
    """The user behind the request's token, or the identity service's error answer."""
    token = _token(request)
    if not token:
        return PlainTextResponse("Missing_OAuth_Token", status_code=403)
    try:
        return org.sessions.user_for(f"Bearer {token}")
    except ApiError:
        return PlainTextResponse("Bad_OAuth_Token", status_code=403)


def _user(org: Emulator, user_id: str) -> dict | None:
    rows = org.store.read("SELECT Id, Username, FirstName, LastName, Name, Email, IsActive, TimeZoneSidKey,"
                          " LastModifiedDate FROM sf_user WHERE Id = ?", (user_id,))
    return dict(rows[0]) if rows else None


def _urls(base: str, org: Emulator, user_id: str, version: str) -> dict:
    org15 = org.org_id[:15]
    rest = f"{base}/services/data/v{version}/"
    return {
        "enterprise": f"{base}/services/Soap/c/{version}/{org15}",
        "metadata": f"{base}/services/Soap/m/{version}/{org15}",
        "partner": f"{base}/services/Soap/u/{version}/{org15}",
        "rest": rest, "sobjects": f"{rest}sobjects/", "search": f"{rest}search/", "query": f"{rest}query/",
        "recent": f"{rest}recent/", "profile": f"{base}/{user_id}", "custom_domain": base,
    }


def _version(request: Request) -> str:
    """`?version=latest|NN.N`; without it Salesforce leaves `{version}` in the URLs."""
    asked = request.query_params.get("version")
    if asked == "latest":
        return SUPPORTED_VERSIONS[-1]
    return asked if asked in SUPPORTED_VERSIONS else "{version}"


def identity(org_id: str, user_id: str, request: Request, org: Org) -> Response:
    caller = _caller(request, org)
    if isinstance(caller, Response):
        return caller
    if org_id[:15] != org.org_id[:15]:
        return PlainTextResponse("Wrong_Org", status_code=403)
    user = _user(org, user_id) if len(user_id) in (15, 18) else None
    if user is None:
        return PlainTextResponse("Bad_Id", status_code=404)
    base = instance_url_of(request, org)
    return JSONResponse({
        "id": f"{base}/id/{org.org_id}/{user['Id']}", "asserted_user": caller == user["Id"],
        "user_id": user["Id"], "organization_id": org.org_id, "username": user["Username"],
        "nick_name": user["Username"].split("@")[0], "display_name": user["Name"], "email": user["Email"],
        "email_verified": True, "first_name": user["FirstName"], "last_name": user["LastName"],
        "timezone": user["TimeZoneSidKey"], "active": bool(user["IsActive"]), "user_type": "STANDARD",
        "language": "en_US", "locale": "en_US", "utcOffset": 0,
        "last_modified_date": storage_to_wire(user["LastModifiedDate"]), "is_app_installed": True,
        "urls": _urls(base, org, user["Id"], _version(request)),
    })


def userinfo(request: Request, org: Org) -> Response:
    """OpenID Connect's view of the caller (`/services/oauth2/userinfo`)."""
    caller = _caller(request, org)
    if isinstance(caller, Response):
        return caller
    user = _user(org, caller)
    assert user is not None  # a session always belongs to a user
    base = instance_url_of(request, org)
    return JSONResponse({
        "sub": f"{base}/id/{org.org_id}/{caller}", "user_id": caller, "organization_id": org.org_id,
        "preferred_username": user["Username"], "nickname": user["Username"].split("@")[0], "name": user["Name"],
        "email": user["Email"], "email_verified": True, "given_name": user["FirstName"],
        "family_name": user["LastName"], "zoneinfo": user["TimeZoneSidKey"], "active": bool(user["IsActive"]),
        "user_type": "STANDARD", "language": "en_US", "locale": "en_US", "utcOffset": 0,
        "updated_at": storage_to_wire(user["LastModifiedDate"]),
        "urls": _urls(base, org, caller, SUPPORTED_VERSIONS[-1]),
    })


async def revoke(request: Request, org: Org) -> Response:
    form = await request.form() if request.method == "POST" else request.query_params
    token = str(form.get("token") or "")
    if not token:
        return JSONResponse({"error": "unsupported_token_type", "error_description": "this token type is not "
                             "supported"}, status_code=400)
    if not org.sessions.revoke(token):
        return JSONResponse({"error": "invalid_token", "error_description": "invalid token"}, status_code=400)
    return Response(status_code=200)


router.add_api_route("/id/{org_id}/{user_id}", identity, methods=["GET", "POST"])
router.add_api_route("/services/oauth2/userinfo", userinfo, methods=["GET", "POST"])
router.add_api_route("/services/oauth2/revoke", revoke, methods=["GET", "POST"])
