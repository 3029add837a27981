"""The study's command line: ``python -m analysis.study`` (see :mod:`analysis.study`).

What does not live here: anything computed (:mod:`analysis.study.pieces`) or written
(:mod:`analysis.study.files`); this parses, reports progress and applies the one-line error
policy of :mod:`antialias._cli`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from analysis.study.config import (
    DEFAULT_CHECKPOINTS,
    DEFAULT_OUT,
    PIECES,
    PROG,
    TASKS,
    StudyConfig,
    StudyError,
    full_config,
)
from analysis.study.files import write_pieces, write_summary
from analysis.study.pieces import run
from antialias import _cli
from antialias.models import VARIANTS


def build_parser() -> argparse.ArgumentParser:
    """The study's arguments."""
    p = _cli.ArgumentParser(
        prog=PROG, description="Shift-equivariance study of the shipped U-Nets."
    )
    p.add_argument("--checkpoints", default=str(DEFAULT_CHECKPOINTS), help="checkpoint folder")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="results folder")
    p.add_argument("--full", action="store_true", help="every image/seed (slow)")
    p.add_argument("--pieces", default=",".join(PIECES), help="comma-separated pieces")
    p.add_argument("--tasks", default=",".join(TASKS))
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--seeds", help="comma-separated seeds (default: every seed found)")
    p.add_argument("--require-all", action="store_true", help="fail on a missing checkpoint")
    p.add_argument("--summarise-only", action="store_true", help="only rebuild study.json")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--n-boot", type=int, default=1000)
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    return p


def _split(text: str) -> tuple[str, ...]:
    """Comma-separated names, blanks dropped."""
    return tuple(t.strip() for t in text.split(",") if t.strip())


def config_from_args(args: argparse.Namespace) -> StudyConfig:
    """The :class:`StudyConfig` of parsed command-line arguments."""
    seeds = None
    if args.seeds:
        try:
            seeds = tuple(int(s) for s in _split(args.seeds))
        except ValueError:
            raise StudyError(f"expected --seeds like 0,1,2, got {args.seeds!r}") from None
    if args.n_boot < 1:
        raise StudyError(f"expected --n-boot >= 1, got {args.n_boot}")
    kw = {
        "checkpoints": args.checkpoints,
        "tasks": _split(args.tasks),
        "variants": _split(args.variants),
        "seeds": seeds,
        "pieces": _split(args.pieces),
        "require_all": args.require_all,
        "n_boot": args.n_boot,
    }
    return full_config(**kw) if args.full else StudyConfig(**kw)


def _study(args: argparse.Namespace) -> int:
    """Compute the pieces (unless ``--summarise-only``), write them and the summary."""
    if args.threads < 1:
        raise StudyError(f"expected --threads >= 1, got {args.threads}")
    torch.set_num_threads(args.threads)
    cfg = config_from_args(args)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise StudyError(f"expected --out to be a folder, got the file {out}")
    start = time.perf_counter()

    def say(line: str) -> None:
        print(f"[{time.perf_counter() - start:6.1f} s] {line}", file=sys.stderr, flush=True)

    progress = None if args.quiet else say
    missing = None
    if not args.summarise_only:
        from antialias.provenance import provenance

        results, missing = run(cfg, progress=progress)
        if missing and progress is not None:
            progress(
                f"missing checkpoints ({len(missing)}): {', '.join(missing[:6])}"
                + (" ..." if len(missing) > 6 else "")
            )
        write_pieces(out, results, cfg, provenance())
    paths = write_summary(out, cfg, missing, summarise_only=args.summarise_only)
    timings = json.loads(paths[0].read_text())["timings"]
    print("pieces (s): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items() if v is not None))
    print(
        f"wrote {out}/ ({', '.join(p.name for p in paths)} + piece files) in "
        f"{time.perf_counter() - start:.1f} s"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (2 for bad input, one line)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:  # --help (0) or a usage error (2, its line printed)
        return int(stop.code or 0)
    return _cli.run(PROG, lambda: _study(args), user_errors=(ValueError, TypeError, OSError))
