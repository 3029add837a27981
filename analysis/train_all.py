"""Retrain the whole shipped set: ``python -m analysis.train_all`` (one command, ``make retrain``).

Every variant of :data:`antialias.models.VARIANTS` on ``nuclei`` with seeds 0, 1, 2 and on
``textures`` and ``denoise`` with seed 0: 50 runs of :mod:`antialias.train` with the default
:class:`antialias.train.TrainSettings`, ``--jobs`` at a time (each a subprocess with
``--threads`` torch threads). Order: seed 0 of every task first, then nuclei seeds 1 and 2, so
a partial set is already useful.

Restartable in pieces: a run whose checkpoint set is already published, complete, with the same
settings is skipped; an interrupted run is resumed from its run directory under ``--work``.

Publishing (one set per run, :func:`antialias.files.write_result_set`):
``<out>/<task>/<variant>_s<seed>.safetensors`` (weights + metadata in the header), ``.log.jsonl``
and ``.curves.csv`` (learning curve), ``.log`` (console output), and last the ``.json``
metadata with the SHA-256 of the others. A crash while publishing leaves a set whose digests
do not match; the next invocation does not count it as published and publishes it again. A
set without digests (older) counts only if its JSON equals the weights' header metadata.

After every run, ``<out>/metrics.json`` and ``<out>/METRICS.md`` (all test metrics) are
rewritten from the published sets, and ``<out>/training_time.json`` accumulates the wall time of
every invocation.

``--quick`` (a smoke test with :data:`antialias.train.QUICK` settings) never touches the
shipped set: its default ``--out``/``--work`` are under the git-ignored ``out/train_all/``, and
an ``--out`` that is the repository's ``checkpoints/`` is refused.

Exit code: 0 when every run finished and meets the sanity floors (nuclei test Dice >= 0.80,
denoise test PSNR gain >= 4 dB), 1 otherwise, 2 on bad arguments or unreadable published files
(one line on stderr, before any run starts).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any

from antialias._checks import check_choice, check_int
from antialias._cli import ArgumentParser, fail, run
from antialias.checkpoint import CheckpointError, checkpoint_path, read_metadata
from antialias.data import TASKS
from antialias.files import (
    IncompleteResultError,
    atomic_write_bytes,
    read_json,
    read_result_set,
    write_result_set,
)
from antialias.models import VARIANTS
from antialias.rundir import RunError, check_writable
from antialias.train import QUICK, TrainSettings, settings_for, settings_from

PROG = "python -m analysis.train_all"
REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "checkpoints"
"""The shipped, committed set (only a full, non-``--quick`` run publishes here)."""
QUICK_ROOT = REPO / "out" / "train_all"
"""Default home of ``--quick`` runs (git-ignored)."""

_RUNNING: set[subprocess.Popen] = set()  # runs in flight, terminated on interruption
_PUBLISH = threading.Lock()  # one writer at a time in --out (sets, summary files)

SEEDS: dict[str, tuple[int, ...]] = {"nuclei": (0, 1, 2), "textures": (0,), "denoise": (0,)}
FLOORS: dict[str, tuple[str, float]] = {"nuclei": ("dice", 0.80), "denoise": ("psnr_gain", 4.0)}
"""Sanity floors on test metrics: task -> (metric, minimum)."""
# the run-directory files that are published beside the weights, by suffix
_SIBLINGS = {".log.jsonl": "log.jsonl", ".curves.csv": "curves.csv"}


def plan(tasks=tuple(TASKS), variants=tuple(VARIANTS)) -> list[tuple[str, str, int]]:
    """``(task, variant, seed)`` of every run, seed 0 of every task first."""
    jobs = []
    max_seeds = max(len(SEEDS[t]) for t in tasks)
    for k in range(max_seeds):
        for task in tasks:
            if k < len(SEEDS[task]):
                jobs += [(task, v, SEEDS[task][k]) for v in variants]
    return jobs


# --- what is published ---------------------------------------------------------------------


def published_meta(dest: Path) -> dict[str, Any] | None:
    """Metadata of the complete set published at ``dest``; ``None``: absent or half-published.

    Raises:
        ValueError: a file of the set exists but cannot be read at all (not JSON, not
            safetensors): a damaged file, not an interrupted write; the message names it.
    """
    json_path = dest.with_suffix(".json")
    if not json_path.is_file():
        return None
    try:
        doc, siblings = read_result_set(json_path)
    except IncompleteResultError:
        return None  # interrupted while publishing: publish again
    except ValueError as err:
        raise ValueError(f"{err}; delete the set {dest.with_suffix('')}.* to retrain it") from None
    if ".safetensors" not in siblings:  # an older set without digests: header == JSON
        if not dest.is_file():
            return None
        try:
            header = read_metadata(dest)
        except CheckpointError as err:
            raise ValueError(f"{err}; delete the set to retrain it") from None
        if header != doc:
            return None
    return doc


def is_published(dest: Path, settings: TrainSettings) -> bool:
    """True when a complete set trained with ``settings`` is published at ``dest``."""
    meta = published_meta(dest)
    if meta is None:
        return False
    training = meta.get("training")
    if not isinstance(training, dict) or not training.get("complete"):
        return False
    try:
        return settings_from(training) == settings
    except (TypeError, ValueError):  # settings this version refuses: train again
        return False


def publish(run_dir: Path, text_log: Path, dest: Path) -> list[Path]:
    """Publish a finished run directory as one set at ``dest`` (see the module docstring)."""
    weights = (run_dir / "model.safetensors").read_bytes()
    meta = read_metadata(run_dir / "model.safetensors")
    siblings = {".safetensors": weights}
    for suffix, name in _SIBLINGS.items():
        if (run_dir / name).is_file():
            siblings[suffix] = (run_dir / name).read_bytes()
    if text_log.is_file():
        siblings[".log"] = text_log.read_bytes()
    return write_result_set(dest.parent, dest.name[: -len(".safetensors")], meta, siblings)


# --- one run -------------------------------------------------------------------------------


def run_one(
    task: str, variant: str, seed: int, out: Path, work: Path, settings: TrainSettings
) -> dict[str, Any]:
    """Train (or resume) one run in a subprocess and publish it; returns a summary row."""
    dest = checkpoint_path(out, task, variant, seed)
    row: dict[str, Any] = {"task": task, "variant": variant, "seed": seed}
    if is_published(dest, settings):
        return {**row, "status": "skipped"}
    run_dir = work / task / f"{variant}_s{seed}"
    cmd = [sys.executable, "-m", "antialias.train", "--task", task, "--variant", variant]
    cmd += ["--seed", str(seed), "--out", str(run_dir), "--no-progress"]
    for f in fields(settings):
        value = getattr(settings, f.name)
        cmd += ["--" + f.name.replace("_", "-"), "none" if value is None else str(value)]
    cmd.append(_resume_flag(run_dir, settings))
    text_log = run_dir.with_name(run_dir.name + ".train.log")  # beside, not inside, the run
    text_log.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    returncode = _spawn(cmd, text_log, settings)
    seconds = time.perf_counter() - start
    if returncode != 0:
        return {**row, "status": "failed", "log": str(text_log), "seconds": seconds}
    with _PUBLISH:
        publish(run_dir, text_log, dest)
    return {**row, "status": "trained", "seconds": seconds}


def _spawn(cmd: list[str], text_log: Path, settings: TrainSettings) -> int:
    """Run one training command, its output appended to ``text_log``; its exit code."""
    with open(text_log, "a", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=_env(settings))
        _RUNNING.add(proc)
        try:
            return proc.wait()
        finally:
            _RUNNING.discard(proc)


def _resume_flag(run_dir: Path, settings: TrainSettings) -> str:
    """``--resume`` for a run directory of the same settings, ``--overwrite`` otherwise."""
    from antialias.train import read_state_info

    if not (run_dir / "state.safetensors").exists():
        return "--overwrite"  # nothing committed yet (or an older format): start again
    try:
        started = read_state_info(run_dir).get("training")
    except RunError:
        return "--overwrite"  # a state this version cannot continue
    return "--resume" if started == asdict(settings) else "--overwrite"


def _env(settings: TrainSettings) -> dict[str, str]:
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(settings.threads)
    env["MKL_NUM_THREADS"] = str(settings.threads)
    # the runs use this checkout's library, whatever an installed copy points at
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


# --- summaries -----------------------------------------------------------------------------


def collect(out: Path) -> list[dict[str, Any]]:
    """One row per complete published set under ``out``: identity, test/val metrics, timing."""
    rows = []
    for task in TASKS:
        for json_path in sorted((out / task).glob("*_s*.json")):
            meta = published_meta(json_path.with_suffix(".safetensors"))
            if meta is None or "test" not in meta.get("metrics", {}):
                continue
            rows.append(
                {
                    "task": meta["task"],
                    "variant": meta["variant"],
                    "seed": meta["seed"],
                    "test": meta["metrics"]["test"],
                    "val": meta["metrics"]["val"],
                    "best_epoch": meta["training"]["best_epoch"],
                    "train_seconds": meta["training"]["train_seconds"],
                    "num_parameters": meta["num_parameters"],
                    "file": str(json_path.with_suffix(".safetensors").relative_to(out)),
                }
            )
    order = {v: i for i, v in enumerate(VARIANTS)}
    rows.sort(key=lambda r: (list(TASKS).index(r["task"]), order.get(r["variant"], 99), r["seed"]))
    return rows


def floor_failures(rows: list[dict[str, Any]]) -> list[str]:
    """Runs below the sanity floors (:data:`FLOORS`), as readable lines."""
    bad = []
    for r in rows:
        if r["task"] in FLOORS:
            metric, minimum = FLOORS[r["task"]]
            if r["test"][metric] < minimum:
                bad.append(
                    f"{r['task']}/{r['variant']}/s{r['seed']}: test {metric} "
                    f"{r['test'][metric]:.3f} < {minimum}"
                )
    return bad


def metrics_table(rows: list[dict[str, Any]]) -> str:
    """Markdown table of the test metrics of every published run."""
    lines = [
        "# Test metrics of the shipped checkpoints",
        "",
        f"Written by `{PROG}` from the `.json` metadata beside each "
        "checkpoint (test split of `antialias.data`; Dice pooled over all test pixels; PSNR "
        "mean over test images, data range 1).",
        "",
        "| task | variant | seed | test Dice | test IoU | test PSNR (dB) | gain over noisy (dB) "
        "| best epoch | train s | params |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        t = r["test"]
        dice = f"{t['dice']:.4f}" if "dice" in t else ""
        iou = f"{t['iou']:.4f}" if "iou" in t else ""
        psnr = f"{t['psnr']:.2f}" if "psnr" in t else ""
        gain = f"{t['psnr_gain']:.2f}" if "psnr_gain" in t else ""
        lines.append(
            f"| {r['task']} | {r['variant']} | {r['seed']} | {dice} | {iou} | {psnr} | {gain} "
            f"| {r['best_epoch']} | {r['train_seconds']:.0f} | {r['num_parameters']} |"
        )
    return "\n".join(lines) + "\n"


_INVOCATION_KEYS = ("started_unix", "wall_seconds", "trained", "jobs", "threads_per_job")


def read_training_time(out: Path) -> dict[str, Any]:
    """``<out>/training_time.json`` checked for the keys this module reads (``{}`` if absent).

    Raises:
        ValueError: the file is not JSON or lacks what the summaries need (names the file).
    """
    path = out / "training_time.json"
    if not path.exists():
        return {}
    data = read_json(path)
    invocations = data.get("invocations") if isinstance(data, dict) else None
    ok = (
        isinstance(invocations, list)
        and isinstance(data.get("total_wall_seconds"), (int, float))
        and all(
            isinstance(i, dict)
            and all(isinstance(i.get(k), (int, float)) for k in _INVOCATION_KEYS)
            for i in invocations
        )
    )
    if not ok:
        raise ValueError(
            f"expected {str(path)!r} to hold total_wall_seconds and invocations with "
            f"{', '.join(_INVOCATION_KEYS)}; got something else (fix or delete it)"
        )
    return data


def timing_lines(out: Path) -> str:
    """Markdown lines on the measured retrain time (from ``training_time.json``), or ``""``."""
    data = read_training_time(out)
    if not data:
        return ""
    parts = []
    for i in data["invocations"]:
        load = i.get("load_average_at_start")
        cpu = i.get("cpu_seconds_of_runs")
        parts.append(
            f"{i['trained']} runs in {i['wall_seconds'] / 60:.1f} min ({i['jobs']} jobs x "
            f"{i['threads_per_job']} thread(s) on {i.get('cpu_count')} shared CPUs"
            + (f", load average at start {load:.1f}" if load is not None else "")
            + (f", {cpu / 60:.1f} CPU-min in the runs" if cpu is not None else "")
            + (", interrupted" if i.get("interrupted") else "")
            + ")"
        )
    return (
        f"\nMeasured retrain time: {data['total_wall_seconds'] / 60:.1f} min wall for "
        f"{data['runs_trained']} runs, summed over invocations: " + "; ".join(parts) + ".\n"
    )


def write_summary(out: Path) -> list[dict[str, Any]]:
    """Rewrite ``metrics.json`` and ``METRICS.md`` under ``out`` from the published sets."""
    rows = collect(out)
    text = json.dumps(rows, indent=1, sort_keys=True) + "\n"
    atomic_write_bytes(out / "metrics.json", text.encode("utf-8"))
    atomic_write_bytes(out / "METRICS.md", (metrics_table(rows) + timing_lines(out)).encode())
    return rows


def _union_seconds(invocations: list[dict[str, Any]]) -> float:
    """Length of the union of the invocations' time intervals (overlaps counted once)."""
    spans = sorted((i["started_unix"], i["started_unix"] + i["wall_seconds"]) for i in invocations)
    total, end = 0.0, -float("inf")
    for a, b in spans:
        if b > end:
            total += b - max(a, end)
            end = b
    return total


