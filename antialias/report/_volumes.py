"""What a report shows of volumes (3-D models): per-axis results and slices of the period map.

- :func:`axis_rows`: per model and axis (z, y, x), the shifts along that axis only (the others
  zero): how many, the median and the worst value of the primary metric, and at how many the
  model is exact (EQ-T PSNR at the rounding level of the result's dtype,
  :func:`antialias.exact.is_exact_psnr`; or every voxel's label agreeing). A volume is often
  anisotropic (a model that pools only in-plane is exactly equivariant along z): the table
  says it per axis.
- :func:`per_axis_figure`: the primary metric against the shift along each axis alone.
- :func:`period_slices_figure`: the 3-D period map ``(P_z, P_y, P_x)`` as its three central
  slices, the planes through the zero shift (``dz = 0``, ``dy = 0``, ``dx = 0`` mod P): the
  period map centred on the zero shift, cut where its centre is. A cell whose PSNR is ``inf``
  (zero error) is drawn in the top colour and labelled ``exact``; a blank cell had no shift.

What does not live here: the 2-D figures and the shared numbers (``_figures.py``,
``_data.py``). Nothing here reads files.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from antialias.report._data import fmt, is_volume, model_label, primary_metric, shift_axes

__all__ = ["AXES", "axis_rows", "axis_shifts", "period_slices_figure", "per_axis_figure"]

#: The axes of a volume, as the shift keys name them.
AXES = (("dz", "z"), ("dy", "y"), ("dx", "x"))

# (title, the axis fixed at 0, the two axes shown as rows / columns)
_SLICES = (("dz = 0", 0, (1, 2)), ("dy = 0", 1, (0, 2)), ("dx = 0", 2, (0, 1)))


def _value(entry: dict[str, Any], key: str) -> float:
    v = entry.get(key)
    return math.nan if v is None else float(v)


def axis_shifts(rec: dict[str, Any], axis: str) -> tuple[np.ndarray, np.ndarray]:
    """``(shift along axis, primary metric)`` of the non-zero shifts along ``axis`` only."""
    metric = primary_metric(rec)
    others = [k for k in shift_axes(rec) if k != axis]
    picked = [
        e for e in rec["shifts"] if e.get(axis) not in (0, None) and all(e[k] == 0 for k in others)
    ]
    picked.sort(key=lambda e: float(e[axis]))
    return (
        np.asarray([float(e[axis]) for e in picked]),
        np.asarray([_value(e, metric) for e in picked]),
    )


def _exact(values: np.ndarray, metric: str, dtype: str) -> int:
    if metric == "psnr":
        from antialias.exact import is_exact_psnr

        return sum(is_exact_psnr(float(v), dtype) for v in values)
    return int((values == 1.0).sum())  # a ratio of counts: 1 means every label agrees


def axis_rows(doc: dict[str, Any]) -> list[dict[str, str]]:
    """Per volume model and axis: shifts along that axis only, median, worst, exact count."""
    rows = []
    dtype = str((doc.get("config") or {}).get("dtype") or "float32")
    for rec in doc["results"]:
        if not is_volume(rec):
            continue
        metric = primary_metric(rec)
        for key, name in AXES:
            x, y = axis_shifts(rec, key)
            row = {"model": model_label(rec), "axis": name, "metric": metric}
            row["shifts"] = str(len(x))
            if not len(x):
                row.update(median="n/a", worst="n/a", exact="n/a")
                rows.append(row)
                continue
            filled = np.where(np.isnan(y), -np.inf, y)
            j = int(np.argmin(filled))
            finite = y[~np.isnan(y)]
            row["median"] = fmt(float(np.median(finite)) if finite.size else None, metric)
            row["worst"] = f"{fmt(y[j], metric)} at {key}={x[j]:g}"
            row["exact"] = f"{_exact(y, metric, dtype)} of {len(x)}"
            rows.append(row)
    return rows


def _metric_name(metric: str) -> str:
    return "label agreement" if metric == "agreement" else "EQ-T PSNR (dB)"


def per_axis_figure(doc: dict[str, Any], width: float, max_panels: int) -> Figure | None:
    """One panel per axis: the primary metric against the shift along that axis alone."""
    import matplotlib.pyplot as plt

    recs = [r for r in doc["results"] if is_volume(r)][:max_panels]
    curves = [[axis_shifts(r, key) for key, _ in AXES] for r in recs]
    if not any(len(x) for per in curves for x, _ in per):
        return None
    fig, axes = plt.subplots(1, 3, figsize=(width, 3.6 + 0.18 * math.ceil(len(recs) / 3)))
    colors = plt.get_cmap("tab10" if len(recs) <= 10 else "tab20")
    n_inf = 0
    for i, per in enumerate(curves):
        for ax, (x, y) in zip(axes, per):
            n_inf += int(np.isinf(y).sum())
            shown = np.where(np.isfinite(y), y, np.nan)  # exact (inf) is stated, not drawn
            ax.plot(x, shown, "-o", ms=3, lw=1, color=colors(i % colors.N))
    for ax, (key, name) in zip(axes, AXES):
        ax.set_title(f"along {name} only", fontsize=10)
        ax.set_xlabel(f"shift {key} (voxels; the others 0)", fontsize=9)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    axes[0].set_ylabel(_metric_name(primary_metric(recs[0])), fontsize=9)
    if n_inf:
        fig.suptitle(f"{n_inf} exact values (PSNR = inf) are not drawn", fontsize=9)
    labels = [model_label(r) for r in recs]
    fig.legend(labels, loc="lower center", ncol=min(len(labels), 4), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.06 + 0.045 * math.ceil(len(labels) / 4), 1, 0.95))
    return fig


def volume_grid(rec: dict[str, Any]) -> np.ndarray | None:
    """The record's 3-D period map of its primary metric (NaN: not measured), or ``None``."""
    pm = rec.get("period_map") or {}
    grid = pm.get(primary_metric(rec))
    if grid is None:
        return None
    a = np.asarray(
        [[[math.nan if v is None else v for v in row] for row in plane] for plane in grid],
        dtype=float,
    )
    return a if a.ndim == 3 else None


