"""The FastAPI app Airflow mounts at ``/sales-connect``: pages, JSON API, static files.

Its OpenAPI schema is at ``/sales-connect/openapi.json``. The interactive
docs pages are off because they load their scripts from a CDN, and these
pages use no external asset: the Content-Security-Policy below allows this
origin only, which also keeps the pages framable by the Airflow UI alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from sales_connect.errors import NotFoundError, StaleVersionError, ValidationError
from sales_connect_ui import api, pages
from sales_connect_ui.body_limit import BodyLimitMiddleware
from sales_connect_ui.identity import LoginRequiredError, NotLinkedError

URL_PREFIX = "/sales-connect"
STATIC_DIR = Path(__file__).parent / "static"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "frame-ancestors 'self'; form-action 'self'; base-uri 'self'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "same-origin",
}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(f"{request.scope.get('root_path', '')}/api")


def _problem(code: int, detail: str, field: str | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail, "field": field}, status_code=code)


async def _validation_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ValidationError)
    return _problem(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc), exc.field)


async def _not_found(_: Request, exc: Exception) -> Response:
    # Never echo what was asked for: another user's task must look exactly like a missing one.
    return _problem(status.HTTP_404_NOT_FOUND, "Not found.")


async def _stale(_: Request, exc: Exception) -> Response:
    return _problem(status.HTTP_409_CONFLICT, str(exc))


async def _bad_request(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0]
    loc = tuple(first.get("loc", ()))
    if first.get("type") == "json_invalid":  # FastAPI's own "0: JSON decode error" said nothing useful
        reason = (first.get("ctx") or {}).get("error", "malformed")
        return _problem(
            status.HTTP_400_BAD_REQUEST,
            f"The request body is not valid JSON ({reason} at character {loc[-1]}); nothing was changed.",
        )
    if loc == ("body",):  # no body, or JSON that is not an object (an array, a string, a form)
        return _problem(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "The request body must be a JSON object (Content-Type: application/json); nothing was changed.",
        )
    names = [str(part) for part in loc if part not in ("body", "query", "path")]
    field = names[-1] if names else None
    return _problem(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{field or 'request'}: {first.get('msg')}", field)


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequiredError)
    return RedirectResponse(pages.login_url(exc.next_url), status_code=status.HTTP_303_SEE_OTHER)


async def _not_linked(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NotLinkedError)
    if _is_api(request):
        return _problem(exc.status_code, str(exc.detail))
    return pages.templates.TemplateResponse(
        request,
        "not_linked.html",
        {"base": request.scope.get("root_path", ""), "detail": exc.detail, "login": exc.login},
        status_code=exc.status_code,
    )


async def _headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    response = await call_next(request)
    response.headers.update(SECURITY_HEADERS)
    if not request.url.path.startswith(f"{request.scope.get('root_path', '')}/static/"):
        response.headers["Cache-Control"] = "no-store"  # per-user data
    return response


def create_app() -> FastAPI:
    app = FastAPI(
        title="Sales Connect",
        summary="Task sync settings, Command Center and sync history for Sales Connect users.",
        description=(
            "Authenticate like Airflow's own API: `Authorization: Bearer <token>` from `POST /auth/token`, "
            "or the Airflow UI session cookie (then send `X-CSRF-Token` from `GET api/session` on writes). "
            "You act as the Sales Connect user whose login is your Airflow username."
        ),
        version="1",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_exception_handler(ValidationError, _validation_error)
    app.add_exception_handler(NotFoundError, _not_found)
    app.add_exception_handler(StaleVersionError, _stale)
    app.add_exception_handler(RequestValidationError, _bad_request)
    app.add_exception_handler(LoginRequiredError, _login_required)
    app.add_exception_handler(NotLinkedError, _not_linked)
    app.middleware("http")(_headers)
    app.add_middleware(BodyLimitMiddleware)  # outermost: refuses an oversized body before anything reads it
    return app
