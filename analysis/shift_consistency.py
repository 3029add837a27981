"""Shift consistency of trained U-Nets (or any image-to-image model): the command.

    python analysis/shift_consistency.py CKPT [CKPT ...] [--data nuclei|textures|denoise|DIR]
        [--mode circular|crop|fractional] [--shifts all|line|LIST|random:N] [--dry-run] ...
    python analysis/shift_consistency.py --model pkg.module:factory [--weights FILE] --data DIR
    torchrun --nproc_per_node 2 analysis/shift_consistency.py ...   # shards images over ranks

A thin command around :mod:`antialias.consistency` (options, schema and behaviour are described
there; ``--help`` lists the flags). ``--model`` factories and TorchScript files run their own
code by design. The names below are re-exported for the scripts that import them from here
(``analysis/study.py``, ``analysis/speed.py``).
"""

from __future__ import annotations

import sys

from antialias.consistency import (
    SCHEMA,
    Config,
    format_table,
    result_files,
    run,
    write_files,
    write_result,
)
from antialias.consistency.cli import main

__all__ = [
    "SCHEMA",
    "Config",
    "format_table",
    "main",
    "result_files",
    "run",
    "write_files",
    "write_result",
]

if __name__ == "__main__":
    sys.exit(main())
