"""The ``shift_consistency`` command: arguments in, a table and a result set out.

``main(argv) -> int`` parses the arguments (:class:`antialias._cli.ArgumentParser`), checks
everything that can be checked before any computation (the output folder and name, threads,
the report hook, then the whole :func:`~antialias.consistency.engine.plan`), runs it with a
progress bar (forward passes, with an estimated time left) and writes one result set. Every
user mistake is one line on stderr and exit 2, with nothing written; under ``torchrun`` every
rank prints its own line, prefixed with its rank.

``python analysis/shift_consistency.py`` and ``antialias shift-consistency`` both call
:func:`main`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from antialias._cli import ArgumentParser
from antialias._cli import run as run_command
from antialias.consistency import engine, output, parallel
from antialias.consistency.config import KINDS, MODES, PROG, Config, check_threads, fail

__all__ = ["main"]

_TRUST = (
    "--model factories and TorchScript files run their own code by design: analyse only code "
    "you trust (checkpoints and --weights are read as data, never unpickled)."
)


def _parser() -> argparse.ArgumentParser:
    p = ArgumentParser(
        prog=PROG,
        description="Shift consistency of U-Nets (or any image-to-image model): every offset "
        "of the period. " + _TRUST,
    )
    p.add_argument(
        "checkpoints",
        nargs="*",
        metavar="CKPT",
        help=".safetensors checkpoints or TorchScript files (TorchScript runs its code)",
    )
    p.add_argument("--model", help="user model factory pkg.module:factory (runs its code)")
    p.add_argument("--model-kwargs", default="{}", help="JSON keyword arguments of the factory")
    p.add_argument("--weights", help="safetensors or plain state-dict file for --model")
    p.add_argument("--data", help="nuclei|textures|denoise or a folder of PNG/TIFF/NPY images")
    p.add_argument("--split", default="test", choices=("train", "val", "test"))
    p.add_argument("--mode", default="circular", choices=MODES)
    p.add_argument(
        "--shifts", help="all | line | random:N | DY:DX,DY:DX,... (default: all; line in crop mode)"
    )
    p.add_argument("--max-shift", type=int, default=16, help="S for line and random (pixels)")
    p.add_argument("--max-images", type=int, help="use only the first N images")
    p.add_argument(
        "--image-size", help="centre-crop images to S x S (volumes: S^3, or D,H,W) first"
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=16,
        help="shifted copies per forward pass, at most (lowered to fit a memory estimate)",
    )
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    p.add_argument("--out", default="results/shift_consistency", help="output folder")
    p.add_argument("--name", default="shift_consistency", help="output file stem")
    p.add_argument("--seed", type=int, default=0, help="seed of random shifts and bootstrap")
    p.add_argument("--border", type=int, default=16, help="border band width (pixels)")
    p.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples")
    p.add_argument("--per-layer", action="store_true", help="equivariance error per level")
    p.add_argument(
        "--layers",
        help="with --per-layer: module names (name,name) whose outputs are the levels "
        "(default: the model's levels(), else found from its module graph)",
    )
    p.add_argument(
        "--levels",
        help="factor-2 down-samplings of a non-antialias model (L, or one per axis: LD,LH,LW)",
    )
    p.add_argument(
        "--spatial-dims",
        type=int,
        choices=(2, 3),
        help="2 (images) or 3 (volumes); default: from the model's convolutions, else the data",
    )
    p.add_argument(
        "--axes", help="spatial axes that shift, e.g. D,H,W or H,W (default: every axis)"
    )
    p.add_argument(
        "--shift-budget",
        type=int,
        help="--shifts all measures the whole period up to this many offsets, else a sample",
    )
    p.add_argument("--kind", choices=KINDS, help="for folders: segmentation or regression")
    p.add_argument("--data-range", type=float, help="PSNR data range (default: the data's, 1.0)")
    p.add_argument("--normalize", default="dtype", choices=("dtype", "percentile", "none"))
    p.add_argument("--fractional-method", default="lanczos", choices=("lanczos", "fourier"))
    p.add_argument("--lanczos-a", type=int, default=3, help="Lanczos half-width / masked band")
    p.add_argument("--threads", type=int, help="torch CPU threads (at most this machine's CPUs)")
    p.add_argument(
        "--dist-timeout",
        type=float,
        default=300.0,
        help="torchrun: seconds to wait for every rank to join (default 300)",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="print the plan (models, images, shifts, passes)"
    )
    p.add_argument("--report", action="store_true", help="also write the HTML report")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--quiet", action="store_true", help="no table on stdout")
    return p


def _config_from_args(args: argparse.Namespace) -> Config:
    try:
        kwargs = json.loads(args.model_kwargs)
    except json.JSONDecodeError as err:
        fail(f"expected --model-kwargs as a JSON object, got {args.model_kwargs!r}: {err}")
    layers = None
    axes = None if args.axes is None else [a.strip().upper() for a in args.axes.split(",")]
    if args.layers is not None:
        layers = [n.strip() for n in args.layers.split(",")]
    return Config(
        checkpoints=list(args.checkpoints),
        model=args.model,
        model_kwargs=kwargs,
        weights=args.weights,
        data=args.data,
        split=args.split,
        mode=args.mode,
        shifts=args.shifts,
        max_shift=args.max_shift,
        max_images=args.max_images,
        image_size=_ints("--image-size", args.image_size),
        batch_size=args.batch_size,
        device=args.device,
        dtype=args.dtype,
        seed=args.seed,
        border=args.border,
        n_boot=args.n_boot,
        per_layer=args.per_layer,
        levels=_ints("--levels", args.levels),
        kind=args.kind,
        data_range=args.data_range,
        normalize=args.normalize,
        fractional_method=args.fractional_method,
        lanczos_a=args.lanczos_a,
        layers=layers,
        spatial_dims=args.spatial_dims,
        axes=axes,
        shift_budget=args.shift_budget,
    )


def _ints(flag: str, text: str | None) -> int | list[int] | None:
    """``"8"`` -> 8, ``"4,8,8"`` -> [4, 8, 8] (one per spatial axis)."""
    if text is None:
        return None
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        fail(f"expected {flag} as an integer or integers N,N,N, got {text!r}")
    return values[0] if len(values) == 1 else values


def check_output(out: str, name: str) -> None:
    """Refuse, before any computation, an output that could not be written."""
    if not name or name.startswith(".") or "/" in name or "\\" in name or name != name.strip():
        fail(f"expected --name to be a plain, non-hidden file name, got {name!r}")
    path = Path(out)
    if path.exists() and not path.is_dir():
        fail(f"expected --out to be a folder, got the file {out!r}")
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        fail(f"cannot write to --out {out!r}: {str(existing)!r} is not a writable folder")


def _report_hook() -> Any:
    if importlib.util.find_spec("antialias.report") is None:
        fail("--report needs antialias.report, which this installation does not have")
    from antialias import report

    if not callable(getattr(report, "write_report", None)):
        fail("--report needs antialias.report.write_report, which this installation lacks")
    return report.write_report


class _Progress:
    """One bar over the forward passes of every model of this rank, with the time left."""

    def __init__(self, the_plan: engine.Plan) -> None:
        from tqdm import tqdm

        self.jobs = the_plan.jobs
        total = sum(j.passes_per_image * len(j.mine) for j in self.jobs)
        self.bar = tqdm(total=total, unit="pass", file=sys.stderr, dynamic_ncols=True)
        self.job = -1

    def __call__(self, name: str, done: int, total: int) -> None:
        if done == 1:  # the next job with images on this rank (others send no calls)
            self.job += 1
            while not self.jobs[self.job].mine:
                self.job += 1
            self.bar.set_description(name)
        self.bar.update(self.jobs[self.job].passes_per_image)

    def close(self) -> None:
        self.bar.close()


def _body(args: argparse.Namespace) -> int:
    cfg = _config_from_args(args)
    if args.threads is not None:
        torch.set_num_threads(check_threads(args.threads))
    check_output(args.out, args.name)
    write_report = _report_hook() if args.report and not args.dry_run else None
    if parallel.wanted():
        cfg.device = parallel.start(cfg.device, args.dist_timeout)
    the_plan = engine.plan(cfg)
    rank = the_plan.rank
    if rank == 0:
        for note in the_plan.notes:
            print(f"{PROG}: note: {note}", file=sys.stderr)
    if args.dry_run:
        if rank == 0:
            sys.stdout.write(output.describe_plan(the_plan))
        return 0
    bar = _Progress(the_plan) if rank == 0 and not args.no_progress else None
    try:
        result = engine.execute(the_plan, progress=bar)
    finally:
        if bar is not None:
            bar.close()
    if rank != 0:
        return 0
    from antialias.provenance import provenance

    paths = output.write_result(result, provenance(), args.out, args.name)
    if not args.quiet:
        sys.stdout.write(output.format_table(result))
        sys.stdout.write("wrote " + ", ".join(str(p) for p in paths) + "\n")
    if write_report is not None:
        page = write_report(paths[-1])
        if not args.quiet:
            sys.stdout.write(f"wrote {page}\n")
    return 0


def _prog() -> str:
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if world > 1:
        return f"{PROG} (rank {os.environ.get('RANK', '?')} of {world})"
    return PROG


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (2 for bad input)."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as stop:  # --help (0) or a usage error (2, already printed)
        return int(stop.code or 0)
    try:
        return run_command(
            _prog(),
            lambda: _body(args),
            user_errors=(ValueError, TypeError, OSError, ImportError, MemoryError),
        )
    finally:
        parallel.stop()
