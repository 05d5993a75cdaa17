"""A hostile rep's input against a real api-server (issue 12 #4 #5, issue 15 #8).

Every attack below once got a 500 or was stored; each now gets a 4xx that names
the field (or the body) and changes nothing. Every test checks the store too:
a refusal that still wrote something would be no defence.
"""

from __future__ import annotations

import json

import httpx
import pytest

from sales_connect import limits, repository
from sales_connect.models import Task, User

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

SETTINGS = {"sync_enabled": False, "sf_owner_id": "005000000000001AAA", "time_zone": "UTC"}


def _tasks(ui, login: str) -> list[Task]:
    with ui.store.session() as session:
        return repository.list_tasks(session, ui.user_ids[login])


def _user(ui, login: str) -> User:
    with ui.store.session() as session:
        return repository.get_user(session, ui.user_ids[login])


def _make_task(ui, subject: str = "Call Acme") -> Task:
    with ui.store.session() as session:
        return repository.create_task(session, ui.user_ids["alice"], subject=subject)


def _assert_refused(resp: httpx.Response, status: int, field: str | None, *words: str) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["field"] == field, body
    for word in words:
        assert word in body["detail"], body


# --- field limits (Salesforce's) -------------------------------------------------

OVER_LIMITS = [
    pytest.param({"subject": "s" * (limits.SUBJECT_MAX + 1)}, "subject", "at most 255", id="subject-256"),
    pytest.param({"description": "d" * (limits.DESCRIPTION_MAX + 1)}, "description", "at most 32000",
                 id="description-32001"),
    pytest.param({"description": "d" * 40_000}, "description", "got 40000", id="description-40000"),
]


@pytest.mark.parametrize(("change", "field", "words"), OVER_LIMITS)
def test_text_over_salesforces_limit_is_refused_on_create(ui, change, field, words) -> None:
    with ui.bearer("alice") as client:
        resp = client.post("/api/tasks", json={"subject": "Call Acme", **change})
    _assert_refused(resp, 422, field, words)
    assert _tasks(ui, "alice") == []


@pytest.mark.parametrize(("change", "field", "words"), OVER_LIMITS)
def test_text_over_salesforces_limit_is_refused_on_edit(ui, change, field, words) -> None:
    task = _make_task(ui)
    with ui.bearer("alice") as client:
        resp = client.patch(f"/api/tasks/{task.id}", json={"version": task.version, **change})
    _assert_refused(resp, 422, field, words)
    (after,) = _tasks(ui, "alice")
    assert (after.subject, after.description, after.version) == ("Call Acme", None, task.version)


def test_text_at_salesforces_limit_is_stored_whole(ui) -> None:
    subject, description = "s" * limits.SUBJECT_MAX, "é" * limits.DESCRIPTION_MAX
    with ui.bearer("alice") as client:
        resp = client.post("/api/tasks", json={"subject": subject, "description": description})
    assert resp.status_code == 201, resp.text
    (task,) = _tasks(ui, "alice")
    assert (task.subject, task.description) == (subject, description)


# --- characters no database stores ---------------------------------------------

BAD_TEXT = [
    pytest.param("subject", "Call\x00Acme", "NUL", id="nul-subject"),
    pytest.param("description", "notes\x00", "NUL", id="nul-description"),
    pytest.param("subject", "Call \ud800 Acme", "surrogate", id="surrogate-subject"),
    pytest.param("description", "\udfff", "surrogate", id="surrogate-description"),
    pytest.param("due_date", "2026-11-26\x00", "NUL", id="nul-due-date"),
    pytest.param("reminder_at", "2026-11-26T09:00:00+00:00\ud800", "surrogate", id="surrogate-reminder"),
]


@pytest.mark.parametrize(("field", "value", "words"), BAD_TEXT)
def test_nul_and_lone_surrogates_are_refused_naming_the_field(ui, field, value, words) -> None:
    task = _make_task(ui)
    create = {"subject": "Call Acme", field: value}
    with ui.bearer("alice") as client:
        # json.dumps escapes both as \u0000 / \ud800: exactly what a browser's JSON.stringify sends.
        created = client.post("/api/tasks", content=json.dumps(create), headers={"Content-Type": "application/json"})
        edited = client.patch(
            f"/api/tasks/{task.id}",
            content=json.dumps({"version": task.version, field: value}),
            headers={"Content-Type": "application/json"},
        )
    _assert_refused(created, 422, field, words)
    _assert_refused(edited, 422, field, words)
    (after,) = _tasks(ui, "alice")
    assert (after.id, after.subject, after.version) == (task.id, "Call Acme", task.version)


@pytest.mark.parametrize(
    ("field", "value"),
    [("time_zone", "Europe/Paris\x00"), ("time_zone", "\ud800"), ("sf_owner_id", "005000000000001\x00AA"),
     ("sf_owner_id", "005000000000001AA\udc00")],
)
def test_bad_characters_in_settings_are_refused_and_change_nothing(ui, field, value) -> None:
    before = _user(ui, "alice")
    with ui.bearer("alice") as client:
        resp = client.put("/api/settings", content=json.dumps({**SETTINGS, field: value}),
                          headers={"Content-Type": "application/json"})
    assert resp.status_code == 422, resp.text
    assert resp.json()["field"] == field
    after = _user(ui, "alice")
    assert (after.time_zone, after.sf_owner_id) == (before.time_zone, before.sf_owner_id)


