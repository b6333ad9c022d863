#!/usr/bin/env python
"""Publish the bundled models and the Space to the Hugging Face Hub (huggingface_hub: create repo, upload folder).

    python scripts/publish.py models [NAME ...] [--org ORG] [--dry-run]
    python scripts/publish.py photo [--dry-run]
    python scripts/publish.py space ORG/NAME [--zero-gpu] [--private] [--dry-run]

``models`` uploads each model folder of pretrained/ (config.json, model.safetensors, README.md card,
training.json) to ``<org>/<name>`` and prints the commit to pin as that model's ``revision`` in
demos/keypoints/registry.py. ``photo`` converts torchvision's Keypoint R-CNN COCO_V1 weights (downloaded
by torchvision, hash-checked) to safetensors and uploads them to the photo model's repo. ``space`` creates a Gradio Space from the files git tracks (README.md is its card)
and, with ``--zero-gpu``, asks for ZeroGPU hardware. ``--dry-run`` lists exactly what would be uploaded where
and touches nothing (no token needed). A token comes from ``HF_TOKEN`` or ``huggingface-cli login``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from demos.keypoints import HUB_ORG, MODELS, PHOTO_REPO, PRETRAINED  # noqa: E402

MODEL_FILES = ("config.json", "model.safetensors", "README.md", "training.json")
ZERO_GPU = "zero-a10g"  # the hardware flavour name the Hub API uses for ZeroGPU


def model_plan(names, org: str) -> list[tuple[str, Path, str]]:
    """(repo id, local file, path in repo) for every file of every model to publish."""
    plan = []
    for name in names:
        folder = PRETRAINED / name
        for f in MODEL_FILES:
            if (folder / f).is_file():
                plan.append((f"{org}/{name}", folder / f, f))
    return plan


def space_files() -> list[str]:
    """The files git tracks: what a Space is made of (LFS rules in .gitattributes cover the binaries)."""
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [p for p in out.splitlines() if (ROOT / p).is_file()]


def hub_repos() -> list[str]:
    """Every Hub repo the app loads: the README card's ``models:`` list (tests check the card against it)."""
    return [m.repo_id for m in MODELS.values()] + [PHOTO_REPO]


def show(plan: list[tuple[str, Path, str]]) -> None:
    total = 0
    for repo, local, remote in plan:
        size = local.stat().st_size
        total += size
        print(f"{repo}  {remote}  <- {local.relative_to(ROOT)}  ({size / 1e6:.2f} MB)")
    print(f"{len(plan)} files, {total / 1e6:.1f} MB")


def publish_models(names, org: str, dry_run: bool) -> int:
    plan = model_plan(names, org)
    show(plan)
    if dry_run:
        return 0
    from huggingface_hub import HfApi

    api = HfApi()
    for name in names:
        repo = f"{org}/{name}"
        api.create_repo(repo, exist_ok=True)
        info = api.upload_folder(repo_id=repo, folder_path=PRETRAINED / name, allow_patterns=list(MODEL_FILES),
                                 commit_message=f"Upload {name} from the Keypoint & Architecture Lab")
        print(f"{repo}: pin revision={info.oid!r} in demos/keypoints/registry.py")
    return 0


def publish_photo(dry_run: bool) -> int:
    print(f"{PHOTO_REPO}  model.safetensors  <- torchvision KeypointRCNN_ResNet50_FPN_Weights.COCO_V1 (226 MB)")
    if dry_run:
        return 0
    import tempfile

    from huggingface_hub import HfApi
    from safetensors.torch import save_file
    from torchvision.models.detection import KeypointRCNN_ResNet50_FPN_Weights

    state = KeypointRCNN_ResNet50_FPN_Weights.COCO_V1.get_state_dict(progress=True, check_hash=True)
    with tempfile.TemporaryDirectory() as d:
        save_file({k: v.contiguous() for k, v in state.items()}, f"{d}/model.safetensors")
        api = HfApi()
        api.create_repo(PHOTO_REPO, exist_ok=True)
        info = api.upload_folder(repo_id=PHOTO_REPO, folder_path=d, commit_message="Keypoint R-CNN COCO_V1 weights")
    print(f"{PHOTO_REPO}: pin PHOTO_REVISION={info.oid!r} in demos/keypoints/photo.py")
    return 0


def publish_space(repo: str, zero_gpu: bool, private: bool, dry_run: bool) -> int:
    files = space_files()
    show([(repo + " (space)", ROOT / f, f) for f in files])
    print(f"hardware: {'ZeroGPU (' + ZERO_GPU + ')' if zero_gpu else 'CPU basic (2 vCPU, 16 GB)'}")
    if dry_run:
        return 0
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo(repo, repo_type="space", space_sdk="gradio", private=private, exist_ok=True)
    info = api.upload_folder(repo_id=repo, repo_type="space", folder_path=ROOT, allow_patterns=files,
                             commit_message="Publish the Keypoint & Architecture Lab")
    if zero_gpu:
        api.request_space_hardware(repo, ZERO_GPU)
    print(f"https://huggingface.co/spaces/{repo} at {info.oid}")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    m = sub.add_parser("models", help="upload bundled models")
    m.add_argument("names", nargs="*", help=f"default: all of {', '.join(MODELS)}")
    m.add_argument("--org", default=HUB_ORG)
    m.add_argument("--dry-run", action="store_true")
    ph = sub.add_parser("photo", help="upload the photo model's weights as safetensors")
    ph.add_argument("--dry-run", action="store_true")
    s = sub.add_parser("space", help="create or update the Space")
    s.add_argument("repo", help="ORG/NAME of the Space")
    s.add_argument("--zero-gpu", action="store_true", help="ask for ZeroGPU hardware")
    s.add_argument("--private", action="store_true")
    s.add_argument("--dry-run", action="store_true")
    a = ap.parse_args(argv)
    if a.what == "models":
        unknown = [n for n in a.names if n not in MODELS]
        if unknown:
            ap.error(f"unknown model(s) {', '.join(unknown)}; the models are {', '.join(MODELS)}")
        return publish_models(a.names or list(MODELS), a.org, a.dry_run)
    if a.what == "photo":
        return publish_photo(a.dry_run)
    return publish_space(a.repo, a.zero_gpu, a.private, a.dry_run)


if __name__ == "__main__":
    sys.exit(main())
