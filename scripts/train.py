#!/usr/bin/env python
"""Train one bundled keypoint model and save it (config.json + model.safetensors + model card).

Reproduces every model under pretrained/, e.g.
    python scripts/train.py --head heatmap --stride 8 --out pretrained/heatmap-s8
Each run is seeded and takes a few minutes on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from demos.keypoints import (HEADS, MODELS, VARIANTS, KeypointNet, count_parameters, dataset,  # noqa: E402
                             evaluate_model, train, write_card)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=list(MODELS), default=None,
                    help="train a registry model: its head, stride, variant, steps and folder (other flags still apply)")
    ap.add_argument("--head", choices=HEADS, default=None)
    ap.add_argument("--stride", type=int, choices=(4, 8), default=4)
    ap.add_argument("--variant", choices=VARIANTS, default="default")
    ap.add_argument("--width", type=int, default=24)
    ap.add_argument("--sigma", type=float, default=1.0, help="Gaussian target std in heatmap px")
    ap.add_argument("--n-train", type=int, default=12000, help="rendered training images (seeds 0..n-1)")
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--eval-n", type=int, default=500)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args(argv)
    if a.model:
        rec = MODELS[a.model]
        a.head, a.variant, a.steps = rec.head, rec.variant, rec.steps
        a.stride = rec.stride or a.stride
        a.out = a.out or Path("pretrained") / rec.name
    if not a.head or not a.out:
        ap.error("give --model NAME, or --head and --out")
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    t0 = time.time()
    images, kp, _ = dataset(range(a.n_train), a.variant)
    print(f"data: {len(images)} images ({a.variant}) in {time.time() - t0:.1f} s")
    model = KeypointNet(head=a.head, stride=a.stride, width=a.width, sigma=a.sigma, variant=a.variant)
    print(f"model: {model.describe()}, {count_parameters(model):,} parameters")
    info = train(model, images, kp, steps=a.steps, batch=a.batch, lr=a.lr, seed=a.seed)
    rows = evaluate_model(model, a.eval_n)
    print(f"trained in {info['seconds']:.0f} s; held-out ({a.eval_n} images):")
    for r in rows:
        print(f"  {r['decoder']:>15}: mean {r['mean_px']:.2f} px  PCK@5% {r['pck5']:.3f}  PCK@10% {r['pck10']:.3f}")
    a.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(a.out)
    cmd = "python scripts/train.py " + " ".join(sys.argv[1:] if argv is None else argv)
    meta = {"command": cmd, "train_seconds": round(info["seconds"], 1), "parameters": count_parameters(model),
            "final_loss": sum(info["loss_history"][-50:]) / 50, "heldout": rows, "args": {
                k: (str(v) if isinstance(v, Path) else v) for k, v in vars(a).items()}}
    (a.out / "training.json").write_text(json.dumps(meta, indent=2))
    write_card(a.out, model, meta, rows=[dict(r, model=a.out.name) for r in rows])  # make evaluate refreshes it
    print(f"saved to {a.out}")


if __name__ == "__main__":
    main()
