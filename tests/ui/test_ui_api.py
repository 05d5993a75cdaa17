"""The plugin's JSON API on a real api-server: Airflow's login, CSRF, isolation, bad input, every route.

The sync DAG is not deployed in this Airflow (no dag-processor), so turning
sync on must say so plainly; runs that do execute are covered by the
end-to-end tests. History rows are written with the sync's own ledger
functions, as the DAG writes them.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from airflow_stack.ports import free_port
from sales_connect import repository
from sales_connect.models import SyncError, Task, TaskLink, User
from task_sync import ledger
from task_sync.retry_policy import MAX_PERMANENT_ATTEMPTS

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

NOW = dt.datetime.now(dt.UTC)


def _user(ui, login: str) -> User:
    with ui.store.session() as session:
        return repository.get_user(session, ui.user_ids[login])


def _tasks(ui, login: str) -> list[Task]:
    with ui.store.session() as session:
        return repository.list_tasks(session, ui.user_ids[login])


def _make_task(ui, login: str, subject: str, due: dt.date | None = None) -> Task:
    with ui.store.session() as session:
        return repository.create_task(session, ui.user_ids[login], subject=subject, due_date=due)


def _csrf(client: httpx.Client) -> str:
    resp = client.get("/api/session")
    assert resp.status_code == 200, resp.text
    return resp.json()["csrf_token"]


# --- authentication ---------------------------------------------------------------


def test_api_needs_an_airflow_login(ui) -> None:
    with httpx.Client(base_url=ui.app_url) as anonymous:
        assert anonymous.get("/api/settings").status_code == 401
        forged = anonymous.get("/api/settings", headers={"Authorization": "Bearer not-a-jwt"})
        assert forged.status_code == 401  # the same as no credential (tests/security/test_auth.py)
        assert anonymous.post("/api/tasks", json={"subject": "x"}).status_code == 401
    assert _tasks(ui, "alice") == []


def test_pages_send_a_visitor_without_session_to_airflow_login(ui) -> None:
    with httpx.Client(base_url=ui.app_url) as anonymous:
        for page in ("/command-center", "/settings", "/history"):
            resp = anonymous.get(page, follow_redirects=False)
            assert resp.status_code == 303
            assert resp.headers["location"] == f"/auth/login?next=%2Fsales-connect{page.replace('/', '%2F')}"


def test_a_login_without_sales_connect_user_is_told_so(ui) -> None:
    with ui.bearer("nolink") as client:
        resp = client.get("/api/command-center")
    assert resp.status_code == 403
    assert "'nolink' is not linked to a Sales Connect user" in resp.json()["detail"]
    with ui.browser_like("nolink") as browser:
        page = browser.get("/settings")
    assert page.status_code == 403
    assert "is not linked to a Sales Connect user" in page.text


def test_session_is_the_callers_own(ui) -> None:
    with ui.bearer("bob") as client:
        body = client.get("/api/session").json()
    assert body["settings"]["login"] == "bob"
    assert body["settings"]["email"] == "bob@example.com"
    assert body["settings"]["sync_enabled"] is False
    assert body["csrf_token"]


# --- CSRF -------------------------------------------------------------------------


def test_cookie_session_write_without_csrf_token_is_refused(ui) -> None:
    with ui.browser_like("alice") as browser:
        resp = browser.post("/api/tasks", json={"subject": "forged"})
    assert resp.status_code == 403
    assert "CSRF" in resp.json()["detail"]
    assert _tasks(ui, "alice") == []


def test_cookie_session_write_with_its_csrf_token_goes_through(ui) -> None:
    with ui.browser_like("alice") as browser:
        token = _csrf(browser)
        resp = browser.post("/api/tasks", json={"subject": "real"}, headers={"X-CSRF-Token": token})
    assert resp.status_code == 201, resp.text
    assert [t.subject for t in _tasks(ui, "alice")] == ["real"]


def test_csrf_token_is_bound_to_the_user(ui) -> None:
    with ui.browser_like("alice") as alice:
        alice_token = _csrf(alice)
        nonce = alice.cookies.get("sc_csrf")
    with ui.browser_like("bob") as bob:
        bob.cookies.set("sc_csrf", nonce, domain="127.0.0.1", path="/sales-connect")
        resp = bob.post("/api/tasks", json={"subject": "with alice's token"}, headers={"X-CSRF-Token": alice_token})
    assert resp.status_code == 403
    assert _tasks(ui, "bob") == []


def test_cross_site_origin_is_refused_even_with_a_token(ui) -> None:
    with ui.browser_like("alice") as browser:
        token = _csrf(browser)
        resp = browser.put(
            "/api/settings",
            json={"sync_enabled": False, "sf_owner_id": None, "time_zone": "Europe/Paris"},
            headers={"X-CSRF-Token": token, "Origin": "https://evil.example"},
        )
    assert resp.status_code == 403
    assert "Cross-site" in resp.json()["detail"]
    assert _user(ui, "alice").time_zone == "UTC"


def test_bearer_clients_need_no_csrf_token(ui) -> None:
    with ui.bearer("alice") as client:
        assert client.post("/api/tasks", json={"subject": "from a script"}).status_code == 201


# --- settings and starting a sync ----------------------------------------------------


def _settings(**overrides):
    body = {"sync_enabled": False, "sf_owner_id": "005000000000001AAA", "time_zone": "UTC"}
    return {**body, **overrides}


def test_switching_sync_on_records_it_and_says_the_dag_is_missing(ui) -> None:
    with ui.bearer("alice") as client:
        resp = client.put("/api/settings", json=_settings(sync_enabled=True, time_zone="Europe/Paris"))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["settings"]["sync_enabled"] is True
    assert body["sync"]["problem"] == "dag_missing"
    assert body["sync"]["dag_run_id"] is None
    assert "'sales_connect_task_sync' is not in Airflow" in body["message"]
    assert body["message"].startswith("Sync is on.")
    user = _user(ui, "alice")
    assert user.sync_enabled is True
    assert user.time_zone == "Europe/Paris"
    assert user.enabled_at is not None and abs(user.enabled_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


def test_switching_sync_off_changes_no_task(ui) -> None:
    task = _make_task(ui, "alice", "keep me")
    with ui.bearer("alice") as client:
        client.put("/api/settings", json=_settings(sync_enabled=True))
        resp = client.put("/api/settings", json=_settings(sync_enabled=False))
    assert resp.status_code == 200
    assert resp.json()["message"] == "Sync is off; nothing was changed or deleted."
    assert resp.json()["sync"] is None
    user = _user(ui, "alice")
    assert user.sync_enabled is False and user.disabled_at is not None
    [kept] = _tasks(ui, "alice")
    assert (kept.id, kept.subject, kept.version, kept.deleted_at) == (task.id, "keep me", task.version, None)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "is not an IANA time zone"),
        ({"time_zone": ""}, "time_zone", "choose a time zone"),
        ({"sf_owner_id": "001000000000001AAA"}, "sf_owner_id", "is not a Salesforce User id"),
        ({"sf_owner_id": None}, "sf_owner_id", "set your Salesforce user id before switching sync on"),
    ],
)
def test_bad_settings_are_refused_and_change_nothing(ui, change, field, words) -> None:
    with ui.bearer("alice") as client:
        resp = client.put("/api/settings", json=_settings(sync_enabled=True, **change))
    assert resp.status_code == 422
    assert resp.json()["field"] == field
    assert words in resp.json()["detail"]
    user = _user(ui, "alice")
    assert (user.sync_enabled, user.enabled_at, user.time_zone, user.sf_owner_id) == (
        False,
        None,
        "UTC",
        "005000000000001AAA",
    )


def test_owner_id_taken_by_another_user_is_refused(ui) -> None:
    with ui.bearer("alice") as client:
        resp = client.put("/api/settings", json=_settings(sf_owner_id="005000000000002AAA"))
    assert resp.status_code == 422
    assert "already belongs to another user" in resp.json()["detail"]
    assert _user(ui, "alice").sf_owner_id == "005000000000001AAA"


@pytest.fixture(scope="module")
def cut_off_server(ui_servers, ui_server):  # type: ignore[no-untyped-def]
    """A second api-server whose plugin is told Airflow's API is at a port nobody listens on."""
    server = ui_servers.start("ui-api-server-cut-off", {"SALES_CONNECT_AIRFLOW_API_URL": f"http://127.0.0.1:{free_port()}"})
    server.user_ids = ui_server.user_ids  # same store, same people
    return server


