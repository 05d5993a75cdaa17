"""Assign synced users to a fixed number of shards (SPEC §9: cost follows changes, not users).

A shard is the unit a run reads with a few queries over all its owners at once (``soql``
packs them) and the unit that owns a durable watermark (``SyncWatermark.shard_key``). Users are
placed by their id alone, so a user stays in the same shard from run to run and adding a user
never moves another. A run with no changes costs about ``num_shards`` queries however many
users there are. The shard count is part of the key, so changing it starts fresh keys instead
of reusing a watermark that covered a different set of owners.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

DEFAULT_NUM_SHARDS = 4


@dataclass(frozen=True)
class Shard:
    key: str
    index: int
    user_ids: tuple[int, ...]
    owner_ids: tuple[str, ...]


def shard_index(user_id: int, num_shards: int = DEFAULT_NUM_SHARDS) -> int:
    """The shard of a user: its id modulo the shard count (ids are sequential, so this balances)."""
    if num_shards < 1:
        raise ValueError(f"num_shards must be at least 1, got {num_shards}")
    return int(user_id) % num_shards


def shard_key(index: int, num_shards: int = DEFAULT_NUM_SHARDS) -> str:
    """The durable watermark key of a shard, e.g. ``tasks-02-of-04``."""
    return f"tasks-{index:02d}-of-{num_shards:02d}"


def assign_shards(users: Iterable[tuple[int, str]], num_shards: int = DEFAULT_NUM_SHARDS) -> list[Shard]:
    """Group ``(user_id, sf_owner_id)`` pairs of enabled users into their shards.

    Only non-empty shards are returned, in index order; users and owners inside a shard are
    sorted so the queries built from them are stable.
    """
    grouped: dict[int, list[tuple[int, str]]] = {}
    for user_id, owner_id in users:
        grouped.setdefault(shard_index(user_id, num_shards), []).append((int(user_id), owner_id))
    return [
        Shard(
            key=shard_key(index, num_shards),
            index=index,
            user_ids=tuple(sorted(u for u, _ in members)),
            owner_ids=tuple(sorted(o for _, o in members)),
        )
        for index, members in sorted(grouped.items())
    ]
