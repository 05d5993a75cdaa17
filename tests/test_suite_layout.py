"""The suite's folders are not packages, so pytest imports each test file by its bare name: two
files with one name in different folders break collection, but only in a run that collects both
(a whole-suite run, after 40 minutes). This says so at once, in any run that includes it."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_every_test_file_name_is_unique_across_folders() -> None:
    folders: dict[str, list[str]] = defaultdict(list)
    for path in TESTS.rglob("test_*.py"):
        if "node_modules" not in path.parts:
            folders[path.name].append(str(path.parent.relative_to(TESTS)))
    assert {name: where for name, where in folders.items() if len(where) > 1} == {}
