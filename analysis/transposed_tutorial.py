"""Generate docs/transposed_convolution.md: a tutorial whose every number and figure is computed.

Run::

    python analysis/transposed_tutorial.py          # or: python -m analysis.transposed_tutorial

Steps: :func:`~analysis.tutorial.compute.run` computes everything (no I/O, no printing);
:func:`~analysis.tutorial.compute.save` writes ``results/transposed_tutorial/tutorial.json``
(scalars, tables, provenance) and ``tutorial.npz`` (arrays); the figure scripts
``figures/fig_transposed_*.py`` draw only from those two files;
:func:`~analysis.tutorial.page.render_markdown` writes the page from the same result. Nothing
in the page is typed by hand except prose.

What is computed (all float64, single thread, fixed seeds):

- shape arithmetic for the common U-Net settings, and an impossible request;
- the integer walkthrough of ``analysis/explain_transposed_conv.py`` (4x4 input, kernel 3,
  stride 2, padding 1, output padding 1);
- the three views (zero insertion, matrix, polyphase) against ``F.conv_transpose2d`` over a
  sweep, and the matrix's transpose against autograd;
- overlap counts (kernel 3 vs 4 at stride 2), phase gains, responses at the DC images;
- the checkerboard of each up-sampler at initialisation (default, bilinear, ICNR, resize-conv)
  on a flat input, over several seeds;
- how many kernels each family can express (ranks), and a least-squares fit of every family
  to real image detail (``skimage.data.camera`` reduced 2x, then up-sampled back), per way of
  making the input (average-pooled, decimated, triangle-filtered);
- the U-Net up-step ``ConvTranspose2d(C, C/2, 2, stride=2)`` with a hand-checkable example,
  and the initialisation facts (:mod:`analysis.tutorial.unet_layer`).
"""

from __future__ import annotations

import datetime
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # for `python analysis/transposed_tutorial.py`
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from analysis.tutorial.compute import RESULTS, TutorialConfig, run, save  # noqa: E402
from analysis.tutorial.page import render_markdown  # noqa: E402
from antialias import _cli  # noqa: E402
from antialias.files import atomic_write_text, read_result_set  # noqa: E402

__all__ = ["DOC", "RESULTS", "TutorialConfig", "main", "render_markdown", "run", "save"]

PROG = "transposed_tutorial"
DOC = ROOT / "docs" / "transposed_convolution.md"
FIGURE_SCRIPTS = (
    "fig_transposed_walkthrough",
    "fig_transposed_views",
    "fig_transposed_overlap",
    "fig_transposed_spectrum",
)


def _draw_figures() -> str | None:
    """Run each figure script on the saved results; the first failure's one-line report."""
    for script in FIGURE_SCRIPTS:
        proc = subprocess.run(
            [sys.executable, str(ROOT / "figures" / f"{script}.py")],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            return f"{script} failed: {proc.stderr.strip().splitlines()[-1:]}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Compute, save results, draw the figures, write the page. Returns the exit status."""
    ap = _cli.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--no-figures", action="store_true", help="skip drawing the figures")
    try:
        args = ap.parse_args(argv)
    except SystemExit as stop:  # --help (0) or a usage error (2, its line printed)
        return int(stop.code or 0)

    def body() -> int:
        if args.trials < 1:
            _cli.fail(f"expected --trials >= 1, got {args.trials}")
        torch.set_num_threads(1)
        result = run(TutorialConfig(seed=args.seed, trials=args.trials))
        js, _ = save(result)
        failed = None if args.no_figures else _draw_figures()
        if failed:  # a bug in a figure script, not a user mistake: exit 1
            print(f"{PROG}: error: {failed}", file=sys.stderr)
            return 1
        meta, _ = read_result_set(js)
        atomic_write_text(DOC, render_markdown(result, meta))
        print(
            f"wrote {js.relative_to(ROOT)}, {DOC.relative_to(ROOT)}"
            f"{'' if args.no_figures else ', figures/fig_transposed_*.{png,pdf}'}"
            f" ({datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC)"
        )
        return 0

    return _cli.run(PROG, body)


if __name__ == "__main__":
    sys.exit(main())
