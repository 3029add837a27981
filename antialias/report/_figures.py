"""The report's figures, drawn from a result document into PNG and PDF bytes (no files).

Each ``*_figure`` returns a matplotlib figure or ``None`` when the result has nothing to draw
(no period map in fractional mode, no per-level errors without ``--per-layer``). Figures are
11 x h inches at 110 dpi (1210 px wide PNGs); the page scales them to its column.
"""

from __future__ import annotations

import io
import math
from typing import Any

import matplotlib

matplotlib.use("Agg")  # a report is drawn without a display (CI, servers)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from antialias.report._data import (  # noqa: E402
    LayerKernels,
    is_volume,
    model_label,
    primary_metric,
    shift_axes,
)

__all__ = [
    "MAX_PANELS",
    "consistency_figure",
    "kernels_figure",
    "per_level_figure",
    "period_map_figure",
    "render",
]

#: At most this many models get a panel of their own (period maps, kernels); the page says so.
MAX_PANELS = 12
WIDTH_IN = 11.0
DPI = 110
_REGIONS = (("", "all compared pixels"), ("_interior", "interior"), ("_border", "border"))


def render(fig: Figure) -> tuple[bytes, bytes]:
    """``(png, pdf)`` bytes of ``fig``; the figure is closed."""
    out = []
    for fmt in ("png", "pdf"):
        buf = io.BytesIO()
        # No creation date in the PDF: the same result gives the same bytes.
        meta = {"CreationDate": None} if fmt == "pdf" else {"Software": None}
        fig.savefig(buf, format=fmt, dpi=DPI, metadata=meta)
        out.append(buf.getvalue())
    plt.close(fig)
    return out[0], out[1]


def _values(rows: list[dict[str, Any]], key: str) -> np.ndarray:
    return np.asarray([math.nan if r.get(key) is None else float(r[key]) for r in rows])


def _axis_of(shifts: list[dict[str, Any]], axes: tuple[str, ...]) -> tuple[np.ndarray, str]:
    """The x of each shift: the one axis that varies (``dx`` first), else ``|s|``."""
    values = {k: _values(shifts, k) for k in axes}
    unit = "voxels" if len(axes) == 3 else "pixels"
    for key in reversed(axes):  # dx, dy (, dz): the 2-D page's order of preference
        rest = [k for k in axes if k != key]
        if all(np.all(values[k] == values[k][0]) for k in rest):
            fixed = ", ".join(f"{k} = {values[k][0]:g}" for k in rest)
            return values[key], f"shift {key} ({unit}; {fixed})"
    length = np.sqrt(sum(v**2 for v in values.values()))
    if len(axes) == 2:  # np.hypot: the 2-D page's numbers, bit for bit
        length = np.hypot(values["dy"], values["dx"])
    return length, f"shift length |({', '.join(axes)})| ({unit})"


def _metric_name(metric: str) -> str:
    return "label agreement" if metric == "agreement" else "EQ-T PSNR (dB)"


def consistency_figure(doc: dict[str, Any]) -> Figure:
    """The primary metric against the shift, one line per model, one panel per region."""
    recs = doc["results"]
    fig, axes = plt.subplots(1, 3, figsize=(WIDTH_IN, 3.6 + 0.18 * math.ceil(len(recs) / 3)))
    colors = plt.get_cmap("tab10" if len(recs) <= 10 else "tab20")
    xlabel = ""
    n_inf = 0
    for i, rec in enumerate(recs):
        metric = primary_metric(rec)
        x, xlabel = _axis_of(rec["shifts"], shift_axes(rec))
        order = np.argsort(x, kind="stable")
        for ax, (suffix, title) in zip(axes, _REGIONS):
            y = _values(rec["shifts"], metric + suffix)[order]
            n_inf += int(np.isinf(y).sum())
            y = np.where(np.isfinite(y), y, np.nan)  # exact (inf) is stated, not drawn
            # One varying axis: a curve; shifts in 2-D at one distance differ: points only.
            style = "-o" if xlabel.startswith("shift d") and len(x) <= 40 else "o"
            ax.plot(x[order], y, style, ms=3, lw=1, color=colors(i % colors.N))
            ax.set_title(title, fontsize=10)
    labels = [model_label(r) for r in recs]
    for ax in axes:
        ax.set_xlabel(xlabel, fontsize=9)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    axes[0].set_ylabel(_metric_name(primary_metric(recs[0])), fontsize=9)
    if n_inf:
        fig.suptitle(f"{n_inf} exact values (PSNR = inf) are not drawn", fontsize=9)
    fig.legend(labels, loc="lower center", ncol=min(len(labels), 4), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.06 + 0.045 * math.ceil(len(labels) / 4), 1, 0.95))
    return fig


