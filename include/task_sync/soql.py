"""SOQL text for the sync's reads: escaping, literals, and queries packed over many owners.

Every value placed into a query goes through ``quote`` (string literals) or ``id_literal``
(ids, additionally checked against Salesforce's id shape), so nothing read from a database or
a user can change a query's meaning (SPEC §7, isolation). A query stays below Salesforce's
100,000-character limit and, because queries go out as GET requests, below its 16,384-byte cap on
a request URI (answered ``414 URI Too Long``): owner and id lists are packed by their URL-encoded
size into several queries instead (SPEC §9: one query per pack of owners, not one per user). An
18-character id literal costs 27 bytes once encoded (``%27...%27%2C``), so a pack holds about 480.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from urllib.parse import quote_plus

from task_sync.fields import SF_SELECT_FIELDS

SOQL_MAX_CHARS = 100_000
# Room left for the SELECT list and the conditions around an IN (...) list.
DEFAULT_LIST_CHARS = 20_000
# Salesforce's cap on a request URI, and the part of it an IN (...) list may take once URL-encoded:
# the rest is left for the resource path, the SELECT list and the conditions around the list.
MAX_URI_BYTES = 16_384
LIST_URI_BYTES = 13_000
# One reconciliation query per 2,000 ids: its answer fits in one page of query results.
EXISTENCE_BATCH = 2_000

_ESCAPES = {"\\": "\\\\", "'": "\\'", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SF_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")


def quote(value: str) -> str:
    """A SOQL string literal: quotes, backslashes and the escapable control characters escaped.

    SOQL has escape sequences only for ``\\n \\r \\t \\b \\f \\" \\' \\\\``; any other control
    character cannot be written safely, so it is refused rather than passed through.
    """
    if not isinstance(value, str):
        raise TypeError(f"SOQL string literal needs a str, got {type(value).__name__}")
    escaped = "".join(_ESCAPES.get(ch, ch) for ch in value)
    if _CONTROL.search(escaped):
        raise ValueError(f"control character in SOQL value {value!r} has no SOQL escape")
    return f"'{escaped}'"


def id_literal(value: str) -> str:
    """A quoted Salesforce id, refusing anything that is not a 15/18-character id."""
    if not isinstance(value, str) or not _SF_ID.match(value):
        raise ValueError(f"{value!r} is not a Salesforce id")
    return quote(value)


def datetime_literal(value: dt.datetime) -> str:
    """An unquoted SOQL datetime literal in UTC, ``YYYY-MM-DDTHH:MM:SSZ``.

    SOQL literals carry whole seconds, so the value is floored: used as a lower bound that
    reads a little more, never less; as an upper bound, the next window's overlap covers the
    fraction of a second left out.
    """
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: SOQL literals are built from timezone-aware UTC values")
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pack_ids(
    ids: Iterable[str], max_chars: int = DEFAULT_LIST_CHARS, max_items: int | None = None,
    max_uri_bytes: int = LIST_URI_BYTES,
) -> list[list[str]]:
    """Split ids (deduplicated, in sorted order so packs are stable) so that each pack's
    ``'a','b',...`` list is at most ``max_chars`` long, at most ``max_uri_bytes`` once URL-encoded
    (the query travels in a GET's URI), and holds at most ``max_items`` ids."""
    packs: list[list[str]] = []
    current: list[str] = []
    length = encoded = 0
    comma = len(quote_plus(","))
    for value in sorted(set(ids)):
        literal = id_literal(value)
        size, size_encoded = len(literal), len(quote_plus(literal))
        full = max_items is not None and len(current) >= max_items
        if current and (full or length + 1 + size > max_chars or encoded + comma + size_encoded > max_uri_bytes):
            packs.append(current)
            current, length, encoded = [], 0, 0
        if current:
            size, size_encoded = size + 1, size_encoded + comma
        current.append(value)
        length += size
        encoded += size_encoded
    if current:
        packs.append(current)
    return packs


def owner_shards(owner_ids: Iterable[str], max_chars: int = DEFAULT_LIST_CHARS) -> list[list[str]]:
    """Owner ids packed so each ``OwnerId IN (...)`` list stays within ``max_chars``."""
    if max_chars >= SOQL_MAX_CHARS:
        raise ValueError(f"max_chars={max_chars} leaves no room in a {SOQL_MAX_CHARS}-character SOQL query")
    return pack_ids(owner_ids, max_chars)


def _in_list(ids: Iterable[str]) -> str:
    return ",".join(id_literal(i) for i in ids)


def incremental_query(owner_ids: Iterable[str], start: dt.datetime, end: dt.datetime | None) -> str:
    """Tasks of these owners whose SystemModstamp lies in ``start .. end`` (both inclusive; no upper
    bound when ``end`` is None), in a stable order; send it to ``queryAll`` so deleted rows come
    back with IsDeleted=true."""
    owners = list(owner_ids)
    if not owners:
        raise ValueError("incremental_query needs at least one owner id")
    until = f"AND SystemModstamp <= {datetime_literal(end)} " if end is not None else ""
    return (
        f"SELECT {', '.join(SF_SELECT_FIELDS)} FROM Task "  # noqa: S608 -- every value is escaped
        f"WHERE OwnerId IN ({_in_list(owners)}) "
        f"AND SystemModstamp >= {datetime_literal(start)} {until}"
        "ORDER BY SystemModstamp, Id"
    )


def incremental_queries(
    owner_ids: Iterable[str], start: dt.datetime, end: dt.datetime | None, max_chars: int = DEFAULT_LIST_CHARS
) -> list[str]:
    """One incremental query per owner pack (``owner_shards``)."""
    return [incremental_query(pack, start, end) for pack in owner_shards(owner_ids, max_chars)]


def older_count_queries(owner_ids: Iterable[str], before: dt.datetime) -> list[str]:
    """How many live tasks of these owners were last changed before ``before`` (one per owner pack):
    what a first sync leaves behind, which the preview reports without reading those rows."""
    return [
        f"SELECT COUNT() FROM Task WHERE OwnerId IN ({_in_list(pack)}) "  # noqa: S608 -- every value is escaped
        f"AND SystemModstamp < {datetime_literal(before)}"
        for pack in owner_shards(owner_ids)
    ]


def existence_queries(sf_ids: Iterable[str], batch: int = EXISTENCE_BATCH) -> list[str]:
    """Reconciliation: which of these Task ids still exist. Send to ``queryAll``, not ``query``:
    ``query`` hides archived activities, which exist; recycle-bin rows come back with
    ``IsDeleted = true`` and count as gone, as do ids answered by no query (purged)."""
    return [
        f"SELECT Id, IsDeleted FROM Task WHERE Id IN ({_in_list(pack)})"  # noqa: S608 -- every value is escaped
        for pack in pack_ids(sf_ids, SOQL_MAX_CHARS // 2, max_items=batch)
    ]