def test_unreachable_airflow_api_keeps_the_setting_and_says_so(ui, cut_off_server) -> None:
    with cut_off_server.bearer("alice") as client:
        resp = client.put("/api/settings", json=_settings(sync_enabled=True))
    assert resp.status_code == 200
    body = resp.json()
    assert body["sync"]["problem"] == "unreachable"
    assert body["message"].startswith("Sync is on. Could not reach Airflow's API at http://127.0.0.1:")
    assert body["message"].endswith("The next scheduled run will include you.")
    assert _user(ui, "alice").sync_enabled is True


def test_sync_now_needs_sync_on(ui) -> None:
    with ui.bearer("alice") as client:
        resp = client.post("/api/sync/runs")
    assert resp.status_code == 422
    assert resp.json() == {"detail": "sync_enabled: switch sync on first", "field": "sync_enabled"}


def test_preview_without_the_dag_says_so_and_writes_nothing(ui) -> None:
    with ui.bearer("alice") as client:
        resp = client.post("/api/sync/preview")
    assert resp.status_code == 200
    assert resp.json()["problem"] == "dag_missing"
    assert _user(ui, "alice").sync_enabled is False


# --- Command Center and tasks ------------------------------------------------------------


def test_command_center_shows_open_tasks_due_today_and_tomorrow_in_the_users_zone(ui) -> None:
    zone = "Pacific/Kiritimati"  # UTC+14: its "today" is often UTC's tomorrow
    with ui.bearer("alice") as client:
        assert client.put("/api/settings", json=_settings(time_zone=zone)).status_code == 200
        today = dt.datetime.now(ZoneInfo(zone)).date()
        day = dt.timedelta(days=1)
        for subject, due in [("yesterday", today - day), ("today", today), ("tomorrow", today + day),
                             ("later", today + 2 * day), ("undated", None)]:
            created = client.post("/api/tasks", json={"subject": subject, "due_date": due and due.isoformat()})
            assert created.status_code == 201, created.text
        done = client.post("/api/tasks", json={"subject": "done today", "due_date": today.isoformat()}).json()
        client.post(f"/api/tasks/{done['id']}/complete", json={"version": done["version"]})
        _make_task(ui, "bob", "bob's, due today", today)
        cc = client.get("/api/command-center").json()
    assert cc["time_zone"] == zone
    assert cc["today"] == today.isoformat()
    assert cc["tomorrow"] == (today + day).isoformat()
    assert [t["subject"] for t in cc["tasks"]] == ["today", "tomorrow"]
    assert cc["tasks"][0]["sync"] == {
        "linked": False, "sf_id": None, "state": None, "changes_pending": False, "error": None
    }


