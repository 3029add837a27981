"""Figure 6: equivariance to sub-pixel shifts, as paired differences to the original up-conv.

Reads ``results/study/study.{json,npz}`` (``python -m analysis.study``, piece ``fractional``):
the input is shifted horizontally by ``k/8`` px with a band-limited Lanczos-3 kernel (as
StyleGAN3's EQ-T_frac), the output of the unshifted input by the same operator, and the two are
compared where the kernel stays inside the frame.

Top row: the reference design (transposed 2x2, the original U-Net up-conv) alone against the
shift, EQ-T PSNR (dB, higher = more equivariant) or label changes (%), band: 95% interval over
seeds and test images. Bottom row: every other design minus the reference, pooled over the
sub-pixel shifts, with the study's paired 95% interval (``paired_all``: the same images drawn
for both designs). An interval crossing 0 means no measurable difference.

Usage: ``python figures/fig6_fractional.py [--results DIR] [--out DIR]``
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from figures._main import figure_main  # noqa: E402
from figures._paired import difference_rows, study_paired  # noqa: E402
from figures._study_common import (  # noqa: E402
    Study,
    checkpoint_note,
    consistency_axis,
    load_study,
    look,
    reference,
)
from figures.style import VARIANT_LABEL  # noqa: E402

NAME = "fig6_fractional"
TASK_SHORT = {"nuclei": "nuclei (segm.)", "textures": "textures (segm.)", "denoise": "denoise"}


def draw(study: Study) -> plt.Figure:
    """The figure from loaded results (raises ``ResultsError`` if something is missing)."""
    tasks = study.tasks_with("fractional")
    ref = reference(study.variants(tasks[0], "fractional"))
    fig, axes = plt.subplots(
        2,
        len(tasks),
        figsize=(2.3 * len(tasks) + 1.6, 5.6),
        squeeze=False,
        layout="constrained",
        gridspec_kw={"height_ratios": [1, 2.0]},
    )
    notes = []
    for j, task in enumerate(tasks):
        frac = study.get("tasks", task, "fractional")
        _, tf, _ = consistency_axis(frac["kind"])
        seg = frac["kind"] == "segmentation"
        shifts = study.array(f"fractional_{task}__shifts", ndim=2)
        dx = shifts[:, 1]
        keep = dx != 0
        base = f"fractional_{task}__{ref}__all__"
        mean, lo, hi = (tf(study.array(base + k, ndim=1)[keep]) for k in ("mean", "lo", "hi"))
        ax = axes[0, j]
        style = look(ref)
        ax.fill_between(
            dx[keep], np.minimum(lo, hi), np.maximum(lo, hi), color=style["color"], alpha=0.2, lw=0
        )
        ax.plot(dx[keep], mean, color=style["color"], marker=style["marker"], markersize=3)
        ax.set_xlim(0, 1)
        ax.set_xticks([0, 0.25, 0.5, 0.75, 1])
        ax.set_xlabel("sub-pixel shift (px)")
        ax.set_ylabel("label changes (%)" if seg else "EQ-T PSNR (dB)")
        if seg:
            ax.set_ylim(bottom=0)
        seeds = max(len(e["seeds"]) for e in frac["variants"].values())
        ax.set_title(
            f"{TASK_SHORT.get(task, task)}\n{frac['n_images']} test images x {seeds} "
            f"seed{'s' if seeds > 1 else ''}"
        )
        rows = study_paired(study, task, "fractional", ref, scale=-100.0 if seg else 1.0)
        names = [v for v in study.variants(task, "fractional") if v != ref]
        bx = axes[1, j]
        difference_rows(bx, names, [(rows, True)], show_labels=j == 0)
        bx.set_xlabel(
            "label changes, design - ref.\n(% points; < 0 = better)"
            if seg
            else "EQ-T PSNR, design - ref.\n(dB; > 0 = better)"
        )
        sources = {v: e.get("sources", []) for v, e in frac["variants"].items()}
        notes.append(checkpoint_note(sources))
    fig.suptitle(
        f"Top: the reference, {VARIANT_LABEL.get(ref, ref)} (original U-Net up-conv), against "
        "the Lanczos-3 sub-pixel shift (band: 95% interval).\nBottom: each design minus the "
        "reference over all sub-pixel shifts, paired 95% interval; 0 = no difference.",
        fontsize=7.5,
    )
    fig.supxlabel("checkpoints: " + ";\n".join(dict.fromkeys(notes)), fontsize=7)
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
