"""Figure 1: the up-samplers the U-Nets use, and the effective up-sampling operators compared.

Reads ``results/spectra/spectra.{json,npz}`` (``python -m analysis.spectra``) and writes
``fig1_upsampler_response.{png,pdf}``:

(a) ``|H(f)|`` of the fixed x2 interpolators in the designs (nearest, bilinear, and the
    blur-ups zeros + binomial-4, v1's ``blurpool_blur``, and binomial-5, v2's
    ``blurpool_blur5``, each drawn only when the results analysed it; a blur-up whose taps are
    an interpolator's, binomial-4 = bilinear's, shares that curve and says so), linear, divided
    by the DC gain ``up``; classical references (bicubic, Kaiser-windowed sinc, the ideal brick
    wall) in grey; (b) their 1-D taps;
(c) the effective operators of the up paths the designs use (up-sampler plus the 3x3 conv
    where the design has one, at initialisation: transposed convs at PyTorch's default init,
    nearest / bilinear / blur-up + conv, 1x1 conv + bilinear, pixel shuffle ICNR with and
    without MONAI's 2x2 blur, FCN bilinear init; pixel shuffle at the default init, which no
    design uses, as a reference; 16 channels, seed of the results):
    ``||H(f)||_2 / ||H(0)||_2`` along ``fx`` (``fy = 0``), in dB, floor -40 dB;
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
    """The design an operator of the results belongs to: the longest design-name prefix.

    A blur-up operator ``blur<n>_conv`` belongs to the design whose blur-up has ``n`` taps.
    """
    if name.startswith("blur") and name.endswith("_conv"):
        n = name.removeprefix("blur").removesuffix("_conv")
        return next((d for d, t in _blur_designs().items() if str(t) == n), None)
    hits = [d for d in VARIANT_ORDER if name == d or name.startswith(d + "_")]
    stem = name.removesuffix("_conv")
    hits += [d for d in VARIANT_ORDER if stem == d]
    return max(hits, key=len) if hits else None


def _operator_label(name: str) -> str:
    if name.startswith("blur") and name.endswith("_conv"):  # the up path only, not the encoder
        return f"blur-up (binomial-{name.removeprefix('blur').removesuffix('_conv')}) + conv"
    if name == "pixelshuffle":
        return "pixel shuffle (default init; no design)"
    design = _design_of(name)
    base = VARIANT_LABEL.get(design, name) if design else name
    extra = {"_bilinear_init": " (bilinear init)", "_icnr": "", "_conv": ""}
    for suffix, text in extra.items():
        if name.endswith(suffix):
            return base if text.strip(" ()") in base else base + text
    if design in ("tconv2", "tconv3", "tconv4"):
        return base + " (default)"
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


def _fixed(res: Results) -> tuple[list[str], list[str], dict[str, list[str]]]:
    """(interpolators a design uses, classical references, interpolator -> same-taps blur-ups).

    A blur-up is shown only if the results analysed the taps of a design's blur-up; one whose
    taps equal a drawn interpolator's (binomial-4 = bilinear) is not drawn again but named
    with it.
    """
    ups = res.get("upsamplers")
    if not isinstance(ups, dict) or "ideal" not in ups:
        raise res._fail("expected 'upsamplers' with 'ideal'")
    used = [n for n in USED if n in ups]
    same: dict[str, list[str]] = {}
    for n in ups:
        taps = ups[n].get("taps") or []
        if not n.startswith("blur_binomial") or len(taps) not in _blur_designs().values():
            continue
        twin = next((u for u in used if _same_taps(ups[u].get("taps"), taps)), None)
        if twin is None:
            used.append(n)
        else:
            same.setdefault(twin, []).append(n)
    return used, [n for n in REFERENCES if n in ups], same


def _same_taps(a: list | None, b: list) -> bool:
    return a is not None and len(a) == len(b) and np.allclose(a, b, rtol=0, atol=1e-12)


def _blur_designs() -> dict[str, int]:
    """Design -> tap count of its blur-up (:mod:`antialias.variants`, default included)."""
    out = {}
    for row in variants.DESIGNS.values():
        if row.unet.get("up") == "blur":
            taps = (row.unet.get("up_kwargs") or {}).get("taps", _DEFAULT_TAPS["blur"])
            out[row.name] = int(taps)
    return out


def _fixed_look(name: str, k: int) -> dict:
    if name in GREYS:
        color, ls = GREYS[name]
        return {"color": color, "linestyle": ls, "lw": 1.1}
    fam = "blur" if name.startswith("blur") else "resize_conv"
    return {"color": FAMILY_COLOR[fam], "linestyle": ("-", "--")[k % 2], "lw": 1.6}


def _legend_below(sub, source: plt.Axes, ncol: int) -> None:
    """The legend of ``source`` under the panels of the sub-figure ``sub``."""
    handles, labels = source.get_legend_handles_labels()
    sub.legend(
        handles,
        labels,
        loc="outside lower center",
        ncol=ncol,
        fontsize=7,
        handlelength=2.2,
        columnspacing=1.2,
        frameon=False,
    )


def draw(res: Results) -> plt.Figure:
    """The figure from loaded results (raises ``ResultsError`` if something is missing)."""
    up = int(res.number("config", "up"))
    f1 = res.array("freqs_1d", ndim=1)
    f2 = res.array("freqs_2d", ndim=1)
    used, refs, same = _fixed(res)

    def fixed_label(n: str) -> str:
        return " = ".join([_fixed_label(n, res)] + [_fixed_label(t, res) for t in same.get(n, [])])

    band = 1.0 / (2 * up)
    fig = plt.figure(figsize=(6.9, 8.0), layout="constrained")
    # two sub-figures, each with its legend below its panels: a dozen curves would cover
    # each other's legend inside the panels
    top, bottom = fig.subfigures(2, 1, height_ratios=[1, 1.3])
    ax, bx = top.subplots(1, 2, width_ratios=[1.25, 1])
    cx, dx = bottom.subplots(1, 2, width_ratios=[1.1, 1])

    ax.axvspan(0, band, color="#EEEEEE", lw=0)
    ax.text(band / 2, 0.03, "input band", ha="center", fontsize=7, color="#444444")
    for k, n in enumerate(used + refs):
        mag = res.array(f"up__{n}__mag1d", shape=f1.shape) / up
        ax.plot(f1, mag, label=fixed_label(n), **_fixed_look(n, k))
    ax.set_xlim(0, f1.max())
    ax.set_ylim(0, 1.15)
    ax.set_xlabel("output frequency f (cycles/pixel)")
    ax.set_ylabel("|H(f)| / up")
    ax.set_title("(a) fixed x2 interpolators\n(colour: in a design; grey: references)")
    _legend_below(top, ax, ncol=3)

    for k, n in enumerate(used):
        taps = np.asarray(res.get("upsamplers", n, "taps"), dtype=float)
        x = np.arange(taps.size) - (taps.size - 1) / 2
        look = _fixed_look(n, k)
        off = 0.12 * (k - (len(used) - 1) / 2)
        bx.vlines(x + off, 0, taps, color=look["color"], lw=1.6)
        marker = "so^"[k % 3]
        label = fixed_label(n).replace(" (blur-up)", "").replace("zeros + ", "")
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
    _legend_below(bottom, cx, ncol=3)

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
    dx.set_xlim(0, 135)
    dx.set_xticks([0, 25, 50, 75, 100])
    dx.set_xlabel("imaging energy, 2-D (%)")
    dx.set_title("(d) imaging energy\n(chk: checkerboard index)")
    dx.grid(axis="y", visible=False)
    cfg = res.get("config")
    fig.suptitle(
        "Up-sampling in the U-Net designs: fixed interpolators (top) and the whole up path at "
        f"initialisation (bottom;\n{cfg.get('channels', '?')} channels, one random draw, seed "
        f"{cfg.get('seed', '?')}: no interval; no trained checkpoint: learned kernels are in "
        "figure 2)",
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
