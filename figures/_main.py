"""The one command line and the one results reader of every figure script.

Every ``figures/fig*.py`` is ``python figures/<name>.py [--results DIR | --results-root ROOT]
[--out DIR]``: it reads the files one analysis wrote (``--results``, default
``results/<folder>``; ``--results-root ROOT`` means ``ROOT/<folder>``, so that
``figures/make_all.py`` can point every script at another results tree), draws one matplotlib
figure and saves it as PNG + PDF into ``--out`` (default ``figures/``) through
:func:`figures.style.save_figure`. A user mistake (bad argument, missing or malformed results)
is one line on stderr and exit status 2, per :mod:`antialias._cli`, and nothing is written.

:func:`read_results` is the one reader of a result pair ``<stem>.json`` + ``<stem>.npz``
(through :func:`antialias.files.read_result_set`, which also checks that the pair belongs
together); the figure families (spectral, study, tutorial) wrap it in their own accessors.

What does not live here: drawing, styles (:mod:`figures.style`), and any computation.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # for `python figures/fig*.py` from anywhere
    sys.path.insert(0, str(ROOT))

import matplotlib.pyplot as plt  # noqa: E402

from antialias import _cli  # noqa: E402
from antialias.files import read_result_set  # noqa: E402
from figures.style import FIGURES_DIR, RESULTS_DIR, apply_style, save_figure  # noqa: E402

__all__ = ["FIGURES_DIR", "RESULTS_DIR", "ResultsError", "figure_main", "read_results"]

T = TypeVar("T")


class ResultsError(_cli.UsageError):
    """A results file is missing or does not hold what a figure needs (the message says which)."""


def read_results(
    directory: str | Path, stem: str, command: str, *, arrays: bool = True
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read ``<directory>/<stem>.json`` (and ``.npz`` when ``arrays``), checked as one set.

    Returns:
        ``(doc, arrays)``: the JSON object and every NPZ array, in memory (``{}`` without NPZ).

    Raises:
        ResultsError: a file is missing, unreadable, not a JSON object, or the two files do not
            belong together; the message names ``command``, the command that writes them.
    """
    directory = Path(directory)
    js, npz = directory / f"{stem}.json", directory / f"{stem}.npz"
    for path in (js, npz) if arrays else (js,):
        if not path.is_file():
            raise ResultsError(f"missing results file {path}; run `{command}` first")
    try:
        doc, _ = read_result_set(js)
    except ValueError as err:  # malformed JSON, not an object, or an interrupted write
        raise ResultsError(f"cannot read {js} ({err}); rerun `{command}`") from None
    if not arrays:
        return doc, {}
    try:
        with np.load(npz, allow_pickle=False) as data:
            loaded = {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError) as err:
        raise ResultsError(f"cannot read {npz} ({err}); rerun `{command}`") from None
    return doc, loaded


def _parser(name: str, description: str, folder: str) -> _cli.ArgumentParser:
    p = _cli.ArgumentParser(prog=f"python figures/{name}.py", description=description)
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--results", type=Path, help=f"folder of the results (default results/{folder})"
    )
    where.add_argument(
        "--results-root", type=Path, help=f"a results tree: read ROOT/{folder} (make_all.py)"
    )
    p.add_argument("--out", type=Path, default=FIGURES_DIR, help="where PNG and PDF go")
    return p


def figure_main(
    argv: Sequence[str] | None,
    *,
    name: str,
    description: str,
    folder: str,
    load: Callable[[Path], T],
    draw: Callable[[T], plt.Figure],
) -> int:
    """The command line every figure script shares: load, draw, save PNG + PDF.

    Args:
        argv: the arguments (``None``: ``sys.argv[1:]``).
        name: the figure's file stem (``fig1_upsampler_response``); also the error prefix.
        description: one line for ``--help``.
        folder: the results folder under the results root (``spectra``, ``study``, ...).
        load: reads the results folder (raises :class:`ResultsError`).
        draw: the figure from the loaded results (raises :class:`ResultsError` when something
            it needs is missing).

    Returns:
        0 on success; 2 (one line on stderr) for a usage error or missing/malformed results.
    """
    try:
        args = _parser(name, description, folder).parse_args(argv)
    except SystemExit as stop:  # --help (0) or a bad argument (2, already printed)
        return int(stop.code or 0)

    def body() -> None:
        if args.out.exists() and not args.out.is_dir():
            _cli.fail(f"expected --out to be a folder, got the file {args.out}")
        if args.results is not None:
            results = args.results
        else:
            results = (args.results_root or RESULTS_DIR) / folder
        try:
            loaded = load(results)
            apply_style()
            fig = draw(loaded)
        except BaseException:
            plt.close("all")
            raise
        try:
            written = save_figure(fig, name, args.out)
        except OSError as err:
            plt.close("all")
            _cli.fail(f"cannot write the figure: {err}")
        print("wrote " + " and ".join(str(p) for p in written))

    return _cli.run(name, body)
