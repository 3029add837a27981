"""Figure 7: the trade-off as paired differences to the original up-conv, plus training speed.

Reads ``results/study/study.{json,npz}`` (``python -m analysis.study``: pieces ``accuracy`` and
``crop``) and ``results/study/speed.json`` (``python -m analysis.speed``).

Top row, one panel per task: each design minus the reference (transposed 2x2, the original
U-Net up-conv) in test accuracy (Dice points of the foreground, or PSNR in dB) against the same
difference in shift consistency pooled over the crop shifts 1-16 px, both with the study's
paired 95% interval (``accuracy/paired`` and ``crop/paired_all``: the same test images drawn
for both designs). The point (0, 0) is the reference; up = more accurate, left (segmentation)
or right (denoising) = more consistent. Numbers: the designs' places in the table of designs.

Bottom: time of one training step (forward + backward) of the shipped architecture divided by
that of the speed run's reference design in the same run (median of per-round ratios; bars:
quartiles over rounds).

Usage: ``python figures/fig7_tradeoff.py [--results DIR] [--out DIR]``
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from figures._main import figure_main  # noqa: E402
from figures._paired import difference_rows, study_paired  # noqa: E402
from figures._study_common import (  # noqa: E402
    Study,
    checkpoint_note,
    load_study,
    look,
    reference,
)
from figures.style import VARIANT_LABEL, VARIANT_ORDER, count  # noqa: E402

NAME = "fig7_tradeoff"
TASK_SHORT = {"nuclei": "nuclei (segm.)", "textures": "textures (segm.)", "denoise": "denoise"}
ACC = {"dice": ("Dice, design - ref. (points)", 100.0), "psnr": ("PSNR, design - ref. (dB)", 1.0)}


def _number(v: str) -> str:
    """A design's place in the table of designs (1-based): the tag printed beside its point."""
    return str(VARIANT_ORDER.index(v) + 1) if v in VARIANT_ORDER else v


#: Offsets (points) tried in turn for a point's tag: the first whose box meets no earlier tag.
TAG_OFFSETS: tuple[tuple[float, float], ...] = (
    (3, 3),
    (3, -9),
    (-9, 3),
    (-9, -9),
    (6, 10),
    (6, -15),
    (-15, 10),
    (-15, -15),
    (12, 0),
)


def place_tags(ax: plt.Axes, tags: list[tuple[float, float, str, str]], size: float = 7) -> None:
    """Annotate each ``(x, y, text, colour)`` beside its point where no earlier tag sits.

    Call after the figure's layout is final (``fig.canvas.draw()``): boxes are estimated in
    display points from the axes' transform (0.6 em per character, one line high), and every
    marker is an obstacle as well. A tag that cannot avoid them all keeps the first offset.
    """
    scale = 72.0 / ax.figure.dpi  # display pixels -> points

    def at(x: float, y: float) -> tuple[float, float]:
        px, py = ax.transData.transform((x, y))
        return px * scale, py * scale

    placed = [(px - 3, py - 3, px + 3, py + 3) for px, py in (at(x, y) for x, y, _, _ in tags)]
    for x, y, text, color in tags:
        px, py = at(x, y)
        tw, th = 0.6 * size * len(text), size
        choice = TAG_OFFSETS[0]
        for dx, dy in TAG_OFFSETS:
            box = (px + dx, py + dy, px + dx + tw, py + dy + th)
            if all(
                box[2] <= b[0] or box[0] >= b[2] or box[3] <= b[1] or box[1] >= b[3] for b in placed
            ):
                choice = (dx, dy)
                break
        dx, dy = choice
        placed.append((px + dx, py + dy, px + dx + tw, py + dy + th))
        ax.annotate(
            text, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=size, color=color
        )


