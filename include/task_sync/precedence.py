"""Which side's edit wins when both sides changed a task (SPEC §7): the later one, a tie to Salesforce.

Each side is judged by its own modification time: Salesforce's ``LastModifiedDate`` and Sales
Connect's ``updated_at``. Salesforce keeps those to the whole second, Sales Connect to the
microsecond, so compared as they come a Sales Connect save later in the same second would beat
Salesforce's, although neither side can order the two: at the precision both sides share it is a
tie, and a tie goes to Salesforce. This is the one place the rule lives: the diff decides every
conflict with it, and the write guard re-plans what Salesforce changed behind the diff's back
through the diff.
"""

from __future__ import annotations

import pandas as pd

SHARED_PRECISION = "s"  # whole seconds: what Salesforce stamps


def salesforce_wins(sf_modified_at: pd.Series, sc_modified_at: pd.Series) -> pd.Series:
    """Per row, whether Salesforce's edit wins against Sales Connect's (both datetime64[UTC] series)."""
    return sf_modified_at.dt.floor(SHARED_PRECISION) >= sc_modified_at.dt.floor(SHARED_PRECISION)

