"""Figure 9: where equivariance breaks inside the network, per level, off and on the period.

Reads ``results/study/study.json`` and the per-image sums of ``results/study/layers_<task>``
(``python -m analysis.study``, piece ``layers``): for crop shifts 1..16 px, the feature map of
every level (encoder blocks ``enc0..2``, bottleneck, decoder blocks ``dec2..0``; stride ``r`` =
1, 2, 4, 8, 4, 2, 1) of the shifted input is compared with the reference window's feature map
moved by ``shift / r`` pixels, which is possible only when ``r`` divides the shift. Value:
relative RMS error ``sqrt(sum (F_s - shift(F_0))^2 / sum shift(F_0)^2)`` on interior pixels (a
wide border excluded: the zero padding reaches far into the coarse levels), pooled over the
comparable shifts and the test images and seeds.

(a) off-period shifts (not multiples of the period 8) and (b) on-period shifts, one row per
design, one column per level; "exact" marks cells exact to rounding
(:func:`antialias.exact.is_exact_relative` for the models' dtype), a dash cells where no stride
divides a shift of the group. By construction a max-pool or blur-pool encoder is exact in the
interior for every shift its stride divides; only the decoder (and APS's adaptive encoder)
can differ. (c) the output level ``dec0``: each design minus the reference (transposed 2x2),
with a paired 95% interval (images drawn once for both designs, seeds per design).

Usage: ``python figures/fig9_per_layer.py [--results DIR] [--out DIR]``
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from antialias.exact import is_exact_relative  # noqa: E402
from figures._main import figure_main  # noqa: E402
from figures._paired import difference_rows, series_handles  # noqa: E402
from figures._study_common import (  # noqa: E402
    TASK_LABEL,
    VARIANT_LABEL,
    Study,
    checkpoint_note,
    load_piece_sums,
    load_study,
    paired_to_reference,
    reference,
)

NAME = "fig9_per_layer"
REGION = 1  # interior
EXACT_COLOR = "#E8E8E8"


def _relative(sums: np.ndarray) -> np.ndarray:
    """Relative RMS error of summed ``[sum err^2, sum ref^2, count]`` (NaN without a reference)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sums[..., 1] > 0, np.sqrt(sums[..., 0] / sums[..., 1]), np.nan)


def _groups(shifts: np.ndarray, stride: int, period: int) -> dict[str, list[int]]:
    """Non-zero shifts a level's stride divides, split into off- and on-period."""
    d = [int(max(abs(a), abs(b))) for a, b in shifts.tolist()]
    ok = [
        i
        for i, (a, b) in enumerate(shifts.tolist())
        if d[i] and int(a) % stride == 0 and int(b) % stride == 0
    ]
    on = [i for i in ok if all(int(x) % period == 0 for x in shifts[i])]
    return {"off": [i for i in ok if i not in on], "on": on}


def _grid(ps, names, strides, period, key) -> np.ndarray:
    """``(designs, levels)`` pooled relative error over the group ``key`` (NaN: none)."""
    out = np.full((len(names), len(strides)), np.nan)
    for i, v in enumerate(names):
        total = ps.sums[v].sum((0, 1))  # (shifts, regions, levels, 3)
        for j, r in enumerate(strides):
            idx = _groups(ps.shifts, r, period)[key]
            if idx:
                out[i, j] = float(_relative(total[idx, REGION, j].sum(0)))
    return out


