"""Speed and size of every U-Net variant: forward and forward+backward time, parameters, MACs.

Run from the repository root (both work)::

    python -m analysis.speed [--out results/study] [--batch 4] [--size 128] [--repeats 7]
        [--threads 1,2] [--arch shipped,wide] [--variants ...]
    python analysis/speed.py

For each architecture (``shipped``: the checkpoints' depth 3, width 8; ``wide``: depth 4,
width 32, closer to the original U-Net) and each variant of :data:`antialias.models.VARIANTS`
(1 input channel, 2 output logits, as the nuclei models) the script times, on a fixed random
input ``(batch, 1, size, size)``:

- ``forward``: ``model.eval()`` under ``torch.inference_mode()``;
- ``train_step``: ``model.train()``, forward, cross-entropy against fixed random labels,
  ``backward()`` (gradients set to ``None`` before each step; no optimiser step).

Each thread count (default 1, then 2) gets its own rounds. Rounds interleave the variants (the
order rotates every round) so that a slow spell of a shared machine hits every variant alike;
the first ``warmup`` rounds are discarded. Reported per variant and thread count: the median
time (ms) over rounds, and the ratio to the reference variant (``bilinear``) as the median over
rounds of the per-round ratio, with its quartiles. Also the
number of trainable parameters and the multiply-adds of one forward pass of one image
(``torch.utils.flop_counter.FlopCounterMode``: convolutions, including the fixed filters of
blur layers, and matrix products; pooling and interpolation count as zero), in GMAC.

Output (``--out``, default ``results/study``; one result set, :mod:`antialias.files`):
``speed.json`` (config, provenance, one record per architecture, thread count and variant),
``speed.csv`` (the same records), ``speed.npz`` (``<arch>__t<threads>__<variant>__forward_s``
and ``__train_step_s``: every timed round, seconds).

Importable: :func:`run` ``(config, progress) -> result`` (no file writes, no printing),
:func:`main` ``(argv) -> int``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from antialias import _cli
from antialias.files import csv_bytes, npz_bytes, write_result_set
from antialias.models import VARIANTS, build_variant, count_parameters

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "results" / "study"
SCHEMA = "antialias.speed/1"
PROG = "speed"

ARCHS: dict[str, dict[str, Any]] = {
    "shipped": {},  # build_variant's defaults: depth 3, width 8 (the shipped checkpoints)
    "wide": {"depth": 4, "width": 32},
}
"""Architecture name -> :func:`antialias.models.build_variant` overrides."""


@dataclass
class SpeedConfig:
    """What to time (see the module docstring).

    Attributes:
        archs: architecture names (keys of :data:`ARCHS`).
        variants: variant names; must include ``reference``.
        batch, size: the fixed input ``(batch, 1, size, size)`` (``size`` a multiple of 16);
            the ``wide`` architecture uses ``wide_batch`` instead of ``batch``.
        repeats: timed rounds; warmup: discarded rounds before them.
        threads: torch CPU thread counts to time with, each in its own rounds (the first is
            the one figures use).
        reference: the variant every ratio divides by.
        seed: seed of the weights, input and labels.
    """

    archs: tuple[str, ...] = ("shipped",)
    variants: tuple[str, ...] = tuple(VARIANTS)
    batch: int = 4
    size: int = 128
    wide_batch: int = 1
    repeats: int = 7
    warmup: int = 1
    threads: tuple[int, ...] = (1, 2)
    reference: str = "bilinear"
    seed: int = 0


def _check(cfg: SpeedConfig) -> None:
    """Raise ``ValueError`` for a config the timing cannot run."""
    bad = [a for a in cfg.archs if a not in ARCHS]
    if bad or not cfg.archs:
        raise ValueError(f"expected archs among {list(ARCHS)}, got {list(cfg.archs)}")
    bad = [v for v in cfg.variants if v not in VARIANTS]
    if bad or not cfg.variants:
        raise ValueError(f"expected variants among {list(VARIANTS)}, got {list(cfg.variants)}")
    if cfg.reference not in cfg.variants:
        raise ValueError(
            f"expected the reference {cfg.reference!r} among the variants, got {list(cfg.variants)}"
        )
    for name in ("batch", "size", "repeats", "wide_batch"):
        v = getattr(cfg, name)
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"expected {name} a positive int, got {v!r}")
    if isinstance(cfg.warmup, bool) or not isinstance(cfg.warmup, int) or cfg.warmup < 0:
        raise ValueError(f"expected warmup a non-negative int, got {cfg.warmup!r}")
    bad = [t for t in cfg.threads if isinstance(t, bool) or not isinstance(t, int) or t < 1]
    if bad or not cfg.threads:
        raise ValueError(f"expected threads a tuple of positive ints, got {cfg.threads!r}")


def forward_macs(model: torch.nn.Module, size: int) -> float:
    """Multiply-adds of one forward pass of one ``(1, 1, size, size)`` image (FLOPs / 2)."""
    from torch.utils.flop_counter import FlopCounterMode

    was = model.training
    model.eval()
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 1, size, size))
    model.train(was)
    return counter.get_total_flops() / 2


def _timed(fn: Callable[[], Any]) -> float:
    """Seconds of one call of ``fn``."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _rounds(models, x, labels, cfg: SpeedConfig) -> dict[str, dict[str, list[float]]]:
    """Interleaved timed rounds (order rotating each round); warm-up rounds dropped."""

    def forward(m):
        with torch.inference_mode():
            m(x)

    def step(m):
        for p in m.parameters():
            p.grad = None
        F.cross_entropy(m(x), labels).backward()

    times = {v: {"forward": [], "train_step": []} for v in models}
    order = list(models)
    for r in range(cfg.warmup + cfg.repeats):
        k = r % len(order)
        for v in order[k:] + order[:k]:
            m = models[v]
            m.eval()
            tf = _timed(lambda m=m: forward(m))
            m.train()
            tb = _timed(lambda m=m: step(m))
            if r >= cfg.warmup:
                times[v]["forward"].append(tf)
                times[v]["train_step"].append(tb)
    return times


