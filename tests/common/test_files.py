"""Files the app writes are removed by age and by count, so their directories stay bounded."""

from __future__ import annotations

import os
import time

from demos.common import files


def _entry(d, name, age_s, folder=False):
    p = d / name
    if folder:
        p.mkdir()
        (p / "state.json").write_text("{}")
    else:
        p.write_text("x")
    t = time.time() - age_s
    os.utime(p, (t, t))
    return p


def test_old_entries_go_and_young_ones_stay(tmp_path):
    old = _entry(tmp_path, "old", 100, folder=True)
    young = _entry(tmp_path, "young", 1)
    assert files.prune(tmp_path, max_age_s=50) == 1
    assert not old.exists() and young.exists()


def test_beyond_the_cap_the_oldest_go_first(tmp_path):
    made = [_entry(tmp_path, f"e{i}", 10 - i) for i in range(6)]  # e0 oldest
    assert files.prune(tmp_path, max_age_s=1000, max_entries=4) == 2
    assert [p.exists() for p in made] == [False, False, True, True, True, True]


def test_deep_links_live_in_gradios_upload_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    links = tmp_path / "deep_links"
    links.mkdir()
    stale = _entry(links, "abc", files.DEEP_LINK_MAX_AGE_S + 60, folder=True)
    fresh = _entry(links, "def", 60, folder=True)
    assert files.prune_deep_links() == 1 and not stale.exists() and fresh.exists()
    assert files.prune(tmp_path / "missing", 1) == 0
