"""The pages in Debian's Chromium (Playwright), signed in through Airflow's own login page.

Each test saves screenshots into test-artifacts/screenshots/ for a person to look at.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from sales_connect import repository
from sales_connect.models import Task
from task_sync import ledger

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.postgres]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LAPTOP = {"width": 1366, "height": 860}
TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser-deps`")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def sign_in(chromium, ui, login: str, path: str):  # type: ignore[no-untyped-def]
    """Open ``path`` of the plugin, be sent to Airflow's login page, sign in, land back on ``path``."""
    context = chromium.new_context(viewport=LAPTOP, base_url=ui.base_url)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"/sales-connect{path}")
    page.wait_for_url("**/auth/login**")
    page.get_by_label("Username").fill(login)
    page.get_by_label("Password").fill(ui.passwords[login])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/sales-connect{path}")
    return page


@pytest.fixture
def alice_page(chromium, ui):  # type: ignore[no-untyped-def]
    pages = []

    def open_page(path: str):  # type: ignore[no-untyped-def]
        page = sign_in(chromium, ui, "alice", path)
        pages.append(page)
        return page

    yield open_page
    for page in pages:
        page.context.close()


def test_settings_switch_sync_on_and_off(ui, alice_page, screenshots: Path) -> None:
    page = alice_page("/settings")
    page.wait_for_selector("#time-zones option[value='Europe/Paris']", state="attached")
    page.screenshot(path=screenshots / "settings-initial.png", full_page=True)

    page.fill("#time_zone", "Mars/Olympus_Mons")
    page.check("#sync_enabled")
    page.click("#save-settings")
    error = page.locator('.field-error[data-for="time_zone"]')
    error.wait_for()
    assert "is not an IANA time zone" in error.inner_text()
    assert "Nothing was saved" in page.inner_text("#settings-message")
    page.screenshot(path=screenshots / "settings-bad-time-zone.png", full_page=True)
    with ui.store.session() as session:
        assert repository.get_user(session, ui.user_ids["alice"]).sync_enabled is False

    page.fill("#time_zone", "Europe/Paris")
    page.click("#save-settings")
    expect(page.locator("#fact-sync")).to_have_text("On")
    message = page.inner_text("#settings-message")
    assert message.startswith("Sync is on.")
    assert "'sales_connect_task_sync' is not in Airflow" in message
    assert page.is_hidden("#run-panel")  # no run to follow: the message says why
    assert page.inner_text("#fact-enabled-at") != "—"
    assert page.is_hidden("#preview-card")
    page.screenshot(path=screenshots / "settings-sync-on.png", full_page=True)
    with ui.store.session() as session:
        user = repository.get_user(session, ui.user_ids["alice"])
        assert (user.sync_enabled, user.time_zone) == (True, "Europe/Paris")

    page.uncheck("#sync_enabled")
    page.click("#save-settings")
    expect(page.locator("#fact-sync")).to_have_text("Off")
    expect(page.locator("#settings-message")).to_have_text("Sync is off; nothing was changed or deleted.")
    page.screenshot(path=screenshots / "settings-sync-off.png", full_page=True)
    with ui.store.session() as session:
        assert repository.get_user(session, ui.user_ids["alice"]).sync_enabled is False


def test_command_center_create_edit_complete_reopen_delete(ui, alice_page, screenshots: Path) -> None:
    with ui.store.session() as session:
        other = repository.create_task(session, ui.user_ids["bob"], subject="Bob's task", due_date=dt.date.today())
    page = alice_page("/command-center")
    page.on("dialog", lambda dialog: dialog.accept())
    today = page.locator("#tasks-today")
    today.get_by_text("Nothing due today.").wait_for()

    page.click("#create-button")  # empty subject
    page.locator('.field-error[data-for="subject"]').get_by_text("a task needs a subject").wait_for()
    page.fill("#new-subject", "Call Acme about the renewal")
    page.fill("#new-due", "not a date")
    page.click("#create-button")
    page.locator('.field-error[data-for="due_date"]').get_by_text("must be a date (YYYY-MM-DD)").wait_for()
    page.screenshot(path=screenshots / "command-center-bad-input.png", full_page=True)

    page.fill("#new-due", dt.datetime.now(dt.UTC).date().isoformat())
    page.select_option("#new-priority", "high")
    page.select_option("#new-type", "call")
    page.fill("#new-description", "Ask about the 3-year option.")
    page.click("#create-button")
    item = today.locator("li.task", has_text="Call Acme about the renewal")
    item.wait_for()
    assert "Not linked" in item.inner_text()
    assert "high" in item.inner_text()
    page.fill("#new-subject", "Send the proposal")
    page.fill("#new-due", (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)).isoformat())
    page.click("#create-button")
    page.locator("#tasks-tomorrow li.task", has_text="Send the proposal").wait_for()
    assert "Bob's task" not in page.inner_text("main")
    page.screenshot(path=screenshots / "command-center-created.png", full_page=True)

    item.get_by_role("button", name="Edit").click()
    page.fill("#edit-subject", "Call Acme Inc about the renewal")
    page.screenshot(path=screenshots / "command-center-edit-dialog.png")
    page.click("#edit-save")
    edited = today.locator("li.task", has_text="Call Acme Inc about the renewal")
    edited.wait_for()

    edited.get_by_role("button", name="Complete").click()
    done = page.locator("#tasks-done li.task", has_text="Call Acme Inc about the renewal")
    done.wait_for()
    today.get_by_text("Nothing due today.").wait_for()
    page.screenshot(path=screenshots / "command-center-completed.png", full_page=True)

    done.get_by_role("button", name="Re-open").click()
    edited.wait_for()
    edited.get_by_role("button", name="Delete").click()
    today.get_by_text("Nothing due today.").wait_for()
    assert "Deleted" in page.inner_text("#cc-message")
    page.screenshot(path=screenshots / "command-center-after-delete.png", full_page=True)

    with ui.store.session() as session:
        [kept] = repository.list_tasks(session, ui.user_ids["alice"])
        assert kept.subject == "Send the proposal"
        gone = session.query(Task).filter(Task.subject == "Call Acme Inc about the renewal").one()
        assert gone.deleted_at is not None
        assert repository.get_task(session, ui.user_ids["bob"], other.id).subject == "Bob's task"


