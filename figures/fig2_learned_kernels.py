"""Figure 2: learned up-sampling kernels of the trained U-Nets, and what a flat input becomes.

Reads ``results/learned_kernels/learned_kernels.{json,npz}`` (``python -m
analysis.learned_kernels``) and writes ``fig2_learned_kernels.{png,pdf}``:

(a) per model with transposed / sub-pixel layers (rows) and per decoder layer (coarse to fine):
    the polyphase DC gains ``||G_r||_2 / ||mean_r G_r||_2`` (a 2x2 grid for stride 2: equal
    values and equal matrices mean no checkerboard) titled with the checkerboard index, and the
    2-D response ``||H(f)||_2 / ||H(0)||_2`` in dB with the images of DC circled;
(b) the whole model's output for a constant input (logit margin minus its mean, interior
    patch, one colour scale for all models);
(c) the RMS of that periodic pattern against the input level.

Every number comes from the results file. Frequencies in cycles/pixel of the layer's output.

Usage: ``python figures/fig2_learned_kernels.py [--results DIR] [--out DIR]``
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from figures._main import figure_main  # noqa: E402
from figures._spectral_common import Results, load_results  # noqa: E402
from figures.style import VARIANT_LABEL, VARIANT_ORDER, variant_style  # noqa: E402

NAME = "fig2_learned_kernels"
COMMAND = "python -m analysis.learned_kernels"

DISPLAY_LEVEL = 0.0  # constant input shown in (b): background of the nuclei images
DB_RANGE = (-20.0, 6.0)  # colour range of the response maps
TINY = 1e-6  # pattern rms below this (logits) is printed as "rms<1e-6"
CONSTANT_SHOWN = 16  # side of the patch drawn in (b) (two periods of a depth-3 U-Net)


# Two-line labels for the small maps of (b); other names fall back to VARIANT_LABEL.
SHORT_LABEL = {
    "tconv2": "transposed\n2x2",
    "tconv3": "transposed\n3x3",
    "tconv4": "transposed\n4x4",
    "nearest": "nearest\n+ conv",
    "bilinear": "bilinear\n+ conv",
    "pixelshuffle": "pixel\nshuffle",
    "blurpool_tconv4": "blur-pool +\ntransp. 4x4",
    "blurpool_bilinear": "blur-pool\n+ bilinear",
    "blurpool_blur": "blur-pool\n+ blur-up",
    "aps": "APS\n(circular)",
}


def _order(names: Sequence[str]) -> list[str]:
    rank = {n: i for i, n in enumerate(VARIANT_ORDER)}
    return sorted(names, key=lambda n: (rank.get(n, len(rank)), n))


def _label(name: str) -> str:
    return VARIANT_LABEL.get(name, name)


def _layer_title(layer: dict[str, Any]) -> str:
    stride = layer.get("output_stride")
    if isinstance(stride, (int, float)) and stride >= 1:
        return "to full res." if stride == 1 else f"to 1/{stride:g} res."
    return str(layer.get("name", "?"))


def _wrap(values: np.ndarray, freqs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Append the -0.5 row/column at +0.5 (the response is 1-periodic), for a symmetric plot."""
    if np.isclose(freqs[0], -0.5):
        values = np.concatenate([values, values[:1]], axis=0)
        values = np.concatenate([values, values[:, :1]], axis=1)
        freqs = np.append(freqs, 0.5)
    return values, freqs


def _collect(res: Results) -> tuple[dict[str, Any], list[str], list[str]]:
    models = res.get("models")
    if not isinstance(models, dict) or not models:
        raise res._fail("expected a non-empty 'models' object")
    for name in models:
        for key in ("layers", "constant"):
            if not isinstance(res.get("models", name, key), list):
                raise res._fail(f"expected 'models/{name}/{key}' to be a list")
    order = _order(list(models))
    with_layers = [n for n in order if models[n]["layers"]]
    return models, order, with_layers