# --- dates outside Salesforce's range ----------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reminder_at", "9999-12-31T23:59:59-23:59"),  # year 10000 in UTC: Python's datetime overflows
        ("reminder_at", "0001-01-01T00:00:00+23:59"),  # year 0 in UTC
        ("reminder_at", "4000-12-31T00:00:01+00:00"),
        ("reminder_at", "1699-12-31T23:59:59+00:00"),
        ("due_date", "1699-12-31"),
        ("due_date", "4001-01-01"),
        ("due_date", "9999-12-31"),
    ],
)
def test_dates_outside_salesforces_range_are_refused(ui, field, value) -> None:
    task = _make_task(ui)
    with ui.bearer("alice") as client:
        created = client.post("/api/tasks", json={"subject": "Call Acme", field: value})
        edited = client.patch(f"/api/tasks/{task.id}", json={"version": task.version, field: value})
    _assert_refused(created, 422, field, "outside Salesforce's dates")
    _assert_refused(edited, 422, field, "outside Salesforce's dates")
    (after,) = _tasks(ui, "alice")
    assert (after.due_date, after.reminder_at, after.version) == (None, None, task.version)


def test_the_range_ends_are_accepted(ui) -> None:
    with ui.bearer("alice") as client:
        first = client.post("/api/tasks", json={"subject": "a", "due_date": "1700-01-01",
                                                "reminder_at": "1700-01-01T00:00:00Z"})
        last = client.post("/api/tasks", json={"subject": "b", "due_date": "4000-12-31",
                                               "reminder_at": "4000-12-31T01:00:00+01:00"})
    assert (first.status_code, last.status_code) == (201, 201), (first.text, last.text)
    assert [t.due_date.isoformat() for t in _tasks(ui, "alice")] == ["1700-01-01", "4000-12-31"]


# --- ids the database cannot hold -------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/tasks/2147483648", "/api/tasks/99999999999999999999", "/api/tasks/0"])
def test_a_task_id_out_of_the_databases_range_is_a_422_not_a_500(ui, path) -> None:
    with ui.bearer("alice") as client:
        resp = client.get(path)
    _assert_refused(resp, 422, "task_id")


def test_a_run_id_with_a_nul_is_a_422_not_a_500(ui) -> None:
    with ui.bearer("alice") as client:
        resp = client.get("/api/sync/runs/manual%00x")
    _assert_refused(resp, 422, "dag_run_id", "NUL")


# --- request bodies ------------------------------------------------------------------


def test_a_body_over_the_limit_is_refused_unread(ui) -> None:
    huge = json.dumps({"subject": "Call Acme", "description": "d" * (20 * 1024 * 1024)}).encode()
    with ui.bearer("alice") as client:
        resp = client.post("/api/tasks", content=huge, headers={"Content-Type": "application/json"})
    assert resp.status_code == 413, resp.text
    assert f"{limits.REQUEST_BODY_MAX_BYTES:,} bytes" in resp.json()["detail"]
    assert _tasks(ui, "alice") == []


def test_a_streamed_body_over_the_limit_is_refused_as_it_arrives(ui) -> None:
    sent = {"bytes": 0}

    def chunks():  # no Content-Length: the server can only count
        yield b'{"subject": "Call Acme", "description": "'
        for _ in range(40):
            sent["bytes"] += 64 * 1024
            yield b"d" * (64 * 1024)
        yield b'"}'

    with ui.bearer("alice") as client:
        resp = client.post("/api/tasks", content=chunks(), headers={"Content-Type": "application/json"})
    assert resp.status_code == 413, resp.text
    assert sent["bytes"] > limits.REQUEST_BODY_MAX_BYTES
    assert _tasks(ui, "alice") == []


def test_a_body_just_under_the_limit_is_read(ui) -> None:
    # Not too large, so the field rule answers (and names the field), not the size limit.
    body = json.dumps({"subject": "Call Acme", "description": "d" * (limits.REQUEST_BODY_MAX_BYTES - 100)})
    assert len(body) < limits.REQUEST_BODY_MAX_BYTES
    with ui.bearer("alice") as client:
        resp = client.post("/api/tasks", content=body, headers={"Content-Type": "application/json"})
    _assert_refused(resp, 422, "description", "at most 32000")


@pytest.mark.parametrize(
    ("content", "content_type", "status", "words"),
    [
        pytest.param(b"subject=Call", "application/json", 400, "not valid JSON (Expecting value at character 0)",
                     id="form-as-json"),
        pytest.param(b'{"subject": "Call', "application/json", 400, "not valid JSON", id="truncated"),
        pytest.param(b'["subject"]', "application/json", 422, "must be a JSON object", id="array"),
        pytest.param(b"subject=Call", "application/x-www-form-urlencoded", 422, "must be a JSON object", id="form"),
        pytest.param(b"", "application/json", 422, "must be a JSON object", id="empty"),
        pytest.param(b"[" * 200_000 + b"]" * 200_000, "application/json", 400, "", id="nested-200000-deep"),
    ],
)
def test_a_body_that_is_not_a_json_object_gets_a_clear_message(ui, content, content_type, status, words) -> None:
    with ui.bearer("alice") as client:
        resp = client.post("/api/tasks", content=content, headers={"Content-Type": content_type})
    assert resp.status_code == status, resp.text
    assert words in resp.json()["detail"]
    assert "0: JSON decode error" not in resp.text
    assert _tasks(ui, "alice") == []
