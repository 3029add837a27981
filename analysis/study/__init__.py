"""The study: every number behind figures 4-9 and the paper, computed from the shipped checkpoints.

Run from the repository root::

    python -m analysis.study [--checkpoints checkpoints] [--out results/study] [--full]
        [--pieces accuracy,crop,period,fractional,layers,example,speed] [--threads 2]
        [--require-all] [--tasks ...] [--variants ...] [--seeds ...]
    python -m analysis.study --summarise-only      # rebuild study.json from the piece files

Pieces (each writes its own files under ``--out``, atomically, with config and provenance;
the analyses themselves are :func:`analysis.shift_consistency.run` and
:func:`analysis.speed.run`, nothing is re-implemented here):

==============  =================================================================  ===========
piece           what (default budget; ``--full`` in brackets)                       files
==============  =================================================================  ===========
``accuracy``    test Dice (segmentation) / mean PSNR (denoise) of every checkpoint  accuracy_*.*
                on every test image, from per-image sums; the checkpoint's own
                metadata (test metrics, training seconds, parameters) beside it
``crop``        realistic shifts: windows cut at offsets ``(0, 0..16)`` px          crop_<task>.*
                (``--shifts line``) from the first test image (nuclei: 3 seeds) or
                the first 2 (textures, denoise)
                of every checkpoint [every test image]
``period``      circular shifts over every offset of the ``8 x 8`` period, one      period_<task>.*
                full 256x256 image, seed-0 nuclei checkpoints
                [every task and seed, 2 full-size images each]
``fractional``  denoise: EQ-T PSNR for sub-pixel shifts ``(0, k/4)``, k = 0..4,     fractional_*.*
                Lanczos-3, first 2 test images [k/8, every image; also nuclei,
                label agreement]
``layers``      per-level relative feature error (encoder, bottleneck, decoder)    layers_<task>.*
                under crop shifts (0, 0..8), interior >= 48 px from the edges,
                nuclei seed 0, 1 image [every seed, 3 images]
``example``     one nuclei test image and its 1-px shift through a transposed-conv  example.*
                U-Net and an antialiased one: the probability maps and the pixels
                whose label changes
``speed``       :mod:`analysis.speed`: forward and forward+backward time of every   speed.*
                variant, ratios to ``bilinear`` measured in the same run; 1 thread
                [1 and 2 threads, and a wide U-Net (depth 4, width 32)]
==============  =================================================================  ===========

After the pieces, :func:`summarise` reads every piece file present under ``--out`` and writes
``study.json`` (+ ``study.npz``, ``study.csv``): per task and variant, each quantity per seed, its
mean and standard deviation over seeds, and a 95% confidence interval from a two-level bootstrap
(resample seeds, then test images, the same image draws for every seed; percentile interval).
With one seed the interval is the bootstrap over images alone. ``study.json`` also holds the
measured wall time of every piece (``timings``), the machine's 1-minute load average at its
start and end (``load_average_1min``) and the checkpoints that were missing.
Figures 4-9 and ``docs/paper.md`` read only these files.

Importable: :func:`run` ``(config, progress) -> {piece: result}`` (reads checkpoints and data,
writes nothing), :func:`piece_set`, :func:`summarise` (``out_dir -> (doc, arrays)``, reads
files, writes nothing), :func:`main` ``(argv) -> int`` (exit 2 with one line on stderr for bad
input or missing checkpoints).

Rooms of the package, one idea each: :mod:`~analysis.study.config` (what, from which
checkpoints), :mod:`~analysis.study.pieces` (computing), :mod:`~analysis.study.stats` (bootstrap
over seeds and images), :mod:`~analysis.study.summary` (``study.json`` from the piece files),
:mod:`~analysis.study.files` (result sets), :mod:`~analysis.study.cli` (the command line).
"""

from __future__ import annotations

from analysis.study.cli import build_parser, config_from_args, main
from analysis.study.config import (
    DEFAULT_CHECKPOINTS,
    DEFAULT_OUT,
    EXPECTED_SEEDS,
    PIECES,
    PROG,
    SCHEMA,
    TASKS,
    Ckpt,
    StudyConfig,
    StudyError,
    find_checkpoints,
    full_config,
)
from analysis.study.files import piece_set, write_pieces, write_summary
from analysis.study.pieces import run, run_accuracy, run_example
from analysis.study.stats import paired_diff_stats, seed_image_stats
from analysis.study.summary import study_csv, summarise

__all__ = [
    "DEFAULT_CHECKPOINTS",
    "DEFAULT_OUT",
    "EXPECTED_SEEDS",
    "PIECES",
    "PROG",
    "SCHEMA",
    "TASKS",
    "Ckpt",
    "StudyConfig",
    "StudyError",
    "build_parser",
    "config_from_args",
    "find_checkpoints",
    "full_config",
    "main",
    "paired_diff_stats",
    "piece_set",
    "run",
    "run_accuracy",
    "run_example",
    "seed_image_stats",
    "study_csv",
    "summarise",
    "write_pieces",
    "write_summary",
]
