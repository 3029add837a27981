"""Regenerate every figure from the committed results: one command, no model is evaluated.

    python figures/make_all.py [--jobs 2] [--only PATTERN] [--dir figures]

Runs every ``figures/fig*.py`` script (figures 1-9 and the ``fig_transposed_*`` diagrams of the
tutorial) as its own process, ``--jobs`` at a time, each with its default ``--results`` and
``--out``. The tutorial diagrams run only when their results
(``results/transposed_tutorial/tutorial.json``) exist; every other script always runs. A script
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
OPTIONAL: dict[str, Path] = {  # script prefix -> results file it needs, else skipped
    "fig_transposed_": ROOT / "results" / "transposed_tutorial" / "tutorial.json",
}
PROG = "make_all"


def scripts(directory: Path = FIGURES_DIR, only: str | None = None) -> tuple[list[Path], list[str]]:
    """The figure scripts to run (sorted) and the skipped ones with the reason."""
    run, skipped = [], []
    for path in sorted(directory.glob("fig*.py")):
        if only is not None and only not in path.stem:
            continue
        need = next((f for p, f in OPTIONAL.items() if path.stem.startswith(p)), None)
        if need is not None and not need.is_file():
            skipped.append(f"{path.name} (no {need.relative_to(ROOT)})")
            continue
        run.append(path)
    return run, skipped


def _run_one(path: Path) -> tuple[Path, int, float, str]:
    start = time.perf_counter()
    env = {**os.environ, "MPLBACKEND": "Agg"}
    env.setdefault("OMP_NUM_THREADS", "1")
    proc = subprocess.run(
        [sys.executable, str(path)], cwd=ROOT, capture_output=True, text=True, env=env
    )
    err = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    return path, proc.returncode, time.perf_counter() - start, err[-1] if err else ""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line on stderr, exit 2
        self.exit(2, f"{PROG}: error: {message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the figure scripts; 0 if all succeeded, 1 if any failed, 2 for bad arguments."""
    p = _Parser(prog=PROG, description="Regenerate every figure from the committed results.")
    p.add_argument("--jobs", type=int, default=2, help="scripts run at once")
    p.add_argument("--only", help="run only scripts whose name contains this")
    p.add_argument("--dir", type=Path, default=FIGURES_DIR, help="folder of the fig*.py scripts")
    try:
        args = p.parse_args(argv)
    except SystemExit as stop:
        return int(stop.code or 0)
    if args.jobs < 1:
        print(f"{PROG}: error: expected --jobs >= 1, got {args.jobs}", file=sys.stderr)
        return 2
    if not args.dir.is_dir():
        print(f"{PROG}: error: expected --dir to be a folder, got {args.dir}", file=sys.stderr)
        return 2
    todo, skipped = scripts(args.dir, args.only)
    if not todo:
        print(f"{PROG}: error: no figure scripts to run in {args.dir}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    failed = []
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for path, code, seconds, last in pool.map(_run_one, todo):
            status = "ok" if code == 0 else f"FAILED (exit {code})"
            print(f"  {path.name:<34} {seconds:5.1f} s  {status}", flush=True)
            if code != 0:
                failed.append(path.name)
                print(f"    {last}", flush=True)
    for s in skipped:
        print(f"  skipped {s}")
    total = time.perf_counter() - start
    print(f"{len(todo) - len(failed)}/{len(todo)} figures in {total:.1f} s")
    if failed:
        print(
            f"{PROG}: error: {len(failed)} figure script(s) failed: {', '.join(failed)}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
