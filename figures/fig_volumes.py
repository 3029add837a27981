"""Figure: three small 3-D U-Nets (one per main up path) on the napari nuclei volume.

Reads ``results/volumes/analysis.json`` and ``results/volumes/train_<design>_s<seed>.json``
(``python analysis/volumes_study.py``). (a) learning curves: foreground Dice on the val slab
every evaluation, the best (saved) step marked, the Gaussian + Otsu baseline's val Dice dashed.
(b) foreground Dice per slice of the test slab, with the whole-slab Dice in the legend, and the
baseline. (c) crop-shift disagreement (1 - label agreement) between the prediction of the
shifted window and the shifted prediction, for shifts 1..period along z, y and x. (d) EQ-T
PSNR of the foreground probabilities under the same shifts. ONE volume: the test slab is one
unit, so every number is descriptive (said in the figure).

Usage: ``python figures/fig_volumes.py [--results DIR] [--out DIR]``
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from antialias.models_nd import VOLUME_DESIGNS  # noqa: E402
from figures._main import ResultsError, figure_main, read_results  # noqa: E402
from figures.style import ENCODER_MARKER, FAMILY_COLOR, HOLLOW_ENCODERS  # noqa: E402

NAME = "fig_volumes"
COMMAND = "python analysis/volumes_study.py"
AXES = (("z", "dz"), ("y", "dy"), ("x", "dx"))
BASELINE_COLOR = "#777777"
FLOOR = 1e-6  # 1 - agreement of identical label maps (0) is drawn here on the log axis


def load(directory: Path) -> dict[str, Any]:
    """The analysis document and every design's training record (checked result sets)."""
    doc, _ = read_results(directory, "analysis", COMMAND, arrays=False)
    if not doc.get("rows"):
        raise ResultsError(f"expected trained designs in {directory}/analysis.json; run {COMMAND}")
    trains = {}
    for row in doc["rows"]:
        stem = f"train_{row['design']}_s{row['seed']}"
        trains[row["design"]], _ = read_results(directory, stem, COMMAND, arrays=False)
    return {"analysis": doc, "train": trains}


def _style(name: str, index: int) -> dict[str, Any]:
    design = VOLUME_DESIGNS.get(name)
    fam = design.family if design else "other"
    enc = design.encoder if design else "other"
    color = FAMILY_COLOR.get(fam, "#777777")
    return {
        "color": color,
        "marker": ENCODER_MARKER.get(enc, "o"),
        "markerfacecolor": "white" if enc in HOLLOW_ENCODERS else color,
        "markeredgecolor": color,
        "linestyle": ("-", "--", ":")[index % 3],
        "markersize": 4,
        "linewidth": 1.2,
    }


def _curves(ax: plt.Axes, data: dict[str, Any]) -> None:
    doc = data["analysis"]
    for i, row in enumerate(doc["rows"]):
        curve = data["train"][row["design"]]["curve"]
        look = _style(row["design"], i)
        steps = [c["step"] for c in curve]
        ax.plot(steps, [c["val_dice"] for c in curve], **{**look, "marker": None})
        rec = data["train"][row["design"]]["record"]
        ax.plot([rec["best_step"]], [rec["best_val_dice"]], **{**look, "linestyle": "none"})
    base = doc["baseline"]
    best_val = base["val_dice_chosen"]
    ax.axhline(best_val, color=BASELINE_COLOR, linestyle="--", linewidth=1)
    ax.text(
        0.02, best_val, "Gaussian + Otsu (val)", transform=ax.get_yaxis_transform(),
        va="bottom", fontsize=7, color=BASELINE_COLOR,
    )  # fmt: skip
    low = min(
        min(c["val_dice"] for c in t["curve"][1:] or t["curve"]) for t in data["train"].values()
    )
    ax.set_ylim(max(0.0, low - 0.02), 1.0)
    settings = next(iter(data["train"].values()))["record"]["settings"]
    patch = "x".join(str(n) for n in settings["patch"])
    ax.set_xlabel(f"training step (batch of {settings['batch_size']} patches {patch})")
    ax.set_ylabel("val slab foreground Dice")
    ax.set_title("(a) learning curves (marker: best = saved)", fontsize=8, loc="left")


