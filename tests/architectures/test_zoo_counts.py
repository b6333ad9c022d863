"""The zoo's parameter and FLOP counts the app reads from demos/architectures/zoo_counts.json (written by
scripts/zoo_counts.py) are what counting the built modules gives now: the file is not stale."""

from __future__ import annotations

import json

from demos.architectures import zoo
from scripts.zoo_counts import counts


def test_the_counts_file_matches_a_fresh_count():
    on_file = json.loads(zoo.COUNTS.read_text())
    fresh = counts()
    assert on_file["models"] == fresh["models"], "stale: run python scripts/zoo_counts.py"
    assert set(on_file["models"]) == {f"{name}@{size}" for _, name, size in zoo.ZOO}


def test_the_table_reads_the_file():
    rows = {e.name: e for e in zoo.table()}
    on_file = json.loads(zoo.COUNTS.read_text())["models"]
    for _, name, size in zoo.ZOO:
        assert (rows[name].params, rows[name].gflops_counted) == (on_file[f"{name}@{size}"]["params"],
                                                                  on_file[f"{name}@{size}"]["flops"] / 1e9)