def test_task_lifecycle_create_edit_complete_reopen_delete(ui) -> None:
    today = NOW.date().isoformat()
    with ui.bearer("alice") as client:
        created = client.post(
            "/api/tasks",
            json={"subject": "Call Acme", "due_date": today, "priority": "high", "task_type": "call",
                  "description": "renewal", "reminder_at": "2026-11-26T09:00:00+01:00"},
        )
        assert created.status_code == 201, created.text
        task = created.json()
        assert (task["subject"], task["priority"], task["task_type"], task["status"]) == (
            "Call Acme", "high", "call", "open")
        assert task["reminder_at"].startswith("2026-11-26T08:00:00")

        edited = client.patch(f"/api/tasks/{task['id']}", json={"version": task["version"], "subject": "Call Acme Inc",
                                                                 "description": None}).json()
        assert edited["subject"] == "Call Acme Inc"
        assert edited["description"] is None
        assert edited["priority"] == "high"  # not sent, not touched
        assert edited["version"] > task["version"]

        stale = client.patch(f"/api/tasks/{task['id']}", json={"version": task["version"], "subject": "old view"})
        assert stale.status_code == 409
        assert "reload it" in stale.json()["detail"]

        completed = client.post(f"/api/tasks/{task['id']}/complete", json={"version": edited["version"]}).json()
        assert completed["status"] == "completed" and completed["completed_at"]
        assert client.get("/api/command-center").json()["tasks"] == []
        assert [t["id"] for t in client.get("/api/tasks", params={"status": "completed"}).json()] == [task["id"]]

        reopened = client.post(f"/api/tasks/{task['id']}/reopen", json={"version": completed["version"]}).json()
        assert reopened["status"] == "open" and reopened["completed_at"] is None
        assert [t["id"] for t in client.get("/api/command-center").json()["tasks"]] == [task["id"]]

        deleted = client.delete(f"/api/tasks/{task['id']}", params={"version": reopened["version"]})
        assert deleted.status_code == 200
        assert deleted.json() == {"id": task["id"], "deleted": True}
        assert client.get(f"/api/tasks/{task['id']}").status_code == 404
        assert client.get("/api/command-center").json()["tasks"] == []
    with ui.store.session() as session:
        row = session.get(Task, task["id"])
        assert row.deleted_at is not None and row.subject == "Call Acme Inc"


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"subject": ""}, "subject", "a task needs a subject"),
        ({"subject": "   "}, "subject", "a task needs a subject"),
        ({}, "subject", "a task needs a subject"),
        ({"subject": "x" * 256}, "subject", "at most 255 characters (got 256)"),
        ({"subject": "ok", "due_date": "tomorrow"}, "due_date", "must be a date (YYYY-MM-DD), not 'tomorrow'"),
        ({"subject": "ok", "due_date": "2026-02-30"}, "due_date", "must be a date (YYYY-MM-DD)"),
        ({"subject": "ok", "priority": "urgent"}, "priority", "'urgent' is not one of high, normal, low"),
        ({"subject": "ok", "reminder_at": "2026-11-26T09:00:00"}, "reminder_at", "needs a UTC offset"),
        ({"subject": 42}, "subject", "Input should be a valid string"),
    ],
)
def test_bad_task_input_is_refused_and_creates_nothing(ui, body, field, words) -> None:
    with ui.bearer("alice") as client:
        resp = client.post("/api/tasks", json=body)
    assert resp.status_code == 422
    assert resp.json()["field"] == field
    assert words in resp.json()["detail"]
    assert _tasks(ui, "alice") == []


