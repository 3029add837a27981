"""Figure 1: frequency responses of the fixed x2 up-samplers against the ideal interpolator.

Reads ``results/spectra/spectra.{json,npz}`` (``python -m analysis.spectra``) and writes
``fig1_upsampler_response.{png,pdf}``: (a) ``|H(f)|`` along one axis, linear, image band shaded;
(b) the same in dB; (c) imaging energy per up-sampler (1-D and 2-D, read from the results);
(d) 2-D ``|H(fy, fx)|`` maps with the pass band outlined. Frequencies in output cycles/pixel
(Nyquist 0.5); responses divided by the DC gain ``up`` per axis.

Usage: ``python figures/fig1_upsampler_response.py [--results DIR] [--out DIR]``
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from figures._main import figure_main  # noqa: E402
from figures._spectral_common import Results, load_results  # noqa: E402
from figures.style import PALETTE  # noqa: E402

NAME = "fig1_upsampler_response"
COMMAND = "python -m analysis.spectra"
FLOOR_DB = -80.0

# Display order and look of the up-samplers; labels come from here, numbers from the results.
_ORDER = ("nearest", "bilinear", "bicubic", "blur_binomial", "kaiser", "ideal")
_LOOK = {
    "nearest": (PALETTE[0], "-"),
    "bilinear": (PALETTE[1], "-"),
    "bicubic": (PALETTE[2], "--"),
    "blur_binomial": (PALETTE[3], "-."),
    "kaiser": (PALETTE[6], "-"),
    "ideal": ("#000000", ":"),
}


def _key(name: str) -> str:
    """``blur_binomial5`` -> ``blur_binomial`` (the length is part of the name in the results)."""
    return "blur_binomial" if name.startswith("blur_binomial") else name


def _label(name: str, res: Results) -> str:
    if name.startswith("blur_binomial"):
        return f"blur (binomial-{len(res.get('upsamplers', name, 'taps'))})"
    if name == "kaiser":
        n = len(res.get("upsamplers", name, "taps"))
        return f"Kaiser sinc ({n} taps)"
    if name == "ideal":
        return "ideal (brick wall)"
    return name


def _short(name: str, res: Results) -> str:
    return _label(name, res).split(" (")[0].replace(" sinc", "")


def _names(res: Results) -> list[str]:
    ups = res.get("upsamplers")
    if not isinstance(ups, dict) or "ideal" not in ups or len(ups) < 2:
        raise res._fail("expected 'upsamplers' with 'ideal' and at least one other entry")
    rank = {k: i for i, k in enumerate(_ORDER)}
    return sorted(ups, key=lambda n: (rank.get(_key(n), len(rank)), n))


def draw(res: Results) -> plt.Figure:
    """The figure from loaded results (raises ``ResultsError`` if something is missing)."""
    up = int(res.number("config", "up"))
    f1 = res.array("freqs_1d", ndim=1)
    f2 = res.array("freqs_2d", ndim=1)
    names = _names(res)
    mags1 = {n: res.array(f"up__{n}__mag1d", shape=f1.shape) / up for n in names}
    mags2 = {n: res.array(f"up__{n}__mag2d", shape=(f2.size, f2.size)) / up**2 for n in names}
    energy = {
        n: (
            res.number("upsamplers", n, "imaging_energy_1d"),
            res.number("upsamplers", n, "imaging_energy_2d"),
        )
        for n in names
    }
    band = 1.0 / (2 * up)  # the input's Nyquist, in output cycles/pixel

    fig = plt.figure(figsize=(7.2, 6.6))
    grid = fig.add_gridspec(2, 1, height_ratios=[1.0, 0.78], hspace=0.38)
    top = grid[0].subgridspec(1, 3, width_ratios=[1, 1, 0.85], wspace=0.42)
    ax_lin, ax_db, ax_bar = (fig.add_subplot(top[i]) for i in range(3))

    for n in names:
        color, style = _LOOK.get(_key(n), ("#777777", "-"))
        kw = {"color": color, "linestyle": style, "label": _label(n, res)}
        if n == "ideal":
            kw["linewidth"] = 1.8
        ax_lin.plot(f1, mags1[n], **kw)
        with np.errstate(divide="ignore"):
            db = 20 * np.log10(np.maximum(mags1[n], 10 ** (FLOOR_DB / 20)))
        ax_db.plot(f1, db, **kw)
    for ax in (ax_lin, ax_db):
        ax.axvspan(band, f1.max(), color="#DDDDDD", alpha=0.6, linewidth=0, zorder=0)
        ax.set_xlim(0, f1.max())
        ax.set_xlabel("f (output cycles/pixel)")
    ax_lin.text(
        (band + f1.max()) / 2, 1.08, "image band", ha="center", va="top", fontsize=8, color="#444"
    )
    ax_lin.set_ylim(0, 1.12)
    ax_lin.set_ylabel(f"|H(f)| / {up}  (gain, 1 = DC)")
    ax_lin.set_title("(a) response along one axis")
    ax_db.set_ylim(FLOOR_DB, 5)
    ax_db.set_ylabel(f"20 log10(|H(f)| / {up})  (dB)")
    ax_db.set_title(f"(b) in dB (floor {FLOOR_DB:.0f} dB)")

    # (c) imaging energy: the share of |H|^2 in the image band, as the analysis computed it
    shown = [n for n in names if n != "ideal"]
    y = np.arange(len(shown))
    e1 = np.array([energy[n][0] for n in shown]) * 100
    e2 = np.array([energy[n][1] for n in shown]) * 100
    colors = [_LOOK.get(_key(n), ("#777777", "-"))[0] for n in shown]
    ax_bar.barh(y - 0.2, e1, height=0.38, color=colors, label="1-D")
    ax_bar.barh(y + 0.2, e2, height=0.38, color=colors, alpha=0.45, hatch="///", label="2-D")
    for yi, a, b in zip(y, e1, e2):
        ax_bar.text(a, yi - 0.2, f" {a:.1f}", va="center", fontsize=7)
        ax_bar.text(b, yi + 0.2, f" {b:.1f}", va="center", fontsize=7)
    ax_bar.set_yticks(y)
    ax_bar.set_yticklabels([_short(n, res) for n in shown])
    ax_bar.invert_yaxis()
    ax_bar.set_xlim(0, max(e2.max(), e1.max()) * 1.35)
    ax_bar.set_xlabel("imaging energy (% of |H|²)")
    ax_bar.set_title("(c) energy in the image band\n(ideal: 0)")
    ax_bar.grid(axis="y", visible=False)
    ax_bar.legend(loc="lower right", handlelength=1.2, fontsize=7)

    handles, labels = ax_lin.get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="upper center",
        ncol=len(labels),
        bbox_to_anchor=(0.5, 1.0),
        fontsize=7.5,
        columnspacing=1.2,
        handlelength=2.2,
    )

    # (d) 2-D maps, one per up-sampler, same colour scale
    bottom = grid[1].subgridspec(1, len(names), wspace=0.15)
    step = f2[1] - f2[0]
    extent = (f2[0] - step / 2, f2[-1] + step / 2, f2[0] - step / 2, f2[-1] + step / 2)
    axes = []
    image = None
    for i, n in enumerate(names):
        ax = fig.add_subplot(bottom[i])
        axes.append(ax)
        image = ax.imshow(mags2[n], origin="lower", extent=extent, vmin=0, vmax=1, cmap="viridis")
        ax.add_patch(
            Rectangle(
                (-band, -band),
                2 * band,
                2 * band,
                fill=False,
                edgecolor="white",
                linewidth=0.8,
                linestyle="--",
            )
        )
        ax.set_title(f"{_short(n, res)}\nimaging {energy[n][1] * 100:.1f}%", fontsize=8)
        ax.grid(False)
        # label the pass-band edges only: outer labels of neighbours would collide
        ticks, tick_labels = [-0.5, -band, 0, band, 0.5], ["", f"-{band:g}", "0", f"{band:g}", ""]
        ax.set_xticks(ticks, tick_labels)
        ax.set_yticks(ticks, tick_labels if i == 0 else [])
        ax.tick_params(labelsize=7)
        ax.set_xlabel("fx", fontsize=8)
        if i == 0:
            ax.set_ylabel("fy (cycles/pixel)")
    for ax in axes:
        ax.apply_aspect()  # square maps: their final boxes, to place the colour bar beside them
    last = axes[-1].get_position()
    cax = fig.add_axes((last.x1 + 0.012, last.y0, 0.013, last.height))
    bar = fig.colorbar(image, cax=cax)
    bar.set_label(f"|H(fy, fx)| / {up}²", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    fig.text(
        0.5,
        last.y1 + 0.075,
        f"(d) 2-D response maps; dashed square: pass band |fx|, |fy| < {band:g} cycles/pixel "
        "(outside it: imaging)",
        ha="center",
        fontsize=9,
    )
    return fig


def main(argv: Sequence[str] | None = None) -> int:
    """Command line (see the module docstring); returns the exit status."""
    return figure_main(
        argv,
        name=NAME,
        description=__doc__.splitlines()[0],
        folder="spectra",
        load=lambda folder: load_results(folder, "spectra", COMMAND),
        draw=draw,
    )


if __name__ == "__main__":
    sys.exit(main())
