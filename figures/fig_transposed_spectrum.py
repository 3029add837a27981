"""Figure: frequency responses at the DC image, and what each up-sampler family can fit.

Reads ``results/transposed_tutorial/tutorial.{json,npz}`` and writes
``fig_transposed_spectrum.{png,pdf}``.
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
    rows = sorted(meta["fit"]["rows"], key=lambda r: r["psnr_db"])
    # bars start at 0 dB: a bar's length is the PSNR, so the differences are shown at their
    # true size (a cut axis made a 1 dB gap look like a factor of three)
    for i, r in enumerate(rows):
        fam = r["family"]
        if fam.endswith("(fixed)"):
            colour = "#BBBBBB"
        elif fam.startswith("transposed"):
            colour = FAMILY_COLOR["transposed"]
        else:
            colour = FAMILY_COLOR["resize_conv"]
        bx.barh(i, r["psnr_db"], color=colour, height=0.7)
        bx.text(r["psnr_db"] + 0.3, i, f"{r['psnr_db']:.2f} dB", va="center", fontsize=7)
    bx.set_yticks(range(len(rows)))
    bx.set_yticklabels([f"{r['family']} ({r['params']} params)" for r in rows])
    bx.set_xlim(0, max(r["psnr_db"] for r in rows) * 1.18)
    bx.set_xlabel(
        "PSNR of the best least-squares fit (dB, axis from 0)\nred: transposed conv, "
        "blue: interpolation + conv, grey: fixed"
    )
    bx.grid(axis="y", visible=False)
    size_in, size_out = meta["fit"]["input"], meta["fit"]["target"]
    bx.set_title(
        f"Best linear fit to camera detail: {size_in[0]}x{size_in[1]} (2x avg-pooled) -> "
        f"{size_out[0]}x{size_out[1]}\n(data: the tutorial's camera image, "
        "results/transposed_tutorial)",
    )
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