def test_task_list_refuses_an_unknown_status_filter(ui) -> None:
    with ui.bearer("alice") as client:
        resp = client.get("/api/tasks", params={"status": "done"})
    assert resp.status_code == 422
    assert resp.json()["field"] == "status"


def test_subject_of_exactly_255_characters_is_accepted(ui) -> None:
    with ui.bearer("alice") as client:
        assert client.post("/api/tasks", json={"subject": "y" * 255}).status_code == 201


@pytest.mark.parametrize(
    ("change", "field"),
    [({"subject": ""}, "subject"), ({"subject": "z" * 256}, "subject"), ({"due_date": "26/11/2026"}, "due_date")],
)
def test_bad_edit_is_refused_and_changes_nothing(ui, change, field) -> None:
    task = _make_task(ui, "alice", "original", NOW.date())
    with ui.bearer("alice") as client:
        resp = client.patch(f"/api/tasks/{task.id}", json={"version": task.version, "priority": "low", **change})
    assert resp.status_code == 422
    assert resp.json()["field"] == field
    [row] = _tasks(ui, "alice")
    assert (row.subject, row.priority, row.due_date, row.version) == ("original", "normal", NOW.date(), task.version)


def test_another_users_task_is_not_found_and_untouched(ui) -> None:
    secret = _make_task(ui, "bob", "Bob's secret deal", NOW.date())
    with ui.bearer("alice") as client:
        answers = [
            client.get(f"/api/tasks/{secret.id}"),
            client.patch(f"/api/tasks/{secret.id}", json={"version": secret.version, "subject": "mine now"}),
            client.post(f"/api/tasks/{secret.id}/complete", json={"version": secret.version}),
            client.post(f"/api/tasks/{secret.id}/reopen", json={"version": secret.version}),
            client.delete(f"/api/tasks/{secret.id}", params={"version": secret.version}),
        ]
        listed = client.get("/api/tasks").json() + client.get("/api/command-center").json()["tasks"]
    for resp in answers:
        assert resp.status_code == 404
        assert resp.json() == {"detail": "Not found.", "field": None}
        assert "secret" not in resp.text
    assert listed == []
    [row] = _tasks(ui, "bob")
    assert (row.subject, row.status, row.version, row.deleted_at) == ("Bob's secret deal", "open", secret.version, None)


def test_task_shows_its_link_sync_state_and_open_error(ui) -> None:
    task = _make_task(ui, "alice", "linked one", NOW.date())
    with ui.store.session(changed_by="sync") as session:
        session.add(TaskLink(task_id=task.id, user_id=ui.user_ids["alice"], sf_id="00T000000000001AAA",
                             origin="sales_connect", sc_seq=0, sync_state="error"))
        ledger.record_error(session, run_id=None, user_id=ui.user_ids["alice"], direction="sc_to_sf",
                            operation="update", error_code="STRING_TOO_LONG", message="Subject: data value too large",
                            now=NOW, task_id=task.id, sf_id="00T000000000001AAA")
    with ui.bearer("alice") as client:
        shown = client.get(f"/api/tasks/{task.id}").json()["sync"]
    assert shown["linked"] is True
    assert shown["sf_id"] == "00T000000000001AAA"
    assert shown["state"] == "error"
    assert shown["changes_pending"] is True  # edited (created) after the link's last synced change
    assert shown["error"]["error_code"] == "STRING_TOO_LONG"
    assert "at most 255 characters" in shown["error"]["explanation"]


