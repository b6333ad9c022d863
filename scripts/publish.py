#!/usr/bin/env python
"""Publish the bundled models and the Space to the Hugging Face Hub (huggingface_hub: create repo, upload folder).

    python scripts/publish.py models [NAME ...] [--org ORG] [--dry-run]
    python scripts/publish.py photo [--dry-run]
    python scripts/publish.py space ORG/NAME [--zero-gpu] [--private] [--dry-run]
    python scripts/publish.py card [--check]

``models`` uploads each model folder of pretrained/ (config.json, model.safetensors, README.md card,
training.json) to ``<org>/<name>`` and prints the commit to pin as that model's ``revision`` in
demos/keypoints/registry.py. ``photo`` converts torchvision's Keypoint R-CNN COCO_V1 weights (downloaded
by torchvision, hash-checked) to safetensors and uploads them to the photo model's repo. ``space`` creates a Gradio Space from the files git tracks (README.md is its card)
and, with ``--zero-gpu``, asks for ZeroGPU hardware; it refuses while a repo the card lists is not published
(no pinned revision), and says which commands publish it. ``card`` writes the card's ``models:`` and
``preload_from_hub:`` (README.md's front matter, between markers) from the registry: every repo the app loads,
and those with a pinned revision preloaded at that revision. ``--dry-run`` lists exactly what would be uploaded
where and touches nothing (no token needed). A token comes from ``HF_TOKEN`` or ``huggingface-cli login``.
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
CARD_START = "# Hub repos: generated from the registry by `python scripts/publish.py card`"
CARD_END = "# end of the generated Hub repos"


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


def pinned() -> dict[str, str | None]:
    """Each repo the app loads, and the revision the app pins for it (None: not published yet)."""
    from demos.keypoints import photo

    return {m.repo_id: m.revision for m in MODELS.values()} | {PHOTO_REPO: photo.PHOTO_REVISION}


def card_block() -> str:
    """The card's Hub lines: ``models:`` (every repo the app loads) and ``preload_from_hub:`` (each repo with a
    pinned revision: the files the app loads from it, at that revision, so the Space starts without downloading;
    a repo that does not exist yet would fail the Space's build)."""
    from demos.keypoints import hub, photo

    revs = pinned()
    files = {m.repo_id: ",".join(hub.HUB_FILES) for m in MODELS.values()} | {PHOTO_REPO: photo.PHOTO_FILE}
    lines = [CARD_START, "models:"] + [f"- {r}" for r in revs]
    pre = [f"- {r} {files[r]} {rev}" for r, rev in revs.items() if rev]
    lines += ["preload_from_hub:"] + pre if pre else ["# preload_from_hub: none yet (no repo has a pinned revision)"]
    return "\n".join(lines + [CARD_END])


def card_text(readme: str) -> str:
    """README.md with its generated Hub lines replaced by :func:`card_block`."""
    start, end = readme.index(CARD_START), readme.index(CARD_END) + len(CARD_END)
    return readme[:start] + card_block() + readme[end:]


def unpublished() -> list[str]:
    """The repos the card lists that have no pinned revision."""
    return [r for r, rev in pinned().items() if not rev]


def publish_commands(repos) -> list[str]:
    names = [m.name for m in MODELS.values() if m.repo_id in repos]
    cmds = [f"python scripts/publish.py models {' '.join(names)}"] if names else []
    return cmds + (["python scripts/publish.py photo"] if PHOTO_REPO in repos else [])


def show(plan: list[tuple[str, Path, str]]) -> None:
    total = 0
    for repo, local, remote in plan:
        size = local.stat().st_size
        total += size
        print(f"{repo}  {remote}  <- {local.relative_to(ROOT)}  ({size / 1e6:.2f} MB)")
    print(f"{len(plan)} files, {total / 1e6:.1f} MB")


def _hub_api(api):
    if api is not None:
        return api
    from huggingface_hub import HfApi

    return HfApi()