def _record_time(out: Path, record: dict[str, Any]) -> dict[str, Any]:
    invocations = read_training_time(out).get("invocations", []) + [record]
    data = {
        "what": f"wall-clock time of `{PROG}` over all its invocations "
        "(a retrain may be restarted in pieces, or run as several invocations at once): "
        "the length of the union of their [start, start + wall] intervals",
        "total_wall_seconds": round(_union_seconds(invocations), 1),
        "runs_trained": sum(i["trained"] for i in invocations),
        "invocations": invocations,
    }
    text = json.dumps(data, indent=1, sort_keys=True) + "\n"
    atomic_write_bytes(out / "training_time.json", text.encode("utf-8"))
    return data


# --- command line ------------------------------------------------------------------------------


def build_parser() -> ArgumentParser:
    """The command line of ``python -m analysis.train_all``."""
    p = ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--out",
        default=None,
        help="published set (default checkpoints; --quick: "
        f"{QUICK_ROOT.relative_to(REPO)}/checkpoints)",
    )
    p.add_argument(
        "--work",
        default=None,
        help=f"run directories, resumable (default build/train_runs; --quick: "
        f"{QUICK_ROOT.relative_to(REPO)}/work)",
    )
    p.add_argument("--jobs", type=int, default=2, help="runs at a time (default 2)")
    p.add_argument("--threads", type=int, default=1, help="torch threads per run (default 1)")
    p.add_argument("--tasks", nargs="+", default=list(TASKS), help="subset of tasks")
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), help="subset of variants")
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke test with --quick settings (never publishes into checkpoints/)",
    )
    return p