# --- sync history --------------------------------------------------------------------------


def _run(ui, dag_run_id: str, logins: list[str], counts: dict, status: str = "success") -> int:
    with ui.store.session() as session:
        run_id = ledger.start_run(session, dag_run_id=dag_run_id, run_type="manual", dry_run=False,
                                  user_ids=[ui.user_ids[x] for x in logins], now=NOW)
        ledger.finish_run(session, run_id, status=status, counts=counts, api_calls=7, now=NOW)
    return run_id


COUNTS = {
    "sf_to_sc": {"create": 3, "update": 2, "complete": 1, "delete": 1},
    "sc_to_sf": {"create": 4, "update": 0, "complete": 1, "delete": 2},
    "skipped_preexisting": 5,
    "conflicts": 1,
    "errors": 1,
}


def test_history_shows_only_the_users_runs_conflicts_and_errors(ui) -> None:
    mine = _run(ui, "manual__alice", ["alice", "bob"], COUNTS)
    _run(ui, "manual__bob_only", ["bob"], {})
    alice, bob = ui.user_ids["alice"], ui.user_ids["bob"]
    with ui.store.session() as session:
        ledger.record_conflict(
            session, run_id=mine, user_id=alice, task_id=None, sf_id="00T000000000009AAA",
            sc_version={"subject": "Call Acme", "priority": "high"},
            sf_version={"subject": "Call ACME Corp", "priority": "high"},
            sc_modified_at=NOW - dt.timedelta(minutes=5), sf_modified_at=NOW, winner="salesforce",
            rule="most recent change wins (Salesforce changed it later)", now=NOW,
        )
        ledger.record_conflict(
            session, run_id=mine, user_id=bob, task_id=None, sf_id=None, sc_version={"subject": "bob's"},
            sf_version={}, sc_modified_at=None, sf_modified_at=None, winner="sales_connect", rule="r", now=NOW,
        )
        ledger.record_error(session, run_id=mine, user_id=alice, direction="sf_to_sc", operation="create",
                            error_code="UNABLE_TO_LOCK_ROW", message="unable to obtain exclusive access", now=NOW,
                            sf_id="00T000000000008AAA")
        ledger.record_error(session, run_id=mine, user_id=bob, direction="sc_to_sf", operation="create",
                            error_code="SOMETHING_NEW", message="bob's error", now=NOW, task_id=999)
    with ui.bearer("alice") as client:
        history = client.get("/api/history").json()
    [run] = history["runs"]
    assert run["dag_run_id"] == "manual__alice"
    assert run["counts"]["sf_to_sc"] == COUNTS["sf_to_sc"]
    assert run["api_calls"] == 7
    assert run["summary"] == {"imported": 3, "updated": 3, "pushed": 5, "deleted": 3, "conflicts": 1, "errors": 1}
    [conflict] = history["conflicts"]
    assert conflict["sc_version"]["subject"] == "Call Acme"
    assert conflict["sf_version"]["subject"] == "Call ACME Corp"
    assert conflict["winner"] == "salesforce"
    assert conflict["rule"].startswith("most recent change wins")
    [error] = history["errors"]
    assert error["error_code"] == "UNABLE_TO_LOCK_ROW"
    assert "retries automatically" in error["explanation"]
    assert "bob" not in str(history)


def test_unknown_error_code_gets_a_generic_explanation(ui) -> None:
    with ui.store.session() as session:
        ledger.record_error(session, run_id=None, user_id=ui.user_ids["alice"], direction="sc_to_sf",
                            operation="create", error_code="BRAND_NEW_CODE", message="m", now=NOW, task_id=1)
    with ui.bearer("alice") as client:
        [error] = client.get("/api/history").json()["errors"]
    assert error["explanation"].startswith("Salesforce refused this record")


