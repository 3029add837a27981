"""Figure 1: the up-samplers the U-Nets use, and the effective up-sampling operators compared.

Reads ``results/spectra/spectra.{json,npz}`` (``python -m analysis.spectra``) and writes
``fig1_upsampler_response.{png,pdf}``:

(a) ``|H(f)|`` of the fixed x2 interpolators in the designs (nearest, bilinear; the blur-up
    only when the results' blur has the taps the models use), linear, divided by the DC gain
    ``up``; classical references (bicubic, Kaiser-windowed sinc, the ideal brick wall) in grey;
    (b) their 1-D taps;
(c) the effective operators a design's up path applies (up-sampler plus the 3x3 conv where
    the design has one, transposed convs at PyTorch's default init, ICNR, bilinear init; 16
    channels, seed of the results): ``||H(f)||_2 / ||H(0)||_2`` along ``fx`` (``fy = 0``),
    in dB, floor -40 dB;
(d) their imaging energy (share of ``||H||^2`` outside the input band, 2-D) and checkerboard
    index (largest response at an image of DC, relative to DC).

Colours: the design families of :mod:`antialias.variants`. Frequencies in output cycles/pixel
(Nyquist 0.5).

Usage: ``python figures/fig1_upsampler_response.py [--results DIR] [--out DIR]``
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from antialias import variants  # noqa: E402
from antialias.layers.upsample import _DEFAULT_TAPS  # noqa: E402
from figures._main import figure_main  # noqa: E402
from figures._spectral_common import Results, load_results  # noqa: E402
from figures.style import FAMILY_COLOR, VARIANT_LABEL, VARIANT_ORDER, family  # noqa: E402

NAME = "fig1_upsampler_response"
COMMAND = "python -m analysis.spectra"
FLOOR_DB = -40.0
REFERENCES = ("bicubic", "kaiser", "ideal")  # classical interpolators no design uses
USED = ("nearest", "bilinear")  # the fixed interpolators of the resize-conv designs
GREYS = {"bicubic": ("#777777", "--"), "kaiser": ("#777777", "-."), "ideal": ("#000000", ":")}


def _design_of(name: str) -> str | None:
    """The design an operator of the results belongs to: the longest design-name prefix."""
    hits = [d for d in VARIANT_ORDER if name == d or name.startswith(d + "_")]
    stem = name.removesuffix("_conv")
    hits += [d for d in VARIANT_ORDER if stem == d]
    return max(hits, key=len) if hits else None


def _operator_label(name: str) -> str:
    design = _design_of(name)
    base = VARIANT_LABEL.get(design, name) if design else name
    extra = {"_bilinear_init": " (bilinear init)", "_icnr": "", "_conv": ""}
    for suffix, text in extra.items():
        if name.endswith(suffix):
            return base if text.strip(" ()") in base else base + text
    if design in ("tconv2", "tconv3", "tconv4"):
        return base + " (default)"
    if name == "pixelshuffle":
        return "pixel shuffle (default)"
    return base


def _fixed_label(name: str, res: Results) -> str:
    taps = res.get("upsamplers", name, "taps")
    if name.startswith("blur_binomial"):
        return f"zeros + binomial-{len(taps)} (blur-up)"
    if name == "kaiser":
        return f"Kaiser sinc ({len(taps)} taps)"
    if name == "ideal":
        return "ideal (brick wall)"
    return name


def _fixed(res: Results) -> tuple[list[str], list[str]]:
    """(interpolators a design uses, classical references) present in the results."""
    ups = res.get("upsamplers")
    if not isinstance(ups, dict) or "ideal" not in ups:
        raise res._fail("expected 'upsamplers' with 'ideal'")
    used = [n for n in USED if n in ups]
    # the blur-up is shown only if the results analysed taps a design's blur-up uses
    used += [
        n
        for n in ups
        if n.startswith("blur_binomial") and len(ups[n]["taps"] or []) in _blur_taps()
    ]
    return used, [n for n in REFERENCES if n in ups]


def _blur_taps() -> set[int]:
    """Tap counts of the blur-ups of the designs (:mod:`antialias.variants`), default included."""
    out = set()
    for row in variants.DESIGNS.values():
        if row.unet.get("up") == "blur":
            out.add(int((row.unet.get("up_kwargs") or {}).get("taps", _DEFAULT_TAPS["blur"])))
    return out


def _fixed_look(name: str, k: int) -> dict:
    if name in GREYS:
        color, ls = GREYS[name]
        return {"color": color, "linestyle": ls, "lw": 1.1}
    fam = "blur" if name.startswith("blur") else "resize_conv"
    return {"color": FAMILY_COLOR[fam], "linestyle": ("-", "--")[k % 2], "lw": 1.6}


def draw(res: Results) -> plt.Figure:
    """The figure from loaded results (raises ``ResultsError`` if something is missing)."""
    up = int(res.number("config", "up"))
    f1 = res.array("freqs_1d", ndim=1)
    f2 = res.array("freqs_2d", ndim=1)
    used, refs = _fixed(res)
    band = 1.0 / (2 * up)
    fig = plt.figure(figsize=(6.9, 6.6), layout="constrained")
    grid = fig.add_gridspec(2, 2, width_ratios=[1.5, 1], height_ratios=[1, 1.1])

    ax = fig.add_subplot(grid[0, 0])
    ax.axvspan(0, band, color="#EEEEEE", lw=0)
    ax.text(band / 2, 0.03, "input band", ha="center", fontsize=7, color="#444444")
    for k, n in enumerate(used + refs):
        mag = res.array(f"up__{n}__mag1d", shape=f1.shape) / up
        ax.plot(f1, mag, label=_fixed_label(n, res), **_fixed_look(n, k))
    ax.set_xlim(0, f1.max())
    ax.set_ylim(0, 1.15)
    ax.set_xlabel("output frequency f (cycles/pixel)")
    ax.set_ylabel("|H(f)| / up")
    ax.set_title("(a) fixed x2 interpolators\n(colour: in a design; grey: references)")
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 0.07), handlelength=2.0)

    bx = fig.add_subplot(grid[0, 1])
    for k, n in enumerate(used):
        taps = np.asarray(res.get("upsamplers", n, "taps"), dtype=float)
        x = np.arange(taps.size) - (taps.size - 1) / 2
        look = _fixed_look(n, k)
        off = 0.12 * (k - (len(used) - 1) / 2)
        bx.vlines(x + off, 0, taps, color=look["color"], lw=1.6)
        marker = "so^"[k % 3]
        label = _fixed_label(n, res).replace(" (blur-up)", "")
        bx.plot(x + off, taps, marker, color=look["color"], markersize=4, label=label)
    bx.axhline(0, color="black", lw=0.6)
    bx.set_ylim(0, 1.2)
    bx.set_xlabel("tap position (output px)")
    bx.set_ylabel("tap weight (sum = up)")
    bx.set_title("(b) their 1-D taps")
    bx.legend(loc="upper left", fontsize=7, handlelength=1.0)

    ops = res.get("transposed")
    if not isinstance(ops, dict) or not ops:
        raise res._fail("expected a non-empty 'transposed' object")
    names = sorted(ops, key=lambda n: (VARIANT_ORDER.index(_design_of(n) or "aps"), n))
    cx = fig.add_subplot(grid[1, 0])
    row = int(np.argmin(np.abs(f2)))
    keep = f2 >= 0
    counts: dict[str, int] = {}
    for n in names:
        norm = res.array(f"tconv__{n}__spectral_norm", shape=(f2.size, f2.size))
        dc = norm[row, row]
        if dc <= 0:
            raise res._fail(f"expected a positive DC response for {n}")
        with np.errstate(divide="ignore"):
            db = 20 * np.log10(np.maximum(norm[row, keep] / dc, 1e-12))
        fam = family(_design_of(n) or "")
        k = counts[fam] = counts.get(fam, -1) + 1
        cx.plot(
            f2[keep],
            np.maximum(db, FLOOR_DB),
            color=FAMILY_COLOR.get(fam, "#777777"),
            linestyle=("-", "--", ":", "-.")[k % 4],
            lw=1.3,
            label=_operator_label(n),
        )
    cx.axvspan(0, band, color="#EEEEEE", lw=0, zorder=0)
    cx.set_xlim(0, 0.5)
    cx.set_ylim(FLOOR_DB, 10)
    cx.set_xlabel("output frequency fx (cycles/pixel), fy = 0")
    cx.set_ylabel("||H(f)|| / ||H(0)|| (dB)")
    cx.set_title("(c) effective up-sampling operators compared")
    cx.legend(loc="lower left", fontsize=7, handlelength=2.2)

    dx = fig.add_subplot(grid[1, 1])
    y = np.arange(len(names))
    energy = [100 * float(ops[n]["imaging_energy_2d"]) for n in names]
    colors = [FAMILY_COLOR.get(family(_design_of(n) or ""), "#777777") for n in names]
    dx.barh(y, energy, color=colors, height=0.6)
    for yi, n, e in zip(y, names, energy):
        ci = ops[n].get("checkerboard_index")
        text = f"{e:.0f}%, chk {ci:.2f}" if isinstance(ci, (int, float)) else f"{e:.0f}%"
        dx.text(e + 1.5, yi, text, va="center", fontsize=7)
    dx.set_yticks(y)
    dx.set_yticklabels([_operator_label(n) for n in names])
    dx.set_ylim(len(names) - 0.5, -0.5)
    dx.set_xlim(0, 150)
    dx.set_xticks([0, 25, 50, 75, 100])
    dx.set_xlabel("imaging energy, 2-D (%)")
    dx.set_title("(d) imaging energy\n(chk: checkerboard index)")
    dx.grid(axis="y", visible=False)
    cfg = res.get("config")
    fig.suptitle(
        "Up-sampling in the U-Net designs: fixed interpolators (top) and the whole up path at "
        f"initialisation (bottom;\n{cfg.get('channels', '?')} channels, seed "
        f"{cfg.get('seed', '?')}; no trained checkpoint: learned kernels are in figure 2)",
        fontsize=8,
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
