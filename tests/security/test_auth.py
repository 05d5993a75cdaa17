"""Credentials a hostile client might send (issue 15 #8): one status per meaning, from every route.

401 means "no usable Airflow credential" -- none, garbage, forged (signed with
another key), or unsigned -- always with ``WWW-Authenticate: Bearer``. 403 means
"signed in, but may not": a login without a Sales Connect user, or a failed
CSRF check. (Airflow's own ``/api/v2`` answers 403 "Invalid JWT token" for a
forged token; the plugin does not copy that, see README "Input limits".)
"""

from __future__ import annotations

import datetime as dt

import httpx
import jwt
import pytest

from sales_connect import repository

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROUTES = [("GET", "/api/settings"), ("GET", "/api/command-center"), ("POST", "/api/tasks"),
          ("POST", "/api/sync/runs"), ("GET", "/api/time-zones")]


def _forged(login: str) -> str:
    """A well-formed Airflow-style JWT for ``login``, signed with a key the server does not have."""
    now = dt.datetime.now(dt.UTC)
    claims = {"sub": login, "role": "admin", "iat": now, "nbf": now, "exp": now + dt.timedelta(hours=1)}
    return jwt.encode(claims, "not-the-servers-secret-" * 3, algorithm="HS512")


def _unsigned(login: str) -> str:
    return jwt.encode({"sub": login, "role": "admin"}, None, algorithm="none")


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_missing_garbage_forged_and_unsigned_tokens_all_get_401(ui, method, path) -> None:
    credentials = {
        "none": {},
        "garbage": {"Authorization": "Bearer not-a-jwt"},
        "forged": {"Authorization": f"Bearer {_forged('alice')}"},
        "unsigned": {"Authorization": f"Bearer {_unsigned('alice')}"},
    }
    answers = {}
    with httpx.Client(base_url=ui.app_url, timeout=30) as client:
        for name, headers in credentials.items():
            resp = client.request(method, path, headers=headers, json={"subject": "x"} if method == "POST" else None)
            answers[name] = (resp.status_code, resp.headers.get("www-authenticate", "")[:6], resp.json()["detail"][:24])
    assert answers == dict.fromkeys(credentials, (401, "Bearer", "Not signed in to Airflow")), answers
    with ui.store.session() as session:
        assert repository.list_tasks(session, ui.user_ids["alice"]) == []


def test_a_forged_ui_cookie_gets_401_like_no_cookie(ui) -> None:
    with httpx.Client(base_url=ui.app_url, headers={"Origin": ui.base_url}, timeout=30) as client:
        client.cookies.set("_token", _forged("alice"), domain="127.0.0.1", path="/")
        resp = client.get("/api/settings")
    assert resp.status_code == 401, resp.text
    assert "invalid or expired" in resp.json()["detail"]


def test_a_forged_cookie_on_a_page_is_sent_to_the_login_page(ui) -> None:
    with httpx.Client(base_url=ui.app_url, timeout=30) as client:
        client.cookies.set("_token", _forged("alice"), domain="127.0.0.1", path="/")
        resp = client.get("/command-center", follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"].startswith("/auth/login?next=")


def test_signed_in_but_not_linked_is_403_not_401(ui) -> None:
    with ui.bearer("nolink") as client:
        resp = client.get("/api/settings")
    assert resp.status_code == 403
    assert "not linked" in resp.json()["detail"]


def test_signed_in_by_cookie_without_csrf_token_is_403(ui) -> None:
    with ui.browser_like("alice") as client:
        resp = client.post("/api/tasks", json={"subject": "x"})
    assert resp.status_code == 403
    with ui.store.session() as session:
        assert repository.list_tasks(session, ui.user_ids["alice"]) == []