def draw(res: Results) -> plt.Figure:
    """The figure from loaded results (raises ``ResultsError`` if something is missing)."""
    models, order, with_layers = _collect(res)
    freqs = res.array("freqs_2d", ndim=1)
    n_cols = max((len(models[n]["layers"]) for n in with_layers), default=0)
    n_rows = len(with_layers)

    height_a = 1.1 * n_rows if n_rows else 0.0
    fig = plt.figure(figsize=(6.6, height_a + 4.5))  # a page is ~9 in tall
    outer = fig.add_gridspec(
        2 if n_rows else 1,
        1,
        height_ratios=[height_a, 4.1] if n_rows else [1],
        hspace=0.2 if n_rows else 0,
    )
    phase_image = resp_image = None
    vmax_phase = _phase_max(res, models, with_layers)
    if n_rows:
        grid = outer[0].subgridspec(
            n_rows, 2 * n_cols, wspace=0.08, hspace=0.55, width_ratios=[0.62, 1] * n_cols
        )
        headers = []
        for r, name in enumerate(with_layers):
            layers = sorted(
                enumerate(models[name]["layers"]),
                key=lambda il: -(il[1].get("output_stride") or 0),
            )
            for c, (i, layer) in enumerate(layers):
                ax_p = fig.add_subplot(grid[r, 2 * c])
                ax_h = fig.add_subplot(grid[r, 2 * c + 1])
                phase_image = _phase_panel(ax_p, res, name, i, layer, vmax_phase)
                resp_image = _response_panel(ax_h, res, name, i, layer, freqs)
                if r == 0:
                    headers.append((ax_p, ax_h, _layer_title(layer)))
                if c == 0:
                    ax_p.set_ylabel(
                        _label(name).replace(" + ", " +\n", 1),
                        fontsize=7.5,
                        rotation=0,
                        ha="right",
                        va="center",
                    )
        for ax in fig.axes:
            ax.apply_aspect()  # final boxes of the square maps, to place the headers
        top = max(ax.get_position().y1 for ax in fig.axes)
        for ax_p, ax_h, text in headers:
            x = (ax_p.get_position().x0 + ax_h.get_position().x1) / 2
            fig.text(x, top + 0.03, text, ha="center", fontsize=8.5, fontweight="bold")
        fig.text(
            0.5,
            top + 0.047,
            "(a) learned up-samplers, coarse to fine: polyphase DC gains ||G_r|| / ||mean_r G_r|| "
            "(2x2 grid)\nand 2-D response ||H(f)|| re DC (dB; fx, fy in -0.5..0.5 cycles/pixel; "
            "o = images of DC)\n" + _checkpoints(models),
            ha="center",
            va="bottom",
            fontsize=8.5,
        )
    bottom = outer[-1].subgridspec(2, 1, height_ratios=[2.3, 1.0], hspace=0.5)
    const_image = _constant_row(fig, bottom[0], res, models, order)
    _level_panel(
        fig.add_subplot(bottom[1].subgridspec(1, 2, width_ratios=[1.2, 1])[0]), models, order
    )

    # colour bars: beside the last column of (a), and of (b)
    if phase_image is not None and resp_image is not None:
        top_axes = fig.axes[: 2 * n_cols * n_rows]
        x1 = max(ax.get_position().x1 for ax in top_axes)
        y0 = min(ax.get_position().y0 for ax in top_axes)
        y1 = max(ax.get_position().y1 for ax in top_axes)
        h = (y1 - y0) / 2 - 0.02
        cax = fig.add_axes((x1 + 0.015, y0 + h + 0.04, 0.012, h))
        fig.colorbar(phase_image, cax=cax).set_label(
            "||G_r|| / ||mean_r G_r||\n(all equal: no checkerboard)", fontsize=7
        )
        cax.tick_params(labelsize=7)
        cax = fig.add_axes((x1 + 0.015, y0, 0.012, h))
        fig.colorbar(resp_image, cax=cax).set_label("||H(f)|| / ||H(0)|| (dB)", fontsize=7)
        cax.tick_params(labelsize=7)
    if const_image is not None:
        row = [ax for ax in fig.axes if getattr(ax, "_const_map", False)]
        last = row[-1].get_position()
        cax = fig.add_axes((last.x1 + 0.015, last.y0, 0.012, last.height))
        fig.colorbar(const_image, cax=cax).set_label("logit margin - mean", fontsize=7)
        cax.tick_params(labelsize=7)
    return fig


