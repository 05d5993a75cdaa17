"""Salesforce id helpers: the case-safe suffix, 15/18-character conversion and the id generator."""

from __future__ import annotations

import pytest

from sf_emulator.ids import checksum_suffix, is_valid_id, make_id, to_18


def test_checksum_suffix_matches_the_documented_example() -> None:
    assert checksum_suffix("00T5e00000AbCdE") == "EAV"


def test_checksum_suffix_encodes_each_chunk_separately() -> None:
    # no capitals -> A, all five capitals of a chunk -> 5 (bits 0..4 set = 31)
    assert checksum_suffix("000000000000000") == "AAA"
    assert checksum_suffix("ABCDE0000000000") == "5AA"
    assert checksum_suffix("00000000000000Z") == "AAQ"  # last chunk, position 4 -> 16 -> Q


def test_to_18_extends_a_15_character_id() -> None:
    assert to_18("00T5e00000AbCdE") == "00T5e00000AbCdEEAV"


def test_to_18_keeps_a_valid_18_character_id() -> None:
    assert to_18("00T5e00000AbCdEEAV") == "00T5e00000AbCdEEAV"


def test_to_18_treats_the_18_character_form_case_insensitively() -> None:
    assert to_18("00t5e00000abcdeeav") == "00T5e00000AbCdEEAV"
    assert to_18("00T5E00000ABCDEEAV") == "00T5e00000AbCdEEAV"


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("", "15 or 18 characters"),
        ("00T5e00000AbCd", "15 or 18 characters"),
        ("00T5e00000AbCdEEA", "15 or 18 characters"),
        ("00T5e00000AbCd!", "contain only"),
        ("00T5e00000AbCdE-AV", "contain only"),
        ("00T5e00000AbCdE9AV", "cannot appear in the 3-character suffix"),
        ("00T5e00000AbCdEE5V", "does not match"),  # 5 marks capitals where chunk 2 has only digits
    ],
)
def test_to_18_rejects_malformed_ids(bad: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        to_18(bad)


def test_is_valid_id() -> None:
    assert is_valid_id("00T5e00000AbCdE")
    assert is_valid_id("00T5e00000AbCdEEAV")
    assert not is_valid_id("00T5e00000AbCdEE5V")
    assert not is_valid_id("not an id at all")
    assert not is_valid_id(None)
    assert not is_valid_id(12345)


def test_make_id_layout_prefix_pod_counter_suffix() -> None:
    made = make_id("00T", "5e0000", 62 * 62 + 1)
    assert made == "00T5e0000000101" + checksum_suffix("00T5e0000000101")
    assert len(made) == 18 and is_valid_id(made)
    assert made.startswith("00T5e0000")


def test_make_id_is_unique_and_round_trips() -> None:
    ids = [make_id("005", "5e0000", n) for n in range(0, 200_000, 7)]
    assert len(set(ids)) == len(ids)
    assert len({i.lower() for i in ids}) == len(ids)  # 18-char ids stay distinct case-insensitively
    assert all(to_18(i[:15]) == i for i in ids)


def test_make_id_uses_base62_digits_up_to_the_largest_counter() -> None:
    assert make_id("00T", "5e0000", 62**6 - 1)[:15] == "00T5e0000zzzzzz"
    with pytest.raises(ValueError, match="out of range"):
        make_id("00T", "5e0000", 62**6)
    with pytest.raises(ValueError, match="out of range"):
        make_id("00T", "5e0000", -1)


@pytest.mark.parametrize(
    ("prefix", "pod", "message"),
    [("0T", "5e0000", "exactly 3"), ("00T", "5e000000", "too long"), ("00T", "5e-000", "contain only")],
)
def test_make_id_rejects_bad_parts(prefix: str, pod: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_id(prefix, pod, 1)


def test_the_suffix_decides_the_case_of_an_18_character_id() -> None:
    # The suffix AAA says "no capitals", so this names the all-lower-case record.
    assert to_18("00T5e00000AbCdEAAA") == "00t5e00000abcdeAAA"
