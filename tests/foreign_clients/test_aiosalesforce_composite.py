"""aiosalesforce's Composite (references, all or none) and Composite Batch (halt on error) against the emulator."""

from __future__ import annotations

from foreign_harness import Driver

from sf_emulator.process import EmulatorProcess


def test_aiosalesforce_composite_links_subrequests_rolls_back_all_or_none_and_batch_halts(
        aiosalesforce: Driver, emu: EmulatorProcess) -> None:
    emu.reset_counters()
    seen = aiosalesforce("composite", missing_id="00T5e0000004C91EAE")
    assert seen["readBack"] is True and seen["listed"] == 1
    assert seen["doomed"] == [400, 400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "PROCESSING_HALTED"]
    assert seen["rolledBack"] is True
    assert seen["batch"] == [201, 404, 412]
    # Two Composite calls count one each; the Batch's two subrequests that ran count one each; one get, one query.
    by_resource = emu.counters()["by_resource"]
    assert by_resource["composite"] == 2
    assert sum(by_resource.values()) == 2 + 2 + 2
