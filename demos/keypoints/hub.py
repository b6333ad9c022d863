"""Loading the bundled keypoint models: the Hugging Face Hub first, the copy in pretrained/ otherwise.

``load_model("heatmap-s4")`` reads the model's record (``registry.MODELS``): a published model loads from the
Hub repo ``<HUB_ORG>/heatmap-s4`` at its pinned revision unless huggingface_hub is offline
(``HF_HUB_OFFLINE=1``), where the local Hugging Face cache is used if it holds the repo; failing both it loads
``pretrained/heatmap-s4``, which ships with the app. A Hub repo id (``"org/name"``) or a local folder works too.
Weights are read as safetensors only.

Every Hub call runs under one deadline, :data:`HUB_DEADLINE_S` in total (connection, repo metadata and file
downloads together): an endpoint that accepts the connection but never answers costs that long, once, and
then the bundled copy is used. A failure is remembered for :data:`RETRY_AFTER_S` (no user waits for the
same dead endpoint twice in a row) and tried again after that.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import re
import functools
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import constants, snapshot_download
from huggingface_hub.errors import (EntryNotFoundError, GatedRepoError, HfHubHTTPError, LocalEntryNotFoundError,
                                    RepositoryNotFoundError, RevisionNotFoundError)
from safetensors import SafetensorError

from demos.common.device import get_device

from .models import SAFETENSORS, KeypointNet
from .registry import HUB_ORG, MODELS

ROOT = Path(__file__).resolve().parents[2]
PRETRAINED = ROOT / "pretrained"
HUB_FILES = ("config.json", SAFETENSORS, "README.md")  # what loads from a model repo (and what a Space preloads)
HUB_DEADLINE_S = 4.0  # all of one model's Hub traffic; the fallback follows at once
RETRY_AFTER_S = 300.0  # a failed repo is not asked again for this long
_FAILED: dict[tuple, tuple[float, str]] = {}
_LOCK = threading.Lock()


class ModelLoadError(RuntimeError):
    """A model could not be loaded; the message says why in plain words."""


@dataclass
class Loaded:
    model: KeypointNet
    source: str  # "hub", "hub-cache", "local"
    where: str  # repo id@revision or folder
    note: str = ""  # why the Hub was not used, when it was not


def bundled_names() -> list[str]:
    """Folders under pretrained/ that hold a model (config.json + model.safetensors)."""
    if not PRETRAINED.is_dir():
        return []
    return sorted(p.name for p in PRETRAINED.iterdir()
                  if (p / "config.json").is_file() and (p / SAFETENSORS).is_file())


def _load_folder(folder: Path) -> KeypointNet:
    folder = Path(folder)
    if not (folder / "config.json").is_file():
        raise ModelLoadError(f"{folder.name} has no config.json: it is not a model folder.")
    if not (folder / SAFETENSORS).is_file():
        raise ModelLoadError(f"{folder.name} has no {SAFETENSORS}: the weights are missing.")
    try:
        json.loads((folder / "config.json").read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ModelLoadError(f"The config.json of {folder.name} is not valid JSON.") from None
    try:
        return KeypointNet.from_pretrained(str(folder))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise ModelLoadError(f"The weights of {folder.name} are corrupted or do not fit its config.json.") from None


def _offline() -> bool:
    return bool(constants.HF_HUB_OFFLINE)


class HashMismatch(RuntimeError):
    """A downloaded file's content does not hash to what the Hub declared for it at that revision."""


def _declared(path: Path) -> str | None:
    """The hash the Hub declared for a cached file: the name of the blob its snapshot entry points to (the
    ETag: the LFS file's sha256, or the git blob id of a small file); None where the cache holds plain copies."""
    if not path.is_symlink():
        return None
    name = Path(os.readlink(path)).name
    return name if re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", name) else None


def verify_file(path) -> None:
    """Raise :class:`HashMismatch` (and drop the cached copy, so the next load downloads it again) when the file
    does not hash to the value the Hub declared for it: a file changed at the same revision, or a corrupted
    cache. huggingface_hub itself checks only the size."""
    path = Path(path)
    declared = _declared(path)
    if declared is None:
        return
    data = path.read_bytes()
    got = (hashlib.sha256(data).hexdigest() if len(declared) == 64
           else hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest())
    if got != declared:
        blob = path.resolve()
        path.unlink(missing_ok=True)
        blob.unlink(missing_ok=True)
        raise HashMismatch(path.name)


def _http_cause(e: BaseException) -> HfHubHTTPError | None:
    """The Hub's HTTP answer behind ``e`` (huggingface_hub turns a failed file listing, a 404 or a 500, into
    "cannot find the requested files in the local cache", with the answer as its cause)."""
    seen = set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, HfHubHTTPError):
            return e
        e = e.__cause__ or e.__context__
    return None


def hub_reason(e: BaseException) -> str:
    """Why a Hub download failed, in plain words (no exception names)."""
    if isinstance(e, HashMismatch):
        return f"the Hub's {e} does not match the hash declared for it at that revision, so it was not used"
    if isinstance(e, concurrent.futures.TimeoutError):
        return f"the Hub did not answer within {HUB_DEADLINE_S:g} s"
    if isinstance(e, RevisionNotFoundError):
        return "that revision was not found on the Hub"
    if isinstance(e, (RepositoryNotFoundError, GatedRepoError)):
        return "the repo was not found on the Hub"
    if isinstance(e, LocalEntryNotFoundError):
        if _offline():
            return "offline, and not in the local Hugging Face cache"
        cause = _http_cause(e.__cause__ or e.__context__)
        return hub_reason(cause) if cause is not None else "the Hub could not be reached"
    if isinstance(e, EntryNotFoundError):
        return "the repo has no model.safetensors"
    if isinstance(e, HfHubHTTPError):
        status = getattr(getattr(e, "response", None), "status_code", None)
        return f"the Hub answered {status}" if status else "the Hub answered with an error"
    return "the Hub could not be reached"


