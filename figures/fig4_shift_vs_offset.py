"""Figure 4: shift consistency against the size of a realistic (crop) shift, every variant.

Reads ``results/study/study.{json,npz}`` (``python -m analysis.study``, piece ``crop``): for
every task, windows cut at horizontal offsets 0..16 px from the same test images; the
prediction of the shifted window is compared with the moved prediction of the reference window
on their overlap. Segmentation: share of pixels whose label changes (%, log axis, lower is
better); denoising: EQ-T PSNR (dB, higher is better). Lines: mean over seeds; bands: 95%
bootstrap interval over seeds and test images. Top row: every compared pixel; bottom row: the
interior (at least 16 px from either window's edge), where zero padding plays no part.

Usage: ``python figures/fig4_shift_vs_offset.py [--results DIR] [--out DIR]``
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

NAME = "fig4_shift_vs_offset"


def draw(study: Study) -> plt.Figure:
    """The figure from loaded results (raises ``ResultsError`` if something is missing)."""
    tasks = study.tasks_with("crop")
    fig, axes = plt.subplots(2, len(tasks), figsize=(7.6, 5.8), squeeze=False, sharex=True)
    handles: dict[str, object] = {}
    for j, task in enumerate(tasks):
        crop = study.get("tasks", task, "crop")
        label, tf, log = consistency_axis(crop["kind"])
        label = label.replace(" (% of compared pixels)", " (%)")
        shifts = study.array(f"crop_{task}__shifts", ndim=2)
        dx = shifts[:, 1]
        keep = dx != 0  # the zero shift is the reference itself: nothing to compare
        for i, region in enumerate(("all", "interior")):
            ax = axes[i, j]
            shown = []
            for v in study.variants(task, "crop"):
                base = f"crop_{task}__{v}__{region}__"
                mean, lo, hi = (study.array(base + k, ndim=1)[keep] for k in ("mean", "lo", "hi"))
                y, ylo, yhi = tf(mean), tf(lo), tf(hi)
                ylo, yhi = np.minimum(ylo, yhi), np.maximum(ylo, yhi)
                style = look(v)
                (line,) = ax.plot(dx[keep], y, markersize=2.8, linewidth=1.0, **style)
                ax.fill_between(dx[keep], ylo, yhi, color=style["color"], alpha=0.12, lw=0)
                handles.setdefault(v, line)
                shown += [y, ylo, yhi]
            use_log = log and can_log(shown)
            if use_log:
                log_axis(ax, "y")
            ax.set_ylim(*finite_limits(shown, use_log))
            period = crop.get("period")
            if period:
                for m in range(period, int(dx.max()) + 1, period):
                    ax.axvline(m, color="#999999", linewidth=0.8, linestyle=":", zorder=0)
            ax.set_xlim(0.5, dx[keep].max() + 0.5)
            ax.set_xticks(np.arange(0, dx.max() + 1, 4))
            ax.tick_params(labelsize=7)
            if i == 1:
                ax.set_xlabel("horizontal crop shift (px)", fontsize=8)
            where = "all compared pixels" if region == "all" else "interior (>= 16 px from edges)"
            ax.set_ylabel(f"{label}\n{where}", fontsize=7.5)
            if i == 0:
                seeds = max(len(e["seeds"]) for e in crop["variants"].values())
                ax.set_title(
                    f"{TASK_LABEL.get(task, task)}\n{crop['n_images']} test "
                    f"image{'s' if crop['n_images'] != 1 else ''}, "
                    f"{seeds} seed{'s' if seeds > 1 else ''}",
                    fontsize=8,
                )
    fig.legend(
        list(handles.values()),
        [h.get_label() for h in handles.values()],
        loc="lower center",
        ncol=4,
        bbox_to_anchor=(0.5, 0.0),
        fontsize=7,
    )
    fig.suptitle(
        "Shift consistency vs crop shift (lower % / higher dB = more consistent; dotted: "
        f"multiples of the period {study.get('tasks', tasks[0], 'crop', 'period')} px; "
        "bands: 95% CI)",
        fontsize=8.5,
    )
    fig.tight_layout(rect=(0, 0.1, 1, 0.97), h_pad=0.6, w_pad=0.8)
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