def period_map_figure(doc: dict[str, Any]) -> Figure | None:
    """The primary metric at each shift modulo the period ``P x P`` (blank: not measured).

    Images only: a volume's ``P x P x P`` map is drawn as slices (``_volumes.py``).
    """
    recs = [r for r in doc["results"] if r.get("period_map") and not is_volume(r)][:MAX_PANELS]
    if not recs:
        return None
    cols = min(4, len(recs))
    rows = math.ceil(len(recs) / cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(min(WIDTH_IN, 2.8 * cols + 1.4), 2.9 * rows + 0.3), squeeze=False
    )
    maps = []
    for rec in recs:
        grid = rec["period_map"].get(primary_metric(rec)) or [[None]]
        maps.append(np.asarray([[math.nan if v is None else v for v in r] for r in grid], float))
    finite = np.concatenate([m[np.isfinite(m)] for m in maps] + [np.zeros(0)])
    vmin, vmax = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    image = None
    for ax, rec, m in zip(axes.flat, recs, maps):
        image = ax.imshow(np.ma.masked_invalid(m), cmap="viridis", vmin=vmin, vmax=vmax)
        ax.set_title(model_label(rec), fontsize=9)
        ax.set_xlabel("dx mod P", fontsize=8)
        ax.set_ylabel("dy mod P", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_xticks(range(m.shape[1]))
        ax.set_yticks(range(m.shape[0]))
        if m.shape[0] <= 8:
            for (i, j), v in np.ndenumerate(m):
                if np.isfinite(v):
                    txt = f"{v:.3f}" if primary_metric(rec) == "agreement" else f"{v:.1f}"
                    light = (v - vmin) > 0.6 * (vmax - vmin)  # viridis is yellow at the top
                    ax.text(
                        j, i, txt, ha="center", va="center", fontsize=6, color="k" if light else "w"
                    )
    for ax in list(axes.flat)[len(recs) :]:
        ax.axis("off")
    fig.tight_layout()
    if image is not None:
        fig.colorbar(
            image,
            ax=list(axes.flat),
            shrink=min(0.8, 1.6 / rows),
            label=_metric_name(primary_metric(recs[0])),
        )
    return fig


def per_level_figure(doc: dict[str, Any]) -> Figure | None:
    """Relative RMS feature error at each level (pooled over shifts that are multiples of the
    level's stride), one line per model; solid = all pixels, dashed = interior."""
    recs = [r for r in doc["results"] if r.get("per_layer_summary")]
    if not recs:
        return None
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 3.8))
    colors = plt.get_cmap("tab10" if len(recs) <= 10 else "tab20")
    names: list[str] = []
    for rec in recs:
        names += [e["level"] for e in rec["per_layer_summary"] if e["level"] not in names]
    for i, rec in enumerate(recs):
        at = {e["level"]: e for e in rec["per_layer_summary"]}
        x = np.arange(len(names))
        for key, ls in (("rel_error", "-"), ("rel_error_interior", "--")):
            y = np.asarray([_num(at.get(n, {}).get(key)) for n in names])
            label = model_label(rec) if ls == "-" else None
            ax.plot(x, y, ls, marker="o", ms=3, color=colors(i % colors.N), label=label)
    ax.set_xticks(np.arange(len(names)), names, fontsize=8)
    ax.set_ylabel("relative RMS error of features", fontsize=9)
    ax.set_title("per level: solid = all pixels, dashed = interior", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    return fig


def _num(v: Any) -> float:
    return math.nan if v is None else float(v)


def _gain_image(gain: np.ndarray) -> tuple[np.ndarray, str]:
    """A 2-D picture of the phase gains: ``(s, s)`` as is; ``(s_z, s_y, s_x)`` with the z
    phases side by side (columns ``z * s_x + x``); ``(s,)`` as one row."""
    if gain.ndim == 3:
        return np.concatenate(list(gain), axis=1), "output phase x, z blocks side by side"
    if gain.ndim == 1:
        return gain[None], "output phase x"
    return gain, "output phase x"


def kernels_figure(kernels: list[tuple[str, list[LayerKernels]]]) -> Figure | None:
    """Per model (row): each learned up-sampler's polyphase DC gains relative to their mean
    (a flat map = no checkerboard), titled with its checkerboard index."""
    kernels = [(label, layers) for label, layers in kernels if layers][:MAX_PANELS]
    if not kernels:
        return None
    cols = max(len(layers) for _, layers in kernels)
    fig, axes = plt.subplots(
        len(kernels),
        cols,
        figsize=(min(WIDTH_IN, 2.6 * cols + 1.4), 2.4 * len(kernels) + 0.4),
        squeeze=False,
    )
    image = None
    for row, (label, layers) in zip(axes, kernels):
        for ax, layer in zip(row, layers):
            gain = layer.phase_gain / max(float(layer.phase_gain.mean()), 1e-300)
            gain, xlabel = _gain_image(gain)
            image = ax.imshow(gain, cmap="RdBu_r", vmin=0.0, vmax=2.0)
            ax.set_title(f"{label}\n{layer.name}: CI {layer.checkerboard_index:.3g}", fontsize=8)
            ax.set_xticks(range(gain.shape[1]))
            ax.set_yticks(range(gain.shape[0]))
            ax.set_xlabel(xlabel, fontsize=7)
            ax.set_ylabel("phase y", fontsize=7)
            ax.tick_params(labelsize=7)
        for ax in row[len(layers) :]:
            ax.axis("off")
    fig.tight_layout()
    if image is not None:
        rows = len(kernels)
        fig.colorbar(image, ax=list(axes.flat), shrink=min(0.8, 1.6 / rows), label="|G_r| / mean")
    return fig
