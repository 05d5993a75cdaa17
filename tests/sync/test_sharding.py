"""Shards (SPEC §9): stable placement, many owners per shard, cost independent of user count."""

from __future__ import annotations

import pytest

from task_sync import shards


def users(n: int) -> list[tuple[int, str]]:
    return [(i, f"005{i:015d}") for i in range(1, n + 1)]


def test_every_user_in_exactly_one_shard_and_shard_count_is_fixed() -> None:
    result = shards.assign_shards(users(1000), num_shards=4)
    assert len(result) == 4
    placed = [u for s in result for u in s.user_ids]
    assert sorted(placed) == list(range(1, 1001))
    assert {len(s.user_ids) for s in result} == {250}
    assert [s.key for s in result] == ["tasks-00-of-04", "tasks-01-of-04", "tasks-02-of-04", "tasks-03-of-04"]


def test_placement_is_stable_when_users_come_and_go() -> None:
    before = {u: s.key for s in shards.assign_shards(users(50), 4) for u in s.user_ids}
    after = {u: s.key for s in shards.assign_shards(users(80)[10:], 4) for u in s.user_ids}
    assert all(after[u] == before[u] for u in before if u in after)


def test_owners_travel_with_their_users() -> None:
    (only,) = shards.assign_shards([(3, "005000000000000003")], 4)
    assert (only.index, only.user_ids, only.owner_ids) == (3, (3,), ("005000000000000003",))


def test_bad_shard_count() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        shards.shard_index(1, 0)
