"""Figure 6: equivariance to sub-pixel shifts, EQ-T PSNR against the shift, every variant.

Reads ``results/study/study.{json,npz}`` (``python -m analysis.study``, piece ``fractional``):
the input is shifted horizontally by ``k/8`` px with a band-limited Lanczos-3 kernel (as
StyleGAN3's EQ-T_frac), the output of the unshifted input by the same operator, and the two are
compared where the kernel stays inside the frame. Denoising: EQ-T PSNR (dB, data range 1,
higher is better); segmentation (if present, ``--full``): share of pixels whose label changes.
Lines: mean over seeds; bands: 95% bootstrap interval over seeds and test images.

Usage: ``python figures/fig6_fractional.py [--results DIR] [--out DIR]``
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from figures._main import figure_main  # noqa: E402
from figures._study_common import (  # noqa: E402
    TASK_LABEL,
    Study,
    can_log,
    consistency_axis,
    finite_limits,
    load_study,
    log_axis,
    look,
)

NAME = "fig6_fractional"


def draw(study: Study) -> plt.Figure:
    """The figure from loaded results (raises ``ResultsError`` if something is missing)."""
    tasks = study.tasks_with("fractional")
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.6 * len(tasks) + 0.8, 3.6), squeeze=False)
    handles: dict[str, object] = {}
    for j, task in enumerate(tasks):
        ax = axes[0, j]
        frac = study.get("tasks", task, "fractional")
        label, tf, log = consistency_axis(frac["kind"])
        shifts = study.array(f"fractional_{task}__shifts", ndim=2)
        dx = shifts[:, 1]
        keep = dx != 0
        shown = []
        for v in study.variants(task, "fractional"):
            base = f"fractional_{task}__{v}__all__"
            mean, lo, hi = (study.array(base + k, ndim=1)[keep] for k in ("mean", "lo", "hi"))
            y, ylo, yhi = tf(mean), tf(lo), tf(hi)
            ylo, yhi = np.minimum(ylo, yhi), np.maximum(ylo, yhi)
            style = look(v)
            (line,) = ax.plot(dx[keep], y, markersize=3.5, **style)
            ax.fill_between(dx[keep], ylo, yhi, color=style["color"], alpha=0.12, lw=0)
            handles.setdefault(v, line)
            shown += [y, ylo, yhi]
        use_log = log and can_log(shown)
        if use_log:
            log_axis(ax, "y")
        ax.set_ylim(*finite_limits(shown, use_log))
        ax.set_xlim(0, 1.02)
        ax.set_xticks(dx)
        ax.set_xticklabels([f"{d:g}" for d in dx], fontsize=7)
        ax.set_xlabel("horizontal sub-pixel shift (px, Lanczos-3)")
        ax.set_ylabel(label + ("  (higher = more equivariant)" if not log else ""))
        seeds = max(len(e["seeds"]) for e in frac["variants"].values())
        ax.set_title(
            f"{TASK_LABEL.get(task, task)}: {frac['n_images']} test images, {seeds} seed(s)"
        )
    fig.legend(
        list(handles.values()),
        [h.get_label() for h in handles.values()],
        loc="center left",
        bbox_to_anchor=(1.0, 0.5),
        fontsize=7.5,
    )
    fig.tight_layout()
    return fig


def main(argv: Sequence[str] | None = None) -> int:
    """Command line; returns 0, or 2 with one line on stderr for missing/malformed results."""
    return figure_main(
        argv,
        name=NAME,
        description=__doc__.splitlines()[0],
        folder="study",
        load=load_study,
        draw=draw,
    )


if __name__ == "__main__":
    sys.exit(main())
