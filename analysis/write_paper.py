"""Write ``docs/paper.md`` from the study's results files: every number is read, none typed.

Run from the repository root (both work)::

    python -m analysis.write_paper [--results results/study] [--out docs/paper.md]
                                   [--seeds ../shared/seeds] [--tutorial TUTORIAL_JSON]
                                   [--readme README.md | --no-readme]

The README's verdict rows are rewritten when ``--out`` is the default ``docs/paper.md`` or
``--readme`` names a file.
    python analysis/write_paper.py

Reads ``results/study/study.json`` (``python -m analysis.study``),
``results/study/speed.json`` (``python -m analysis.speed``, also run by the study), the
per-image sums and per-round times beside them, and
``results/transposed_tutorial/tutorial.json`` (``python analysis/transposed_tutorial.py``), and
renders the paper (:mod:`analysis.paper`): the verdict table and the direct answer first, then
the question (the first ``--seeds`` ``*.txt`` when present,
else a note), the setup, the results with the figures (relative links to ``figures/*.png``)
and generated tables (mean +- standard deviation over seeds, 95% bootstrap intervals over seeds
and test images), a conclusion that takes each claim of the answer in the seed in turn, and the
limitations. The README's verdict rows (between its markers) are rewritten from the same
table. Qualitative words in the conclusion ("slower", "no clear difference", ...) are
chosen by comparisons of the numbers in the files, stated next to them.

Importable: :func:`render` ``(study, speed) -> str`` (no I/O), :func:`main`
``(argv) -> int`` (exit 2 with one line on stderr when a results file is missing).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # `python analysis/write_paper.py`: `analysis` is not installed
    sys.path.insert(0, str(REPO))

from analysis.paper import AnswerData, PaperError, read_json, verdict_table  # noqa: E402
from analysis.paper import render as _render  # noqa: E402
from analysis.paper.answer import readme_with_verdicts  # noqa: E402
from analysis.paper.verdicts import load_answer_data  # noqa: E402
from antialias import _cli  # noqa: E402
from antialias.files import atomic_write_text  # noqa: E402

DEFAULT_RESULTS = REPO / "results" / "study"
DEFAULT_OUT = REPO / "docs" / "paper.md"
DEFAULT_SEEDS = REPO.parent / "shared" / "seeds"
DEFAULT_TUTORIAL = REPO / "results" / "transposed_tutorial" / "tutorial.json"
DEFAULT_README = REPO / "README.md"
FIGURES = REPO / "figures"
PROG = "write_paper"
STUDY_COMMAND = "python -m analysis.study"


def render(
    study: dict[str, Any],
    speed: dict[str, Any] | None,
    seed_text: str | None = None,
    figures_dir: Path = FIGURES,
    data: AnswerData | None = None,
) -> str:
    """The paper as Markdown (see :func:`analysis.paper.render`; figures of the clone)."""
    return _render(study, speed, seed_text, figures_dir, data)


def seed_text(folder: Path = DEFAULT_SEEDS) -> str | None:
    """The first ``*.txt`` question file under ``folder``, or ``None``."""
    files = sorted(folder.glob("*.txt")) if folder.is_dir() else []
    return files[0].read_text(encoding="utf-8") if files else None


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (2 for missing results, one line)."""
    p = _cli.ArgumentParser(prog=PROG, description="Write docs/paper.md from the study's results.")
    p.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--seeds", type=Path, default=DEFAULT_SEEDS, help="folder of the question")
    p.add_argument("--tutorial", type=Path, default=DEFAULT_TUTORIAL, help="tutorial.json")
    p.add_argument(
        "--readme",
        type=Path,
        default=None,
        help="README whose verdict rows to update (default: README.md when --out is the "
        "default docs/paper.md)",
    )
    p.add_argument("--no-readme", action="store_true", help="leave the README alone")
    try:
        args = p.parse_args(argv)
    except SystemExit as stop:  # --help (0) or a usage error (2, its line printed)
        return int(stop.code or 0)

    def body() -> int:
        study = read_json(args.results / "study.json", STUDY_COMMAND)
        speed = read_json(args.results / "speed.json", "python -m analysis.speed", False)
        # without the tutorial's results the maths rows say "not checked"
        tutorial = args.tutorial if args.tutorial.is_file() else None
        readme_path = args.readme
        if readme_path is None and args.out.resolve() == DEFAULT_OUT.resolve():
            readme_path = DEFAULT_README
        try:
            data = load_answer_data(args.results, study, tutorial)
            text = render(study, speed, seed_text(args.seeds), data=data)
            readme = None
            if readme_path is not None and not args.no_readme:
                old = readme_path.read_text(encoding="utf-8")
                readme = readme_with_verdicts(old, verdict_table(data))
        except KeyError as err:
            _cli.fail(f"results lack the key {err}; rerun `{STUDY_COMMAND}`")
        atomic_write_text(args.out, text)
        print(f"wrote {args.out}")
        if readme is not None:
            atomic_write_text(readme_path, readme)
            print(f"updated the verdict rows of {readme_path}")
        return 0

    return _cli.run(PROG, body, user_errors=(PaperError, OSError, TypeError))


if __name__ == "__main__":
    sys.exit(main())
