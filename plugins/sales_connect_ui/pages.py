"""The HTML pages: thin shells rendered with the user's settings; their scripts use the JSON API.

Nothing a page shows comes from anywhere but the API, so a script can do
everything the pages do. The shell carries the CSRF token and the user's
time zone in ``<meta>`` tags (the Content-Security-Policy forbids inline
scripts), and a visitor without an Airflow session is sent to Airflow's
login page and back.
"""

from __future__ import annotations

from pathlib import Path

from airflow.api_fastapi.app import get_auth_manager
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from sales_connect import repository
from sales_connect_ui import csrf
from sales_connect_ui.identity import PageCaller
from sales_connect_ui.schemas import SettingsOut
from sales_connect_ui.store import get_store

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)

PAGES = {
    "command_center": "Command Center",
    "settings": "Settings",
    "history": "Sync history",
}


def login_url(next_path: str) -> str:
    """Airflow's login page, coming back to ``next_path`` after signing in."""
    return get_auth_manager().get_url_login(next_url=next_path)


def _render(request: Request, caller: PageCaller, page: str) -> Response:
    with get_store().session() as session:
        settings = SettingsOut.of(repository.get_user(session, caller.user_id))
    nonce = csrf.nonce(request)
    response = templates.TemplateResponse(
        request,
        f"{page}.html",
        {
            "base": request.scope.get("root_path", ""),
            "page": page,
            "pages": PAGES,
            "title": PAGES[page],
            "login": caller.login,
            "settings": settings,
            "csrf_token": csrf.token_for(caller.login, nonce),
            "login_url": login_url(request.url.path),
        },
    )
    csrf.remember(request, response, nonce)
    return response


@router.get("/")
def home(request: Request) -> RedirectResponse:
    return RedirectResponse(f"{request.scope.get('root_path', '')}/command-center", status_code=303)


@router.get("/command-center", response_class=HTMLResponse)
def command_center_page(request: Request, caller: PageCaller) -> Response:
    return _render(request, caller, "command_center")


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, caller: PageCaller) -> Response:
    return _render(request, caller, "settings")


@router.get("/history", response_class=HTMLResponse)
def history_page(request: Request, caller: PageCaller) -> Response:
    return _render(request, caller, "history")
