"""Issue 15 #3: reps are managed with ``python -m sales_connect reps add|list|link|disable``, run as
an operator would (a subprocess on a fresh SQLite file or PostgreSQL database): what a rep then
sees is what the plugin shows them (the Sales Connect user their Airflow login maps to)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sales_connect import repository
from sales_connect.db import Store
from sales_connect.errors import NotFoundError

REPO = Path(__file__).resolve().parents[2]
AVA_OWNER = "005000000000001AAA"


def reps(store_url: str, *args: str, expect: int = 0) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "include"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "sales_connect", "reps", *args, "--url", store_url], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == expect, (args, done.stdout, done.stderr)
    return done


def listed(store_url: str) -> list[dict]:
    return json.loads(reps(store_url, "list", "--json").stdout)


def test_add_link_list_and_disable_a_rep_without_sql(store_url: str) -> None:
    added = reps(store_url, "add", "--name", "Ava Reyes", "--email", "Ava.Reyes@Example.com",
                 "--time-zone", "Pacific/Kiritimati", "--sf-owner-id", AVA_OWNER[:15])
    assert "added rep 1 ava.reyes@example.com (Pacific/Kiritimati)" in added.stdout
    reps(store_url, "add", "--name", "Ben Okafor", "--email", "ben@example.com", "--login", "ben")
    assert "signs in as 'ava'" in reps(store_url, "link", "ava.reyes@example.com", "ava").stdout

    table = reps(store_url, "list").stdout.splitlines()
    assert table[0].split() == ["id", "email", "name", "login", "sf_owner_id", "time_zone", "sync", "tasks"]
    assert [r["login"] for r in listed(store_url)] == ["ava", "ben"]

    store = Store(store_url)
    try:
        with store.session() as s:  # Ava signs in: her own profile, sync off until she switches it on
            ava = repository.get_user_by_login(s, "ava")
            assert (ava.name, ava.time_zone, ava.sf_owner_id, ava.sync_enabled) == (
                "Ava Reyes", "Pacific/Kiritimati", AVA_OWNER, False)
            repository.set_sync_enabled(s, ava.id, True)
            task_id = repository.create_task(s, ava.id, subject="call Globex", due_date=dt.date.today()).id

        gone = reps(store_url, "disable", "ava.reyes@example.com")
        assert "disabled: sync off, no login linked; 1 task(s)" in gone.stdout

        with store.session() as s:
            with pytest.raises(NotFoundError):  # the plugin: "not linked to a Sales Connect user"
                repository.get_user_by_login(s, "ava")
            ava = repository.get_user(s, ava.id)
            assert ava.sync_enabled is False and ava.disabled_at is not None
            assert [t.id for t in repository.list_tasks(s, ava.id)] == [task_id]  # nothing deleted
            assert repository.get_user_by_login(s, "ben").email == "ben@example.com"
    finally:
        store.dispose()
    assert [(r["email"], r["login"], r["sync"], r["tasks"]) for r in listed(store_url)] == [
        ("ava.reyes@example.com", None, "off", 1), ("ben@example.com", "ben", "off", 0)]


BAD_INPUT = [
    (("add", "--name", "Eve", "--email", "not-an-address"), "email: 'not-an-address' is not an email address"),
    (("add", "--name", "Eve", "--email", "eve@example.com", "--time-zone", "Mars/Base"),
     "'Mars/Base' is not an IANA time zone"),
    (("add", "--name", "Eve", "--email", "eve@example.com", "--login", "ben"), "login: 'ben' already belongs"),
    (("link", "ben@example.com", "ava"), "login: 'ava' already belongs to another user"),
    (("link", "nobody@example.com", "eve"), "no user with email 'nobody@example.com'"),
    (("disable", "99"), "no user 99"),
]


def test_bad_input_gets_a_clear_error_and_changes_nothing(store_url: str) -> None:
    reps(store_url, "add", "--name", "Ava", "--email", "ava@example.com", "--login", "ava")
    reps(store_url, "add", "--name", "Ben", "--email", "ben@example.com", "--login", "ben")
    before = listed(store_url)
    for args, message in BAD_INPUT:
        refused = reps(store_url, *args, expect=2)
        assert message in refused.stderr and refused.stdout == "", (args, refused.stderr)
    assert listed(store_url) == before
