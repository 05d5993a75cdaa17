"""CSRF protection for the state-changing requests of the pages.

The pages authenticate with Airflow's ``_token`` cookie, which a browser
attaches by itself, so a page elsewhere could try to make a signed-in user's
browser post to us. Two independent checks stop that, for cookie-authenticated
requests (a request carrying ``Authorization: Bearer`` is exempt: no browser
adds that header on its own, and a script that has the token is the user):

1. A signed double-submit token bound to the user. The page gets a random
   nonce in an HttpOnly, SameSite=Strict cookie (``sc_csrf``) and, in the page
   itself (or from ``GET /api/session``), the token
   ``HMAC(key, login | nonce)``. Every POST/PUT/PATCH/DELETE must send that
   token in the ``X-CSRF-Token`` header. A custom header cannot be sent
   cross-origin without a CORS preflight Airflow does not grant, a forged
   cookie (e.g. set from a sibling subdomain) is useless without the server's
   key, and a token minted for one login is refused for another. Being
   stateless, it works across api-server workers and restarts. The key is
   derived from ``[api] secret_key``, which every api-server shares.
2. An ``Origin`` check (``Referer`` when a browser sends no Origin): a
   browser's request from another site names that site, which must be this
   server's host (or the host in ``[api] base_url`` behind a proxy).

Airflow's own cookie is SameSite=Lax, which already keeps most cross-site
POSTs away; the checks above also cover same-site attackers and old browsers.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from typing import Annotated
from urllib.parse import urlsplit

from airflow.configuration import conf
from fastapi import Depends, HTTPException, Request, Response, status

from sales_connect_ui.identity import ApiCaller, Caller

CSRF_COOKIE = "sc_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@functools.cache
def _key() -> bytes:
    secret = conf.get("api", "secret_key", fallback="") or ""
    if not secret:
        raise RuntimeError("[api] secret_key is not set: the Sales Connect pages need it to sign CSRF tokens")
    return hmac.new(secret.encode(), b"sales-connect-ui/csrf/v1", hashlib.sha256).digest()


def token_for(login: str, nonce: str) -> str:
    """The CSRF token for this login and cookie nonce."""
    mac = hmac.new(_key(), f"{login}\x00{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def nonce(request: Request) -> str:
    """The browser's CSRF nonce, or a fresh one to ``remember`` if it has none."""
    return request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)


def remember(request: Request, response: Response, value: str) -> None:
    """Set the nonce cookie on ``response`` unless the browser already holds this nonce."""
    if request.cookies.get(CSRF_COOKIE) == value:
        return
    response.set_cookie(
        CSRF_COOKIE,
        value,
        path=request.scope.get("root_path") or "/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def issue(request: Request, response: Response, login: str) -> str:
    """The caller's CSRF token, setting the nonce cookie on ``response`` if the browser has none."""
    value = nonce(request)
    remember(request, response, value)
    return token_for(login, value)


def _allowed_hosts(request: Request) -> set[str]:
    hosts = {request.headers.get("host", "")}
    base_url = conf.get("api", "base_url", fallback="") or ""
    if base_url:
        hosts.add(urlsplit(base_url).netloc)
    return {h.lower() for h in hosts if h}


def _check_origin(request: Request) -> None:
    source = request.headers.get("origin") or request.headers.get("referer")
    if source is None:
        return  # not a browser request (browsers send Origin on every POST/PUT/PATCH/DELETE)
    if urlsplit(source).netloc.lower() not in _allowed_hosts(request):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"Cross-site request refused (origin {source!r}).")


def _check_token(request: Request, caller: Caller) -> None:
    nonce = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER, "")
    if not nonce or not sent or not hmac.compare_digest(sent, token_for(caller.login, nonce)):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "Missing or invalid CSRF token: reload the page and try again.",
        )


def csrf_checked(request: Request, caller: ApiCaller) -> Caller:
    """The caller of a state-changing request, after the CSRF checks (cookie sessions only)."""
    if request.method not in SAFE_METHODS and not caller.via_bearer:
        _check_origin(request)
        _check_token(request, caller)
    return caller


WriteCaller = Annotated[Caller, Depends(csrf_checked)]
