"""Write demos/architectures/zoo_counts.json: each zoo model's parameters and FLOPs, counted on the built
torchvision module (``demos.architectures.zoo.count``), so the app reads them instead of counting at start-up.

    python scripts/zoo_counts.py          # after a torch / torchvision upgrade, or a change to zoo.ZOO

tests/architectures/test_zoo_counts.py fails when the file no longer matches a fresh count.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def counts() -> dict:
    import torch
    import torchvision

    from demos.architectures import zoo

    models = {}
    for _, name, size in zoo.ZOO:
        params, flops = zoo.count(name, size)
        models[f"{name}@{size}"] = {"params": params, "flops": flops}
    return {"generated_by": "scripts/zoo_counts.py", "torch": torch.__version__.split("+")[0],
            "torchvision": torchvision.__version__.split("+")[0], "models": models}


def main() -> None:
    from demos.architectures import zoo

    zoo.COUNTS.write_text(json.dumps(counts(), indent=1) + "\n")
    print(f"wrote {zoo.COUNTS}")


if __name__ == "__main__":
    main()
