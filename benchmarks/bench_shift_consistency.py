"""Speed and memory of ``analysis/shift_consistency.py`` against bare forward passes.

Throughput: the whole analysis (:func:`analysis.shift_consistency.run`: loading, shifted
copies, forwards, metrics, bootstrap) against bare ``model(x)`` over the same image-shift pairs
in the same batches, built beforehand. Target: ratio (bare time / analysis time) >= 0.85.

Memory: peak resident memory of a child process during one analysis run (high-water mark
reset after a warm-up run) with 16, 64 and 256 shifts (same images, same batch size);
streaming reduction means it must not grow with the number of shifts.

    .venv/bin/python benchmarks/bench_shift_consistency.py [--images 4] [--repeats 3]

Prints median times (2 threads) and the ratios, all measured in this run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from antialias import consistency as sc  # noqa: E402
from antialias.data import load_split  # noqa: E402
from antialias.models import build_variant  # noqa: E402
from antialias.shifts import period_shifts  # noqa: E402


def _model():
    torch.manual_seed(0)
    return build_variant("tconv2", 1, 2)  # the shipped architecture: depth 3, width 8


def _bare_seconds(images: torch.Tensor, shifts, batch_size: int) -> float:
    """Bare forwards over the analysis' image-shift pairs (prebuilt batches, same sizes)."""
    model = _model().eval()
    batches = []
    for x in images:
        copies = [torch.roll(x[None], s, (-2, -1)) for s in shifts]
        batches += [
            torch.cat(copies[i : i + batch_size]) for i in range(0, len(copies), batch_size)
        ]
    with torch.inference_mode():
        model(batches[0][:1])  # warm-up, as the analysis' probe
        start = time.perf_counter()
        for batch in batches:
            model(batch)
        return time.perf_counter() - start


def _analysis_seconds(n_images: int, batch_size: int) -> tuple[float, dict]:
    cfg = {
        "model": _model,
        "data": "nuclei",
        "max_images": n_images,
        "shifts": "all",
        "batch_size": batch_size,
        "mode": "circular",
    }
    start = time.perf_counter()
    result = sc.run(cfg)
    return time.perf_counter() - start, result


def _status_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _child(n_shifts: int, n_images: int, batch_size: int) -> None:
    torch.set_num_threads(2)
    cfg = {
        "model": _model,
        "data": "nuclei",
        "max_images": n_images,
        "max_shift": 64,
        "batch_size": batch_size,
        "n_boot": 200,
    }
    sc.run({**cfg, "shifts": "0:1"})  # warm-up: imports, data files, allocator pools
    base = _status_mib("VmRSS")
    # reset the high-water mark (Linux >= 4.0), so that VmHWM is the peak of the next run only
    Path("/proc/self/clear_refs").write_text("5")
    sc.run({**cfg, "shifts": f"random:{n_shifts}"})
    peak = _status_mib("VmHWM")
    print(json.dumps({"shifts": n_shifts, "base_mib": base, "peak_mib": peak}))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=4)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child is not None:
        _child(args.child, args.images, args.batch_size)
        return 0
    torch.set_num_threads(2)
    images = load_split("nuclei", "test").images[: args.images]
    shifts = period_shifts(_model().num_downsamplings)
    pairs = len(images) * len(shifts)
    bare, full = [], []
    for _ in range(args.repeats):  # interleaved, so that load changes hit both alike
        bare.append(_bare_seconds(images, shifts, args.batch_size))
        seconds, result = _analysis_seconds(args.images, args.batch_size)
        full.append(seconds)
    b, a = statistics.median(bare), statistics.median(full)
    print(
        f"model tconv2 (depth 3, width 8), nuclei test, {len(images)} images x "
        f"{len(shifts)} shifts = {pairs} forwards of 256x256, batch {args.batch_size}, "
        f"{torch.get_num_threads()} threads"
    )
    print(f"bare model(x):       median {b:.3f} s  ({pairs / b:.1f} pairs/s)  runs {bare}")
    print(f"whole analysis run:  median {a:.3f} s  ({pairs / a:.1f} pairs/s)  runs {full}")
    print(f"throughput ratio analysis / bare = {b / a:.3f} (target >= 0.85)")
    summary = result["results"][0]["summary"]
    print(f"(agreement pooled over shifts: {summary['agreement']:.4f})")
    peaks = []
    for n in (16, 64, 256):
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                str(n),
                "--images",
                "2",
                "--batch-size",
                str(args.batch_size),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        peaks.append(json.loads(out.stdout.strip().splitlines()[-1]))
    for rec in peaks:
        print(
            f"{rec['shifts']:>3} shifts: peak RSS during run() {rec['peak_mib']:.1f} MiB, "
            f"{rec['peak_mib'] - rec['base_mib']:+.1f} MiB over the warmed-up process"
        )
    grow = (peaks[-1]["peak_mib"] - peaks[-1]["base_mib"]) / (
        peaks[0]["peak_mib"] - peaks[0]["base_mib"]
    )
    print(f"growth of the run's own peak, 16 -> 256 shifts: {grow:.3f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
