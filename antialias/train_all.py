"""Retrain the whole shipped set: ``python -m antialias.train_all`` (one command).

Every variant of :data:`antialias.models.VARIANTS` on ``nuclei`` with seeds 0, 1, 2 and on
``textures`` and ``denoise`` with seed 0: 50 runs of :mod:`antialias.train` with the default
:class:`antialias.train.TrainSettings`, ``--jobs`` at a time (each a subprocess with
``--threads`` torch threads). Order: seed 0 of every task first, then nuclei seeds 1 and 2, so
a partial set is already useful.

Restartable in pieces: a run whose checkpoint is already published with the same settings is
skipped; an interrupted run is resumed from its run directory under ``--work``. Each finished
run is published as ``<out>/<task>/<variant>_s<seed>.safetensors`` (+ ``.json`` metadata with
metrics, + ``.log.jsonl`` per-epoch training log). After every run, ``<out>/metrics.json`` and
``<out>/METRICS.md`` (all test metrics) are rewritten from the published files, and
``<out>/training_time.json`` accumulates the wall time of every invocation.

Exit code: 0 when every run finished and meets the sanity floors (nuclei test Dice >= 0.80,
denoise test PSNR gain >= 4 dB), 1 otherwise, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any

from antialias.checkpoint import _atomic_write, atomic_write_text, checkpoint_path
from antialias.data import TASKS
from antialias.models import VARIANTS
from antialias.train import QUICK, TrainSettings, settings_for

_RUNNING: set[subprocess.Popen] = set()  # runs in flight, terminated on interruption

SEEDS: dict[str, tuple[int, ...]] = {"nuclei": (0, 1, 2), "textures": (0,), "denoise": (0,)}
FLOORS: dict[str, tuple[str, float]] = {"nuclei": ("dice", 0.80), "denoise": ("psnr_gain", 4.0)}
"""Sanity floors on test metrics: task -> (metric, minimum)."""


def plan(tasks=tuple(TASKS), variants=tuple(VARIANTS)) -> list[tuple[str, str, int]]:
    """``(task, variant, seed)`` of every run, seed 0 of every task first."""
    jobs = []
    max_seeds = max(len(SEEDS[t]) for t in tasks)
    for k in range(max_seeds):
        for task in tasks:
            if k < len(SEEDS[task]):
                jobs += [(task, v, SEEDS[task][k]) for v in variants]
    return jobs


def _published(dest: Path, settings: TrainSettings) -> bool:
    meta_path = dest.with_suffix(".json")
    if not (dest.is_file() and meta_path.is_file()):
        return False
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    training = meta.get("training", {})
    same = all(training.get(f.name) == getattr(settings, f.name) for f in fields(settings))
    return same and bool(training.get("complete"))


def _copy_atomic(src: Path, dest: Path) -> None:
    _atomic_write(dest, lambda tmp: shutil.copyfile(src, tmp))


def run_one(
    task: str, variant: str, seed: int, out: Path, work: Path, settings: TrainSettings
) -> dict[str, Any]:
    """Train (or resume) one run in a subprocess and publish it; returns a summary row."""
    dest = checkpoint_path(out, task, variant, seed)
    if _published(dest, settings):
        return {"task": task, "variant": variant, "seed": seed, "status": "skipped"}
    run_dir = work / task / f"{variant}_s{seed}"
    cmd = [sys.executable, "-m", "antialias.train", "--task", task, "--variant", variant]
    cmd += ["--seed", str(seed), "--out", str(run_dir), "--no-progress"]
    for f in fields(settings):
        cmd += ["--" + f.name.replace("_", "-"), str(getattr(settings, f.name))]
    state = run_dir / "state.json"
    if state.exists():
        started = json.loads(state.read_text(encoding="utf-8")).get("training")
        # same settings: continue; other settings (the shipped ones changed): start again
        cmd.append("--resume" if started == asdict(settings) else "--overwrite")
    elif (run_dir / "model.json").exists():
        cmd.append("--resume")  # stopped before its first epoch ended: train restarts it
    text_log = run_dir.with_name(run_dir.name + ".train.log")  # beside, not inside, the run
    text_log.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with open(text_log, "a", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=_env(settings))
        _RUNNING.add(proc)
        try:
            proc.wait()
        finally:
            _RUNNING.discard(proc)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        return {
            "task": task,
            "variant": variant,
            "seed": seed,
            "status": "failed",
            "log": str(text_log),
            "seconds": seconds,
        }
    _copy_atomic(run_dir / "log.jsonl", dest.with_suffix(".log.jsonl"))
    _copy_atomic(text_log, dest.with_suffix(".log"))
    _copy_atomic(run_dir / "model.json", dest.with_suffix(".json"))
    _copy_atomic(run_dir / "model.safetensors", dest)  # last: its presence marks "published"
    return {"task": task, "variant": variant, "seed": seed, "status": "trained", "seconds": seconds}


def _env(settings: TrainSettings) -> dict[str, str]:
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(settings.threads)
    env["MKL_NUM_THREADS"] = str(settings.threads)
    return env


def collect(out: Path) -> list[dict[str, Any]]:
    """One row per published checkpoint under ``out``: identity, test/val metrics, timing."""
    rows = []
    for task in TASKS:
        for meta_path in sorted((out / task).glob("*_s*.json")):
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if "metrics" not in meta or "test" not in meta["metrics"]:
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
                    "file": str(meta_path.with_suffix(".safetensors").relative_to(out)),
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
        "Written by `python -m antialias.train_all` from the `.json` metadata beside each "
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


def timing_lines(out: Path) -> str:
    """Markdown lines on the measured retrain time (from ``training_time.json``), or ``""``."""
    path = out / "training_time.json"
    if not path.is_file():
        return ""
    data = json.loads(path.read_text(encoding="utf-8"))
    parts = []
    for i in data["invocations"]:
        load = i.get("load_average_at_start")
        cpu = i.get("cpu_seconds_of_runs")
        parts.append(
            f"{i['trained']} runs in {i['wall_seconds'] / 60:.1f} min ({i['jobs']} jobs x "
            f"{i['threads_per_job']} thread(s) on {i['cpu_count']} shared CPUs"
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
    """Rewrite ``metrics.json`` and ``METRICS.md`` under ``out`` from the published files."""
    rows = collect(out)
    atomic_write_text(out / "metrics.json", json.dumps(rows, indent=1, sort_keys=True) + "\n")
    atomic_write_text(out / "METRICS.md", metrics_table(rows) + timing_lines(out))
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
    path = out / "training_time.json"
    data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    invocations = data.get("invocations", []) + [record]
    data = {
        "what": "wall-clock time of `python -m antialias.train_all` over all its invocations "
        "(a retrain may be restarted in pieces, or run as several invocations at once): "
        "the length of the union of their [start, start + wall] intervals",
        "total_wall_seconds": round(_union_seconds(invocations), 1),
        "runs_trained": sum(i["trained"] for i in invocations),
        "invocations": invocations,
    }
    atomic_write_text(path, json.dumps(data, indent=1, sort_keys=True) + "\n")
    return data


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    p = argparse.ArgumentParser(prog="python -m antialias.train_all", description=__doc__)
    p.add_argument("--out", default="checkpoints", help="published set (default checkpoints)")
    p.add_argument("--work", default="build/train_runs", help="run directories (resumable)")
    p.add_argument("--jobs", type=int, default=2, help="runs at a time (default 2)")
    p.add_argument("--threads", type=int, default=1, help="torch threads per run (default 1)")
    p.add_argument("--tasks", nargs="+", default=list(TASKS), help="subset of tasks")
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), help="subset of variants")
    p.add_argument("--quick", action="store_true", help="smoke test with --quick settings")
    args = p.parse_args(argv)
    bad = [t for t in args.tasks if t not in TASKS] + [
        v for v in args.variants if v not in VARIANTS
    ]
    if bad or args.jobs < 1 or args.threads < 1:
        print(
            f"error: expected tasks among {list(TASKS)}, variants among {list(VARIANTS)}, "
            f"--jobs/--threads >= 1; got {bad or [args.jobs, args.threads]}",
            file=sys.stderr,
        )
        return 2
    settings = {
        task: replace(QUICK if args.quick else settings_for(task), threads=args.threads)
        for task in TASKS
    }
    out, work = Path(args.out), Path(args.work)
    jobs = plan(tuple(args.tasks), tuple(args.variants))
    print(f"{len(jobs)} runs, {args.jobs} at a time", flush=True)
    for task in args.tasks:
        print(f"settings of {task}: {asdict(settings[task])}", flush=True)
    start = time.perf_counter()
    started = time.time()
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    results = []

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
            write_summary(out)
        return row

    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    interrupted = False

    def stop(signum, frame):  # SIGTERM like Ctrl-C: stop the runs, still record the time
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    pool = ThreadPoolExecutor(max_workers=args.jobs)
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
    wall = time.perf_counter() - start
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    trained = sum(r["status"] == "trained" for r in results)
    failed = [r for r in results if r["status"] == "failed"]
    timing = _record_time(
        out,
        {
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
            "settings": {task: asdict(settings[task]) for task in args.tasks},
        },
    )
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
