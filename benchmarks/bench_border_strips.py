"""Which border-strip implementation: the record behind keeping resample's (issue 3, section 5).

Reflect-padded blur-pool (binomial ``k``, down 2) without a full padded copy, four ways,
against kornia's zero-padded ``BlurPool2D`` (the target's reference), 2 threads, float32,
forward and forward + backward (dense random upstream gradient), medians of interleaved rounds:

- ``resample``: ``downsample2d(..., pad_mode="reflect")`` as shipped;
- ``resample 1-thread strips``: the same with the border strips computed on one thread
  (``torch.set_num_threads(1)`` around them, as an earlier version did);
- ``resample depthwise``: the same with a depthwise main conv (``resample._BLOCKED = False``),
  i.e. the main conv the old layer code used: isolates the border-strip code;
- ``old _parts``: the layers' own border-strip blur-pool with its custom backward, deleted
  in the consolidation, loaded from git (``--old-rev``; skipped where git cannot show it).

Usage::

    python benchmarks/bench_border_strips.py [--repeats 11] [--txt PATH] [--old-rev 2e41033]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

import torch

import antialias.resample as resample
from antialias.resample import downsample2d

SHAPES = [(8, 64, 128, 128), (8, 32, 256, 256)]
TAPS = [3, 5]
ROOT = Path(__file__).resolve().parent.parent

Fn = Callable[[torch.Tensor], torch.Tensor]


def _old_parts(rev: str) -> types.ModuleType | None:
    """antialias/layers/_parts.py as of ``rev``, as a module (None if git cannot show it)."""
    try:
        source = subprocess.run(
            ["git", "show", f"{rev}:antialias/layers/_parts.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    source = source.replace("from ._common import", "from antialias.layers._common import")
    module = types.ModuleType(f"old_parts_{rev}")
    exec(compile(source, f"{rev}:antialias/layers/_parts.py", "exec"), module.__dict__)
    return module


def _strips_on_one_thread(fn: Fn) -> Fn:
    original = resample._side_strips

    def serial(*args, **kwargs):
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return original(*args, **kwargs)
        finally:
            torch.set_num_threads(threads)

    def run(x: torch.Tensor) -> torch.Tensor:
        resample._side_strips = serial
        try:
            return fn(x)
        finally:
            resample._side_strips = original

    return run


def _depthwise(fn: Fn) -> Fn:
    def run(x: torch.Tensor) -> torch.Tensor:
        resample._BLOCKED = False
        try:
            return fn(x)
        finally:
            resample._BLOCKED = True

    return run


def _runner(fn: Fn, x: torch.Tensor, grad: torch.Tensor | None) -> Callable[[], None]:
    if grad is None:

        def run() -> None:
            with torch.no_grad():
                fn(x)

        return run
    xg = x.detach().clone().requires_grad_(True)

    def run_backward() -> None:
        xg.grad = None
        fn(xg).backward(grad)

    return run_backward


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--old-rev", default="2e41033", help="git revision of the old _parts")
    parser.add_argument("--txt", type=Path, default=None, help="also write the printed report")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.threads < 1:
        print("bench_border_strips: --repeats and --threads must be >= 1", file=sys.stderr)
        return 2
    import kornia.filters

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    old = _old_parts(args.old_rev)
    lines: list[str] = []

    def say(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    load = os.getloadavg()
    say(
        f"torch {torch.__version__}, threads={args.threads}, repeats={args.repeats}, float32, "
        f"medians (ms, and / kornia zero-padded); old _parts from git {args.old_rev}"
        f"{'' if old is not None else ' (unavailable: skipped)'}; load average before: "
        f"{load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}"
    )
    for shape in SHAPES:
        x = torch.randn(shape)
        for k in TAPS:
            ours = lambda z, k=k: downsample2d(z, k, 2, pad_mode="reflect")  # noqa: E731
            fns: dict[str, Fn] = {
                "kornia zeros": kornia.filters.BlurPool2D(k, stride=2),
                "resample": ours,
                "resample 1-thread strips": _strips_on_one_thread(ours),
                "resample depthwise": _depthwise(ours),
            }
            if old is not None:
                taps = old.resolve_taps(k, 1.0)
                fns["old _parts"] = lambda z, taps=taps: old.blur_downsample(
                    z, taps, 2, "reflect", "adobe"
                )
            with torch.no_grad():
                want = ours(x)
                for name, fn in fns.items():
                    if name != "kornia zeros":
                        err = float((fn(x) - want).abs().max())
                        if err > 1e-5:
                            say(f"{name} differs from resample by {err:.2e}")
                grad = torch.randn_like(want)
            for backward in (False, True):
                runs = {n: _runner(fn, x, grad if backward else None) for n, fn in fns.items()}
                for run in runs.values():
                    run()
                times: dict[str, list[float]] = {n: [] for n in runs}
                for _ in range(args.repeats):
                    for name, run in runs.items():
                        start = time.perf_counter()
                        run()
                        times[name].append(time.perf_counter() - start)
                med = {n: statistics.median(t) for n, t in times.items()}
                ref = med["kornia zeros"]
                cells = "  ".join(f"{n} {1e3 * t:6.2f} ({t / ref:4.2f})" for n, t in med.items())
                say(f"k={k} {tuple(shape)} {'fwd+bwd' if backward else 'fwd'}: {cells}")
    after = os.getloadavg()
    say(f"load average after: {after[0]:.1f}/{after[1]:.1f}/{after[2]:.1f}")
    if args.txt is not None:
        args.txt.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.txt.with_suffix(args.txt.suffix + ".tmp")
        tmp.write_text("\n".join(lines) + "\n")
        tmp.replace(args.txt)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
