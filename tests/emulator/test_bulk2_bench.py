"""The emulator benchmark runs end to end at a tiny size and prints its table (figures are never asserted)."""

from __future__ import annotations

import pytest

from sf_emulator import bench


def test_bench_prints_every_step(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--tasks", "300", "--changed", "40", "--upserts", "30"]) == 0

    out = capsys.readouterr().out
    assert "300 tasks, 40 changed after the watermark" in out
    table = out.split("-" * 96 + "\n", 1)[1].split("\n\n", 1)[0]
    rows = {line.split("  ")[0]: line.split() for line in table.splitlines()}
    assert len(rows) == 9
    assert rows["REST queryAll of changed tasks (2,000/page)"][-4] == "40"
    assert rows["Bulk 2.0 queryAll job of changed tasks (50,000/page)"][-4] == "40"
    assert rows["Collections upsert, updating (200/call)"][-4] == "30"
    assert rows["Collections upsert, updating (200/call)"][-1] == "1"  # one 200-record call
    assert rows["Bulk 2.0 upsert job, inserting"][-4] == "30"
    assert "Bulk 2.0 upsert job, updating: processed by the emulator in" in out
    assert rows["Bulk 1.0 insert job (10,000/batch)"][-4] == "30"
    assert rows["Bulk 1.0 queryAll job of changed tasks"][-4] == "40"
    assert "Emulator RSS: idle, before seeding" in out


@pytest.mark.parametrize("argv", [["--tasks", "10", "--changed", "11"], ["--upserts", "0"]])
def test_bench_refuses_impossible_sizes(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        bench.main(argv)