def slices_of(grid: np.ndarray) -> list[np.ndarray]:
    """The three central slices of a period map centred on the zero shift (index 0 per axis)."""
    return [grid[0], grid[:, 0], grid[:, :, 0]]


def period_slices_figure(doc: dict[str, Any], width: float, max_panels: int) -> Figure | None:
    """Per volume model (row): the slices ``dz = 0``, ``dy = 0``, ``dx = 0`` of its period map."""
    import matplotlib.pyplot as plt

    recs = [(r, g) for r in doc["results"] if is_volume(r) for g in [volume_grid(r)]]
    recs = [(r, g) for r, g in recs if g is not None][:max_panels]
    if not recs:
        return None
    rows = len(recs)
    fig, axes = plt.subplots(
        rows, 3, figsize=(min(width, 3 * 2.8 + 1.4), 2.9 * rows + 0.3), squeeze=False
    )
    finite = np.concatenate([g[np.isfinite(g)] for _, g in recs] + [np.zeros(0)])
    vmin, vmax = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    image = None
    names = ("dz", "dy", "dx")
    for row, (rec, grid) in zip(axes, recs):
        metric = primary_metric(rec)
        for ax, (title, _, (a, b)), plane in zip(row, _SLICES, slices_of(grid)):
            # an exact cell (PSNR inf) is drawn at the top colour and says so; blank = no shift
            shown = np.ma.masked_invalid(np.where(np.isposinf(plane), vmax, plane))
            image = ax.imshow(shown, cmap="viridis", vmin=vmin, vmax=vmax)
            ax.set_title(f"{model_label(rec)}: {title}", fontsize=8)
            ax.set_xlabel(f"{names[b]} mod P", fontsize=8)
            ax.set_ylabel(f"{names[a]} mod P", fontsize=8)
            ax.set_xticks(range(plane.shape[1]))
            ax.set_yticks(range(plane.shape[0]))
            ax.tick_params(labelsize=7)
            if max(plane.shape) <= 8:
                for (i, j), v in np.ndenumerate(plane):
                    if np.isfinite(v) or np.isposinf(v):
                        txt = f"{v:.3f}" if metric == "agreement" else f"{v:.1f}"
                        txt, v = ("exact", vmax) if np.isposinf(v) else (txt, v)
                        light = (v - vmin) > 0.6 * (vmax - vmin)  # viridis is yellow at the top
                        color = "k" if light else "w"
                        ax.text(j, i, txt, ha="center", va="center", fontsize=6, color=color)
    fig.tight_layout()
    if image is not None:
        fig.colorbar(
            image,
            ax=list(axes.flat),
            shrink=min(0.8, 1.6 / rows),
            label=_metric_name(primary_metric(recs[0][0])),
        )
    return fig
