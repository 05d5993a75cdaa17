"""Users, their settings, and the sync checkbox (SPEC §2)."""

from __future__ import annotations

import datetime as dt

import pytest

from sales_connect import repository as repo
from sales_connect.changes import max_change_seq
from sales_connect.db import Store
from sales_connect.errors import NotFoundError, ValidationError

MON = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
TUE = MON + dt.timedelta(days=1)
WED = MON + dt.timedelta(days=2)


def test_create_get_and_list(store: Store, two_users: tuple[int, int]) -> None:
    ada, bob = two_users
    with store.session() as session:
        carol = repo.create_user(session, email=" Carol@Example.com", name="Carol", login="carol")
        assert repo.get_user(session, ada).name == "Ada"
        assert repo.get_user_by_email(session, "CAROL@example.com").id == carol.id
        assert repo.get_user_by_login(session, "carol").id == carol.id
        assert [u.id for u in repo.list_users(session)] == [ada, bob, carol.id]
        assert (carol.time_zone, carol.sync_enabled, carol.sf_owner_id) == ("UTC", False, None)
        for missing in (lambda: repo.get_user(session, 999), lambda: repo.get_user_by_email(session, "no@x.com"),
                        lambda: repo.get_user_by_login(session, "nobody")):
            with pytest.raises(NotFoundError):
                missing()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "ada@example.com"}, "email"),  # taken
        ({"name": "  "}, "name"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"time_zone": "../../etc/passwd"}, "time_zone"),
        ({"sf_owner_id": "003000000000001"}, "sf_owner_id"),  # a Contact id, not a User
        ({"sf_owner_id": "0050000000000011"}, "sf_owner_id"),  # 16 characters
        ({"sf_owner_id": "005000000000001AAA"}, "sf_owner_id"),  # Ada's
    ],
)
def test_create_user_rejects_bad_input(store: Store, two_users: tuple[int, int], kwargs: dict, field: str) -> None:
    values = {"email": "new@example.com", "name": "New", **kwargs}
    with store.session() as session:
        with pytest.raises(ValidationError) as caught:
            repo.create_user(session, **values)
        assert caught.value.field == field
        assert len(repo.list_users(session)) == 2


def test_update_settings(store: Store, two_users: tuple[int, int]) -> None:
    ada, _ = two_users
    with store.session() as session:
        repo.update_user_settings(session, ada, time_zone="Asia/Kolkata", sf_owner_id="005000000000009")
    with store.session() as session:
        user = repo.get_user(session, ada)
        # A 15-character id is kept in the 18-character form the REST API answers.
        assert (user.time_zone, user.sf_owner_id, user.name) == ("Asia/Kolkata", "005000000000009AAA", "Ada")
        with pytest.raises(ValidationError, match="time_zone"):
            repo.update_user_settings(session, ada, time_zone="Asia/Nowhere")
        with pytest.raises(ValidationError, match="sf_owner_id"):
            repo.update_user_settings(session, ada, sf_owner_id="005000000000002")  # Bob's
        repo.update_user_settings(session, ada, sf_owner_id=None)
        assert user.sf_owner_id is None


@pytest.mark.parametrize(("typed", "reason"), [
    ("005000000000009A", "16 characters, not 15 or 18"),
    ("00T000000000009", "must start with 005"),
    ("005000000000-09", "only letters A-Z, a-z and digits"),
    ("005000000000009AA9", "cannot end an 18-character id"),
])
def test_a_malformed_salesforce_user_id_is_refused_with_its_reason(
        store: Store, two_users: tuple[int, int], typed: str, reason: str) -> None:
    ada, _ = two_users
    with store.session() as session, pytest.raises(ValidationError, match=reason):
        repo.update_user_settings(session, ada, sf_owner_id=typed)


def test_owner_id_is_frozen_while_sync_is_on(store: Store, two_users: tuple[int, int]) -> None:
    ada, _ = two_users
    with store.session() as session:
        repo.set_sync_enabled(session, ada, True, MON)
        repo.update_user_settings(session, ada, sf_owner_id="005000000000001AAA")  # same value: fine
        with pytest.raises(ValidationError, match="switch sync off"):
            repo.update_user_settings(session, ada, sf_owner_id="005000000000009")


def test_enable_requires_a_salesforce_user(store: Store) -> None:
    with store.session() as session:
        user = repo.create_user(session, email="n@example.com", name="No owner")
        with pytest.raises(ValidationError) as caught:
            repo.set_sync_enabled(session, user.id, True, MON)
        assert caught.value.field == "sf_owner_id" and user.sync_enabled is False


def test_enable_disable_reenable(store: Store, two_users: tuple[int, int]) -> None:
    ada, _ = two_users
    with store.session() as session:
        assert repo.set_sync_enabled(session, ada, True, MON) is True
        user = repo.get_user(session, ada)
        assert (user.sync_enabled, user.enabled_at, user.first_enabled_at, user.disabled_at) == (True, MON, MON, None)
        user.initial_sync_done_at = MON + dt.timedelta(minutes=5)  # what the sync records

        assert repo.set_sync_enabled(session, ada, True, TUE) is False, "saving ON again is not a new enable"
        assert (user.enabled_at, user.initial_sync_done_at) == (MON, MON + dt.timedelta(minutes=5))

        assert repo.set_sync_enabled(session, ada, False, TUE) is False
        assert (user.sync_enabled, user.disabled_at, user.enabled_at) == (False, TUE, MON)
        assert repo.set_sync_enabled(session, ada, False, WED) is False
        assert user.disabled_at == TUE, "saving OFF again keeps the moment it was switched off"

        assert repo.set_sync_enabled(session, ada, True, WED) is True
        assert (user.sync_enabled, user.enabled_at, user.first_enabled_at) == (True, WED, MON)
        assert (user.disabled_at, user.initial_sync_done_at) == (None, None)


def test_disable_changes_no_task(store: Store, two_users: tuple[int, int]) -> None:
    ada, _ = two_users
    with store.session() as session:
        repo.set_sync_enabled(session, ada, True, MON)
        repo.create_task(session, ada, subject="keep me", due_date=dt.date(2026, 5, 4))
    with store.session() as session:
        before = max_change_seq(session)
        repo.set_sync_enabled(session, ada, False, TUE)
    with store.session() as session:
        assert max_change_seq(session) == before
        assert [t.subject for t in repo.list_tasks(session, ada)] == ["keep me"]


def test_naive_now_is_refused(store: Store, two_users: tuple[int, int]) -> None:
    ada, _ = two_users
    with store.session() as session, pytest.raises(ValidationError, match="now"):
        repo.set_sync_enabled(session, ada, True, dt.datetime(2026, 5, 4, 9, 0))