def _per_slice(ax: plt.Axes, doc: dict[str, Any]) -> None:
    z0 = doc["test_slab"][0]
    for i, row in enumerate(doc["rows"]):
        d = row["test_dice_per_slice"]
        look = _style(row["design"], i)
        label = f"{row['label']} ({row['parameters']:,} p.): {row['test_dice']:.3f}"
        ax.plot(np.arange(z0, z0 + len(d)), d, label=label, **look)
    base = doc["baseline"]
    d = base["test_dice_per_slice"]
    ax.plot(
        np.arange(z0, z0 + len(d)), d, color=BASELINE_COLOR, linestyle="--", linewidth=1,
        label=f"Gaussian + Otsu (sigma {base['sigma']:g}): {base['test_dice']:.3f}",
    )  # fmt: skip
    fg = doc["test_foreground_per_slice"]
    tw = ax.twinx()
    tw.bar(np.arange(z0, z0 + len(fg)), fg, color="#DDDDDD", width=0.8, zorder=0)
    tw.set_ylabel("foreground share", color="#999999")
    tw.set_ylim(0, 2.2 * max(fg))
    ax.set_zorder(tw.get_zorder() + 1)
    ax.patch.set_visible(False)
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo - 0.9 * (hi - lo), hi)  # room below the curves for the legend
    ax.set_xticks(range(z0, z0 + len(fg), 2))
    ax.set_xlabel("test slice z")
    ax.set_ylabel("foreground Dice")
    ax.legend(title="whole test slab Dice", loc="lower right", fontsize=7, title_fontsize=7)
    ax.set_title("(b) test slab, per slice (bars: foreground share)", fontsize=8, loc="left")


def _shift_panels(axes: Sequence[plt.Axes], doc: dict[str, Any], metric: str) -> None:
    for a, (axis, key) in enumerate(AXES):
        ax = axes[a]
        for i, row in enumerate(doc["rows"]):
            pts = [
                s for s in row["shift"]["shifts"] if s[key] and not any(
                    s[k] for _, k in AXES if k != key
                )
            ]  # fmt: skip
            pts.sort(key=lambda s: s[key])
            x = [s[key] for s in pts]
            if metric == "agreement":
                y = [max(1.0 - s["agreement"], FLOOR) for s in pts]
            else:
                y = [s["psnr"] for s in pts]
            ax.plot(x, y, **_style(row["design"], i))
        period = doc["rows"][0]["period"]
        ax.set_xticks(range(1, period + 1))
        ax.set_xlabel(f"crop shift along {axis} (voxels)", fontsize=7.5)
        if metric == "agreement":
            ax.set_yscale("log")
            ax.axhline(FLOOR, color="#BBBBBB", linewidth=0.8, zorder=0)
        if a == 0:
            ax.set_ylabel(
                "1 - label agreement" if metric == "agreement" else "EQ-T PSNR (dB)\nprobabilities"
            )


def draw(data: dict[str, Any]) -> plt.Figure:
    doc = data["analysis"]
    fig = plt.figure(figsize=(7.0, 8.4), layout="constrained")
    top, mid, bottom = fig.subfigures(3, 1, height_ratios=[1.25, 1, 1])
    ax_a, ax_b = top.subplots(1, 2, width_ratios=[1, 2])
    _curves(ax_a, data)
    _per_slice(ax_b, doc)
    agree = mid.subplots(1, 3)
    _shift_panels(agree, doc, "agreement")
    mid.suptitle(
        "(c) crop-shift disagreement of the label maps (lower = more equivariant; grey line: "
        "identical maps)", fontsize=8, x=0.02, ha="left",
    )  # fmt: skip
    frame = doc["rows"][0]["shift"]["frame_sizes"][0]
    agree[0].text(
        0.04, 0.04, f"frame {frame[0]} slices deep:\nthe z-borders dominate",
        transform=agree[0].transAxes, fontsize=7, va="bottom",
    )  # fmt: skip
    psnr = bottom.subplots(1, 3)
    _shift_panels(psnr, doc, "psnr")
    bottom.suptitle(
        "(d) EQ-T PSNR of the foreground probability (higher = more equivariant)",
        fontsize=8, x=0.02, ha="left",
    )  # fmt: skip
    for row_axes in (agree, psnr):
        lo = min(ax.get_ylim()[0] for ax in row_axes)
        hi = max(ax.get_ylim()[1] for ax in row_axes)
        for ax in row_axes:
            ax.set_ylim(lo, hi)
    split = doc["split"]
    spans = sorted(split.values())
    gap = min(b[0] - a[1] for a, b in zip(spans, spans[1:]))
    s = next(iter(data["train"].values()))["record"]["settings"]
    fig.suptitle(
        f"3-D U-Nets (depth {s['depth']}, width {s['width']}, norm {s['norm']}) on the napari "
        f"nuclei volume: train z [{split['train'][0]}, {split['train'][1]}), val "
        f"[{split['val'][0]}, {split['val'][1]}), test [{split['test'][0]}, {split['test'][1]}) "
        f"(gaps >= {gap} slices).\nONE volume: the test slab is one unit, so these numbers are "
        "descriptive, not inferential.",
        fontsize=7.5,
    )
    names = ", ".join(Path(r["checkpoint"]).name for r in doc["rows"])
    fig.supxlabel(f"checkpoints/volumes/: {names}\ndata: {doc['data']}", fontsize=7)
    return fig


def main(argv: Sequence[str] | None = None) -> int:
    """Command line; returns 0, or 2 with one line on stderr for missing/malformed results."""
    return figure_main(
        argv,
        name=NAME,
        description=__doc__.splitlines()[0],
        folder="volumes",
        load=load,
        draw=draw,
    )


if __name__ == "__main__":
    sys.exit(main())
