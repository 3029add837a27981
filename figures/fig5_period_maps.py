"""Figure 5: shift consistency over every offset of the U-Net's period, one heat map per variant.

Reads ``results/study/study.{json,npz}`` (``python -m analysis.study``, piece ``period``): the
input is shifted circularly by every ``(dy, dx)`` in ``[0, 2^L)^2`` (``L = 3`` factor-2
down-samplings, period 8 px) and compared with the circularly shifted prediction, on the
interior (pixels at least 16 px from the frame edge and from the wrap-around seam, so that the
zero padding of most variants plays no part). Cell ``(dy, dx)``: share of pixels whose label
changes (%, segmentation; log colour scale shared by a task's panels) or EQ-T PSNR (dB,
denoising). The ``(0, 0)`` cell is the reference itself (hatched); exactly equivariant cells
are white and marked ``0`` (no label changes) or ``inf`` (infinite PSNR). Averaged over the
seeds the study used for this piece.

Usage: ``python figures/fig5_period_maps.py [--results DIR] [--out DIR]``
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm, Normalize
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from figures._main import figure_main  # noqa: E402
from figures._study_common import (  # noqa: E402
    TASK_LABEL,
    VARIANT_LABEL,
    Study,
    consistency_axis,
    load_study,
)

NAME = "fig5_period_maps"
REGION = "interior"
COLS = 5


def draw(study: Study) -> plt.Figure:
    """The figure from loaded results (raises ``ResultsError`` if something is missing)."""
    tasks = study.tasks_with("period")
    blocks = []
    for task in tasks:
        names = study.variants(task, "period")
        blocks.append((task, names, -(-len(names) // COLS)))
    rows = sum(b[2] for b in blocks)
    fig = plt.figure(figsize=(7.6, 1.75 * rows + 0.5 * len(blocks)), layout="constrained")
    subfigs = np.atleast_1d(
        fig.subfigures(len(blocks), 1, height_ratios=[b[2] + 0.3 for b in blocks])
    )
    for sub, (task, names, nrows) in zip(subfigs, blocks):
        per = study.get("tasks", task, "period")
        label, tf, log = consistency_axis(per["kind"])
        maps = {v: tf(study.array(f"period_{task}__{v}__map_{REGION}", ndim=2)) for v in names}
        vals = np.concatenate([m[np.isfinite(m)].ravel() for m in maps.values()])
        if vals.size == 0:
            vals = np.array([1.0])
        if log:
            positive = vals[vals > 0]
            lo = float(positive.min()) if positive.size else 1e-3
            norm = LogNorm(vmin=lo, vmax=max(float(vals.max()), lo * 10))
            cmap = plt.get_cmap("viridis")
        else:
            norm = Normalize(vmin=float(vals.min()), vmax=float(vals.max()))
            cmap = plt.get_cmap("viridis_r")  # low PSNR (bad) bright, as above
        cmap = cmap.with_extremes(bad="#FFFFFF")
        axes = sub.subplots(nrows, COLS, squeeze=False)
        image = None
        for k, ax in enumerate(axes.ravel()):
            if k >= len(names):
                ax.set_visible(False)
                continue
            v = names[k]
            m = maps[v]
            p = m.shape[0]
            # exactly consistent cells (no label changes; infinite EQ-T PSNR): white, marked
            exact = (m == 0) if log else np.isinf(m)
            shown = np.where(exact | ~np.isfinite(m), np.nan, m)
            image = ax.imshow(shown, cmap=cmap, norm=norm, origin="upper")
            for dy, dx in zip(*np.nonzero(exact)):
                if dy == 0 and dx == 0:
                    continue  # the reference cell, hatched
                ax.text(
                    dx,
                    dy,
                    "0" if log else "inf",
                    ha="center",
                    va="center",
                    fontsize=4.5,
                    color="#555",
                )
            ax.add_patch(
                plt.Rectangle((-0.5, -0.5), 1, 1, fill=False, hatch="////", lw=0, color="#777")
            )
            ax.set_xticks([0, p // 2, p - 1])
            ax.set_yticks([0, p // 2, p - 1])
            ax.tick_params(labelsize=6, length=2)
            ax.grid(False)
            ax.set_title(VARIANT_LABEL.get(v, v), fontsize=6.5)
            if k % COLS == 0:
                ax.set_ylabel("dy (px)", fontsize=7)
            if k + COLS >= len(names):
                ax.set_xlabel("dx (px)", fontsize=7)
        bar = sub.colorbar(image, ax=axes, shrink=0.9, aspect=25, pad=0.02)
        bar.set_label(label.replace(" (% of", "\n(% of"), fontsize=7)
        bar.ax.tick_params(labelsize=6)
        if log:
            bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            bar.ax.yaxis.set_minor_formatter(NullFormatter())
            bar.ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        seeds = max(len(e["seeds"]) for e in per["variants"].values())
        size = per["frame_sizes"][0]
        sub.suptitle(
            f"{TASK_LABEL.get(task, task)}: circular shifts by every (dy, dx) of the period, "
            f"{per['n_images']} image(s) of {size[0]}x{size[1]} px, {seeds} seed(s), "
            "interior pixels",
            fontsize=8,
        )
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
