"""Figure 5: shift consistency over every offset of the U-Net's period, one heat map per variant.

Reads ``results/study/study.{json,npz}`` (``python -m analysis.study``, piece ``period``): the
input is shifted circularly by every ``(dy, dx)`` in ``[0, 2^L)^2`` (``L = 3`` factor-2
down-samplings, period 8 px) and compared with the circularly shifted prediction, on the
interior (pixels at least 16 px from the frame edge and from the wrap-around seam, so that the
zero padding of most variants plays no part). Cell ``(dy, dx)``: share of pixels whose label
changes (%, segmentation; log colour scale shared by a task's panels) or EQ-T PSNR (dB,
denoising). The ``(0, 0)`` cell is the reference itself (hatched); cells that are equivariant
*exact to rounding* (:mod:`antialias.exact`, never ``== 0``: BLAS rounds differently by CPU) are
white and marked ``=``: no label changes (the share of changed labels, a float64 ratio of
counts, is at float64 rounding level) or an EQ-T PSNR at the rounding level of the dtype the
study recorded (float32 if it recorded none: 90.3 dB). Averaged over the seeds the study used
for this piece.

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
from antialias.exact import exact_psnr_db, is_exact_psnr, is_exact_relative  # noqa: E402
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
EXACT_MARK = "="


def exact_cells(values: np.ndarray, metric_kind: str, dtype: str = "float32") -> np.ndarray:
    """Which cells of a period map are equivariant exactly to rounding.

    Args:
        values: the map as the study recorded it: label agreement in [0, 1] (segmentation) or
            EQ-T PSNR in dB (regression, ``inf`` for zero error); NaN for "nothing compared".
        metric_kind: ``"segmentation"`` or ``"regression"``.
        dtype: the dtype the model ran in (PSNR threshold :func:`antialias.exact.exact_psnr_db`).

    Returns:
        A boolean array of ``values``' shape; NaN cells are never exact.

    Agreement is a ratio of pixel counts computed in float64, so "no label changes" is
    ``1 - agreement`` at float64 rounding level whatever the model's dtype: one changed pixel
    of a million (1e-6) is a real change, never rounding.

    >>> exact_cells(np.array([1.0, 1.0 - 1e-17, 1.0 - 1e-6, np.nan]), "segmentation").tolist()
    [True, True, False, False]
    >>> exact_cells(np.array([np.inf, 342.0, 60.0, np.nan]), "regression", "float64").tolist()
    [True, True, False, False]
    """
    values = np.asarray(values, dtype=np.float64)
    if metric_kind == "segmentation":
        flat = [is_exact_relative(abs(1.0 - a), "float64") for a in values.ravel()]
    else:
        flat = [is_exact_psnr(float(v), dtype) for v in values.ravel()]
    return np.array(flat, dtype=bool).reshape(values.shape)


def recorded_dtype(study: Study, task: str) -> str:
    """The dtype of the period piece's model run, as recorded (``float32`` if it is not)."""
    per = study.get("tasks", task, "period")
    config = study.doc.get("config") if isinstance(study.doc.get("config"), dict) else {}
    return str(per.get("dtype") or config.get("dtype") or "float32").removeprefix("torch.")


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
        dtype = recorded_dtype(study, task)
        raw = {v: study.array(f"period_{task}__{v}__map_{REGION}", ndim=2) for v in names}
        exact = {v: exact_cells(r, per["kind"], dtype) for v, r in raw.items()}
        maps = {v: tf(r) for v, r in raw.items()}
        # exact cells are white, so they do not stretch the colour scale (a PSNR of 350 dB)
        vals = np.concatenate([m[np.isfinite(m) & ~exact[v]].ravel() for v, m in maps.items()])
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
            # cells consistent exactly to rounding: white, marked
            shown = np.where(exact[v] | ~np.isfinite(m), np.nan, m)
            image = ax.imshow(shown, cmap=cmap, norm=norm, origin="upper")
            for dy, dx in zip(*np.nonzero(exact[v])):
                if dy == 0 and dx == 0:
                    continue  # the reference cell, hatched
                ax.text(
                    dx,
                    dy,
                    EXACT_MARK,
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
            f"interior pixels\nwhite, '{EXACT_MARK}': exact to rounding ("
            + (
                "no label changes"
                if log
                else f"PSNR >= {exact_psnr_db(dtype):.1f} dB, the rounding level of {dtype}"
            )
            + ")",
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
