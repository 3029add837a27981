"""Training throughput of every U-Net variant, as a ratio to the ``bilinear`` variant.

One training step = forward + cross-entropy/Dice loss + backward + Adam step on the shipped
architecture (:func:`antialias.train.model_for_task`, nuclei head) with the shipped batch
(8 crops of 64x64, :class:`antialias.train.TrainSettings`). The batch is fixed, so only the
model's cost is timed. Variants are measured round-robin (one block of steps each, repeated),
so a change in machine load hits all of them alike; the table reports the median time per
step and ``throughput / throughput(bilinear)`` (> 1: faster than bilinear).

Usage::

    python benchmarks/bench_training.py [--threads 2] [--steps 5] [--rounds 7] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

from antialias.models import VARIANTS, count_parameters
from antialias.train import TrainSettings, loss_fn, model_for_task

REFERENCE = "bilinear"


def measure(threads: int, steps: int, rounds: int, batch: int, crop: int) -> dict[str, dict]:
    """Median seconds per training step of every variant (round-robin timing)."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x = torch.rand(batch, 1, crop, crop)
    y = (torch.rand(batch, crop, crop) > 0.7).long()
    setups = {}
    for name in VARIANTS:
        model = model_for_task("nuclei", name).train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        setups[name] = (model, opt)

    def step(name: str) -> None:
        model, opt = setups[name]
        loss = loss_fn(model(x), y, "segmentation")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for name in VARIANTS:  # warm-up: allocator, first-call overheads
        for _ in range(2):
            step(name)
    times: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(rounds):
        for name in VARIANTS:
            start = time.perf_counter()
            for _ in range(steps):
                step(name)
            times[name].append((time.perf_counter() - start) / steps)
    ref = statistics.median(times[REFERENCE])
    return {
        name: {
            "median_s_per_step": statistics.median(t),
            "throughput_ratio_to_bilinear": ref / statistics.median(t),
            "parameters": count_parameters(setups[name][0]),
        }
        for name, t in times.items()
    }


def main(argv: list[str] | None = None) -> int:
    s = TrainSettings()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=5, help="steps per timed block")
    p.add_argument("--rounds", type=int, default=7, help="timed blocks per variant")
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = p.parse_args(argv)
    res = measure(args.threads, args.steps, args.rounds, s.batch_size, s.crop)
    print(
        f"training step, batch {s.batch_size}x1x{s.crop}x{s.crop}, {args.threads} threads, "
        f"median of {args.rounds} blocks of {args.steps} steps"
    )
    print(f"{'variant':<18} {'params':>8} {'ms/step':>9} {'throughput / bilinear':>22}")
    for name, r in res.items():
        print(
            f"{name:<18} {r['parameters']:>8} {1e3 * r['median_s_per_step']:>9.1f} "
            f"{r['throughput_ratio_to_bilinear']:>22.2f}"
        )
    if args.json is not None:
        from antialias.provenance import provenance

        payload = {"results": res, "threads": args.threads, "provenance": provenance()}
        args.json.write_text(json.dumps(payload, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
