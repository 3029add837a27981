"""Figure 4: shift consistency under crop shifts, as paired differences to the original up-conv.

Reads ``results/study/study.{json,npz}`` and the per-image sums of ``results/study/crop_<task>``
(``python -m analysis.study``, piece ``crop``): windows cut at horizontal offsets 1-16 px from
the same test images, the prediction of the shifted window compared with the moved prediction
of the reference window on their overlap (every compared pixel).

Top row: the reference design (transposed 2x2, the original U-Net up-conv) alone, label
changes (%) or EQ-T PSNR (dB) against the shift, with its 95% interval. Bottom row: every other
design minus the reference, pooled over the off-period shifts (not multiples of the period,
where sampling matters) and over the on-period ones, each with the study's paired 95% interval
(images drawn once for both designs, seeds per design; over all shifts it equals the study's
``paired_all``). An interval crossing 0 means no measurable difference.

Usage: ``python figures/fig4_shift_vs_offset.py [--results DIR] [--out DIR]``
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from figures._main import figure_main  # noqa: E402
from figures._paired import GREY, difference_rows, series_handles  # noqa: E402
from figures._study_common import (  # noqa: E402
    Study,
    checkpoint_note,
    consistency_axis,
    load_piece_sums,
    load_study,
    look,
    paired_to_reference,
    reference,
    shift_groups,
)
from figures.style import VARIANT_LABEL  # noqa: E402

NAME = "fig4_shift_vs_offset"
TASK_SHORT = {"nuclei": "nuclei (segm.)", "textures": "textures (segm.)", "denoise": "denoise"}


def _reference_curve(ax: plt.Axes, study: Study, task: str, ref: str, kind: str) -> None:
    """The reference's own consistency against the shift, with its 95% interval."""
    label, tf, _ = consistency_axis(kind)
    shifts = study.array(f"crop_{task}__shifts", ndim=2)
    dx = shifts[:, 1]
    keep = dx != 0  # the zero shift is the reference window itself
    base = f"crop_{task}__{ref}__all__"
    mean, lo, hi = (tf(study.array(base + k, ndim=1)[keep]) for k in ("mean", "lo", "hi"))
    style = look(ref)
    ax.fill_between(
        dx[keep], np.minimum(lo, hi), np.maximum(lo, hi), color=style["color"], alpha=0.2, lw=0
    )
    ax.plot(dx[keep], mean, color=style["color"], marker=style["marker"], markersize=3, lw=1.2)
    period = study.get("tasks", task, "crop", "period")
    for m in range(period, int(dx.max()) + 1, period):
        ax.axvline(m, color=GREY, linewidth=0.8, linestyle=":", zorder=0)
    ax.set_xlim(0.5, dx.max() + 0.5)
    ax.set_xticks([1, *range(4, int(dx.max()) + 1, 4)])
    ax.set_xlabel("crop shift (px)")
    ax.set_ylabel("label changes (%)" if kind == "segmentation" else "EQ-T PSNR (dB)")
    if kind == "segmentation":
        ax.set_ylim(bottom=0)


def _differences(ax: plt.Axes, study: Study, task: str, ref: str, first: bool) -> list[str]:
    """Design minus reference, off-period (colour) and on-period (grey), paired intervals."""
    ps = load_piece_sums(study, "crop", task)
    groups = shift_groups(ps.shifts, ps.period)
    names = [v for v in ps.sums if v != ref]
    rows = {}
    for key in ("off", "on"):
        if groups[key]:
            rows[key] = paired_to_reference(study, ps, ref, groups[key])
    series = [(rows[k], k == "off") for k in ("off", "on") if k in rows]
    difference_rows(ax, names, series, show_labels=first)
    if ps.kind == "segmentation":
        ax.set_xlabel("label changes, design - ref.\n(% points; < 0 = better)")
    else:
        ax.set_xlabel("EQ-T PSNR, design - ref.\n(dB; > 0 = better)")
    return [checkpoint_note(ps.checkpoints)]


def draw(study: Study) -> plt.Figure:
    """The figure from loaded results (raises ``ResultsError`` if something is missing)."""
    tasks = study.tasks_with("crop")
    ref = reference(study.variants(tasks[0], "crop"))
    fig, axes = plt.subplots(
        2,
        len(tasks),
        figsize=(7.0, 6.6),
        squeeze=False,
        layout="constrained",
        gridspec_kw={"height_ratios": [1, 2.1]},
    )
    notes = []
    for j, task in enumerate(tasks):
        crop = study.get("tasks", task, "crop")
        _reference_curve(axes[0, j], study, task, ref, crop["kind"])
        seeds = max(len(e["seeds"]) for e in crop["variants"].values())
        axes[0, j].set_title(
            f"{TASK_SHORT.get(task, task)}\n{crop['n_images']} test images x {seeds} "
            f"seed{'s' if seeds > 1 else ''}"
        )
        notes += _differences(axes[1, j], study, task, ref, j == 0)
    period = study.get("tasks", tasks[0], "crop", "period")
    handles = series_handles(
        [
            (f"off-period shifts (not multiples of {period} px; colour: family)", True),
            (f"on-period shifts (multiples of {period} px)", False),
        ]
    )
    # the legend's title carries the checkpoints, so the footer cannot collide with the legend
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncol=2,
        handlelength=1.6,
        title="checkpoints: " + ";\n".join(dict.fromkeys(notes)),
        title_fontsize=7,
    )
    fig.suptitle(
        f"Top: the reference, {VARIANT_LABEL.get(ref, ref)} (original U-Net up-conv), against "
        f"the crop shift (1-16 px; band: 95% interval).\nBottom: each design minus the "
        "reference, with the paired 95% interval (same images and seeds); 0 = no difference.",
        fontsize=8,
    )
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
