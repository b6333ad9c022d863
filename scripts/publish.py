#!/usr/bin/env python
"""Push a bundled model (config.json, model.safetensors, model card) to a Hugging Face Hub repo.

    HF_TOKEN=... python scripts/publish.py heatmap-s4 [--repo org/name] [--private]
The repo defaults to <KPLAB_HUB_ORG>/<name>, where the app's load_model() looks first.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from demos.keypoints.hub import HUB_ORG, PRETRAINED, bundled_names  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name", choices=bundled_names())
    ap.add_argument("--repo", default=None)
    ap.add_argument("--private", action="store_true")
    a = ap.parse_args(argv)
    from huggingface_hub import HfApi

    repo = a.repo or f"{HUB_ORG}/{a.name}"
    api = HfApi()
    api.create_repo(repo, private=a.private, exist_ok=True)
    folder = PRETRAINED / a.name
    info = api.upload_folder(repo_id=repo, folder_path=folder, allow_patterns=["config.json", "model.safetensors",
                                                                               "README.md", "training.json"],
                             commit_message=f"Upload {a.name} from the Keypoint & Architecture Lab")
    print(f"pushed {folder} to https://huggingface.co/{repo} ({info.oid if hasattr(info, 'oid') else info})")


if __name__ == "__main__":
    main()
