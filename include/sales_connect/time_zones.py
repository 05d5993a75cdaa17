"""The time zones a rep may choose: IANA names, as every browser knows them.

``zoneinfo`` opens any TZif file under the system's zoneinfo directory, so it
also takes ``localtime`` (this server's own clock), ``posixrules``, and the
``posix/...`` and ``right/...`` copies (``right/`` counts leap seconds). Those
are file names, not time zones: Chromium's ``Intl.DateTimeFormat`` throws on
them, which broke the pages for a rep who had saved one, and they would mean
a different time on another server. The names offered and accepted are the
IANA database's own list as the ``tzdata`` package ships it, without
``Factory`` (IANA's placeholder for "local time unknown", not a place).
``tests/security`` checks in Chromium that each of them renders.
"""

from __future__ import annotations

import functools
import importlib.resources

# In the IANA list, but not a time zone anyone lives in.
EXCLUDED: frozenset[str] = frozenset({"Factory"})


@functools.cache
def allowed() -> frozenset[str]:
    """Every name a rep may save, loadable here (``zoneinfo`` falls back to ``tzdata``)."""
    names = importlib.resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8").split()
    return frozenset(names) - EXCLUDED


def is_allowed(name: object) -> bool:
    return isinstance(name, str) and name in allowed()

