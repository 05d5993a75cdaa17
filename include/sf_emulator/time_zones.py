"""The values of ``User.TimeZoneSidKey``: Salesforce's time-zone picklist.

Salesforce's list is a fixed set of IANA time-zone ids (``America/Los_Angeles``,
``Pacific/Kiritimati``, ``Asia/Kathmandu``, ...) plus ``GMT``; it is a restricted picklist, so any
other value is refused with ``INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST``.

Why it is derived rather than copied: Salesforce publishes its list only as a help page and a
picklist describe, and every id on it is a geographic IANA id. The emulator therefore serves the
geographic ids of the tz database the process runs with (``zoneinfo.available_timezones()``
under the areas below) plus ``GMT``, which covers Salesforce's list. Left out are the ids
Salesforce never offers: ``Etc/*`` fixed offsets, the old country aliases (``US/Pacific``,
``Canada/Eastern``, ``Japan``) and POSIX-style names (``EST5EDT``, ``MET``). Every value served is
one ``zoneinfo`` can load, which the SOQL date literals (``TODAY`` in the user's zone) rely on.
"""

from __future__ import annotations

import zoneinfo

GEOGRAPHIC_AREAS = frozenset(
    {"Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific"}
)


def salesforce_time_zones() -> tuple[str, ...]:
    """``GMT`` then the geographic IANA ids, alphabetically (the picklist's values)."""
    geographic = sorted(z for z in zoneinfo.available_timezones() if z.split("/", 1)[0] in GEOGRAPHIC_AREAS)
    return ("GMT", *geographic)


TIME_ZONES: tuple[str, ...] = salesforce_time_zones()
