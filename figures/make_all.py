"""Regenerate every figure from a results tree: one command, no model is evaluated.

    python figures/make_all.py [--results results] [--out figures] [--jobs 2] [--only PATTERN]
                               [--dir figures]

Runs every ``fig*.py`` script of ``--dir`` (figures 1-9 and the ``fig_transposed_*`` diagrams of
the tutorial) as its own process, ``--jobs`` at a time, each as
``fig*.py --results-root RESULTS --out OUT``: a script reads its own folder of the results tree
(``RESULTS/study``, ``RESULTS/spectra``, ...). The defaults, ``results/`` and ``figures/``, are
the committed results and figures (``make figures``); the main job (``analysis/demo.py``) points
both at its output folder. The tutorial diagrams run only when their results
(``RESULTS/transposed_tutorial/tutorial.json``) exist, the 3-D task's figure only when
``RESULTS/volumes/analysis.json`` does; every other script always runs. A script
that fails (non-zero exit, e.g. 2 for missing results) is reported with the last line of its
stderr, and makes this command exit 1 after the others have finished. Prints each script's
time and the total.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

FIGURES_DIR = Path(__file__).resolve().parent
ROOT = FIGURES_DIR.parent
if str(ROOT) not in sys.path:  # for `python figures/make_all.py` from anywhere
    sys.path.insert(0, str(ROOT))

from antialias import _cli  # noqa: E402

RESULTS_DIR = ROOT / "results"
OPTIONAL: dict[str, str] = {  # script prefix -> results file it needs (under --results)
    "fig_transposed_": "transposed_tutorial/tutorial.json",
    "fig10_study_v2": "study_v2/analysis.json",
    "fig11_study_v2_designs": "study_v2/analysis.json",
    # the 3-D task's results come from analysis/volumes_study.py, not from the main job
    "fig_volumes": "volumes/analysis.json",
}
PROG = "make_all"


def scripts(
    directory: Path = FIGURES_DIR, only: str | None = None, results: Path = RESULTS_DIR
) -> tuple[list[Path], list[str]]:
    """The figure scripts to run (sorted) and the skipped ones with the reason."""
    run, skipped = [], []
    for path in sorted(directory.glob("fig*.py")):
        if only is not None and only not in path.stem:
            continue
        need = next((f for p, f in OPTIONAL.items() if path.stem.startswith(p)), None)
        if need is not None and not (results / need).is_file():
            skipped.append(f"{path.name} (no {results / need})")
            continue
        run.append(path)
    return run, skipped


def _run_one(path: Path, results: Path, out: Path) -> tuple[Path, int, float, str]:
    start = time.perf_counter()
    env = {**os.environ, "MPLBACKEND": "Agg"}
    env.setdefault("OMP_NUM_THREADS", "1")
    cmd = [sys.executable, str(path), "--results-root", str(results), "--out", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
    err = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    return path, proc.returncode, time.perf_counter() - start, err[-1] if err else ""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the figure scripts; 0 if all succeeded, 1 if any failed, 2 for bad arguments."""
    p = _cli.ArgumentParser(prog=PROG, description="Regenerate every figure from a results tree.")
    p.add_argument("--results", type=Path, default=RESULTS_DIR, help="the results tree")
    p.add_argument("--out", type=Path, default=FIGURES_DIR, help="where PNG and PDF go")
    p.add_argument("--jobs", type=int, default=2, help="scripts run at once")
    p.add_argument("--only", help="run only scripts whose name contains this")
    p.add_argument("--dir", type=Path, default=FIGURES_DIR, help="folder of the fig*.py scripts")
    try:
        args = p.parse_args(argv)
    except SystemExit as stop:
        return int(stop.code or 0)
    return _cli.run(PROG, lambda: _run_all(args))


def _run_all(args: argparse.Namespace) -> int:
    """Check the arguments, run every script, report; 1 if any failed."""
    if args.jobs < 1:
        _cli.fail(f"expected --jobs >= 1, got {args.jobs}")
    if not args.dir.is_dir():
        _cli.fail(f"expected --dir to be a folder, got {args.dir}")
    if not args.results.is_dir():
        _cli.fail(f"expected --results to be a folder, got {args.results}")
    if args.out.exists() and not args.out.is_dir():
        _cli.fail(f"expected --out to be a folder, got the file {args.out}")
    todo, skipped = scripts(args.dir, args.only, args.results)
    if not todo:
        _cli.fail(f"no figure scripts to run in {args.dir}")
    start = time.perf_counter()
    failed = []
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        runs = pool.map(lambda path: _run_one(path, args.results, args.out), todo)
        for path, code, seconds, last in runs:
            status = "ok" if code == 0 else f"FAILED (exit {code})"
            print(f"  {path.name:<34} {seconds:5.1f} s  {status}", flush=True)
            if code != 0:
                failed.append(path.name)
                print(f"    {last}", flush=True)
    for s in skipped:
        print(f"  skipped {s}")
    total = time.perf_counter() - start
    print(f"{len(todo) - len(failed)}/{len(todo)} figures in {total:.1f} s, into {args.out}")
    if failed:
        print(
            f"{PROG}: error: {len(failed)} figure script(s) failed: {', '.join(failed)}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
