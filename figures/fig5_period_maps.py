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

import math
import sys
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from antialias.exact import exact_psnr_db, is_exact_psnr, is_exact_relative  # noqa: E402
from figures._main import figure_main  # noqa: E402
from figures._study_common import (  # noqa: E402
    VARIANT_LABEL,
    Study,
    checkpoint_note,
    consistency_axis,
    load_study,
    log_axis,
    look,
)
from figures.style import count  # noqa: E402

NAME = "fig5_period_maps"
REGION = "interior"
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


def shift_class(dy: int, dx: int, period: int) -> int:
    """Largest power of two dividing both offsets, capped at the period (0, 0 -> the period).

    >>> [shift_class(0, 1, 8), shift_class(2, 6, 8), shift_class(4, 0, 8), shift_class(0, 0, 8)]
    [1, 2, 4, 8]
    """
    g = math.gcd(int(dy), int(dx))
    return period if g == 0 else min(g & -g, period)


def _class_label(c: int, period: int) -> str:
    return "odd" if c == 1 else f"{c} mod {2 * c}"


def _panel(ax, study: Study, task: str, names: list[str], first: bool) -> str:
    """One row per design: every cell of its period map as a dot, one sub-row per shift class."""
    per = study.get("tasks", task, "period")
    label, tf, log = consistency_axis(per["kind"])
    dtype = recorded_dtype(study, task)
    p = int(per["period"])
    classes = [2**j for j in range(int(math.log2(p)))]  # 1, 2, 4 (the period itself is (0, 0))
    offsets = np.linspace(-0.25, 0.25, len(classes))
    shades = dict(zip(classes, np.linspace(1.0, 0.4, len(classes))))
    lows = []
    for i, v in enumerate(names):
        raw = study.array(f"period_{task}__{v}__map_{REGION}", ndim=2)
        exact = exact_cells(raw, per["kind"], dtype)
        vals = tf(raw)
        style = look(v)
        n_exact = 0
        for c, dy in zip(classes, offsets):
            cells = [
                (a, b)
                for a in range(raw.shape[0])
                for b in range(raw.shape[1])
                if (a, b) != (0, 0) and shift_class(a, b, p) == c
            ]
            x = np.array([vals[a, b] for a, b in cells if not exact[a, b]])
            n_exact += sum(bool(exact[a, b]) for a, b in cells)
            x = x[np.isfinite(x)]
            if x.size:
                ax.scatter(
                    x,
                    np.full(x.size, i + dy),
                    s=6,
                    color=style["color"],
                    alpha=shades[c],
                    linewidths=0,
                    marker=style["marker"],
                )
                ax.plot([np.median(x)] * 2, [i + dy - 0.1, i + dy + 0.1], color="black", lw=1.2)
                lows.append(x.min())
        n_cells = raw.size - 1  # every cell but the reference (0, 0)
        if n_exact == n_cells:
            ax.text(
                0.5,
                i,
                f"all {n_cells} cells exact to rounding ({EXACT_MARK})",
                transform=ax.get_yaxis_transform(),
                ha="center",
                va="center",
                fontsize=7,
                color="#444444",
            )
        elif n_exact:
            ax.text(
                0.99,
                i,
                f"{n_exact} {EXACT_MARK}",
                transform=ax.get_yaxis_transform(),
                ha="right",
                va="center",
                fontsize=7,
                color="#444444",
            )
    if log and lows and min(lows) > 0:
        log_axis(ax, "x")
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels([VARIANT_LABEL.get(v, v) for v in names] if first else [])
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(
        "label changes (%)\n(lower = better)" if log else "EQ-T PSNR (dB)\n(higher = better)"
    )
    seeds = max(len(e["seeds"]) for e in per["variants"].values())
    size = per["frame_sizes"][0]
    short = {"nuclei": "nuclei", "textures": "textures", "denoise": "denoise"}.get(task, task)
    images, n_seeds = count(per["n_images"], "image"), count(seeds, "seed")
    ax.set_title(f"{short}: {images}\n{size[0]}x{size[1]} px, {n_seeds}")
    if log:
        return "no label changes"
    return f"PSNR >= {exact_psnr_db(dtype):.1f} dB, {dtype} rounding"


def draw(study: Study) -> plt.Figure:
    """The figure from loaded results (raises ``ResultsError`` if something is missing)."""
    tasks = study.tasks_with("period")
    names = [v for v in study.variants(tasks[0], "period")]
    fig, axes = plt.subplots(
        1, len(tasks), figsize=(7.0, 0.33 * len(names) + 2.2), squeeze=False, layout="constrained"
    )
    exact_text = []
    for j, task in enumerate(tasks):
        have = [v for v in names if v in study.variants(task, "period")]
        exact_text.append(_panel(axes[0, j], study, task, have, j == 0))
    p = int(study.get("tasks", tasks[0], "period", "period"))
    classes = [2**j for j in range(int(math.log2(p)))]
    shades = np.linspace(1.0, 0.4, len(classes))
    handles = [
        plt.Line2D(
            [],
            [],
            color="#555555",
            alpha=a,
            marker="o",
            linestyle="none",
            label=f"{_class_label(c, p)} shifts" + (" (top)" if k == 0 else ""),
        )
        for k, (c, a) in enumerate(zip(classes, shades))
    ]
    handles.append(plt.Line2D([], [], color="black", lw=1.2, label="median"))
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles))
    fig.suptitle(
        f"Consistency under every circular shift (dy, dx) of the period {p} px (interior "
        "pixels): each dot is one cell of a design's\nperiod map; sub-rows by shift class "
        "(largest power of 2 dividing dy and dx). Cells exact to rounding\n"
        f"({'; '.join(dict.fromkeys(exact_text))}) are counted as '{EXACT_MARK}', not drawn.\n"
        "Checkpoints: " + _checkpoints(study, tasks).replace("; ", ";\n"),
        fontsize=7,
    )
    return fig


def _checkpoints(study: Study, tasks: list[str]) -> str:
    sources: dict[str, list[str]] = {}
    for t in tasks:
        for v, e in study.get("tasks", t, "period", "variants").items():
            sources.setdefault(v, []).extend(e.get("sources", []))
    return checkpoint_note(sources)


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
