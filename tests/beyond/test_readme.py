"""README.md's block of the Beyond-the-lecture numbers is what scripts/beyond_numbers.py computes now (its CPU
milliseconds excepted: measured by the clock, they are rewritten only when the script runs)."""

from __future__ import annotations

from scripts import beyond_numbers as N


def test_readme_block_is_not_stale():
    shown = N.section(N.README.read_text())
    assert shown is not None, "README.md lacks the beyond-the-lecture markers"
    assert N.comparable(shown) == N.comparable(N.block()), "run python scripts/beyond_numbers.py"


def test_comparable_drops_only_the_clock():
    row = "| 2 | top-down | 89 % (82–93) | 2.0 | 41 (30–52) |"
    assert N.comparable(row) == "| 2 | top-down | 89 % (82–93) | 2.0 | ms |"
    assert N.comparable("12 ms vs 40 ms (x); a, and their costs overlap.") == "ms vs ms (x); a, and cost."