def test_history_shows_runs_conflicts_and_errors_with_retry(ui, alice_page, screenshots: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    alice = ui.user_ids["alice"]
    with ui.store.session() as session:
        run_id = ledger.start_run(session, dag_run_id="manual__2026-11-25T10:00:00+00:00", run_type="manual",
                                  dry_run=False, user_ids=[alice], now=now - dt.timedelta(minutes=3))
        ledger.finish_run(session, run_id, status="partial", api_calls=6, now=now - dt.timedelta(minutes=2), counts={
            "sf_to_sc": {"create": 12, "update": 3, "complete": 1, "delete": 2},
            "sc_to_sf": {"create": 2, "update": 1, "complete": 0, "delete": 1},
            "skipped_preexisting": 4, "conflicts": 1, "errors": 1,
        })
        ledger.record_conflict(
            session, run_id=run_id, user_id=alice, task_id=None, sf_id="00T000000000009AAA",
            sc_version={"subject": "Call Acme", "due_date": "2026-11-25", "priority": "high"},
            sf_version={"subject": "Call ACME Corp", "due_date": "2026-11-26", "priority": "high"},
            sc_modified_at=now - dt.timedelta(minutes=9), sf_modified_at=now - dt.timedelta(minutes=4),
            winner="salesforce", rule="Both sides changed it; the most recent change (Salesforce's) won.", now=now,
        )
        ledger.record_error(session, run_id=run_id, user_id=alice, direction="sc_to_sf", operation="create",
                            error_code="STRING_TOO_LONG", message="Subject: data value too large: 300 characters",
                            now=now, task_id=41)
    page = alice_page("/history")
    page.locator("#runs-table tbody tr", has_text="manual__2026-11-25T10:00:00+00:00").wait_for()
    row = page.locator("#runs-table tbody tr").first.inner_text()
    assert "partial" in row and "12" in row and "6" in row
    conflict = page.locator(".conflict").first
    assert "Call ACME Corp" in conflict.inner_text() and "Call Acme" in conflict.inner_text()
    assert "won" in conflict.locator(".version.winner").inner_text()
    error = page.locator(".error-item").first
    assert "at most 255 characters" in error.inner_text()
    page.screenshot(path=screenshots / "history.png", full_page=True)

    error.get_by_role("button", name="Retry on next run").click()
    page.get_by_text("The next sync run retries STRING_TOO_LONG").wait_for()
    page.screenshot(path=screenshots / "history-retry.png", full_page=True)
    with ui.store.session() as session:
        [open_error] = repository.open_errors(session, alice)
        assert open_error.next_retry_at <= dt.datetime.now(dt.UTC)


def test_pages_are_linked_from_the_airflow_ui(ui, alice_page, screenshots: Path) -> None:
    page = alice_page("/command-center")
    page.goto("/plugin/sales-connect")
    frame = page.frame_locator("iframe")
    frame.locator("h1", has_text="Command Center").wait_for()
    page.screenshot(path=screenshots / "airflow-ui-embedded-command-center.png")
    page.goto("/")
    page.get_by_role("button", name="Plugins").click()
    page.get_by_text("Sales Connect").first.wait_for()
    page.screenshot(path=screenshots / "airflow-ui-plugins-menu.png")