def _is_shipped(path: Path) -> bool:
    """True when ``path`` is the shipped ``checkpoints/`` folder or inside it."""
    resolved = path.resolve()
    return SHIPPED.resolve() in (resolved, *resolved.parents)


def resolve_paths(out: str | None, work: str | None, quick: bool) -> tuple[Path, Path]:
    """``(out, work)`` with their defaults; refuses what would overwrite what it should not.

    Raises:
        UsageError: ``--quick`` into the shipped ``checkpoints/``; a path that is a file (or
            under one) or not writable; ``--out`` and ``--work`` the same folder.
    """
    if quick:
        out_path = Path(out) if out is not None else QUICK_ROOT / "checkpoints"
        work_path = Path(work) if work is not None else QUICK_ROOT / "work"
        if _is_shipped(out_path):
            fail(
                f"--quick never publishes into the shipped {str(out_path)!r}: give another --out "
                f"(default {QUICK_ROOT / 'checkpoints'})"
            )
    else:
        out_path = Path(out) if out is not None else Path("checkpoints")
        work_path = Path(work) if work is not None else Path("build/train_runs")
    for flag, text, path in (("--out", out, out_path), ("--work", work, work_path)):
        try:
            check_writable(text if text is not None else path, flag)
        except RunError as err:
            fail(str(err))
    if out_path.resolve() == work_path.resolve():
        fail(f"expected --out and --work to be different folders, got {str(out_path)!r} twice")
    return out_path, work_path