def run(
    config: SpeedConfig | dict[str, Any], progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Time every variant; no file writes, no printing (``progress`` gets one line per arch).

    Returns:
        ``{"schema", "config", "results": [record per (arch, variant)], "arrays"}``.
    """
    cfg = SpeedConfig(**config) if isinstance(config, dict) else config
    if not isinstance(cfg, SpeedConfig):
        raise TypeError(f"expected a SpeedConfig or dict, got {type(cfg).__name__}")
    _check(cfg)
    threads_before = torch.get_num_threads()
    load_start = os.getloadavg()[0]  # a shared machine's load shows in every timing
    records, arrays = [], {}
    try:
        for arch in cfg.archs:
            gen = torch.Generator().manual_seed(cfg.seed)
            batch = cfg.wide_batch if arch == "wide" else cfg.batch
            x = torch.rand(batch, 1, cfg.size, cfg.size, generator=gen)
            labels = torch.randint(0, 2, (batch, cfg.size, cfg.size), generator=gen)
            models = {}
            for v in cfg.variants:
                torch.manual_seed(cfg.seed)
                models[v] = build_variant(v, 1, 2, **ARCHS[arch])
            macs = {v: forward_macs(models[v], cfg.size) for v in cfg.variants}
            for threads in cfg.threads:
                start = time.perf_counter()
                torch.set_num_threads(threads)
                times = _rounds(models, x, labels, cfg)
                ref = times[cfg.reference]
                for v in cfg.variants:
                    rec: dict[str, Any] = {
                        "arch": arch,
                        "threads": threads,
                        "input_shape": list(x.shape),
                        "variant": v,
                        "config": models[v].config,
                        "num_parameters": count_parameters(models[v]),
                        "gmacs_per_image": macs[v] / 1e9,
                    }
                    for what in ("forward", "train_step"):
                        t = np.asarray(times[v][what])
                        ratios = t / np.asarray(ref[what])
                        arrays[f"{arch}__t{threads}__{v}__{what}_s"] = t
                        rec[f"{what}_ms"] = float(np.median(t) * 1e3)
                        rec[f"{what}_ms_q1"], rec[f"{what}_ms_q3"] = (
                            float(q * 1e3) for q in np.quantile(t, [0.25, 0.75])
                        )
                        rec[f"{what}_ratio"] = float(np.median(ratios))
                        rec[f"{what}_ratio_q1"], rec[f"{what}_ratio_q3"] = (
                            float(q) for q in np.quantile(ratios, [0.25, 0.75])
                        )
                    records.append(rec)
                if progress is not None:
                    progress(
                        f"speed {arch}, {threads} thread(s): {len(cfg.variants)} variants x "
                        f"{cfg.repeats} rounds ({time.perf_counter() - start:.1f} s)"
                    )
    finally:
        torch.set_num_threads(threads_before)
    return {
        "schema": SCHEMA,
        "config": asdict(cfg),
        "input_shape": [cfg.batch, 1, cfg.size, cfg.size],
        "threads": list(cfg.threads),
        "load_average_1min": [load_start, os.getloadavg()[0]],
        "results": records,
        "arrays": arrays,
    }


def format_table(result: dict[str, Any]) -> str:
    """Median times (ms) and ratios to the reference, one row per (arch, variant)."""
    ref = result["config"]["reference"]
    lines = [
        f"input {tuple(result['input_shape'])} (wide: batch {result['config']['wide_batch']}); "
        f"ratios: median of per-round ratios to {ref} "
        "[quartiles]",
        f"{'arch':<8} {'thr':>3} {'variant':<18} {'params':>8} {'GMAC/img':>9} {'fwd ms':>8} "
        f"{'fwd ratio':>17} {'fwd+bwd ms':>11} {'fwd+bwd ratio':>17}",
    ]
    for r in result["results"]:
        lines.append(
            f"{r['arch']:<8} {r['threads']:>3} {r['variant']:<18} {r['num_parameters']:>8} "
            f"{r['gmacs_per_image']:>9.3f} {r['forward_ms']:>8.1f} "
            f"{r['forward_ratio']:>5.2f} [{r['forward_ratio_q1']:.2f},{r['forward_ratio_q3']:.2f}] "
            f"{r['train_step_ms']:>11.1f} {r['train_step_ratio']:>5.2f} "
            f"[{r['train_step_ratio_q1']:.2f},{r['train_step_ratio_q3']:.2f}]"
        )
    return "\n".join(lines) + "\n"


def csv_cell(value: Any) -> Any:
    """A CSV cell: nested lists / dicts as JSON text (the study's tables use the same rule)."""
    return json.dumps(value) if isinstance(value, (dict, list)) else value


def result_set(
    result: dict[str, Any], provenance: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """``(speed.json document, {".csv": ..., ".npz": ...})`` of a :func:`run` result."""
    doc = {k: v for k, v in result.items() if k != "arrays"}
    doc["provenance"] = provenance
    rows = [{k: csv_cell(v) for k, v in r.items() if k != "config"} for r in result["results"]]
    return doc, {".csv": csv_bytes(rows), ".npz": npz_bytes(result["arrays"])}


def _ints(text: str, name: str) -> tuple[int, ...]:
    """Comma-separated integers (``--threads 2,1``)."""
    try:
        return tuple(int(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise ValueError(f"expected {name} like 2,1, got {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    """The command's arguments."""
    p = _cli.ArgumentParser(
        prog=PROG, description="Forward / forward+backward time of every U-Net variant."
    )
    p.add_argument("--out", default=str(DEFAULT_OUT), help="results folder")
    p.add_argument("--arch", default="shipped", help="comma-separated: shipped, wide")
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--wide-batch", type=int, default=1, help="batch of the wide architecture")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    p.add_argument("--reference", default="bilinear")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (2 for bad input, one line)."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as stop:  # --help (0) or a usage error (2, its line printed)
        return int(stop.code or 0)

    def body() -> int:
        from antialias.provenance import provenance

        cfg = SpeedConfig(
            archs=tuple(a for a in args.arch.split(",") if a),
            variants=tuple(v for v in args.variants.split(",") if v),
            batch=args.batch,
            size=args.size,
            repeats=args.repeats,
            warmup=args.warmup,
            threads=_ints(args.threads, "--threads"),
            wide_batch=args.wide_batch,
            reference=args.reference,
        )
        result = run(cfg, progress=lambda line: print(line, file=sys.stderr, flush=True))
        try:
            paths = write_result_set(args.out, "speed", *result_set(result, provenance()))
        except OSError as err:
            _cli.fail(f"cannot write results: {err}")
        sys.stdout.write(format_table(result))
        print("wrote " + ", ".join(str(p) for p in paths))
        return 0

    return _cli.run(PROG, body, user_errors=(ValueError, TypeError))


if __name__ == "__main__":
    sys.exit(main())
