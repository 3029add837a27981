"""Figure: frequency responses at the DC image, and what each up-sampler family can fit.

Reads ``results/transposed_tutorial/tutorial.{json,npz}`` and writes
``fig_transposed_spectrum.{png,pdf}``: (top) the responses along one axis; (bottom) each
family's best least-squares fit to the camera detail, as PSNR minus the transposed 2x2's on
the same input, for every way the results made the low-resolution input (``fit_by_input``:
average-pooled, decimated, triangle-filtered): the ranking changes with it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from figures._main import figure_main  # noqa: E402
from figures._transposed_common import load  # noqa: E402
from figures.style import FAMILY_COLOR  # noqa: E402

NAME = "fig_transposed_spectrum"
LIGHT_BLUE = "#33BBEE"  # bilinear: a lighter shade of the resize-conv family's blue


REFERENCE = "transposed 2x2"  # the U-Net's up-conv: every fit is shown as a difference to it
#: One marker per way of making the low-resolution input (in the results' order).
INPUT_MARKERS = ("o", "s", "^", "D", "v")


def _row_colour(family: str) -> str:
    if family.endswith("(fixed)"):
        return "#888888"
    if family.startswith("transposed"):
        return FAMILY_COLOR["transposed"]
    return FAMILY_COLOR["resize_conv"]


def _fit_panel(bx: plt.Axes, meta: dict) -> None:
    """Each family's best-fit PSNR minus the transposed 2x2's, one marker per input family.

    The fits are deterministic least squares on one image: no interval exists to draw.
    """
    by_input = meta.get("fit_by_input") or {meta["fit"].get("make_input", "input"): meta["fit"]}
    inputs = list(by_input)
    first = by_input[inputs[0]]["rows"]
    # the reference's own row is 0 by construction: not drawn
    order = [r["family"] for r in sorted(first, key=lambda r: r["psnr_db"])]
    order = [f for f in order if f != REFERENCE]
    params = {r["family"]: r["params"] for r in first}
    for k, name in enumerate(inputs):
        psnr = {r["family"]: r["psnr_db"] for r in by_input[name]["rows"]}
        ref = psnr.get(REFERENCE)
        if ref is None:
            continue
        dy = 0.22 * (k - (len(inputs) - 1) / 2)
        for i, fam in enumerate(order):
            if fam not in psnr:
                continue
            colour = _row_colour(fam)
            marker = INPUT_MARKERS[k % len(INPUT_MARKERS)]
            bx.plot(
                psnr[fam] - ref,
                i + dy,
                marker=marker,
                color=colour,
                markerfacecolor=colour if k == 0 else "white",
                markersize=4.5,
                linestyle="none",
            )
    bx.axvline(0, color="black", lw=0.8)
    bx.set_yticks(range(len(order)))
    bx.set_yticklabels([f"{f} ({params[f]} params)" for f in order])
    bx.set_ylim(-0.6, len(order) - 0.4)
    bx.grid(axis="y", visible=False)
    bx.legend(
        handles=[
            plt.Line2D(
                [],
                [],
                marker=INPUT_MARKERS[k % len(INPUT_MARKERS)],
                color="black",
                markerfacecolor="black" if k == 0 else "white",
                linestyle="none",
                label=name,
            )
            for k, name in enumerate(inputs)
        ],
        title="low-resolution input",
        title_fontsize=7,
        fontsize=7,
        loc="upper left",
    )
    bx.set_xlabel(
        f"best least-squares fit's PSNR minus {REFERENCE}'s ({params.get(REFERENCE, '?')} "
        "params) on the same input\n(dB; > 0 = better; one image, deterministic fits: no "
        "interval)\nred: transposed conv, blue: interpolation + conv, grey: fixed"
    )
    size_in, size_out = meta["fit"]["input"], meta["fit"]["target"]
    bx.set_title(
        f"Best linear fit to camera detail, {size_in[0]}x{size_in[1]} -> "
        f"{size_out[0]}x{size_out[1]} (the tutorial's camera image,\n"
        "results/transposed_tutorial): the ranking depends on how the input was made",
    )


def draw(arrays: dict[str, np.ndarray], meta: dict) -> plt.Figure:
    fig, (ax, bx) = plt.subplots(
        2, 1, figsize=(6.8, 7.2), layout="constrained", gridspec_kw={"height_ratios": [1, 1.15]}
    )
    f = arrays["spectra_freqs"]
    styles = ("-", "-", "--", "--", ":")
    for i, (name, h) in enumerate(zip(meta["spectra_names"], arrays["spectra_responses"])):
        ax.plot(
            f,
            h / h[0],
            label=name,
            # family colours: transposed convs red, interpolation (+ conv) blue
            color=FAMILY_COLOR["transposed"]
            if "transposed" in name
            else (LIGHT_BLUE if name.startswith("bilinear") else FAMILY_COLOR["resize_conv"]),
            linewidth=1.6 if "transposed" in name else 1.3,
            linestyle=styles[i % len(styles)],
        )
    ax.axvline(0.5, color="#999999", linewidth=0.8)
    ax.annotate(
        "image of DC\n(f = 1/stride = 0.5)",
        xy=(0.5, 0.05),
        xytext=(0.34, 0.9),
        textcoords="data",
        arrowprops={"arrowstyle": "->", "color": "#555555"},
        fontsize=7.5,
    )
    ax.set_xlabel("frequency f along one axis (cycles/pixel of the output, Nyquist 0.5)")
    ax.set_ylabel("|H(f, 0)| / |H(0, 0)|")
    ax.set_title(
        "Stride-2 up-sampling kernels along one axis: the interpolators are zero at the image\n"
        "of DC (f = 0.5), so a flat input stays flat; a random transposed conv is not"
    )
    ax.set_xlim(0, 0.5)
    ax.legend(loc="lower left")
    _fit_panel(bx, meta)
    return fig


def main(argv: Sequence[str] | None = None) -> int:
    """Command line; returns 0, or 2 with one line on stderr for missing/malformed results."""
    return figure_main(
        argv,
        name=NAME,
        description=__doc__.splitlines()[0],
        folder="transposed_tutorial",
        load=load,
        draw=lambda loaded: draw(*loaded),
    )


if __name__ == "__main__":
    sys.exit(main())
