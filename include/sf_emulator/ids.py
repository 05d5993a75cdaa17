"""Salesforce record ids: the 15/18-character forms and the emulator's id generator.

A 15-character id is case-sensitive. The 18-character form appends a 3-character
suffix that encodes which of the 15 characters are upper-case letters, which
makes the 18-character form safe to compare case-insensitively. The emulator
always stores and returns 18-character ids and accepts either form.

Ids made by :func:`make_id` are laid out as::

    KKK PPPPPP CCCCCC SSS
    |   |      |      +-- checksum suffix (3 chars, see checksum_suffix)
    |   |      +--------- counter n in base 62, zero-padded to fill 15 chars
    |   +---------------- pod/org part, given by the caller (0-7 chars, e.g. "5e0000")
    +-------------------- key prefix of the sObject type, e.g. "00T" for Task

With a 6-character pod part the counter has 6 base-62 digits (about 5.7e10
ids per prefix and pod), so distinct ``n`` always give distinct ids.
"""

from __future__ import annotations

import string

_SUFFIX_ALPHABET = string.ascii_uppercase + "012345"
# Salesforce's base-62 digit order: digits, then upper case, then lower case.
_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_ID_CHARS = frozenset(_BASE62)
_CHUNK = 5
_MIN_COUNTER_DIGITS = 5


def _check_chars(value: str) -> None:
    if not set(value) <= _ID_CHARS:
        raise ValueError(f"invalid id {value!r}: ids contain only the letters A-Z, a-z and digits 0-9")


def checksum_suffix(id15: str) -> str:
    """The 3-character suffix that turns a 15-character id into its 18-character form.

    Each 5-character chunk contributes one character: bit i is set when
    position i (left to right) holds an upper-case letter.
    """
    if len(id15) != 15:
        raise ValueError(f"invalid id {id15!r}: a checksum needs exactly 15 characters, got {len(id15)}")
    _check_chars(id15)
    suffix = []
    for start in range(0, 15, _CHUNK):
        chunk = id15[start : start + _CHUNK]
        bits = sum(1 << i for i, ch in enumerate(chunk) if ch in string.ascii_uppercase)
        suffix.append(_SUFFIX_ALPHABET[bits])
    return "".join(suffix)


def _restore_case(id18: str) -> str:
    """The case-sensitive 15-character id an 18-character id denotes.

    The 18-character form is case-insensitive, so the case of its first 15
    characters is taken from the suffix, not from the text as typed.
    """
    restored = []
    for chunk_no, suffix_char in enumerate(id18[15:].upper()):
        bits = _SUFFIX_ALPHABET.find(suffix_char)
        if bits < 0:
            raise ValueError(f"invalid id {id18!r}: {suffix_char!r} cannot appear in the 3-character suffix")
        chunk = id18[chunk_no * _CHUNK : (chunk_no + 1) * _CHUNK]
        for i, ch in enumerate(chunk):
            upper = bool(bits & (1 << i))
            if upper and not ch.isalpha():
                raise ValueError(f"invalid id {id18!r}: the suffix does not match the first 15 characters")
            restored.append(ch.upper() if upper else ch.lower())
    return "".join(restored)


def to_18(id_: str) -> str:
    """The canonical 18-character form of a 15- or 18-character id.

    Raises ValueError for any other length, for characters outside A-Z/a-z/0-9,
    and for an 18-character id whose suffix does not fit its first 15 characters.
    """
    if not isinstance(id_, str):
        raise ValueError(f"invalid id {id_!r}: expected a string")
    if len(id_) not in (15, 18):
        raise ValueError(f"invalid id {id_!r}: an id has 15 or 18 characters, got {len(id_)}")
    _check_chars(id_)
    id15 = id_ if len(id_) == 15 else _restore_case(id_)
    return id15 + checksum_suffix(id15)


def is_valid_id(s: object) -> bool:
    """Whether ``s`` is a well-formed id: 15 id characters, or 18 with a matching suffix."""
    if not isinstance(s, str):
        return False
    try:
        to_18(s)
    except ValueError:
        return False
    return True


def make_id(prefix: str, pod: str, n: int) -> str:
    """An 18-character id: key prefix + pod part + base-62 counter + suffix (layout in the module docstring)."""
    if len(prefix) != 3:
        raise ValueError(f"key prefix {prefix!r} must have exactly 3 characters")
    _check_chars(prefix + pod)
    width = 15 - len(prefix) - len(pod)
    if width < _MIN_COUNTER_DIGITS:
        raise ValueError(f"pod part {pod!r} is too long: at most {12 - _MIN_COUNTER_DIGITS} characters")
    if not 0 <= n < 62**width:
        raise ValueError(f"counter {n} is out of range for {width} base-62 digits")
    digits = []
    for _ in range(width):
        n, rem = divmod(n, 62)
        digits.append(_BASE62[rem])
    id15 = prefix + pod + "".join(reversed(digits))
    return id15 + checksum_suffix(id15)
