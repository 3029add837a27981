"""Figure 9: where equivariance breaks inside the network, per level, off and on the period.

Reads ``results/study/study.json`` and the per-image sums of ``results/study/layers_<task>``
(``python -m analysis.study``, piece ``layers``): for crop shifts 1..``max_shift`` px (8 in
the committed results), the feature map of every level (encoder blocks ``enc0..2``,
bottleneck, decoder blocks ``dec2..0``; stride ``r`` = 1, 2, 4, 8, 4, 2, 1) of the shifted
input is compared with the reference window's feature map moved by ``shift / r`` pixels,
which is possible only when ``r`` divides the shift. Value: relative RMS error
``sqrt(sum (F_s - shift(F_0))^2 / sum shift(F_0)^2)`` on interior pixels (a wide border
excluded: the zero padding reaches far into the coarse levels), the sums pooled over the
comparable shifts and the test images, then averaged over seeds.

(a) off-period shifts (not multiples of the period 8), one row per design, one column per level
that some off-period shift can be compared at: the seed mean of the relative error and its 95%
interval over seeds and test images (:func:`analysis.study.stats.seed_image_stats`, the
study's resampling); "exact" marks cells exact to rounding
(:func:`antialias.exact.is_exact_relative` for the models' dtype), a dash cells where no stride
divides a shift of the group. By construction a max-pool or blur-pool encoder is exact in the
interior for every shift its stride divides; only the decoder (and APS's adaptive encoder) can
differ. (b) on-period shifts: every stride divides them, so a design without adaptive sampling
is equivariant there by construction, up to rounding and what the zero padding still reaches
past the border; only the APS designs are drawn, and the others' largest residue is stated.
(c) the output level ``dec0``: each design minus the reference (transposed 2x2), with a paired
95% interval (images drawn once for both designs, seeds per design); on-period differences
only where a design samples adaptively (elsewhere both sides are such residues).

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
from figures.style import count, encoder  # noqa: E402

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


def _grid(
    ps, names, strides, period, key, n_boot: int = 1000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(value, lo, hi)``, each ``(designs, levels)``, over the shifts of group ``key``.

    The value is the mean over seeds of the relative error of the images' summed sums; the
    95% interval resamples seeds and test images as the study does
    (:func:`analysis.study.stats.seed_image_stats`). NaN where no shift of the group is
    comparable at that stride.
    """
    from analysis.study.stats import seed_image_stats

    value, lo, hi = (np.full((len(names), len(strides)), np.nan) for _ in range(3))
    for i, v in enumerate(names):
        for j, r in enumerate(strides):
            idx = _groups(ps.shifts, r, period)[key]
            if idx:
                sums = ps.sums[v][:, :, idx, REGION, j].sum(2)  # (seeds, images, 3)
                st = seed_image_stats(sums, _relative, n_boot, seed)
                value[i, j], lo[i, j], hi[i, j] = st["mean"], st["lo"], st["hi"]
    return value, lo, hi


def _short(x: float) -> str:
    """Two digits: ``0.09``, or ``6e-3`` under 0.01 (``0`` for zero)."""
    if x == 0:
        return "0"
    return f"{x:.2f}" if x >= 0.01 else f"{x:.0e}".replace("e-0", "e-")


def _heatmap(
    ax, grid, names, levels, strides, dtype, norm, show_labels, lo=None, hi=None
) -> object:
    """Cells coloured by value; "exact" (grey) at the rounding level of ``dtype``; "-" none.

    With ``lo`` / ``hi`` every measured cell also prints its 95% interval under the value.
    """
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
                text = f"{x:.2f}" if x >= 0.01 else f"{x:.0e}"
                if lo is not None and hi is not None:
                    text = f"{_short(x)}\n[{_short(lo[i, j])}, {_short(hi[i, j])}]"
                ax.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    fontsize=7,
                    linespacing=1.1,
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


def _adaptive(name: str) -> bool:
    """Whether a design's sampling depends on the input (APS): not equivariant by construction
    even at shifts every stride divides."""
    return encoder(name) == "aps"


def _dtype(study: Study, task: str) -> str:
    tasks = study.get("tasks", task)
    return tasks["crop"].get("dtype", "float32") if "crop" in tasks else "float32"