def _checkpoints(models: dict[str, Any]) -> str:
    """The checkpoints shown, compactly (``checkpoints/nuclei/<design>_s{0}.safetensors``)."""
    from figures._study_common import checkpoint_note

    return "checkpoints: " + checkpoint_note(
        {n: [m["checkpoint"]] for n, m in models.items() if isinstance(m.get("checkpoint"), str)}
    )


def _phase_max(res: Results, models: dict[str, Any], names: list[str]) -> float:
    """Largest relative phase gain of every layer shown: one colour scale from 0 for all."""
    top = 1.0
    for name in names:
        for i, layer in enumerate(models[name]["layers"]):
            mean = layer.get("phase_gain_mean_spectral")
            if isinstance(mean, (int, float)) and mean > 0:
                gains = res.array(f"layer__{name}__{i}__phase_gain_spectral", ndim=2)
                top = max(top, float(np.max(gains / mean)))
    return top


def _phase_panel(ax: plt.Axes, res: Results, name: str, i: int, layer: dict[str, Any], vmax: float):
    gains = res.array(f"layer__{name}__{i}__phase_gain_spectral", ndim=2)
    mean = layer.get("phase_gain_mean_spectral")
    if not isinstance(mean, (int, float)) or mean <= 0:
        raise res._fail(f"expected a positive phase_gain_mean_spectral for {name} layer {i}")
    rel = gains / mean
    # a sequential scale from 0: the ratio to the norm of the mean is >= 1 on average, so a
    # scale centred on 1 would paint almost every cell as "above average"
    image = ax.imshow(rel, cmap="Oranges", vmin=0.0, vmax=vmax)
    for (y, x), v in np.ndenumerate(rel):
        dark = v > 0.6 * vmax
        ax.text(
            x,
            y,
            f"{v:.2f}",
            ha="center",
            va="center",
            fontsize=7,
            color="white" if dark else "black",
        )
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    ci = layer.get("checkerboard_index")
    text = f"{ci:.2f}" if isinstance(ci, (int, float)) else "-"
    ax.set_title(f"checkerboard\nindex {text}", fontsize=7, pad=3)
    return image


def _response_panel(
    ax: plt.Axes, res: Results, name: str, i: int, layer: dict[str, Any], freqs: np.ndarray
):
    norm = res.array(f"layer__{name}__{i}__spectral_norm", shape=(freqs.size, freqs.size))
    dc = norm[np.argmin(np.abs(freqs)), np.argmin(np.abs(freqs))]
    if dc <= 0:
        raise res._fail(f"expected a positive DC response for {name} layer {i}")
    with np.errstate(divide="ignore"):
        db = 20 * np.log10(np.maximum(norm / dc, 1e-12))
    db, f = _wrap(db, freqs)
    step = f[1] - f[0]
    extent = (f[0] - step / 2, f[-1] + step / 2, f[0] - step / 2, f[-1] + step / 2)
    image = ax.imshow(
        db, origin="lower", extent=extent, cmap="viridis", vmin=DB_RANGE[0], vmax=DB_RANGE[1]
    )
    s = layer.get("stride", 2)
    images = [(ky / s, kx / s) for ky in range(-s + 1, s) for kx in range(-s + 1, s)]
    images = [(a, b) for a, b in images if (a, b) != (0, 0)]
    if s == 2:  # the images of DC sit on the edges: draw both ends of the periodic axis
        images = [(a, b) for a in (-0.5, 0, 0.5) for b in (-0.5, 0, 0.5) if (a, b) != (0, 0)]
    for color, width in (("black", 1.8), ("white", 0.8)):  # visible on any background
        ax.plot(
            [b for _, b in images],
            [a for a, _ in images],
            linestyle="none",
            marker="o",
            markersize=5,
            markerfacecolor="none",
            markeredgecolor=color,
            markeredgewidth=width,
            clip_on=False,
        )
    ax.set_xlim(extent[:2])
    ax.set_ylim(extent[2:])
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    energy = layer.get("imaging_energy_2d")
    if isinstance(energy, (int, float)):
        ax.set_title(f"imaging {100 * energy:.0f}%", fontsize=7, pad=5)
    return image


