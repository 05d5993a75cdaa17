"""Salesforce record ids in their one comparable form: 18 characters, checksum computed.

A 15-character id is case-sensitive and the REST API answers 18-character ids, so an id kept or
compared in whatever form it was typed makes equal ids look different (a rep's own tasks then
seem to belong to someone else). Every id the project accepts goes through :func:`to_18`.
The suffix rule is Salesforce's (salesforce-api.md §3): one character per 5-character chunk,
whose bit i says position i holds an upper-case letter.
"""

from __future__ import annotations

import string

_SUFFIX_ALPHABET = string.ascii_uppercase + "012345"
_ID_CHARS = frozenset(string.ascii_letters + string.digits)
_CHUNK = 5


class MalformedId(ValueError):
    """Not a Salesforce id (of the expected kind); the message says why."""


def _suffix(id15: str) -> str:
    return "".join(
        _SUFFIX_ALPHABET[sum(1 << i for i, ch in enumerate(id15[start:start + _CHUNK]) if ch.isupper())]
        for start in range(0, 15, _CHUNK)
    )


def _case_from_suffix(id18: str) -> str:
    """The 15 case-sensitive characters an 18-character id denotes (its text may be in any case)."""
    restored = []
    for n, mark in enumerate(id18[15:].upper()):
        if mark not in _SUFFIX_ALPHABET:
            raise MalformedId(f"{id18!r} is not a Salesforce id: {mark!r} cannot end an 18-character id")
        bits = _SUFFIX_ALPHABET.index(mark)
        for i, ch in enumerate(id18[n * _CHUNK:(n + 1) * _CHUNK]):
            upper = bool(bits >> i & 1)
            if upper and not ch.isalpha():
                raise MalformedId(f"{id18!r} is not a Salesforce id: its last 3 characters do not match the first 15")
            restored.append(ch.upper() if upper else ch.lower())
    return "".join(restored)


# Key prefixes whose object a person would name in an error message.
_KINDS = {"005": "User", "00T": "Task"}


def to_18(value: object, *, prefix: str | None = None) -> str:
    """``value`` as an 18-character id; 15-character ids get their suffix, 18-character ids their
    canonical case. ``prefix`` is the key prefix the id must have (``"005"`` for a User)."""
    if not isinstance(value, str):
        raise MalformedId(f"{value!r} is not a Salesforce id: it must be text")
    if len(value) not in (15, 18):
        raise MalformedId(f"{value!r} is not a Salesforce id: it has {len(value)} characters, not 15 or 18")
    if not set(value) <= _ID_CHARS:
        raise MalformedId(f"{value!r} is not a Salesforce id: only letters A-Z, a-z and digits 0-9 may appear")
    id15 = value if len(value) == 15 else _case_from_suffix(value)
    if prefix is not None and not id15.startswith(prefix):
        kind = _KINDS.get(prefix, f"{prefix}-prefixed")
        raise MalformedId(f"{value!r} is not a Salesforce {kind} id: it must start with {prefix}")
    return id15 + _suffix(id15)


def comparable(value: object) -> object:
    """For ids read from elsewhere (Salesforce rows): the 18-character form of an id, anything
    else unchanged, so the row's own validation can still refuse it with its own reason."""
    try:
        return to_18(value)
    except MalformedId:
        return value
