"""Figure 11: study v2's other designs, each against the design it changes in one respect.

Reads ``results/study_v2/analysis.json`` (``python -m analysis.study_v2 --analyse``), nothing
else: the families ``designs/...`` (each design against :data:`analysis.study_v2.REFERENCE`,
e.g. a max-blur-pool encoder against the same U-Net with max-pool, APS with zero padding
against APS with circular padding), ``crossed/...`` (the headline comparison repeated inside
the max-blur-pool encoder: each fixed up path against the blur-pool 2x2 transposed conv) and
``twins/...`` (width-matched twins against the 2x2 transposed conv at the width they match).

One row per comparison: the test-Dice difference (design minus reference) with the
hierarchical 95% interval (seeds, then independent images), the equivalence margin declared
before any run as a grey band, and at the right the verdict of :func:`antialias.stats.verdict`
written in the analysis file, with the number of seeds. Rows are grouped by family; the Holm
correction is within each group.

Usage: ``python figures/fig11_study_v2_designs.py [--results DIR] [--out DIR]``
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from antialias import variants  # noqa: E402
from figures._main import ResultsError, figure_main, read_results  # noqa: E402
from figures.style import variant_style  # noqa: E402

NAME = "fig11_study_v2_designs"
COMMAND = "python -m analysis.study_v2 --analyse"
GROUPS = {  # family kind -> group title (the order of the figure)
    "designs": "each design vs the design it changes in one respect",
    "crossed": "max-blur-pool encoder: each fixed up path vs blur-pool transposed 2x2",
    "twins": "width-matched twins vs transposed 2x2 at the width they match",
}


def rows_of(doc: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """``(group title with task and width, comparisons)`` per family, in :data:`GROUPS` order."""
    out = []
    for kind, title in GROUPS.items():
        for family, rows in (doc.get("families") or {}).items():
            k, task, width, metric = family.split("/")
            if k == kind and rows:
                out.append((f"{title} ({task}, {width}, {metric})", rows))
    return out


def load(results: Path) -> dict[str, Any]:
    """The analysis document; it must hold at least one designs, crossed or twins family."""
    doc, _ = read_results(results, "analysis", COMMAND, arrays=False)
    if not rows_of(doc):
        raise ResultsError(
            f"no designs, crossed or twins comparison in {results}/analysis.json; run the "
            f"designs piece (`python -m analysis.study_v2 --run designs`), then `{COMMAND}`"
        )
    return doc


def _label(c: dict[str, Any]) -> str:
    width = f" (w{c['width']})" if c.get("twin") else ""
    return f"{variants.label(c['name'])}{width}  vs  {variants.label(c['reference'])}"


def draw(doc: dict[str, Any]) -> plt.Figure:
    """The forest plot (module docstring)."""
    groups = rows_of(doc)
    if not groups:
        raise ResultsError("no designs, crossed or twins comparison to draw")
    metrics = {r["metric"] for _, rows in groups for r in rows}
    if len(metrics) != 1:
        raise ResultsError(f"expected one metric in the designs families, got {sorted(metrics)}")
    (metric,) = metrics
    margin = (doc.get("margins") or {}).get(metric, {}).get("value", 0.005)
    n_rows = sum(len(rows) + 1 for _, rows in groups)
    fig, ax = plt.subplots(figsize=(7.0, 1.0 + 0.2 * n_rows))
    ax.axvspan(-margin, margin, color="0.88", zorder=0)
    ax.axvline(0, color="0.4", lw=0.8, zorder=1)
    y, ticks, labels, headers = 0.0, [], [], []
    for title, rows in groups:
        headers.append((y, title))
        y -= 1
        for c in rows:
            st = variant_style(c["name"])
            lo, hi = c["ci95"]
            ax.errorbar(c["diff"], y, xerr=[[c["diff"] - lo], [hi - c["diff"]]],
                        color=st["color"], marker=st["marker"],
                        markerfacecolor=st["markerfacecolor"], ms=4, capsize=2, lw=1)  # fmt: skip
            ax.text(1.01, y, f"{c['verdict']} ({c['n_seeds']} seeds)", fontsize=7,
                    transform=ax.get_yaxis_transform(), va="center")  # fmt: skip
            ticks.append(y)
            labels.append(_label(c))
            y -= 1
    ax.set_yticks(ticks, labels, fontsize=7)
    # the data column is narrow (the labels take the page): three ticks that do not collide
    ax.xaxis.set_major_locator(MaxNLocator(3, symmetric=True))
    ax.tick_params(axis="x", labelsize=7)
    ax.set_ylim(y + 0.3, 0.7)
    ax.set_xlabel(
        f"test {metric}: design minus reference (95% interval); grey: equivalence margin "
        f"±{margin:g}, declared before any run",
        fontsize=7,
    )
    n_images = sorted({r["n_images"] for _, rows in groups for r in rows})
    ax.set_title(
        f"Study v2, other designs ({', '.join(map(str, n_images))} independent test images; "
        "Holm within each group)",
        fontsize=8,
    )
    fig.tight_layout(rect=(0, 0.03, 0.84, 1))
    for y_title, title in headers:  # from the figure's left edge: the labels' column is free there
        ax.annotate(title, (0.01, y_title), xycoords=("figure fraction", "data"), fontsize=7,
                    weight="bold", ha="left", va="center")  # fmt: skip
    fig.text(0.5, 0.005, "data: results/study_v2/analysis.json (runs in results/study_v2/runs/)",
             ha="center", fontsize=7)  # fmt: skip
    return fig


def main(argv: Sequence[str] | None = None) -> int:
    """Command line; returns 0, or 2 with one line on stderr for missing/malformed results."""
    return figure_main(
        argv,
        name=NAME,
        description=__doc__.splitlines()[0],
        folder="study_v2",
        load=load,
        draw=draw,
    )


if __name__ == "__main__":
    sys.exit(main())