def test_retry_moves_the_errors_next_attempt_to_now_for_its_owner_only(ui) -> None:
    # The module's NOW is import time, minutes old by now in a full suite; the backoff is counted from here.
    refused_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    with ui.store.session() as session:
        error = ledger.record_error(session, run_id=None, user_id=ui.user_ids["alice"], direction="sc_to_sf",
                                    operation="update", error_code="REQUIRED_FIELD_MISSING", message="Status",
                                    now=refused_at, task_id=5)
        session.flush()
        error_id, planned = error.id, error.next_retry_at
    assert planned > dt.datetime.now(dt.UTC)
    with ui.bearer("bob") as bob:
        refused = bob.post(f"/api/errors/{error_id}/retry")
    assert refused.status_code == 404
    with ui.bearer("alice") as alice:
        resp = alice.post(f"/api/errors/{error_id}/retry")
        assert alice.post("/api/errors/987654/retry").status_code == 404
    assert resp.status_code == 200
    with ui.store.session() as session:
        row = session.scalar(select(SyncError).where(SyncError.id == error_id))
    assert row.next_retry_at < planned
    assert abs(row.next_retry_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert dt.datetime.fromisoformat(resp.json()["next_retry_at"]) == row.next_retry_at


def test_an_error_whose_retries_stopped_says_so_in_the_history_and_retry_re_arms_it(ui) -> None:
    with ui.store.session() as session:
        for _attempt in range(MAX_PERMANENT_ATTEMPTS):
            error = ledger.record_error(session, run_id=None, user_id=ui.user_ids["alice"], direction="sc_to_sf",
                                        operation="create", error_code="INACTIVE_OWNER_OR_USER",
                                        message="operation performed with inactive user", now=NOW, task_id=7)
        session.flush()
        error_id = error.id
    with ui.bearer("alice") as alice:
        [shown] = alice.get("/api/history").json()["errors"]
        assert (shown["id"], shown["retries_stopped"], shown["next_retry_at"]) == (error_id, True, None)
        assert shown["attempts"] == MAX_PERMANENT_ATTEMPTS
        resp = alice.post(f"/api/errors/{error_id}/retry")
    assert resp.status_code == 200 and resp.json()["retries_stopped"] is False
    assert abs(dt.datetime.fromisoformat(resp.json()["next_retry_at"]) - dt.datetime.now(dt.UTC)) < dt.timedelta(
        minutes=1)


def test_run_status_answers_from_the_history_for_the_runs_users_only(ui) -> None:
    _run(ui, "manual__status", ["alice"], COUNTS, status="partial")
    with ui.bearer("alice") as alice:
        status = alice.get("/api/sync/runs/manual__status").json()
    assert status["airflow_state"] is None  # this Airflow never had the DAG
    assert status["done"] is True
    assert status["sync_run"]["status"] == "partial"
    assert status["sync_run"]["summary"]["imported"] == 3
    with ui.bearer("bob") as bob:
        assert bob.get("/api/sync/runs/manual__status").status_code == 404


# --- schema, pages, assets -------------------------------------------------------------------


def test_openapi_schema_is_published_with_every_route(ui) -> None:
    schema = httpx.get(f"{ui.app_url}/openapi.json").json()
    assert schema["info"]["title"] == "Sales Connect"
    assert set(schema["paths"]) >= {
        "/api/session", "/api/settings", "/api/sync/runs", "/api/sync/preview", "/api/sync/runs/{dag_run_id}",
        "/api/command-center", "/api/tasks", "/api/tasks/{task_id}", "/api/tasks/{task_id}/complete",
        "/api/tasks/{task_id}/reopen", "/api/history", "/api/errors/{error_id}/retry", "/api/time-zones",
    }
    assert schema["servers"] == [{"url": "/sales-connect"}]


def test_time_zones_are_listed(ui) -> None:
    with ui.bearer("alice") as client:
        zones = client.get("/api/time-zones").json()
    assert "Europe/Paris" in zones and "Mars/Olympus_Mons" not in zones


@pytest.mark.parametrize("page", ["/command-center", "/settings", "/history"])
def test_pages_use_only_assets_the_plugin_serves(ui, page) -> None:
    with ui.browser_like("alice") as browser:
        resp = browser.get(page)
        assert resp.status_code == 200
        assert "Alice Rep" in resp.text
        assert "default-src 'self'" in resp.headers["content-security-policy"]
        assert resp.headers["x-frame-options"] == "SAMEORIGIN"
        assert "http://" not in resp.text and "https://" not in resp.text and "//cdn" not in resp.text
        for asset in ("/static/app.css", "/static/common.js", f"/static/{page[1:].replace('-', '_')}.js"):
            assert asset in resp.text
            assert browser.get(asset).status_code == 200
