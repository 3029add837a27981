"""The project's main job (``make demo``): every number and figure computed on this machine.

Run from anywhere (both work)::

    python -m analysis.demo [--out out] [--threads 2] [--quick]
    python analysis/demo.py

Everything it writes goes under ``--out`` (default ``out/`` at the repository root, which git
ignores), so the committed results and figures (``results/``, ``figures/``, behind
``docs/paper.md``) stay as they were: the main job runs a reduced budget and must not replace
the full study. Layout::

    OUT/results/spectra/          spectra.{json,npz}           (figures 1 and 3)
    OUT/results/learned_kernels/  learned_kernels.{json,npz}   (figure 2)
    OUT/results/study/            study.{json,npz,csv}, piece files, speed.*   (figures 4-9)
    OUT/figures/                  every figure, PNG + PDF

Steps, each with progress and its measured time at the end:

1. :mod:`analysis.spectra`: frequency responses, imaging / aliasing energy and checkerboard
   index of the built-in up- and down-samplers.
2. :mod:`analysis.learned_kernels`: the learned up-sampling kernels of the shipped nuclei
   checkpoints.
3. :mod:`analysis.study`: the shift analysis of every shipped checkpoint (accuracy, crop
   shifts, period maps, sub-pixel shifts, per-level errors, the visual example, speed), on the
   reduced budget.
4. ``figures/make_all.py``: every figure from those results; the tutorial's diagrams from its
   committed results (``results/transposed_tutorial/``, read only).

``--quick`` is a smoke test: step 1 on coarse grids only (the steps that need the shipped
checkpoints are skipped). The committed results come from the explicit commands
(``make study``, ``make figures``); ``python -m analysis.write_paper`` reads ``results/study/``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis import spectra  # noqa: E402
from antialias import _cli  # noqa: E402

PROG = "demo"
REPO = Path(__file__).resolve().parents[1]
#: The main job's output folder: git-ignored (``/out/`` in ``.gitignore``), never tracked.
DEFAULT_OUT = REPO / "out"
#: The committed tutorial results the figure step reads (never written by the main job).
TUTORIAL_RESULTS = REPO / "results"


def _parser() -> _cli.ArgumentParser:
    p = _cli.ArgumentParser(prog=PROG, description="The main job: spectra, the study, figures.")
    p.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output folder (default: out/, git-ignored)"
    )
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


def steps(out: Path, threads: int, quick: bool) -> list[tuple[str, Callable[[], int]]]:
    """The main job's steps, each writing only under ``out`` (see the module docstring)."""
    results, figures = out / "results", out / "figures"
    spectra_argv = ["--out", str(results / "spectra")] + (["--quick"] if quick else [])
    todo: list[tuple[str, Callable[[], int]]] = [
        ("spectra of the built-in re-samplers", lambda: spectra.main(spectra_argv))
    ]
    if quick:
        return todo
    from analysis import learned_kernels, study
    from figures import make_all

    lk_argv = ["--out", str(results / "learned_kernels")]
    study_argv = ["--threads", str(threads), "--out", str(results / "study")]
    figures_argv = ["--results", str(results), "--out", str(figures)]
    tutorial_argv = ["--results", str(TUTORIAL_RESULTS), "--out", str(figures)]
    todo += [
        ("learned up-sampling kernels (figure 2)", lambda: learned_kernels.main(lk_argv)),
        ("shift analysis of the shipped checkpoints (figures 4-9)", lambda: study.main(study_argv)),
        ("every figure from these results", lambda: make_all.main(figures_argv)),
    ]
    if (TUTORIAL_RESULTS / "transposed_tutorial" / "tutorial.json").is_file():
        todo.append(
            (
                "the tutorial's diagrams from its committed results",
                lambda: make_all.main([*tutorial_argv, "--only", "fig_transposed_"]),
            )
        )
    return todo


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo steps in order; returns the first non-zero exit status, else 0."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as stop:
        return int(stop.code or 0)
    return _cli.run(PROG, lambda: _run(args.out, args.threads, args.quick))


def _run(out: Path, threads: int, quick: bool) -> int:
    if threads < 1:
        _cli.fail(f"expected --threads >= 1, got {threads}")
    if out.exists() and not out.is_dir():
        _cli.fail(f"expected --out to be a folder, got the file {out}")
    out = out.resolve()
    print(f"{PROG}: writing everything under {out}", flush=True)
    start = time.perf_counter()
    times: dict[str, float] = {}
    for title, fn in steps(out, threads, quick):
        status = _step(title, fn, times)
        if status != 0:
            return status
    total = time.perf_counter() - start
    print("\n== main job done ==" if not quick else "\n--quick: spectra only (coarse grids)")
    for title, seconds in times.items():
        print(f"  {seconds:7.1f} s  {title}")
    print(f"  {total:7.1f} s  total")
    print(f"wrote: {out / 'results'}" + ("" if quick else f" and {out / 'figures'}"))
    print("the committed results/ and figures/ are unchanged (make study / make figures)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
