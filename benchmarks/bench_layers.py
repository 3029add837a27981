"""Speed of the anti-aliased layers against the references they replace (issue 3, section 5).

Targets, each a ratio of medians measured in the same run, 2 threads, float32:

- ``BlurPool2d(pad_mode="reflect")`` at least 1.5x faster than ``antialiased_cnns.BlurPool``
  (identical output: the max abs difference is printed), and within 1.15x of kornia's
  zero-padded ``BlurPool2D``;
- ``Upsample2d(method="blur")`` with taps ``[1, 3, 3, 1]`` within 1.2x of
  ``F.interpolate(mode="bilinear")``;

for inputs (8, 64, 128, 128) and (8, 32, 256, 256), blur lengths 3 and 5, forward and
forward + backward. Implementations are timed interleaved (one call of each per round), so
load from other processes falls on all of them alike.

Usage::

    python benchmarks/bench_layers.py [--repeats 15] [--json results/bench/layers.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch.nn import functional as F

from antialias.layers import BlurPool2d, Upsample2d

SHAPES = [(8, 64, 128, 128), (8, 32, 256, 256)]
TAPS = [3, 5]


def _runner(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, backward: bool):
    if not backward:

        def run() -> None:
            with torch.no_grad():
                fn(x)

        return run
    xg = x.detach().clone().requires_grad_(True)

    def run_bw() -> None:
        xg.grad = None
        fn(xg).sum().backward()

    return run_bw


def time_interleaved(
    fns: dict[str, Callable[[torch.Tensor], torch.Tensor]],
    x: torch.Tensor,
    backward: bool,
    repeats: int,
) -> dict[str, float]:
    """Median seconds per call of each function, timed round-robin after one warm-up call."""
    runs = {name: _runner(fn, x, backward) for name, fn in fns.items()}
    for run in runs.values():
        run()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            t0 = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(ts) for name, ts in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    args = parser.parse_args(argv)
    try:
        import antialiased_cnns
        import kornia.filters
    except ImportError as err:
        print(f"bench_layers: needs kornia and antialiased-cnns installed ({err})", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rows = []
    # Small ops (our border strips) wait for a free core when the machine is oversubscribed:
    # the load average says how far these medians are from a quiet machine's.
    load = os.getloadavg()
    print(
        f"threads={args.threads} repeats={args.repeats} cores={os.cpu_count()} "
        f"load average (1/5/15 min)={load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}"
    )
    header = f"{'case':<46} {'pass':<7} {'ours ms':>8} {'ref ms':>8} {'ratio':>6}  target"
    print(header)
    print("-" * len(header))
    for shape in SHAPES:
        x = torch.randn(shape)
        c = shape[1]
        for k in TAPS:
            ours = BlurPool2d(c, taps=k, pad_mode="reflect")
            adobe = antialiased_cnns.BlurPool(c, pad_type="reflect", filt_size=k, stride=2)
            kornia_bp = kornia.filters.BlurPool2D(k, stride=2)
            with torch.no_grad():
                err = float((ours(x) - adobe(x)).abs().max())
            for backward in (False, True):
                t = time_interleaved(
                    {"ours": ours, "adobe": adobe, "kornia": kornia_bp}, x, backward, args.repeats
                )
                pas = "fwd+bwd" if backward else "fwd"
                r_adobe = t["adobe"] / t["ours"]
                r_kornia = t["ours"] / t["kornia"]
                case = f"BlurPool2d reflect k={k} {tuple(shape)}"
                print(
                    f"{case + ' vs adobe':<46} {pas:<7} {1e3 * t['ours']:8.2f} "
                    f"{1e3 * t['adobe']:8.2f} {r_adobe:6.2f}  speed-up >= 1.5 "
                    f"({'ok' if r_adobe >= 1.5 else 'MISS'}; max|diff| {err:.1e})"
                )
                print(
                    f"{case + ' vs kornia':<46} {pas:<7} {1e3 * t['ours']:8.2f} "
                    f"{1e3 * t['kornia']:8.2f} {r_kornia:6.2f}  slow-down <= 1.15 "
                    f"({'ok' if r_kornia <= 1.15 else 'MISS'})"
                )
                rows.append(
                    {
                        "op": "blurpool_reflect",
                        "shape": list(shape),
                        "taps": k,
                        "pass": pas,
                        "ours_s": t["ours"],
                        "adobe_s": t["adobe"],
                        "kornia_s": t["kornia"],
                        "speedup_vs_adobe": r_adobe,
                        "slowdown_vs_kornia": r_kornia,
                        "max_abs_diff_vs_adobe": err,
                    }
                )
        up = Upsample2d(c, c, method="blur", taps=[1.0, 3.0, 3.0, 1.0], pad_mode="replicate")
        xs = x[:, :, : shape[2] // 2, : shape[3] // 2].contiguous()

        def bilinear(z: torch.Tensor) -> torch.Tensor:
            return F.interpolate(z, scale_factor=2.0, mode="bilinear", align_corners=False)

        with torch.no_grad():
            err = float((up(xs) - bilinear(xs)).abs().max())
        for backward in (False, True):
            t = time_interleaved({"ours": up, "bilinear": bilinear}, xs, backward, args.repeats)
            pas = "fwd+bwd" if backward else "fwd"
            ratio = t["ours"] / t["bilinear"]
            case = f"Upsample2d blur [1,3,3,1] {tuple(xs.shape)}"
            print(
                f"{case + ' vs bilinear':<46} {pas:<7} {1e3 * t['ours']:8.2f} "
                f"{1e3 * t['bilinear']:8.2f} {ratio:6.2f}  slow-down <= 1.2 "
                f"({'ok' if ratio <= 1.2 else 'MISS'}; max|diff| {err:.1e})"
            )
            rows.append(
                {
                    "op": "upsample_blur",
                    "shape": list(xs.shape),
                    "taps": 4,
                    "pass": pas,
                    "ours_s": t["ours"],
                    "bilinear_s": t["bilinear"],
                    "slowdown_vs_bilinear": ratio,
                    "max_abs_diff_vs_bilinear": err,
                }
            )
    if args.json is not None:
        from antialias.provenance import provenance

        args.json.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.json.with_suffix(args.json.suffix + ".tmp")
        payload = {"rows": rows, "threads": args.threads, "repeats": args.repeats, "load": load}
        payload["provenance"] = provenance()
        tmp.write_text(json.dumps(payload, indent=1))
        tmp.replace(args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