def publish_models(names, org: str, dry_run: bool, api=None) -> dict[str, str]:
    """Upload each model's folder; returns {repo id: commit to pin} (``api``: HfApi, or a stand-in with its
    create_repo and upload_folder)."""
    untrained = [n for n in names if not (PRETRAINED / n / "model.safetensors").is_file()]
    for n in untrained:
        print(f"{org}/{n}: not trained yet (no pretrained/{n}), so not uploaded; run `{MODELS[n].train_command}` first")
    names = [n for n in names if n not in untrained]
    plan = model_plan(names, org)
    show(plan)
    if dry_run:
        return {}
    api = _hub_api(api)
    commits = {}
    for name in names:
        repo = f"{org}/{name}"
        api.create_repo(repo, exist_ok=True)
        info = api.upload_folder(repo_id=repo, folder_path=PRETRAINED / name, allow_patterns=list(MODEL_FILES),
                                 commit_message=f"Upload {name} from the Keypoint & Architecture Lab")
        commits[repo] = info.oid
        print(f"{repo}: pin revision={info.oid!r} in demos/keypoints/registry.py")
    return commits


def photo_files(state: dict, folder) -> Path:
    """Keypoint R-CNN's state dict as the photo repo's files: ``model.safetensors`` in ``folder``."""
    from safetensors.torch import save_file

    from demos.keypoints import photo

    path = Path(folder) / photo.PHOTO_FILE
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    return path


def publish_photo(dry_run: bool, api=None, state: dict | None = None) -> dict[str, str]:
    """Convert Keypoint R-CNN's weights (default: torchvision's COCO_V1, downloaded and hash-checked by
    torchvision) to safetensors and upload them; returns {repo id: commit to pin}."""
    print(f"{PHOTO_REPO}  model.safetensors  <- torchvision KeypointRCNN_ResNet50_FPN_Weights.COCO_V1 (226 MB)")
    if dry_run:
        return {}
    import tempfile

    if state is None:
        from torchvision.models.detection import KeypointRCNN_ResNet50_FPN_Weights

        state = KeypointRCNN_ResNet50_FPN_Weights.COCO_V1.get_state_dict(progress=True, check_hash=True)
    api = _hub_api(api)
    with tempfile.TemporaryDirectory() as d:
        photo_files(state, d)
        api.create_repo(PHOTO_REPO, exist_ok=True)
        info = api.upload_folder(repo_id=PHOTO_REPO, folder_path=d, commit_message="Keypoint R-CNN COCO_V1 weights")
    print(f"{PHOTO_REPO}: pin PHOTO_REVISION={info.oid!r} in demos/keypoints/photo.py")
    return {PHOTO_REPO: info.oid}


def space_refusal() -> str | None:
    """Why the Space cannot be published now, in one sentence; None when it can."""
    missing = unpublished()
    if missing:
        return (f"Not publishing the Space: its card lists {', '.join(missing)}, not published yet (no pinned "
                f"revision); run {' and '.join('`' + c + '`' for c in publish_commands(missing))}, pin the revisions "
                "they print (demos/keypoints/registry.py, demos/keypoints/photo.py), then `python scripts/publish.py "
                "card`.")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    if card_text(readme) != readme:
        return "Not publishing the Space: README.md's Hub lines are stale; run `python scripts/publish.py card`."
    return None


def publish_space(repo: str, zero_gpu: bool, private: bool, dry_run: bool) -> int:
    files = space_files()
    show([(repo + " (space)", ROOT / f, f) for f in files])
    print(f"hardware: {'ZeroGPU (' + ZERO_GPU + ')' if zero_gpu else 'CPU basic (2 vCPU, 16 GB)'}")
    refusal = space_refusal()
    if refusal:
        print(refusal)
        return 1
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
    c = sub.add_parser("card", help="write the card's models: and preload_from_hub: from the registry")
    c.add_argument("--check", action="store_true", help="only say whether README.md is up to date")
    a = ap.parse_args(argv)
    if a.what == "models":
        unknown = [n for n in a.names if n not in MODELS]
        if unknown:
            ap.error(f"unknown model(s) {', '.join(unknown)}; the models are {', '.join(MODELS)}")
        publish_models(a.names or list(MODELS), a.org, a.dry_run)
        return 0
    if a.what == "photo":
        publish_photo(a.dry_run)
        return 0
    if a.what == "card":
        path = ROOT / "README.md"
        old = path.read_text(encoding="utf-8")
        new = card_text(old)
        if a.check:
            print("README.md's Hub lines are up to date." if new == old else "README.md's Hub lines are stale.")
            return int(new != old)
        path.write_text(new, encoding="utf-8")
        print(f"README.md: {len(pinned())} repos, {len(pinned()) - len(unpublished())} preloaded")
        return 0
    return publish_space(a.repo, a.zero_gpu, a.private, a.dry_run)


if __name__ == "__main__":
    sys.exit(main())