def draw(study: Study) -> plt.Figure:
    """The figure from loaded results (raises ``ResultsError`` if something is missing)."""
    layers = study.get("layers")
    task = layers["task"]
    ps = load_piece_sums(study, "layers", task, field_="layer")
    names = list(ps.sums)
    if not names:
        raise study.fail("expected per-layer results for at least one variant")
    levels, strides = list(layers["levels"]), list(layers["strides"])
    period, dtype = ps.period, _dtype(study, task)
    cfg = study.doc.get("config") or {}
    n_boot, seed = int(cfg.get("n_boot", 1000)), int(cfg.get("seed", 0))
    grids = {k: _grid(ps, names, strides, period, k, n_boot, seed) for k in ("off", "on")}
    vals = np.concatenate([g[0][np.isfinite(g[0]) & (g[0] > 0)] for g in grids.values()])
    lo = max(float(vals.min()) if vals.size else 1e-3, 1e-4)
    norm = LogNorm(vmin=lo, vmax=max(float(vals.max()) if vals.size else 1.0, lo * 10))
    # (a): off-period, the levels where some off-period shift is comparable
    cols = [j for j in range(len(levels)) if np.isfinite(grids["off"][0][:, j]).any()]
    # (b): on-period, only the designs not equivariant by construction there
    adaptive = [i for i, v in enumerate(names) if _adaptive(v)]
    rest = [i for i in range(len(names)) if i not in adaptive]
    on = grids["on"][0]
    fig = plt.figure(
        figsize=(7.0, 2.2 + 0.3 * len(names) + 0.3 * max(len(adaptive), 1) + 2.4),
        layout="constrained",
    )
    grid = fig.add_gridspec(
        3, 1, height_ratios=[0.3 * len(names) + 0.4, 0.3 * max(len(adaptive), 1) + 0.4, 2.4]
    )
    ax = fig.add_subplot(grid[0])
    image = _heatmap(
        ax,
        grids["off"][0][:, cols],
        names,
        [levels[j] for j in cols],
        [strides[j] for j in cols],
        dtype,
        norm,
        True,
        grids["off"][1][:, cols],
        grids["off"][2][:, cols],
    )
    dropped = [levels[j] for j in range(len(levels)) if j not in cols]
    ax.set_title(
        f"(a) shifts off the period {period} px: seed mean [95% interval over seeds and images]"
        "\ngrey: exact to rounding (by construction for a max- or blur-pool encoder)"
        + (f"; {', '.join(dropped)}: no shift comparable" if dropped else ""),
        fontsize=8,
    )
    fig.colorbar(image, ax=ax, shrink=0.9, aspect=20, pad=0.01).set_label(
        "relative RMS feature error\n(interior)"
    )
    bx = fig.add_subplot(grid[1])
    if adaptive:
        _heatmap(
            bx,
            on[adaptive],
            [names[i] for i in adaptive],
            levels,
            strides,
            dtype,
            norm,
            True,
            grids["on"][1][adaptive],
            grids["on"][2][adaptive],
        )
    else:
        bx.axis("off")
    others = ""
    if rest:
        sub = np.where(np.isfinite(on[rest]), on[rest], -1.0)
        i, j = np.unravel_index(int(np.argmax(sub)), sub.shape)
        worst = max(float(sub[i, j]), 0.0)
        where = f" ({VARIANT_LABEL.get(names[rest[i]], names[rest[i]])}, {levels[j]})"
        # every stride divides the shift: in exact arithmetic only what the zero padding still
        # reaches past the border can differ (transposed 2x2, the smallest reach, measures 0)
        others = (
            f"the other {len(rest)} designs: every stride divides the shift, so only the zero "
            f"padding's reach\n(and rounding) can differ: largest residue {worst:.0e}"
            + (where if worst > 0 else "")
        )
    bx.set_title(
        f"(b) shifts on the period {period} px, designs with adaptive sampling (APS) only;"
        f"\n{others}",
        fontsize=8,
    )
    ref = reference(names)
    out = len(levels) - 1  # the last decoder level, which the output head reads
    stat = lambda s: _relative(s[..., out, :])  # noqa: E731
    series = []
    for key in ("off", "on"):
        idx = _groups(ps.shifts, strides[out], period)[key]
        if not idx:
            continue
        rows = paired_to_reference(study, ps, ref, idx, region=REGION, stat=stat, scale=1.0)
        if key == "on":  # two residues of designs equivariant by construction: not drawn
            rows = {v: d for v, d in rows.items() if _adaptive(v) or _adaptive(ref)}
        series.append((rows, key == "off"))
    cx = fig.add_subplot(grid[2])
    difference_rows(cx, [v for v in names if v != ref], series)
    cx.set_xlabel(
        f"(c) relative RMS error at {levels[out]} (interior), design - "
        f"{VARIANT_LABEL.get(ref, ref)}\npaired 95% interval (images drawn once for both, seeds "
        "per design); < 0 = more equivariant"
    )
    cx.legend(
        handles=series_handles(
            [
                ("off-period shifts (colour: family)", True),
                ("on-period shifts (adaptive designs only)", False),
            ]
        ),
        loc="lower right",
    )
    seeds = max(len(s) for s in ps.checkpoints.values())
    fig.suptitle(
        f"Per-level equivariance, {TASK_LABEL.get(task, task)}: crop shifts 1-"
        f"{int(np.abs(ps.shifts).max())} px, {count(layers['n_images'], 'test image')} x up to "
        f"{count(seeds, 'seed')};\ninterior: >= {layers.get('border', '?')} px from the edges. "
        "Each level's map is compared with the unshifted one moved by shift / stride,\n"
        "possible only where the stride divides the shift (dash: no such shift).",
        fontsize=8,
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
