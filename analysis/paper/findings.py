"""Section 3 of the paper: the results, with the figures and the generated tables.

What does not live here: the numbers' wording (:mod:`analysis.paper.wording`), the
conclusion (:mod:`analysis.paper.conclusion`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from analysis.paper.results import LABEL, VARIANT_ORDER, StudyResults
from analysis.paper.wording import (
    cell,
    exact_split,
    exact_to_rounding,
    num,
    pct,
    ratio_quartiles,
    table,
)

FIGURE_LINES = {
    "fig1_upsampler_response": "the fixed x2 interpolators of the designs against classical "
    "references (a: |H(f)|, b: taps), and the effective up paths the designs use at "
    "initialisation (c: response along fx, d: imaging energy and checkerboard index; one "
    "random draw, no interval)",
    "fig2_learned_kernels": "the learned transposed kernels of the shipped checkpoints "
    "(polyphase components, responses, checkerboard)",
    "fig3_downsampler_aliasing": "aliasing energy of the down-samplers (max-pool, strided "
    "conv, blur-pool of sizes 1-7)",
}


def findings(c: StudyResults, figures_dir: Path, notes: list[str] | None = None) -> list[str]:
    """Section 3: the samplers (figures 1-3 when drawn, then ``notes`` on them), then 3.1-3.8
    on the trained U-Nets."""
    out = ["## 3. Results", ""] + samplers(figures_dir)
    out += notes or []
    out += ["### 3.1 Accuracy and consistency at a glance", ""]
    for t in c.tasks("accuracy"):
        out += main_table(c, t)
    out += figure(
        "3.2 Shift consistency against the shift",
        "fig4_shift_vs_offset",
        f"Figure 4: consistency against the horizontal crop shift (0-{c.max_shift()} px), every "
        "variant, "
        "mean over seeds with 95% bands; top every compared pixel, bottom the interior.",
    )
    out += figure(
        "3.3 The period",
        "fig5_period_maps",
        "Figure 5: shift consistency for every circular shift (dy, dx) of the 2^L x 2^L period "
        "(interior pixels): label changes (segmentation), EQ-T PSNR (denoising).",
    )
    out += period_text(c)
    out += figure(
        "3.4 Sub-pixel shifts",
        "fig6_fractional",
        "Figure 6: consistency against a sub-pixel (Lanczos-3) shift: EQ-T PSNR of the "
        "denoising U-Nets (and label changes of the nuclei U-Nets when computed).",
    )
    out += fractional_text(c)
    out += figure(
        "3.5 The trade-off",
        "fig7_tradeoff",
        "Figure 7: accuracy against consistency against training-step time; large markers: "
        "mean over seeds with 95% CI, small: individual seeds.",
    )
    out += speed_section(c)
    out += figure(
        "3.7 What a 1-px shift does to one image",
        "fig8_example",
        "Figure 8: one test window, the prediction of a transposed-conv and of an antialiased "
        "U-Net, the change of the foreground probability under a 1-px shift and the pixels "
        "whose label flips.",
    )
    out += example_text(c)
    out += figure(
        "3.8 Where inside the network",
        "fig9_per_layer",
        "Figure 9: relative feature error inside the network: (a) off-period shifts, one row "
        "per design, one column per level, seed mean with 95% interval over seeds and images "
        '("exact" = exact to rounding); (b) on-period shifts, drawn for the adaptive (APS) '
        "designs only (the others are equivariant there by construction; their largest "
        "residue is stated); (c) the output level, each design minus the transposed 2x2 with "
        "paired 95% intervals.",
    )
    return out + layers_text(c)


def samplers(figures_dir: Path) -> list[str]:
    """3.0: the spectral figures that exist under ``figures_dir`` (none: no subsection)."""
    spectral = [n for n in FIGURE_LINES if (figures_dir / f"{n}.png").is_file()]
    if not spectral:
        return []
    out = [
        "### 3.0 The samplers themselves",
        "",
        "Before any training, the up- and down-samplers can be characterised as filters "
        "(`python -m analysis.spectra`):",
        "",
    ]
    for n in spectral:
        out += [f"![{FIGURE_LINES[n]}](../figures/{n}.png)", "", f"*{n}: {FIGURE_LINES[n]}.*", ""]
    return out


def figure(title: str, name: str, caption: str) -> list[str]:
    """A subsection with one figure (``../figures/<name>.png``) and its caption."""
    return [f"### {title}", "", f"![{caption}](../figures/{name}.png)", "", f"*{caption}*", ""]


def main_table(c: StudyResults, task: str) -> list[str]:
    """Table of one task: accuracy, crop consistency (all, interior, 1 px), train-step ratio."""
    acc = c.get("tasks", task, "accuracy", default=None)
    crop = c.get("tasks", task, "crop", default=None)
    if not acc:
        return []
    seg = acc["kind"] == "segmentation"
    spd = c.speed_recs()
    top = c.max_shift(task)
    head = [
        "variant",
        "seeds",
        "test Dice" if seg else "test PSNR (dB)",
        f"label changes, crop 1-{top} px (%)" if seg else f"EQ-T PSNR, crop 1-{top} px (dB)",
        "... interior (%)" if seg else "... interior (dB)",
        "... 1-px shift (%)" if seg else "... 1-px shift (dB)",
        "train step / bilinear",
    ]
    rows = []
    for v, a in c.variants(task, "accuracy").items():
        row = [LABEL[v], str(len(a["seeds"])), cell(a, 4 if seg else 2)]
        e = (crop or {}).get("variants", {}).get(v)
        for key in ("pooled_all", "pooled_interior", "shift1_all"):
            row.append(cell(e[key], 3 if seg else 2, changes=seg) if e and key in e else "n/a")
        s = spd.get(v)
        row.append(ratio_quartiles(s) if s else "n/a")
        rows.append(row)
    n = crop["n_images"] if crop else "?"
    return [
        f"**Table: {task}.** Mean ± std over seeds [95% CI]; consistency pooled over the crop "
        f"shifts (0, 1..{top}) px on {n} test image(s) per checkpoint; speed: median of per-round "
        "ratios [quartiles].",
        "",
        *table(head, rows),
        "",
    ]


def period_text(c: StudyResults) -> list[str]:
    """Label changes pooled over the circular shifts of the period (segmentation tasks)."""
    out = []
    for t in c.tasks("period"):
        per = c.get("tasks", t, "period")
        vs = c.variants(t, "period")
        if not vs or per.get("kind") != "segmentation":
            continue
        parts = []
        for v, e in vs.items():
            parts.append(f"{LABEL[v]} {num(pct(e['pooled_interior']['mean']), 3)}")
        size = per["frame_sizes"][0]
        out += [
            f"Pooled over the {len(per['shifts']) - 1} non-zero circular shifts ({t}, "
            f"{per['n_images']} image(s) of "
            f"{size[0]}x{size[1]} px, interior), the share of pixels whose label changes is (%): "
            + "; ".join(parts)
            + ".",
            "",
        ]
    return out


def fractional_text(c: StudyResults) -> list[str]:
    """Consistency pooled over the sub-pixel shifts, per task."""
    out = []
    for t in c.tasks("fractional"):
        fr = c.get("tasks", t, "fractional")
        vs = c.variants(t, "fractional")
        if not vs:
            continue
        seg = fr["kind"] == "segmentation"
        parts = [f"{LABEL[v]} {cell(e['pooled_all'], 2, changes=seg)}" for v, e in vs.items()]
        unit = "label changes (%)" if seg else "EQ-T PSNR (dB)"
        out += [
            f"Pooled over the sub-pixel shifts ({t}, {fr['n_images']} image(s)), {unit}: "
            + "; ".join(parts)
            + ".",
            "",
        ]
    return out


SPEED_HEADER = [
    "variant",
    "parameters",
    "GMAC/image",
    "forward (ms)",
    "forward / bilinear",
    "train step (ms)",
    "train step / bilinear",
]


def speed_section(c: StudyResults) -> list[str]:
    """3.6: one speed table per architecture and thread count."""
    if not c.speed:
        return ["(No speed results: run `python -m analysis.speed`.)", ""]
    out = ["### 3.6 Speed and size", ""]
    for arch in c.speed.get("config", {}).get("archs", ["shipped"]):
        for threads in c.speed.get("config", {}).get("threads", []):
            out += speed_table(c, arch, threads)
    return out


def speed_table(c: StudyResults, arch: str, threads: int) -> list[str]:
    """The speed table of one architecture and thread count (empty if not measured)."""
    sp, recs = c.speed or {}, c.speed_recs(arch, threads)
    if not recs:
        return []
    rows = [
        [
            LABEL[v],
            str(r["num_parameters"]),
            f"{r['gmacs_per_image']:.3f}",
            f"{r['forward_ms']:.1f}",
            ratio_quartiles(r, "forward"),
            f"{r['train_step_ms']:.1f}",
            ratio_quartiles(r),
        ]
        for v in VARIANT_ORDER
        if (r := recs.get(v))
    ]
    cfg = next(iter(recs.values()))["config"]
    return [
        f"**Table: speed, `{arch}` architecture (depth {cfg['depth']}, width "
        f"{cfg['width']}), input {tuple(input_shape(recs, sp))}, "
        f"{threads} CPU thread(s), "
        f"{sp['config']['repeats']} rounds.** GMAC: multiply-adds of one forward pass of "
        "one image. Ratios: median of per-round ratios to bilinear [quartiles].",
        "",
        *table(SPEED_HEADER, rows),
        "",
    ]


def input_shape(recs: dict[str, Any], sp: dict[str, Any]) -> list[int]:
    """The timed input's shape (per record, else the speed file's)."""
    return next(iter(recs.values())).get("input_shape", sp.get("input_shape", []))


def example_text(c: StudyResults) -> list[str]:
    """What the 1-px shift of one test image changes, per variant of the example."""
    ex = c.get("example", default=None)
    if not ex:
        return []
    parts = [
        f"{LABEL[r['variant']]}: {r['n_changed']} of {r['n_compared']} pixels "
        f"({num(100 * r['changed_fraction'], 3)}%), largest probability change "
        f"{num(r['max_abs_prob_change'], 3)}"
        for r in ex["results"]
    ]
    return [
        f"Labels that flip under the ({ex['shift'][0]}, {ex['shift'][1]}) px shift of test image "
        f"`{ex['image_source']}`: " + "; ".join(parts) + ".",
        "",
    ]


def _finite(values: Any) -> list[float]:
    """The values that are numbers (not None, not NaN)."""
    return [x for x in values if x is not None and not math.isnan(x)]


def layers_text(c: StudyResults) -> list[str]:
    """3.8 in words: encoder levels (exact to rounding or not), output level, decoder peak."""
    layers = c.get("layers", default=None)
    if not layers or not layers.get("variants"):
        return []
    have = {v: e for v, e in layers["variants"].items() if "interior" in e}
    if not have:
        return []
    seeds = sorted({s for e in have.values() for s in e["seeds"]})
    parts = output_level(layers, have) + decoder_peak(layers, have)
    return [
        f"Per-level errors from {layers['n_images']} {layers['task']} test image(s), seed(s) "
        f"{seeds}, interior >= {layers.get('border', '?')} px from the window edges. "
        + encoder_levels(layers, have)
        + " ".join(parts),
        "",
    ]


def encoder_levels(layers: dict[str, Any], have: dict[str, Any]) -> str:
    """Which variants' encoder levels are exact to rounding (max relative error stated).

    An encoder level is compared only at shifts its stride divides, so it is equivariant in
    exact arithmetic; "exact" is decided by :mod:`antialias.exact` with the models' dtype
    (``layers["dtype"]``, float32 when the results do not record it), never by ``== 0``.
    """
    levels = layers["levels"]
    enc = [i for i, n in enumerate(levels) if n.startswith("enc")]
    enc_max = {
        v: max(_finite(x for i in enc for x in e["interior"][i]), default=float("nan"))
        for v, e in have.items()
    }
    dtype = layers.get("dtype") or "float32"
    exact, inexact = exact_split(enc_max, dtype)
    text = ""
    if exact:
        text += (
            "Encoder levels, compared at shifts their stride divides, are "
            + exact_to_rounding(exact.values(), dtype)
            + " in "
            + ", ".join(LABEL.get(v, v) for v in exact)
            + ": there the error enters only where a level sees a shift its stride does not "
            "divide, and then passes through the decoder's up-samplers. "
        )
    if inexact:
        text += (
            "Largest encoder-level error elsewhere: "
            + ", ".join(f"{LABEL.get(v, v)} {x:.3g}" for v, x in inexact.items())
            + ". "
        )
    return text


def output_level(layers: dict[str, Any], have: dict[str, Any]) -> list[str]:
    """The range of the output level's error under odd shifts (lowest and highest variant)."""
    levels, classes = layers["levels"], layers["shift_classes"]
    if 1 not in classes:
        return []
    out_row, odd = len(levels) - 1, classes.index(1)  # dec0, the output's level
    vals = {v: e["interior"][out_row][odd] for v, e in have.items()}
    ok = {v: x for v, x in vals.items() if x is not None and not math.isnan(x)}
    if not ok:
        return []
    lo, hi = min(ok, key=ok.get), max(ok, key=ok.get)
    return [
        f"At the output level ({levels[out_row]}) odd shifts leave a relative RMS error "
        f"from {ok[lo]:.3g} ({LABEL.get(lo, lo)}) to {ok[hi]:.3g} ({LABEL.get(hi, hi)})."
    ]


def decoder_peak(layers: dict[str, Any], have: dict[str, Any]) -> list[str]:
    """The largest error inside the decoder's coarser levels, per variant, largest first."""
    levels, strides = layers["levels"], layers["strides"]
    dec = [i for i, n in enumerate(levels) if n.startswith("dec") and strides[i] > 1]
    peak = {}
    for v, e in have.items():
        cells = [
            (x, levels[i])
            for i in dec
            for x in e["interior"][i]
            if x is not None and not math.isnan(x)
        ]
        if cells:
            peak[v] = max(cells)
    if not peak:
        return []
    order = sorted(peak, key=lambda v: peak[v][0], reverse=True)
    return [
        "Largest error inside the decoder (coarser levels): "
        + "; ".join(f"{LABEL.get(v, v)} {peak[v][0]:.3g} at {peak[v][1]}" for v in order)
        + "."
    ]
