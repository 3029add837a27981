"""Drawing of paired differences to a reference design: the shared look of figures 4, 6, 7, 9.

A figure that compares designs shows each design *minus a named reference* (by default
:data:`figures._study_common.REFERENCE`, the original U-Net up-conv) with the paired 95%
interval the study computed (images drawn once for both designs), as one row per design:
a dot in the design family's colour and the encoder's marker, a bar with end ticks for the
interval (drawn over the dot, so a narrow one still shows), a vertical line at 0. A second
series (on-period shifts, for instance) is drawn in grey beside it.

What does not live here: the statistics (``analysis.study.stats``, read through
:mod:`figures._study_common`), the results files.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt

from figures._study_common import Study, look
from figures.style import VARIANT_LABEL

GREY = "#888888"


def study_paired(
    study: Study, task: str, piece: str, ref: str, table: str = "paired_all", scale: float = 1.0
) -> dict[str, dict[str, float]]:
    """``design -> {diff, lo, hi}``: design minus ``ref`` as ``study.json`` records it.

    ``scale`` converts to plot units (``-100``: agreement to label changes in % points); the
    interval is re-ordered after scaling. Designs without the pair are left out.
    """
    paired = study.get("tasks", task, piece, table)
    out = {}
    for v, row in paired.items():
        if v == ref or ref not in row:
            continue
        d = row[ref]
        lo, hi = sorted((scale * d["lo"], scale * d["hi"]))
        out[v] = {"diff": scale * d["diff"], "lo": lo, "hi": hi}
    return out


def difference_rows(
    ax: plt.Axes,
    names: list[str],
    series: list[tuple[dict[str, dict[str, float]], bool]],
    show_labels: bool = True,
) -> None:
    """One row per design: each series' difference and interval (``True``: family colour).

    Rows keep the order of ``names``; series are spread vertically within a row; a design a
    series lacks is skipped.
    """
    step = 0.34 / max(len(series) - 1, 1)
    offsets = [0.0] if len(series) == 1 else [-0.17 + k * step for k in range(len(series))]
    for i, v in enumerate(names):
        style = look(v)
        for (rows, coloured), dy in zip(series, offsets):
            if v not in rows:
                continue
            d = rows[v]
            color = style["color"] if coloured else GREY
            face = style["markerfacecolor"] if coloured else color
            ax.plot(
                d["diff"],
                i + dy,
                marker=style["marker"],
                color=color,
                markersize=4.5,
                markerfacecolor=face,
                markeredgecolor=color,
                linestyle="none",
                zorder=2,
            )
            # the interval on top of the marker, with end ticks: an interval narrower than the
            # marker stays visible instead of reading as "no interval"
            ax.plot(
                [d["lo"], d["hi"]],
                [i + dy] * 2,
                color=color,
                lw=1.1,
                solid_capstyle="butt",
                marker="|",
                markersize=5,
                markeredgewidth=1.1,
                zorder=3,
            )
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels([VARIANT_LABEL.get(v, v) for v in names] if show_labels else [])
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)


def series_handles(labels: list[tuple[str, bool]]) -> list[Any]:
    """Legend entries of :func:`difference_rows`' series (colour: family, or grey)."""
    return [
        plt.Line2D([], [], color="black" if coloured else GREY, marker="o", lw=1.3, label=text)
        for text, coloured in labels
    ]
