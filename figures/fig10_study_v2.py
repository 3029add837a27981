"""Figure 10: study v2's answer: each fixed up path minus the U-Net's 2x2 transposed conv.

Reads ``results/study_v2/analysis.json`` (``python -m analysis.study_v2 --analyse``), nothing
else: the headline families (each fixed up path against ``tconv2``, per task and width) and the
speed comparisons the analysis computed from the real-design benchmark.

(a) Segmentation (simulated nuclei, independent test images): Dice difference to the 2x2
transposed conv with the hierarchical 95% interval (seeds, then images), per decoder width;
the grey band is the equivalence margin declared before any run; the word above each point is
the verdict of :func:`antialias.stats.verdict` written in the analysis file.
(b) The same for denoising (held-out photographs), in dB of PSNR.
(c) Training-step time of the 2x2 transposed conv relative to each fixed up path (paired by
interleaved round; below 0 = the transposed conv is faster), at each benchmarked configuration,
across the page below (a) and (b). The resize-conv slot shows bilinear + conv where that was
timed, else nearest + conv (the same convolutions and MACs).

Usage: ``python figures/fig10_study_v2.py [--results DIR] [--out DIR]``
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from figures._main import ResultsError, figure_main, read_results  # noqa: E402
from figures.style import VARIANT_LABEL, variant_style  # noqa: E402

NAME = "fig10_study_v2"
COMMAND = "python -m analysis.study_v2 --analyse"
FIXED = ("bilinear_1x1", "bilinear", "bilinear_only")
SPEED_WORDS = {"better": "faster", "worse": "slower"}  # the transposed conv vs the design


def load(results: Path) -> dict[str, Any]:
    """The analysis document; it must hold at least one headline family."""
    doc, _ = read_results(results, "analysis", COMMAND, arrays=False)
    if not any(f.startswith("headline/") for f in doc.get("families") or {}):
        raise ResultsError(f"no headline comparison in {results}/analysis.json; run `{COMMAND}`")
    return doc


def _cells(doc: dict[str, Any], task: str) -> dict[tuple[str, int], dict[str, Any]]:
    out = {}
    for family, rows in doc["families"].items():
        kind, t, width, _ = family.split("/")
        if kind == "headline" and t == task:
            for c in rows:
                if c["reference"] == "tconv2":
                    out[(c["name"], int(width.removeprefix("w")))] = c
    return out


def _point(
    ax: plt.Axes,
    x: float,
    c: dict[str, Any],
    design: str,
    scale: float,
    label: str | None = None,
    words: dict[str, str] | None = None,
) -> None:
    """One comparison: its difference with the 95% interval, the verdict word above."""
    st = variant_style(design)
    y, (lo, hi) = scale * c["diff"], (scale * v for v in c["ci95"])
    ax.errorbar(
        x,
        y,
        yerr=[[y - lo], [hi - y]],
        color=st["color"],
        marker=st["marker"],
        markerfacecolor=st["markerfacecolor"],
        ms=4,
        capsize=2,
        lw=1,
        label=label,
    )
    # the word in a row along the top (the y limits leave that band free: _headroom)
    ax.text(
        x,
        0.98,
        (words or {}).get(c["verdict"], c["verdict"]),
        transform=ax.get_xaxis_transform(),
        ha="center",
        va="top",
        fontsize=7,
        rotation=90,
    )


def _headroom(ax: plt.Axes) -> None:
    """Extend the y range upwards so the verdict words above the data meet no point."""
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, hi + 0.55 * (hi - lo))


def _panel(ax: plt.Axes, cells: dict, unit: str, margin: float, title: str) -> None:
    widths = sorted({w for _, w in cells})
    step = 1.0 / (len(FIXED) + 1)
    ax.axhspan(
        -margin,
        margin,
        color="0.88",
        zorder=0,
        label="equivalence margin (declared before any run)",
    )
    ax.axhline(0, color="0.4", lw=0.8, zorder=1)
    for j, d in enumerate(FIXED):
        for i, w in enumerate(widths):
            c = cells.get((d, w))
            if c is None:
                continue
            x = i + (j + 1) * step - 0.5
            _point(ax, x, c, d, 1.0, VARIANT_LABEL.get(d, d) if i == 0 else None)

    def seeds(w: int) -> str:
        n = sorted({c["n_seeds"] for (_, cw), c in cells.items() if cw == w})
        return f"{n[0]}" if len(n) == 1 else f"{n[0]}-{n[-1]}"

    images = sorted({c["n_images"] for c in cells.values()})
    ax.set_xticks(range(len(widths)), [f"width {w}\n{seeds(w)} seeds" for w in widths])
    ax.set_xlim(-0.6, len(widths) - 0.4)
    ax.set_ylabel(f"{unit} minus transposed 2x2")
    ax.set_title(f"{title}\n({', '.join(map(str, images))} test images)", fontsize=8)
    ax.margins(y=0.1)
    _headroom(ax)


def _speed(ax: plt.Axes, doc: dict[str, Any]) -> None:
    cfgs = [c for c in doc.get("speed") or [] if c.get("what") == "train_step"]
    if not cfgs:
        ax.text(
            0.5,
            0.5,
            "speed not\nbenchmarked yet",
            ha="center",
            va="center",
            transform=ax.transAxes,
            fontsize=8,
        )
        ax.set_xticks([])
        ax.set_yticks([])
        return
    ax.axhspan(-5, 5, color="0.88", zorder=0)
    ax.axhline(0, color="0.4", lw=0.8)
    step = 1.0 / (len(FIXED) + 1)
    for i, cfg in enumerate(cfgs):
        comps = {c["reference"]: c for c in cfg["comparisons"]}
        for j, r in enumerate(FIXED):
            # the resize-conv slot: bilinear + conv where it was timed, else nearest + conv
            # (the same convolutions and MACs; the interpolation itself is a small share)
            c = comps.get(r) or (comps.get("nearest") if r == "bilinear" else None)
            if c is None:
                continue
            _point(ax, i + (j + 1) * step - 0.5, c, c["reference"], 100.0, words=SPEED_WORDS)
    ax.set_xticks(
        range(len(cfgs)),
        [
            f"width {c['width']}, {c['batch']}x{c['size']}²\n{c['threads']} thread"
            + ("s" if c["threads"] > 1 else "")
            + (" (declared)" if c.get("declared") else "")
            for c in cfgs
        ],
        fontsize=7,
    )
    ax.set_xlim(-0.6, len(cfgs) - 0.4)
    ax.set_ylabel("time: transposed / design - 1 (%)")
    ax.set_title(
        "(c) training-step time per benchmarked configuration (CPU; the verdict is read at the "
        "declared one)\nbelow 0: the transposed conv is faster; resize-conv = bilinear + conv "
        "where timed, else nearest + conv (same MACs)",
        fontsize=8,
    )
    ax.margins(y=0.1)
    _headroom(ax)


def draw(doc: dict[str, Any]) -> plt.Figure:
    """Three panels (module docstring)."""
    # two rows: the accuracy panels side by side, the speed panel below across the page (one
    # column of points per benchmarked configuration needs the width)
    fig = plt.figure(figsize=(7.0, 6.0))
    grid = fig.add_gridspec(2, 2, width_ratios=[1.6, 1.0])
    axes = [fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1]), fig.add_subplot(grid[1, :])]
    nuclei, denoise = _cells(doc, "nuclei_sim"), _cells(doc, "denoise_photos")
    margins = doc.get("margins") or {}
    _panel(
        axes[0],
        nuclei,
        "Dice",
        margins.get("dice", {}).get("value", 0.005),
        "(a) segmentation: simulated nuclei",
    )
    if denoise:
        _panel(
            axes[1],
            denoise,
            "PSNR (dB)",
            margins.get("psnr", {}).get("value", 0.1),
            "(b) denoising: photos",
        )
    else:
        axes[1].text(
            0.5,
            0.5,
            "denoising\nnot run yet",
            ha="center",
            va="center",
            transform=axes[1].transAxes,
            fontsize=8,
        )
        axes[1].set_xticks([])
        axes[1].set_yticks([])
    _speed(axes[2], doc)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="lower center",
        ncol=2,
        fontsize=7,
        frameon=False,
        bbox_to_anchor=(0.5, 0.02),
    )
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.text(
        0.5,
        0.005,
        "data: results/study_v2/analysis.json (runs in results/study_v2/runs/, "
        "checkpoints of seed 0 in results/study_v2/checkpoints/)",
        ha="center",
        fontsize=7,
    )
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
