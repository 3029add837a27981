"""Speed of ``antialias.resample`` against the references computing the same arithmetic.

Ratios of medians (ours / reference), measured in one run, 2 threads, float32:

1. ``upsample2d(x, [1, 3, 3, 1], up=2, pad_mode="replicate")`` vs
   ``F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)``: identical
   output (bilinear x2 is zeros + ``[1, 3, 3, 1]/4`` with replicate edges). Target <= 1.2.
   upfirdn2d (``impl="auto"``) hands the forward of exactly these taps to torch's bilinear
   kernel; its backward is the adjoint (one strided conv). The row "generic path"
   (``impl="generic"``) switches that hand-over off: the polyphase transposed conv
   (column-blocked) + border strips, as any other taps take; "generic depthwise"
   (``impl="depthwise"``) also switches the column blocking off: a depthwise
   ``conv_transpose2d``.
2. ``downsample2d(x, 3, pad_mode="zeros")`` vs ``kornia.filters.blur_pool2d(x, 3)``:
   identical output. Target <= 1.0. "depthwise" rows: ``impl="depthwise"``.
3. ``downsample2d(x, 3, pad_mode="reflect")`` vs ``antialiased_cnns.BlurPool(C, filt_size=3)``
   (reflect padding): identical output; and the same against kornia's zero-padded
   ``blur_pool2d`` (the price of reflect padding).

Shapes (8, 64, 128, 128) and (8, 32, 256, 256); forward (no grad) and forward + backward
(a dense random upstream gradient). Each round calls every contender once in turn
(interleaved), so load from other processes on this shared machine falls on all of them
alike; medians over rounds are printed, and the max abs difference of the outputs, so a fast
wrong answer cannot pass.

Usage::

    python benchmarks/bench_resample.py [--repeats 11] [--json results/bench/resample.json]
        [--txt benchmarks/results/bench_resample.txt]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import torch
from torch.nn import functional as F

from antialias.resample import downsample2d, upsample2d

SHAPES = [(8, 64, 128, 128), (8, 32, 256, 256)]
TARGETS = {"upsample2d replicate": 1.2, "downsample2d zeros": 1.0}

Fn = Callable[[torch.Tensor], torch.Tensor]


def contenders(channels: int) -> dict[str, tuple[Fn, Fn]]:
    """case -> (ours, reference)."""
    import antialiased_cnns
    import kornia

    adobe = antialiased_cnns.BlurPool(channels, pad_type="reflect", filt_size=3, stride=2)
    bilinear = partial(F.interpolate, scale_factor=2, mode="bilinear", align_corners=False)
    up = partial(upsample2d, taps=[1.0, 3.0, 3.0, 1.0], up=2, pad_mode="replicate")
    down = partial(downsample2d, taps=3, down=2, pad_mode="zeros")
    # the same calls with fast paths switched off (impl=, see antialias.resample.IMPLS)
    up_generic = partial(up, impl="generic")
    up_depthwise = partial(up, impl="depthwise")
    down_depthwise = partial(down, impl="depthwise")
    kornia_down = partial(kornia.filters.blur_pool2d, kernel_size=3, stride=2)
    return {
        "upsample2d replicate": (up, bilinear),
        "upsample2d generic path": (up_generic, bilinear),
        "upsample2d generic depthwise": (up_depthwise, bilinear),
        "downsample2d zeros": (down, kornia_down),
        "downsample2d zeros depthwise": (down_depthwise, kornia_down),
        "downsample2d reflect": (partial(downsample2d, taps=3, down=2, pad_mode="reflect"), adobe),
        "reflect vs kornia zeros": (
            partial(downsample2d, taps=3, down=2, pad_mode="reflect"),
            partial(kornia.filters.blur_pool2d, kernel_size=3, stride=2),
        ),
    }


def _runner(fn: Fn, x: torch.Tensor, backward: bool) -> Callable[[], None]:
    if not backward:

        def run() -> None:
            with torch.no_grad():
                fn(x)

        return run
    xg = x.detach().clone().requires_grad_(True)
    with torch.no_grad():
        # A dense upstream gradient, as in training (sum().backward() would pass a stride-0
        # tensor that every contender first copies).
        grad = torch.randn_like(fn(x))

    def run_backward() -> None:
        xg.grad = None
        fn(xg).backward(grad)

    return run_backward


def time_interleaved(runs: list[Callable[[], None]], repeats: int) -> list[float]:
    """Median seconds of each run, timed round-robin after one warm-up call each."""
    for run in runs:
        run()
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(repeats):
        for i, run in enumerate(runs):
            start = time.perf_counter()
            run()
            times[i].append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=11, help="timed rounds per case")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--txt", type=Path, default=None, help="also write the printed report")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.threads < 1:
        print("error: --repeats and --threads must be >= 1", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    lines: list[str] = []

    def say(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    rows = []
    header = f"{'case':32s} {'shape':18s} {'pass':8s} {'ours ms':>8s} {'ref ms':>8s} {'ratio':>6s}"
    load = os.getloadavg()
    say(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, repeats={args.repeats}, "
        f"float32, medians; load average (1/5/15 min) before: "
        f"{load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}"
    )
    say(header)
    for shape in SHAPES:
        x = torch.randn(shape)
        for case, (ours, ref) in contenders(shape[1]).items():
            with torch.no_grad():
                same = "vs kornia zeros" not in case  # reflect vs zeros: borders differ
                err = float((ours(x) - ref(x)).abs().max()) if same else None
            for backward in (False, True):
                t_ours, t_ref = time_interleaved(
                    [_runner(ours, x, backward), _runner(ref, x, backward)], args.repeats
                )
                ratio = t_ours / t_ref
                label = "fwd+bwd" if backward else "fwd"
                target = TARGETS.get(case)
                say(
                    f"{case:32s} {str(shape):18s} {label:8s} "
                    f"{1e3 * t_ours:8.1f} {1e3 * t_ref:8.1f} {ratio:6.2f}"
                    + ("" if target is None else f"  target <= {target}")
                    + ("" if err is None else f"   max|diff| {err:.1e}")
                )
                rows.append(
                    {
                        "case": case,
                        "shape": list(shape),
                        "pass": label,
                        "ours_ms": 1e3 * t_ours,
                        "ref_ms": 1e3 * t_ref,
                        "ratio": ratio,
                        "target": target,
                        "max_abs_diff": err,
                    }
                )
    load_after = os.getloadavg()
    say(f"load average after: {load_after[0]:.1f}/{load_after[1]:.1f}/{load_after[2]:.1f}")
    if args.txt is not None:
        args.txt.parent.mkdir(parents=True, exist_ok=True)
        tmp_txt = args.txt.with_suffix(args.txt.suffix + ".tmp")
        tmp_txt.write_text("\n".join(lines) + "\n")
        tmp_txt.replace(args.txt)
    if args.json is not None:
        from antialias.provenance import provenance

        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"config": vars(args) | {"json": str(args.json)}, "rows": rows}
        payload["provenance"] = provenance()
        with tempfile.NamedTemporaryFile("w", dir=args.json.parent, delete=False) as tmp:
            json.dump(payload, tmp, indent=2)
        os.replace(tmp.name, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
