"""SOQL building (SPEC §7 escaping, §9 many owners per query, §5 reconciliation)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import requests

from task_sync import soql
from task_sync.fields import SF_SELECT_FIELDS


def owner(n: int) -> str:
    return f"005{n:015d}"


def unquote(literal: str) -> str:
    """Decode a SOQL string literal the way Salesforce's lexer does (for checking round trips)."""
    assert literal[0] == literal[-1] == "'"
    body, out, i = literal[1:-1], [], 0
    table = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            out.append(table[body[i + 1]])
            i += 2
            continue
        assert ch != "'", f"unescaped quote in {literal!r}"
        out.append(ch)
        i += 1
    return "".join(out)


HOSTILE = [
    "O'Brien",
    "' OR Id != '",
    "\\' OR Id != \\'",
    "back\\slash",
    'double "quote"',
    "line\nbreak\r\ttab",
    "trailing backslash\\",
    "unicode ü ✓ 中",
    "'); DELETE FROM Task; --",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_quote_escapes_hostile_values_and_round_trips(value: str) -> None:
    literal = soql.quote(value)
    assert unquote(literal) == value
    assert "\n" not in literal and "\r" not in literal


def test_quote_refuses_unescapable_control_characters_and_non_strings() -> None:
    with pytest.raises(ValueError, match="control character"):
        soql.quote("nul\x00byte")
    with pytest.raises(TypeError):
        soql.quote(5)  # type: ignore[arg-type]


def test_id_literal_accepts_only_salesforce_ids() -> None:
    assert soql.id_literal("005000000000001AAA") == "'005000000000001AAA'"
    assert soql.id_literal("005000000000001") == "'005000000000001'"
    for bad in ("005' OR 'x'='x", "", "005000000000001A", "005 00000000001AAA"):
        with pytest.raises(ValueError, match="not a Salesforce id"):
            soql.id_literal(bad)


def test_datetime_literal_is_utc_z_and_floored_to_seconds() -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    assert soql.datetime_literal(dt.datetime(2026, 11, 25, 13, 0, 5, 999999, tzinfo=paris)) == "2026-11-25T12:00:05Z"
    with pytest.raises(ValueError, match="naive"):
        soql.datetime_literal(dt.datetime(2026, 11, 25))


def test_incremental_query_shape() -> None:
    start = dt.datetime(2026, 11, 25, 11, tzinfo=dt.UTC)
    query = soql.incremental_query([owner(2), owner(1)], start, start + dt.timedelta(hours=1))
    assert query == (
        f"SELECT {', '.join(SF_SELECT_FIELDS)} FROM Task WHERE OwnerId IN ('{owner(2)}','{owner(1)}') "
        "AND SystemModstamp >= 2026-11-25T11:00:00Z AND SystemModstamp <= 2026-11-25T12:00:00Z "
        "ORDER BY SystemModstamp, Id"
    )
    with pytest.raises(ValueError, match="at least one owner"):
        soql.incremental_query([], start, start)


def test_owner_shards_pack_many_owners_under_the_limit() -> None:
    owners = [owner(n) for n in range(10_000)]
    packs = soql.owner_shards(owners + owners[:10], max_chars=20_000)
    assert sorted(o for pack in packs for o in pack) == sorted(owners)  # every owner once
    assert all(len(",".join(soql.id_literal(o) for o in pack)) <= 20_000 for pack in packs)
    # 10,000 owners * 27 URL-encoded bytes / 13,000 (the list's share of the URI cap), not one query per owner
    assert len(packs) == 21
    start = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
    queries = soql.incremental_queries(owners, start, start, max_chars=20_000)
    assert len(queries) == len(packs)
    assert max(len(q) for q in queries) < soql.SOQL_MAX_CHARS
    with pytest.raises(ValueError, match="no room"):
        soql.owner_shards(owners, max_chars=soql.SOQL_MAX_CHARS)


def test_existence_queries_batch_ids() -> None:
    ids = [f"00T{n:015d}" for n in range(4_500)]
    queries = soql.existence_queries(ids)
    assert len(queries) == 10  # 4,500 ids at about 480 a query: each query must fit a GET's URI
    found = [m for q in queries for m in re.findall(r"'(00T\d{15})'", q)]
    assert sorted(found) == ids
    assert all(q.startswith("SELECT Id, IsDeleted FROM Task WHERE Id IN (") for q in queries)
    assert all(len(q) < soql.SOQL_MAX_CHARS for q in queries)
    assert soql.existence_queries([]) == []


def test_id_queries_fit_salesforces_uri_cap_of_16384_bytes() -> None:
    """Queries go out as GET ``.../queryAll/?q=...``: Salesforce answers 414 to a URI over 16,384 bytes.
    (The write guard's re-read is the by-id read.)"""
    from task_sync import extract

    ids = [f"00T{n:015d}" for n in range(5_000)]
    start = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
    families = {
        "incremental": soql.incremental_queries([owner(n) for n in range(5_000)], start, start),
        "existence": soql.existence_queries(ids),
        "by id": extract._by_id_queries(ids),
    }
    for name, queries in families.items():
        uris = [len(requests.Request("GET", "https://x.my.salesforce.com/services/data/v59.0/queryAll/",
                                     params={"q": q}).prepare().path_url) for q in queries]
        assert max(uris) <= soql.MAX_URI_BYTES, name
        assert max(uris) > soql.MAX_URI_BYTES * 0.7, name  # and packs are not needlessly small