def _tradeoff(ax: plt.Axes, study: Study, task: str, ref: str) -> list[str]:
    """Accuracy difference against consistency difference, paired intervals both ways."""
    acc = study.get("tasks", task, "accuracy")
    crop = study.get("tasks", task, "crop")
    seg = crop["kind"] == "segmentation"
    a_label, a_scale = ACC.get(acc["metric"], (f"{acc['metric']}, design - ref.", 1.0))
    a_rows = study_paired(study, task, "accuracy", ref, table="paired", scale=a_scale)
    c_rows = study_paired(study, task, "crop", ref, scale=-100.0 if seg else 1.0)
    names = [v for v in VARIANT_ORDER if v in a_rows and v in c_rows]
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(0, color="black", lw=0.8)
    ax.plot(0, 0, marker=look(ref)["marker"], color=look(ref)["color"], markersize=5)
    tags = [(0.0, 0.0, _number(ref), look(ref)["color"])]
    for v in names:
        a, c = a_rows[v], c_rows[v]
        style = look(v)
        ax.errorbar(
            c["diff"],
            a["diff"],
            xerr=[[c["diff"] - c["lo"]], [c["hi"] - c["diff"]]],
            yerr=[[a["diff"] - a["lo"]], [a["hi"] - a["diff"]]],
            color=style["color"],
            marker=style["marker"],
            markerfacecolor=style["markerfacecolor"],
            markersize=5,
            elinewidth=0.8,
            capsize=0,
            linestyle="none",
            alpha=0.9,
        )
        tags.append((c["diff"], a["diff"], _number(v), style["color"]))
    ax._tags = tags  # placed by draw() once the layout is final
    ax.set_xlabel(
        "label changes, design - ref.\n(% points; < 0 = better)"
        if seg
        else "EQ-T PSNR, design - ref.\n(dB; > 0 = better)"
    )
    ax.set_ylabel(a_label)
    seeds = max(len(e["seeds"]) for e in crop["variants"].values())
    ax.set_title(f"{TASK_SHORT.get(task, task)}, {seeds} seed{'s' if seeds > 1 else ''}")
    return [checkpoint_note({v: e.get("sources", []) for v, e in crop["variants"].items()})]


def draw(study: Study) -> plt.Figure:
    """The figure from loaded results (raises ``ResultsError`` if something is missing)."""
    tasks = [t for t in study.tasks_with("accuracy") if "crop" in study.get("tasks", t)]
    if not tasks:
        raise study.fail("expected a task with both 'accuracy' and 'crop' results")
    speed = study.speed_records("shipped")
    ref = reference(study.variants(tasks[0], "crop"))
    fig = plt.figure(figsize=(7.0, 6.4), layout="constrained")
    grid = fig.add_gridspec(2, len(tasks), height_ratios=[1.15, 1])
    notes = []
    for j, task in enumerate(tasks):
        notes += _tradeoff(fig.add_subplot(grid[0, j]), study, task, ref)
    ax = fig.add_subplot(grid[1, :])
    names = [v for v in VARIANT_ORDER if v in speed]
    rows = {
        v: {
            "diff": speed[v]["train_step_ratio"],
            "lo": speed[v]["train_step_ratio_q1"],
            "hi": speed[v]["train_step_ratio_q3"],
        }
        for v in names
    }
    difference_rows(ax, names, [(rows, True)])
    sp = study.speed or {}
    sref = sp.get("config", {}).get("reference", "bilinear")
    # the speed reference's ratio is 1 by construction: said, not passed off as a measurement
    ax.set_yticklabels(
        [
            f"{_number(v)}  {VARIANT_LABEL.get(v, v)}" + (" (= 1: ref.)" if v == sref else "")
            for v in names
        ]
    )
    ax.axvline(1, color="black", lw=0.8)
    shape = next(iter(speed.values())).get("input_shape", [])
    ax.set_xlabel(
        f"training-step time / {VARIANT_LABEL.get(sref, sref)}'s in the same run (median; bars: "
        f"quartiles)\ninput {tuple(shape)}, {count(study.speed_threads(), 'CPU thread')}; "
        "< 1 = faster\n(these resize-convs convolve at the fine resolution; the fixed up paths "
        "of real U-Nets,\n1x1 conv at the coarse one or interpolation only, are study v2's "
        "benchmark)"
    )
    lo = min(r["lo"] for r in rows.values())
    hi = max(r["hi"] for r in rows.values())
    ax.set_xlim(min(lo, 1.0) - 0.05, max(hi, 1.0) + 0.05)
    fig.suptitle(
        f"Top: each design minus {VARIANT_LABEL.get(ref, ref)} (the original U-Net up-conv, "
        f"design {_number(ref)}, at 0, 0) in test accuracy and in crop-shift consistency,\n"
        "paired 95% intervals; numbers: designs as listed below. Bottom: training speed.",
        fontsize=7.5,
    )
    fig.supxlabel("checkpoints: " + ";\n".join(dict.fromkeys(notes)), fontsize=7)
    fig.canvas.draw()  # the final layout, so that the tags can avoid one another
    for a in fig.axes:
        if getattr(a, "_tags", None):
            place_tags(a, a._tags)
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
