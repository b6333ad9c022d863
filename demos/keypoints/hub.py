"""Loading the bundled keypoint models: the Hugging Face Hub first, the copy in pretrained/ when offline.

``load_model("heatmap-s4")`` tries the Hub repo ``<HUB_ORG>/heatmap-s4`` at ``revision`` (a short timeout,
never a hang) unless huggingface_hub is offline (``HF_HUB_OFFLINE=1``), where it uses the local Hugging
Face cache if that holds the repo; failing both it loads ``pretrained/heatmap-s4``, which ships with the
app. A Hub repo id (``"org/name"``) or a local folder works too. Weights are read as safetensors only.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import constants, snapshot_download
from safetensors import SafetensorError

from .models import SAFETENSORS, KeypointNet

ROOT = Path(__file__).resolve().parents[2]
PRETRAINED = ROOT / "pretrained"
# The one config place for where bundled models live on the Hub (override with KPLAB_HUB_ORG).
HUB_ORG = os.environ.get("KPLAB_HUB_ORG", "keypoint-architecture-lab")
HUB_REVISION = os.environ.get("KPLAB_HUB_REVISION", "main")
HUB_TIMEOUT_S = 3.0


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
        raise ModelLoadError(f"{folder} has no config.json: it is not a model folder.")
    if not (folder / SAFETENSORS).is_file():
        raise ModelLoadError(f"{folder} has no {SAFETENSORS}: the weights are missing.")
    try:
        json.loads((folder / "config.json").read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ModelLoadError(f"{folder / 'config.json'} is not valid JSON ({e}).") from None
    try:
        return KeypointNet.from_pretrained(str(folder))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise ModelLoadError(f"The weights in {folder} are corrupted or do not fit the config "
                             f"({type(e).__name__}: {str(e)[:200]}).") from None


def _offline() -> bool:
    return bool(constants.HF_HUB_OFFLINE)


def _from_hub(repo_id: str, revision: str | None, cache_dir=None) -> tuple[Path, str]:
    kw = dict(repo_id=repo_id, revision=revision, allow_patterns=["config.json", SAFETENSORS, "README.md"],
              cache_dir=cache_dir)
    if _offline():
        return Path(snapshot_download(local_files_only=True, **kw)), "hub-cache"
    return Path(snapshot_download(etag_timeout=HUB_TIMEOUT_S, **kw)), "hub"


def load_model(name_or_repo_id: str, revision: str | None = None, cache_dir=None, device=None) -> Loaded:
    """Load a keypoint model by bundled name, Hub repo id, or local folder. See the module docstring."""
    if not name_or_repo_id or not isinstance(name_or_repo_id, str):
        raise ModelLoadError("No model name was given.")
    path = Path(name_or_repo_id)
    if path.is_dir():
        loaded = Loaded(_load_folder(path), "local", str(path))
    else:
        bundled = PRETRAINED / name_or_repo_id
        repo_id = name_or_repo_id if "/" in name_or_repo_id else f"{HUB_ORG}/{name_or_repo_id}"
        rev = revision or (HUB_REVISION if "/" not in name_or_repo_id else None)
        try:
            folder, source = _from_hub(repo_id, rev, cache_dir)
            loaded = Loaded(_load_folder(folder), source, f"{repo_id}@{rev or 'main'}")
        except ModelLoadError:
            raise
        except Exception as e:  # noqa: BLE001 - offline, no such repo, timeouts: fall back to the bundled copy
            note = ("offline" if _offline() else f"Hub unreachable ({type(e).__name__})")
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