def _heatmap(ax, grid, names, levels, strides, dtype, norm, show_labels) -> object:
    exact = np.vectorize(lambda x: bool(np.isfinite(x) and is_exact_relative(float(x), dtype)))(
        grid
    )
    shown = np.where(exact | ~np.isfinite(grid), np.nan, grid)
    cmap = plt.get_cmap("viridis").with_extremes(bad="#FFFFFF")
    image = ax.imshow(shown, cmap=cmap, norm=norm, aspect="auto")
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            x = grid[i, j]
            if not np.isfinite(x):
                ax.text(j, i, "-", ha="center", va="center", fontsize=7, color="#666666")
            elif exact[i, j]:
                ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, color=EXACT_COLOR, lw=0))
                ax.text(j, i, "exact", ha="center", va="center", fontsize=7, color="#444444")
            else:
                light = norm(x) < 0.55  # dark viridis cells get white text
                ax.text(
                    j,
                    i,
                    f"{x:.2f}" if x >= 0.01 else f"{x:.0e}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if light else "black",
                )
    ax.set_xticks(range(len(levels)))
    # long level names are cut to 4 letters (bottleneck -> bott.) so the ticks stay apart
    short = [n if len(n) <= 5 else n[:4] + "." for n in levels]
    ax.set_xticklabels([f"{n}\n/{s}" for n, s in zip(short, strides)])
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels([VARIANT_LABEL.get(v, v) for v in names] if show_labels else [])
    ax.tick_params(length=0)
    ax.grid(False)
    return image


def draw(study: Study) -> plt.Figure:
    """The figure from loaded results (raises ``ResultsError`` if something is missing)."""
    layers = study.get("layers")
    task = layers["task"]
    ps = load_piece_sums(study, "layers", task, field_="layer")
    names = list(ps.sums)
    if not names:
        raise study.fail("expected per-layer results for at least one variant")
    levels, strides = layers["levels"], layers["strides"]
    period = ps.period
    dtype = (
        study.get("tasks", task, "crop").get("dtype", "float32")
        if "crop" in study.get("tasks", task)
        else "float32"
    )
    grids = {k: _grid(ps, names, strides, period, k) for k in ("off", "on")}
    vals = np.concatenate([g[np.isfinite(g) & (g > 0)] for g in grids.values()])
    lo = max(float(vals.min()) if vals.size else 1e-3, 1e-4)
    norm = LogNorm(vmin=lo, vmax=max(float(vals.max()) if vals.size else 1.0, lo * 10))
    fig = plt.figure(figsize=(7.0, 7.6), layout="constrained")
    grid = fig.add_gridspec(2, 2, height_ratios=[1.25, 1])
    image = None
    titles = {
        "off": f"(a) shifts off the period {period} px",
        "on": f"(b) shifts on the period {period} px",
    }
    for j, key in enumerate(("off", "on")):
        ax = fig.add_subplot(grid[0, j])
        image = _heatmap(ax, grids[key], names, levels, strides, dtype, norm, j == 0)
        ax.set_title(titles[key])
    fig.colorbar(image, ax=fig.axes, shrink=0.8, aspect=25, pad=0.01).set_label(
        "relative RMS feature error (interior)"
    )
    ref = reference(names)
    out = len(levels) - 1  # the last decoder level, which the output head reads
    stat = lambda s: _relative(s[..., out, :])  # noqa: E731
    series = []
    for key in ("off", "on"):
        idx = _groups(ps.shifts, strides[out], period)[key]
        if idx:
            rows = paired_to_reference(study, ps, ref, idx, region=REGION, stat=stat, scale=1.0)
            series.append((rows, key == "off"))
    bx = fig.add_subplot(grid[1, :])
    difference_rows(bx, [v for v in names if v != ref], series)
    bx.set_xlabel(
        f"(c) relative RMS error at {levels[out]} (interior), design - "
        f"{VARIANT_LABEL.get(ref, ref)}\npaired 95% interval; < 0 = more equivariant"
    )
    bx.legend(
        handles=series_handles(
            [("off-period shifts (colour: family)", True), ("on-period shifts", False)]
        ),
        loc="lower right",
    )
    seeds = max(len(s) for s in ps.checkpoints.values())
    fig.suptitle(
        f"Per-level equivariance, {TASK_LABEL.get(task, task)}: crop shifts 1-"
        f"{int(np.abs(ps.shifts).max())} px, {layers['n_images']} test images, up to {seeds} "
        f"seed(s);\ninterior: >= {layers.get('border', '?')} px from the edges. A max-pool or "
        "blur-pool encoder is exact by construction where its stride\ndivides the shift; "
        "dash: no shift of the group is comparable at that stride.",
        fontsize=7.5,
    )
    fig.supxlabel("checkpoints: " + checkpoint_note(ps.checkpoints), fontsize=7)
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
