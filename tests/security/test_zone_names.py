"""Time zones a hostile (or unlucky) rep might save (issue 12 #3), through the API and in Chromium.

``zoneinfo`` opens ``localtime``, ``posixrules``, ``posix/...`` and ``right/...``
(when the system has them) and ``Factory``; Chromium's ``Intl`` throws on the
first four, and the pages broke. Only the IANA list from ``tzdata`` is offered
and accepted now; Chromium is asked about every name offered.
"""

from __future__ import annotations

import pytest
from ui.test_ui_browser import sign_in

from sales_connect import repository

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

NOT_ZONES = ["localtime", "posixrules", "posix/Europe/Paris", "right/Europe/Paris", "Factory", "../zoneinfo/UTC",
             "/usr/share/zoneinfo/UTC", "Europe/paris", "Europe/Paris ", "zone.tab", "tzdata.zi"]
SETTINGS = {"sync_enabled": False, "sf_owner_id": "005000000000001AAA"}


def _offered(ui) -> list[str]:
    with ui.bearer("alice") as client:
        resp = client.get("/api/time-zones")
    assert resp.status_code == 200
    return resp.json()


@pytest.mark.parametrize("zone", NOT_ZONES)
def test_a_file_name_that_is_not_a_time_zone_is_refused(ui, zone) -> None:
    with ui.bearer("alice") as client:
        resp = client.put("/api/settings", json={**SETTINGS, "time_zone": zone})
    assert resp.status_code == 422, resp.text
    assert resp.json()["field"] == "time_zone"
    with ui.store.session() as session:
        assert repository.get_user(session, ui.user_ids["alice"]).time_zone == "UTC"


def test_time_zones_offered_are_iana_names_only(ui) -> None:
    zones = _offered(ui)
    assert not set(zones) & set(NOT_ZONES)
    assert {"Europe/Paris", "America/Argentina/Buenos_Aires", "Pacific/Kiritimati", "UTC", "US/Eastern"} <= set(zones)
    assert len(zones) > 400


CHECK_ALL_IN_INTL = """(zones) => zones.filter((zone) => {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: zone, year: "numeric", month: "short", day: "numeric",
                                         hour: "2-digit", minute: "2-digit" }).format(new Date());
    new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" })
      .format(new Date());
    return false;
  } catch (error) {
    return true;
  }
})"""


@pytest.mark.browser
def test_chromium_knows_every_zone_offered_and_the_pages_render_in_them(ui, chromium, screenshots) -> None:
    zones = _offered(ui)
    page = sign_in(chromium, ui, "alice", "/command-center")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        # The same two formatters common.js builds from the saved zone.
        assert page.evaluate(CHECK_ALL_IN_INTL, zones) == []
        assert page.evaluate(CHECK_ALL_IN_INTL, ["localtime", "posix/Europe/Paris"]) != []  # the check can fail
        sample = sorted({zones[0], zones[-1], *zones[:: max(1, len(zones) // 12)], "Pacific/Kiritimati",
                         "Etc/GMT+12", "Etc/GMT-14", "America/St_Johns", "Asia/Kathmandu", "EST5EDT"} & set(zones))
        for zone in sample:
            with ui.store.session() as session:
                repository.update_user_settings(session, ui.user_ids["alice"], time_zone=zone)
            for path in ("/command-center", "/settings"):
                page.goto(f"/sales-connect{path}")
                page.wait_for_load_state("networkidle")
                assert page.inner_text("#who-time-zone") == zone
                assert errors == [], (zone, path, errors)
            page.goto("/sales-connect/command-center")
            page.locator("#tasks-today").get_by_text("Nothing due today.").wait_for()
        page.screenshot(path=screenshots / "security-time-zone.png", full_page=True)
    finally:
        page.context.close()


@pytest.mark.browser
def test_a_zone_saved_before_the_check_does_not_break_the_page_that_fixes_it(ui, chromium) -> None:
    """A store from before this check may hold ``localtime``: Settings must still load and save."""
    with ui.store.session() as session:
        repository.get_user(session, ui.user_ids["alice"]).time_zone = "localtime"  # as an older release saved it
    page = sign_in(chromium, ui, "alice", "/settings")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.reload()
        page.wait_for_selector("#time-zones option[value='Europe/Paris']", state="attached")
        page.fill("#time_zone", "Europe/Paris")
        page.click("#save-settings")
        page.get_by_text("Settings saved.").wait_for()
        assert errors == []
        page.goto("/sales-connect/command-center")
        page.locator("#tasks-today").get_by_text("Nothing due today.").wait_for()
        assert errors == []
    finally:
        page.context.close()
    with ui.store.session() as session:
        assert repository.get_user(session, ui.user_ids["alice"]).time_zone == "Europe/Paris"