def _from_hub(repo_id: str, revision: str | None, cache_dir=None, endpoint: str | None = None) -> tuple[Path, str]:
    """Download (or find in the cache) a model repo, within HUB_DEADLINE_S in total."""
    kw = dict(repo_id=repo_id, revision=revision, allow_patterns=list(HUB_FILES), cache_dir=cache_dir,
              endpoint=endpoint)
    if _offline():
        folder, source = Path(snapshot_download(local_files_only=True, **kw)), "hub-cache"
    else:
        folder = Path(bounded((repo_id, revision, endpoint), snapshot_download, etag_timeout=HUB_DEADLINE_S, **kw))
        source = "hub"
    for f in HUB_FILES:
        if (folder / f).exists():
            verify_file(folder / f)
    return folder, source


def bounded(key: tuple, fn, *args, **kw):
    """``fn(*args, **kw)`` (a Hub call) within HUB_DEADLINE_S in total; a failure is remembered under ``key``
    for RETRY_AFTER_S and raised again at once (as ``_Remembered``) until then."""
    with _LOCK:
        failed = _FAILED.get(key)
    if failed and time.monotonic() - failed[0] < RETRY_AFTER_S:
        raise _Remembered(failed[1])
    try:
        result = _with_deadline(fn, *args, **kw)
    except Exception as e:  # noqa: BLE001 - remembered, then re-raised for the caller's fallback
        with _LOCK:
            _FAILED[key] = (time.monotonic(), hub_reason(e))
        raise
    with _LOCK:
        _FAILED.pop(key, None)
    return result


def _with_deadline(fn, *args, **kw):
    """Run fn in a daemon thread and wait at most HUB_DEADLINE_S (a daemon thread never holds up shutdown; an
    abandoned call finishes or fails on its own)."""
    box: dict = {}
    done = threading.Event()

    def run():
        try:
            box["result"] = fn(*args, **kw)
        except BaseException as e:  # noqa: BLE001 - handed to the waiting caller
            box["error"] = e
        finally:
            done.set()

    threading.Thread(target=run, daemon=True, name="hub").start()
    if not done.wait(HUB_DEADLINE_S):
        raise concurrent.futures.TimeoutError()
    if "error" in box:
        raise box["error"]
    return box["result"]


def forget_failures() -> None:
    """Ask the Hub again at the next load (tests; an operator after the network is back)."""
    with _LOCK:
        _FAILED.clear()


class _Remembered(RuntimeError):
    """The same repo failed less than RETRY_AFTER_S ago; its reason is the message."""


def reason(e: BaseException) -> str:
    return str(e) if isinstance(e, _Remembered) else hub_reason(e)


def load_model(name_or_repo_id: str, revision: str | None = None, cache_dir=None, device=None,
               endpoint: str | None = None) -> Loaded:
    """Load a keypoint model by bundled name, Hub repo id, or local folder. See the module docstring."""
    if not name_or_repo_id or not isinstance(name_or_repo_id, str):
        raise ModelLoadError("No model name was given.")
    path = Path(name_or_repo_id)
    record = MODELS.get(name_or_repo_id)
    if path.is_dir():
        loaded = Loaded(_load_folder(path), "local", str(path))
    elif record is not None and record.revision is None and revision is None:
        # not published yet: the bundled copy is the model
        loaded = Loaded(_load_folder(PRETRAINED / record.name), "local", f"pretrained/{record.name}",
                        "bundled copy (not published on the Hub yet)")
    else:
        bundled = PRETRAINED / name_or_repo_id
        repo_id = name_or_repo_id if "/" in name_or_repo_id else f"{HUB_ORG}/{name_or_repo_id}"
        rev = revision or (record.revision if record else None)
        try:
            folder, source = _from_hub(repo_id, rev, cache_dir, endpoint)
            loaded = Loaded(_load_folder(folder), source, f"{repo_id}@{rev or 'main'}")
        except ModelLoadError:
            raise
        except Exception as e:  # noqa: BLE001 - offline, no such repo, timeouts: fall back to the bundled copy
            note = "offline" if _offline() else reason(e)
            if "/" in name_or_repo_id and not bundled.is_dir():
                raise ModelLoadError(f"Could not load {repo_id} from the Hub ({note}) and no local copy exists.") from None
            if not bundled.is_dir():
                known = ", ".join(bundled_names()) or "none"
                raise ModelLoadError(f"Unknown model {name_or_repo_id!r}. Bundled models: {known}.") from None
            loaded = Loaded(_load_folder(bundled), "local", str(bundled.relative_to(ROOT)), note)
    if device is not None:
        loaded.model.to(device)
    loaded.model.eval()
    return loaded


# -- the one cache of loaded models (every topic shares it read-only) --------------------------------------------

def get_loaded(name: str) -> Loaded:
    """``load_model(name)`` once per process and device, on the device computing now (``get_device``: on
    ZeroGPU the CPU outside a GPU call, CUDA inside one), shared read-only by every topic. Kept per device, so a
    quick view on the CPU never receives a copy that lives on the GPU."""
    return _loaded_on(name, str(get_device()))


@functools.lru_cache(maxsize=32)
def _loaded_on(name: str, device: str) -> Loaded:
    return load_model(name, device=device)


def get_model(name: str) -> KeypointNet:
    """The bundled model ``name`` (see ``MODELS``), cached per process, in eval mode. Do not train it in
    place: copy it (``copy.deepcopy``) first."""
    return get_loaded(name).model