def _check_published(out: Path, jobs: list[tuple[str, str, int]]) -> None:
    """Read every planned set and the time record once, before any run (errors: one line)."""
    for task, variant, seed in jobs:
        published_meta(checkpoint_path(out, task, variant, seed))
    read_training_time(out)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse printed its one-line error
        return int(exc.code or 0)
    return run(PROG, lambda: _main(args), user_errors=(ValueError, TypeError))


def _main(args: Any) -> int:
    for task in args.tasks:
        check_choice("--tasks", task, TASKS)
    for variant in args.variants:
        check_choice("--variants", variant, VARIANTS)
    check_int("--jobs", args.jobs, 1, 64)
    check_int("--threads", args.threads, 1, 1024)
    out, work = resolve_paths(args.out, args.work, args.quick)
    settings = {
        task: replace(QUICK if args.quick else settings_for(task), threads=args.threads)
        for task in TASKS
    }
    jobs = plan(tuple(dict.fromkeys(args.tasks)), tuple(dict.fromkeys(args.variants)))
    _check_published(out, jobs)
    print(f"{len(jobs)} runs, {args.jobs} at a time, publishing into {out}", flush=True)
    for task in dict.fromkeys(args.tasks):
        print(f"settings of {task}: {asdict(settings[task])}", flush=True)
    return _execute(args, out, work, jobs, settings)