def _level_index(entries: list[dict[str, Any]]) -> int | None:
    levels = [e.get("level") for e in entries]
    valid = [(abs(lv - DISPLAY_LEVEL), j) for j, lv in enumerate(levels) if isinstance(lv, float)]
    return min(valid)[1] if valid else None


def _constant_row(fig, spec, res: Results, models: dict[str, Any], order: list[str]):
    maps, notes = [], []
    for name in order:
        j = _level_index(models[name]["constant"])
        if j is None:
            continue
        patch = res.array(f"const__{name}__{j}", ndim=2)[:CONSTANT_SHOWN, :CONSTANT_SHOWN]
        entry = models[name]["constant"][j]
        maps.append((name, patch - patch.mean(), entry))
    if not maps:
        return None
    vmax = max(float(np.abs(m).max()) for _, m, _ in maps) or 1.0
    per_row = -(-len(maps) // 2)  # two rows: each map large enough to read its pixels
    row = spec.subgridspec(2, per_row, wspace=0.15, hspace=1.05)
    image = None
    for k, (name, dev, entry) in enumerate(maps):
        ax = fig.add_subplot(row[k // per_row, k % per_row])
        ax._const_map = True  # found again when placing the colour bar
        image = ax.imshow(dev, cmap="PuOr_r", vmin=-vmax, vmax=vmax, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        ax.set_title(SHORT_LABEL.get(name, _label(name)), fontsize=7, pad=2)
        rms = entry.get("pattern_rms")
        mean = entry.get("mean")
        if not isinstance(rms, (int, float)):
            text = "rms -"
        else:  # float round-off of an exactly flat output reads as "< 1e-6", not as a number
            tiny = f"{TINY:.0e}".replace("e-0", "e-")
            text = f"rms {rms:.2g}" if rms >= TINY else f"rms<{tiny}"
        if isinstance(mean, (int, float)):
            text += f"\nmean {mean:.1f}"
        ax.set_xlabel(text, fontsize=7, labelpad=2)
        notes.append(entry.get("level"))
        if k % per_row == 0:
            ax.set_ylabel(f"{CONSTANT_SHOWN} px", fontsize=7)
    level = notes[0]
    axes = [ax for ax in fig.axes if getattr(ax, "_const_map", False)]
    for ax in axes:
        ax.apply_aspect()  # the maps are width-limited: put the caption on their real top
    fig.text(
        0.5,
        max(ax.get_position().y1 for ax in axes) + 0.035,
        f"(b) whole model, constant input {level:g} (background): output logit margin minus its "
        f"mean,\ninterior {CONSTANT_SHOWN}x{CONSTANT_SHOWN} px (two periods); rms of the "
        "periodic pattern in logits",
        ha="center",
        fontsize=8.5,
    )
    return image


def _level_panel(ax: plt.Axes, models: dict[str, Any], order: list[str]) -> None:
    for name in order:
        entries = [e for e in models[name]["constant"] if isinstance(e.get("pattern_rms"), float)]
        if not entries:
            continue
        style = variant_style(name)
        style["label"] = _label(name)
        ax.plot([e["level"] for e in entries], [e["pattern_rms"] for e in entries], **style)
    ax.set_xlabel("constant input level (image units, 0 = background)")
    ax.set_ylabel("pattern rms (logits)")
    ax.set_title("(c) periodic pattern of the output vs input level", fontsize=8.5)
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.03, 1.05), fontsize=7, ncol=2, handlelength=2.2)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line (see the module docstring); returns the exit status."""
    return figure_main(
        argv,
        name=NAME,
        description=__doc__.splitlines()[0],
        folder="learned_kernels",
        load=lambda folder: load_results(folder, "learned_kernels", COMMAND),
        draw=draw,
    )


if __name__ == "__main__":
    sys.exit(main())
