"""Speed and memory of the real-world up-sampling designs at realistic sizes (issue 12, item 7).

For every configuration (threads x width x input side x batch; depth 4, nuclei head) every
design is measured in interleaved rounds: one round times one forward pass (``eval``, no
grad) and one training step (forward + loss + backward + Adam) of *every* design, in a
rotated order, so load from other jobs falls on all designs of a round alike. The ratio of a
design to ``tconv2`` is taken *within* each round, and the table reports the median seconds
and the median within-round ratio (with its min-max over rounds).

Memory: on CUDA the peak allocated bytes of a training step (``torch.cuda``'s counters); on
CPU, where PyTorch keeps no allocator statistics, the bytes a training step must hold at its
peak by construction: the tensors autograd saves for backward (counted by a
``saved_tensors_hooks`` pack hook, unique storages once) plus weights, gradients and Adam's
two moments (4 x parameters x 4 bytes). Every row is labelled with its device.

Usage::

    python benchmarks/bench_designs.py --json benchmarks/results/bench_designs.json
    python benchmarks/bench_designs.py --widths 32 --sizes 256 --batches 1 --threads 1 \\
        --rounds 3                           # a short configuration (minutes on one core)
    python benchmarks/bench_designs.py --device cuda --autocast    # on a GPU (cudnn.benchmark)

The full grid (2 widths x 2 sizes x 2 batches x 2 thread counts x 8 designs) takes hours on
one shared CPU core at width 64 / 512^2 / batch 8; run it on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import torch

from antialias.models import count_macs, count_parameters
from antialias.train import loss_fn, model_for_task

DESIGNS = (
    "tconv2",  # U-Net up-conv, Pytorch-UNet, MONAI BasicUNet deconv
    "tconv3",  # MONAI UNet
    "bilinear_1x1",  # MONAI UpSample nontrainable
    "bilinear_only",  # Pytorch-UNet bilinear=True
    "subpixel_blur",  # MONAI pixelshuffle (ICNR, pad + average)
    "bilinear",  # Odena resize-conv
    "nearest",  # Odena resize-conv with nearest (the seed answer's "nearest + conv")
    "tconv4_bilinear",  # FCN bilinear-initialised 4x4 deconvolution
)
REFERENCE = "tconv2"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _cpu_step_bytes(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    """Saved-for-backward bytes of one training step + weights, grads and Adam moments."""
    seen: dict[int, int] = {}
    weights = {p.untyped_storage().data_ptr() for p in model.parameters()}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in weights:  # weights are counted once, below
            seen[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = loss_fn(model(x), y, "segmentation")
    loss.backward()
    model.zero_grad(set_to_none=True)
    return sum(seen.values()) + 4 * 4 * count_parameters(model)


def measure(
    designs: tuple[str, ...],
    width: int,
    size: int,
    batch: int,
    rounds: int,
    device: torch.device,
    autocast: bool = False,
    warmup: int = 1,
) -> dict[str, dict]:
    """Median seconds (forward, training step), within-round ratios to :data:`REFERENCE`,
    memory, parameters and MACs of every design at one configuration."""
    torch.manual_seed(0)
    x = torch.rand(batch, 1, size, size, device=device)
    y = (torch.rand(batch, size, size, device=device) > 0.7).long()
    nets, opts = {}, {}
    for d in designs:
        nets[d] = model_for_task("nuclei", d, width=width, depth=4).to(device)
        opts[d] = torch.optim.Adam(nets[d].parameters(), lr=1e-3)
    amp = (
        torch.autocast(device.type, dtype=torch.bfloat16 if device.type == "cpu" else torch.float16)
        if autocast
        else nullcontext()
    )

    def forward(d: str) -> float:
        nets[d].eval()
        _sync(device)
        t0 = time.perf_counter()
        with torch.no_grad(), amp:
            nets[d](x)
        _sync(device)
        return time.perf_counter() - t0

    def step(d: str) -> float:
        nets[d].train()
        _sync(device)
        t0 = time.perf_counter()
        with amp:
            loss = loss_fn(nets[d](x).float(), y, "segmentation")
        opts[d].zero_grad(set_to_none=True)
        loss.backward()
        opts[d].step()
        _sync(device)
        return time.perf_counter() - t0

    times = {d: {"forward": [], "train_step": []} for d in designs}
    for r in range(warmup + rounds):
        order = designs[r % len(designs) :] + designs[: r % len(designs)]  # rotate the order
        for d in order:
            f, s = forward(d), step(d)
            if r >= warmup:
                times[d]["forward"].append(f)
                times[d]["train_step"].append(s)
    out = {}
    for d in designs:
        row: dict = {
            "parameters": count_parameters(nets[d]),
            "gmacs_forward": count_macs(nets[d], tuple(x.shape))["total"] / 1e9,
        }
        for mode, ts in times[d].items():
            ratios = [a / b for a, b in zip(ts, times[REFERENCE][mode])]
            row[f"{mode}_s"] = ts  # per round, paired with the reference's by round
            row[f"{mode}_median_s"] = statistics.median(ts)
            row[f"{mode}_ratio_to_{REFERENCE}"] = statistics.median(ratios)
            row[f"{mode}_ratio_range"] = [min(ratios), max(ratios)]
        row.update(_memory(nets[d], x, y, device))
        out[d] = row
    return out


def _memory(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, device: torch.device):
    model.train()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        loss_fn(model(x), y, "segmentation").backward()
        model.zero_grad(set_to_none=True)
        peak = torch.cuda.max_memory_allocated(device) - base
        return {"peak_bytes": int(peak), "memory_kind": "cuda max_memory_allocated (step)"}
    return {
        "peak_bytes": _cpu_step_bytes(model, x, y),
        "memory_kind": "saved-for-backward + 4 x parameters (CPU, by construction)",
    }


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split(","))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--designs", default=",".join(DESIGNS))
    p.add_argument("--widths", type=_ints, default=(32, 64))
    p.add_argument("--sizes", type=_ints, default=(256, 512))
    p.add_argument("--batches", type=_ints, default=(1, 8))
    p.add_argument("--threads", type=_ints, default=(1, 2))
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--device", default="cpu")
    p.add_argument("--autocast", action="store_true", help="also time under autocast")
    p.add_argument("--json", type=Path, default=None, help="write the results here")
    args = p.parse_args(argv)
    designs = tuple(args.designs.split(","))
    if REFERENCE not in designs:
        designs = (REFERENCE, *designs)
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    label = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    rows = []
    for threads in args.threads if device.type == "cpu" else (torch.get_num_threads(),):
        torch.set_num_threads(threads)
        for amp in (False, True) if args.autocast else (False,):
            for width in args.widths:
                for size in args.sizes:
                    for batch in args.batches:
                        load = os.getloadavg()[0]  # other jobs on the machine: stated
                        res = measure(designs, width, size, batch, args.rounds, device, amp)
                        cfg = {"device": label, "threads": threads, "autocast": amp}
                        cfg["load_1min_before_after"] = [load, os.getloadavg()[0]]
                        cfg.update(width=width, size=size, batch=batch, rounds=args.rounds)
                        rows.append({**cfg, "designs": res})
                        _print(cfg, res)
    if args.json is not None:
        from antialias.provenance import provenance

        args.json.parent.mkdir(parents=True, exist_ok=True)
        doc = {"reference": REFERENCE, "rows": rows, "provenance": provenance()}
        args.json.write_text(json.dumps(doc, indent=1) + "\n")
    return 0


def _print(cfg: dict, res: dict) -> None:
    print(
        f"[{cfg['device']}, {cfg['threads']} thread(s){', autocast' if cfg['autocast'] else ''}]"
        f" width {cfg['width']} depth 4, input {cfg['batch']}x1x{cfg['size']}^2, "
        f"{cfg['rounds']} interleaved rounds"
        + (
            " (load {:.1f} -> {:.1f})".format(*cfg["load_1min_before_after"])
            if "load_1min_before_after" in cfg
            else ""
        )
    )
    print(
        f"  {'design':<16} {'params':>9} {'GMAC':>8} {'fwd ms':>9} {'x ref':>6} "
        f"{'step ms':>9} {'x ref':>6} {'MB':>8}"
    )
    for d, r in res.items():
        print(
            f"  {d:<16} {r['parameters']:>9} {r['gmacs_forward']:>8.2f} "
            f"{1e3 * r['forward_median_s']:>9.1f} {r['forward_ratio_to_tconv2']:>6.2f} "
            f"{1e3 * r['train_step_median_s']:>9.1f} {r['train_step_ratio_to_tconv2']:>6.2f} "
            f"{r['peak_bytes'] / 1e6:>8.1f}"
        )


if __name__ == "__main__":
    sys.exit(main())