def _execute(
    args: Any,
    out: Path,
    work: Path,
    jobs: list[tuple[str, str, int]],
    settings: dict[str, TrainSettings],
) -> int:
    """Run the plan (``--jobs`` at a time), record the time, print the verdict."""
    start = time.perf_counter()
    started = time.time()
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    results: list[dict[str, Any]] = []

    def one(job: tuple[str, str, int]) -> dict[str, Any]:
        row = run_one(*job, out, work, settings[job[0]])
        done = len(results) + 1
        print(
            f"[{done}/{len(jobs)}] {job[0]}/{job[1]}/s{job[2]}: {row['status']}"
            f" ({row.get('seconds', 0):.0f} s, {time.perf_counter() - start:.0f} s total)",
            flush=True,
        )
        results.append(row)
        if row["status"] == "trained":
            with _PUBLISH:
                write_summary(out)
        return row

    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    interrupted = False

    def stop(signum, frame):  # SIGTERM like Ctrl-C: stop the runs, still record the time
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    pool = ThreadPoolExecutor(max_workers=args.jobs)
    futures = []
    try:
        futures = [pool.submit(one, job) for job in jobs]
        for future in futures:
            future.result()
    except KeyboardInterrupt:
        interrupted = True
        for future in futures:
            future.cancel()
        for proc in list(_RUNNING):  # each run resumes from its last finished epoch
            proc.terminate()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        signal.signal(signal.SIGTERM, previous)
    wall = time.perf_counter() - start
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    trained = sum(r["status"] == "trained" for r in results)
    failed = [r for r in results if r["status"] == "failed"]
    record = {
        "started_unix": round(started, 1),
        "wall_seconds": round(wall, 1),
        "cpu_seconds_of_runs": round(cpu, 1),
        "interrupted": interrupted,
        "trained": trained,
        "skipped": sum(r["status"] == "skipped" for r in results),
        "failed": len(failed),
        "jobs": args.jobs,
        "threads_per_job": args.threads,
        "cpu_count": os.cpu_count(),
        "load_average_at_start": load_before,
        "machine": platform.platform(),
        "settings": {task: asdict(settings[task]) for task in dict.fromkeys(args.tasks)},
    }
    timing = _record_time(out, record)
    return _verdict(out, trained, failed, wall, timing, interrupted)


def _verdict(
    out: Path,
    trained: int,
    failed: list[dict[str, Any]],
    wall: float,
    timing: dict[str, Any],
    interrupted: bool,
) -> int:
    """Rewrite the summary, print what happened; the exit code (1: failed, low or stopped)."""
    rows = write_summary(out)
    print(
        f"done: {trained} trained, {len(failed)} failed in {wall:.0f} s; "
        f"total over invocations {timing['total_wall_seconds']:.0f} s",
        flush=True,
    )
    for r in failed:
        print(f"FAILED {r['task']}/{r['variant']}/s{r['seed']}: see {r['log']}", flush=True)
    below = floor_failures(rows)
    for line in below:
        print(f"BELOW FLOOR {line}", flush=True)
    return 1 if failed or below or interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
