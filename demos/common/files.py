"""Files the app writes (per-joint tables, shared-view links) are removed after a while, so their
directories stay bounded however many students use the app."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path


def prune(directory: Path, max_age_s: float, max_entries: int | None = None, pattern: str = "*") -> int:
    """Remove entries of ``directory`` (files or folders) older than ``max_age_s``, then the oldest beyond
    ``max_entries``; returns how many were removed. Missing directories and races with other requests are
    fine (another request may remove the same entry)."""
    if not directory.is_dir():
        return 0
    now = time.time()
    entries = []
    for p in directory.glob(pattern):
        try:
            entries.append((p.stat().st_mtime, p))
        except OSError:
            continue
    entries.sort()
    old = [p for t, p in entries if now - t > max_age_s]
    keep = [p for t, p in entries if now - t <= max_age_s]
    if max_entries is not None and len(keep) > max_entries:
        old += keep[: len(keep) - max_entries]
    removed = 0
    for p in old:
        try:
            shutil.rmtree(p) if p.is_dir() else p.unlink()
            removed += 1
        except OSError:
            pass
    return removed


def gradio_upload_dir() -> Path:
    """Where Gradio keeps uploads and deep links (its GRADIO_TEMP_DIR, by default <tmp>/gradio)."""
    return Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio")


DEEP_LINK_MAX_AGE_S = 24 * 3600  # a shared view stays openable for a day (a lecture and its exercises)
DEEP_LINK_MAX = 200  # and at most this many (each holds the page's figures: about 1.3 MB measured)


def prune_deep_links() -> int:
    """Gradio never removes the views saved by "Share this view"; this does."""
    return prune(gradio_upload_dir() / "deep_links", DEEP_LINK_MAX_AGE_S, DEEP_LINK_MAX)
