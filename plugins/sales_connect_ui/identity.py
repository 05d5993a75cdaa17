"""Who is calling: the signed-in Airflow user and the Sales Connect user they are.

Authentication is Airflow's own (``GetUserDep``: the ``Authorization: Bearer``
JWT, else the UI's ``_token`` cookie), so these pages share the Airflow UI's
login. A signed-in person is exactly one Sales Connect user: the one whose
``User.login`` equals their Airflow username. Every store call then passes
that user's id, and the store treats other users' records as missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
from airflow.api_fastapi.core_api.security import bearer_scheme, get_user
from fastapi import Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials

from sales_connect import repository
from sales_connect.errors import NotFoundError
from sales_connect_ui.store import get_store

NOT_SIGNED_IN = "Not signed in to Airflow: send Authorization: Bearer <token> from POST /auth/token, or sign in."
NOT_SIGNED_IN_INVALID = (
    "Not signed in to Airflow: the token sent is invalid or expired. Get a new one from POST /auth/token, "
    "or sign in again."
)


@dataclass(frozen=True)
class Caller:
    """A signed-in Airflow user mapped to their Sales Connect user."""

    login: str
    user_id: int
    # The caller's own Airflow JWT, forwarded when this app calls Airflow's REST API on their behalf.
    token: str
    # True when the credential came in an Authorization header (scripts), False for the UI cookie.
    # Only cookie-authenticated requests need CSRF protection: a browser never adds the header by itself.
    via_bearer: bool


class NotLinkedError(HTTPException):
    """Signed in to Airflow, but no Sales Connect user has this login."""

    def __init__(self, login: str) -> None:
        super().__init__(
            status.HTTP_403_FORBIDDEN,
            f"Your Airflow login {login!r} is not linked to a Sales Connect user. "
            "Ask a Sales Connect admin to set your login on your Sales Connect user.",
        )
        self.login = login


class LoginRequiredError(Exception):
    """A page was opened without a valid Airflow session; the app answers with a redirect to the login page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def _presented_token(request: Request, bearer: HTTPAuthorizationCredentials | None) -> tuple[str, bool]:
    """The credential ``get_user`` authenticated, in the same precedence (header first, then cookie)."""
    if bearer is not None and bearer.scheme.lower() == "bearer":
        return bearer.credentials, True
    return request.cookies.get(COOKIE_NAME_JWT_TOKEN, ""), False


def _sales_connect_user_id(login: str) -> int:
    with get_store().session() as session:
        try:
            return repository.get_user_by_login(session, login).id
        except NotFoundError:
            raise NotLinkedError(login) from None


async def _caller(request: Request, airflow_user: BaseUser, bearer: HTTPAuthorizationCredentials | None) -> Caller:
    login = airflow_user.get_name()
    user_id = await run_in_threadpool(_sales_connect_user_id, login)
    token, via_bearer = _presented_token(request, bearer)
    return Caller(login=login, user_id=user_id, token=token, via_bearer=via_bearer)


async def _airflow_user(request: Request, bearer: HTTPAuthorizationCredentials | None) -> BaseUser:
    """Airflow's own authentication, with one status for every credential it cannot accept.

    Airflow's ``get_user`` answers 401 for a missing or expired token but 403 "Invalid JWT token"
    for a forged or garbled one. Here all three are 401 with ``WWW-Authenticate: Bearer``
    (RFC 6750 section 3.1: an invalid token is ``invalid_token``, 401), so a client can tell
    "sign in (again)" from 403 "you are signed in but may not": a login without a Sales Connect
    user, or a failed CSRF check.
    """
    try:
        return await get_user(request, None, bearer)
    except HTTPException as exc:
        if exc.status_code not in (status.HTTP_401_UNAUTHORIZED, status.HTTP_403_FORBIDDEN):
            raise
        presented = bool(_presented_token(request, bearer)[0])
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            NOT_SIGNED_IN_INVALID if presented else NOT_SIGNED_IN,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"' if presented else "Bearer"},
        ) from None


async def api_caller(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Caller:
    """JSON API callers: 401 without a valid Airflow credential, 403 if not linked."""
    return await _caller(request, await _airflow_user(request, bearer), bearer)


async def page_caller(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Caller:
    """Page visitors: without a valid Airflow session they are sent to Airflow's login page and back."""
    try:
        airflow_user = await get_user(request, None, bearer)
    except HTTPException as exc:
        if exc.status_code in (status.HTTP_401_UNAUTHORIZED, status.HTTP_403_FORBIDDEN):
            raise LoginRequiredError(request.url.path) from None
        raise
    return await _caller(request, airflow_user, bearer)


ApiCaller = Annotated[Caller, Depends(api_caller)]
PageCaller = Annotated[Caller, Depends(page_caller)]
