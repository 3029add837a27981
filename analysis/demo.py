"""The project's main job (``make demo``): every number and figure computed on this machine.

Run from the repository root (both work)::

    python -m analysis.demo [--threads 2] [--out results/spectra] [--quick]
    python analysis/demo.py

Steps, each with progress on stderr and its measured time at the end:

1. :mod:`analysis.spectra`: frequency responses, imaging / aliasing energy and checkerboard
   index of the built-in up- and down-samplers (figures 1 and 3); ``--out`` is its folder.
2. :mod:`analysis.learned_kernels`: the learned up-sampling kernels of the shipped nuclei
   checkpoints (figure 2).
3. :mod:`analysis.study`: the shift analysis of every shipped checkpoint (accuracy, crop
   shifts, period maps, sub-pixel shifts, per-level errors, the visual example, speed) into
   ``results/study/`` (figures 4-9, ``docs/paper.md``).
4. ``figures/make_all.py``: every figure from those results.

``--quick`` is a smoke test: step 1 on coarse grids only (the steps that need the shipped
checkpoints are skipped). ``python -m analysis.write_paper`` then rewrites ``docs/paper.md``
from the new results.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis import spectra  # noqa: E402

PROG = "demo"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line on stderr, exit 2
        self.exit(2, f"{PROG}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="The main job: spectra, the study, every figure.")
    p.add_argument("--out", type=Path, default=spectra.DEFAULT_OUT, help="spectra results folder")
    p.add_argument("--quick", action="store_true", help="smoke test: coarse spectra only")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads for the study")
    return p


def _step(title: str, fn: Callable[[], int], times: dict[str, float]) -> int:
    print(f"\n== {title} ==", flush=True)
    start = time.perf_counter()
    status = fn()
    times[title] = time.perf_counter() - start
    print(f"-- {title}: {times[title]:.1f} s (exit {status})", flush=True)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo steps in order; returns the first non-zero exit status, else 0."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as stop:
        return int(stop.code or 0)
    if args.threads < 1:
        print(f"{PROG}: error: expected --threads >= 1, got {args.threads}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    times: dict[str, float] = {}
    spectra_argv = ["--out", str(args.out)] + (["--quick"] if args.quick else [])
    status = _step("spectra of the built-in re-samplers", lambda: spectra.main(spectra_argv), times)
    if status != 0:
        return status
    print(f"\nresults: {args.out / 'spectra.json'} (scalars, config, provenance)")
    print(f"         {args.out / 'spectra.npz'} (responses for figures 1 and 3)")
    if args.quick:
        print("\n--quick: skipped the learned kernels, the study and the figures")
        return 0
    from analysis import learned_kernels, study
    from figures import make_all

    steps: list[tuple[str, Callable[[], int]]] = [
        ("learned up-sampling kernels (figure 2)", lambda: learned_kernels.main([])),
        (
            "shift analysis of the shipped checkpoints (figures 4-9)",
            lambda: study.main(["--threads", str(args.threads)]),
        ),
        ("every figure from the results", lambda: make_all.main([])),
    ]
    for title, fn in steps:
        status = _step(title, fn, times)
        if status != 0:
            return status
    total = time.perf_counter() - start
    print("\n== main job done ==")
    for title, seconds in times.items():
        print(f"  {seconds:7.1f} s  {title}")
    print(f"  {total:7.1f} s  total")
    print("docs/paper.md from these results: python -m analysis.write_paper")
    return 0


if __name__ == "__main__":
    sys.exit(main())
