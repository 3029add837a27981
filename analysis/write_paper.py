"""Write ``docs/paper.md`` from the study's results files: every number is read, none typed.

Run from the repository root (both work)::

    python -m analysis.write_paper [--results results/study] [--out docs/paper.md]
    python analysis/write_paper.py

Reads ``results/study/study.json`` (``python -m analysis.study``) and
``results/study/speed.json`` (``python -m analysis.speed``, also run by the study) and renders
the paper: the question (``../shared/seeds/*.txt`` when present, else a summary), the
setup, the results with the figures (relative links to ``figures/*.png``) and generated tables
(mean +- standard deviation over seeds, 95% bootstrap intervals over seeds and test images), a
conclusion that takes each claim of the answer in the seed in turn, and the limitations.
Qualitative words in the conclusion ("slower", "no clear difference", ...) are chosen by
comparisons of the numbers in the files, stated next to them.

Importable: :func:`render` ``(study, speed) -> str`` (no I/O), :func:`main`
``(argv) -> int`` (exit 2 with one line on stderr when a results file is missing).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(REPO))

from figures import style  # noqa: E402

DEFAULT_RESULTS = REPO / "results" / "study"
DEFAULT_OUT = REPO / "docs" / "paper.md"
PROG = "write_paper"

# one source for the order and display names of the variants: the figures' style
VARIANT_ORDER = style.VARIANT_ORDER
LABEL = style.VARIANT_LABEL
DESIGN = {  # what each variant is (architecture, not a measurement): docs/ARCHITECTURE.md
    "tconv2": ("max-pool 2", "transposed conv 2x2, stride 2 (original U-Net up-conv)"),
    "tconv3": ("max-pool 2", "transposed conv 3x3, stride 2 (uneven overlap)"),
    "tconv4": ("max-pool 2", "transposed conv 4x4, stride 2"),
    "nearest": ("max-pool 2", "nearest x2, then 3x3 conv"),
    "bilinear": ("max-pool 2", "bilinear x2, then 3x3 conv"),
    "pixelshuffle": ("max-pool 2", "conv + pixel shuffle, ICNR init"),
    "blurpool_tconv4": ("max-blur-pool", "transposed conv 4x4, stride 2"),
    "blurpool_bilinear": ("max-blur-pool", "bilinear x2, then 3x3 conv"),
    "blurpool_blur": ("max-blur-pool", "zeros + binomial low-pass (blur-up), then 3x3 conv"),
    "aps": ("APS (largest-norm polyphase)", "APS up (phase of the paired down), circular pad"),
}
TCONV = ("tconv2", "tconv3", "tconv4")
FIXED = ("nearest", "bilinear")
FIGURE_LINES = {
    "fig1_upsampler_response": "frequency responses of the fixed x2 up-samplers against the "
    "ideal interpolator",
    "fig2_learned_kernels": "the learned transposed kernels of the shipped checkpoints "
    "(polyphase components, responses, checkerboard)",
    "fig3_downsampler_aliasing": "aliasing energy of the down-samplers (max-pool, strided "
    "conv, blur-pool of sizes 1-7)",
}


class PaperError(ValueError):
    """A results file is missing or lacks what the paper needs (the message says which)."""


# ----------------------------------------------------------------------------------------------
# formatting


def _num(x: float | None, digits: int) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if isinstance(x, float) and math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.{digits}f}"


def _pct(agreement: float) -> float:
    """Label agreement -> share of pixels whose label changes, in %."""
    return 100.0 * (1.0 - agreement)


def cell(stat: dict[str, Any], digits: int, changes: bool = False) -> str:
    """``mean ± std [lo, hi]`` (std omitted for one seed); ``changes``: agreement -> % changed."""
    mean, std, lo, hi = (stat.get(k) for k in ("mean", "std", "lo", "hi"))
    if changes:
        mean, lo, hi = _pct(mean), _pct(hi), _pct(lo)
    text = _num(mean, digits)
    if std is not None and not (isinstance(std, float) and math.isnan(std)):
        text += f" ± {_num(std * (100.0 if changes else 1.0), digits)}"
    return f"{text} [{_num(lo, digits)}, {_num(hi, digits)}]"


def _speed_word(rec: dict[str, Any], what: str = "train_step") -> str:
    q1, q3 = rec[f"{what}_ratio_q1"], rec[f"{what}_ratio_q3"]
    if q1 > 1.0:
        return "slower"
    if q3 < 1.0:
        return "faster"
    return "indistinguishable in speed"


def _signed(x: float, digits: int) -> str:
    """``+0.0012`` / ``-0.0012``; a difference that rounds to zero is ``±0``."""
    return "±0" if round(x, digits) == 0 else f"{x:+.{digits}f}"


def _excludes_zero(d: dict[str, float] | None) -> int:
    """+1 / -1 if the paired interval lies above / below 0, else 0 (also for no data)."""
    if not d or any(isinstance(d[k], float) and math.isnan(d[k]) for k in ("lo", "hi")):
        return 0
    return 1 if d["lo"] > 0 else -1 if d["hi"] < 0 else 0


def _pdiff(d: dict[str, float] | None, digits: int, scale: float = 1.0) -> str:
    """``+0.0067 [-0.0010, +0.0140]`` (scaled; a negative scale flips the interval)."""
    if not d:
        return "n/a"
    lo, hi = sorted((d["lo"] * scale, d["hi"] * scale))
    return f"{_signed(d['diff'] * scale, digits)} [{lo:+.{digits}f}, {hi:+.{digits}f}]"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


# ----------------------------------------------------------------------------------------------
# the paper


class _Ctx:
    """Accessors over the loaded files with errors that name what is missing."""

    def __init__(self, study: dict, speed: dict | None) -> None:
        self.study, self.speed = study, speed
        self.records = study.get("accuracy_records", [])

    def get(self, *path: str, default: Any = PaperError) -> Any:
        node: Any = self.study
        for i, key in enumerate(path):
            if not isinstance(node, dict) or key not in node:
                if default is PaperError:
                    raise PaperError(
                        f"expected {'/'.join(path[: i + 1])} in study.json; run "
                        "`python -m analysis.study`"
                    )
                return default
            node = node[key]
        return node

    def tasks(self, piece: str) -> list[str]:
        tasks = self.get("tasks")
        return [t for t in ("nuclei", "textures", "denoise") if piece in tasks.get(t, {})]

    def variants(self, task: str, piece: str) -> dict[str, Any]:
        have = self.get("tasks", task, piece, "variants", default={})
        return {v: have[v] for v in VARIANT_ORDER if v in have}

    def paired(self, task: str, piece: str, a: str, b: str) -> dict[str, float] | None:
        """Paired difference ``a - b`` (``accuracy`` or ``crop`` consistency), or None."""
        node = self.get("tasks", task, piece, default={}) or {}
        table = node.get("paired") if piece == "accuracy" else node.get("paired_all")
        return ((table or {}).get(a) or {}).get(b)

    def speed_threads(self) -> int | None:
        if not self.speed:
            return None
        threads = self.speed.get("config", {}).get("threads") or [None]
        return threads[0] if isinstance(threads, list) else threads

    def speed_recs(self, arch: str = "shipped", threads: int | None = None) -> dict[str, dict]:
        if not self.speed:
            return {}
        threads = self.speed_threads() if threads is None else threads
        return {
            r["variant"]: r
            for r in self.speed.get("results", [])
            if r.get("arch") == arch and r.get("threads") == threads
        }


def _question(seed_text: str | None) -> list[str]:
    out = ["## 1. The question", ""]
    if seed_text:
        body = seed_text.split("Your Answer")[0]
        question, _, answer = body.partition("1 Answer")
        answer = answer.strip()
        if answer.startswith("1"):
            answer = answer[1:]
        out += ["A user asks (verbatim from `../shared/seeds/`):", ""]
        out += _quote(question)
        if answer.strip():
            out += ["", "The one answer given:", ""]
            out += _quote(answer)
    else:
        out += ["(The question file under `../shared/seeds/` was not found when this was built.)"]
    out += [
        "",
        "The answer makes five claims, which this study turns into measurements:",
        "",
        "1. *A transposed convolution is a regular convolution with zeros inserted between the "
        "inputs.* Worked through, with every view checked numerically, in "
        "[the transposed-convolution tutorial](transposed_convolution.md); conclusion 4.1.",
        "2. *It only makes the network slower.* Timed in 3.6; conclusion 4.2.",
        "3. *It won't really increase your F1 (Dice) score.* Test Dice / PSNR in 3.1; "
        "conclusion 4.3.",
        "4. *With a convolution after each up-sampling, nearest neighbour loses nothing.* Nearest "
        "+ conv against the transposed convs, in accuracy and in shift consistency; 4.4.",
        '5. *Aliasing, as in "Making Convolutional Networks Shift-Invariant Again", also '
        "happens with max pooling.* Shift consistency of every variant, with and without "
        "blur-pooling, 3.2-3.8; conclusion 4.5.",
        "",
        "(On the answer's first sentence: the U-Net paper (Ronneberger et al. 2015) describes "
        'each up-step as "an upsampling of the feature map followed by a 2x2 convolution '
        "('up-convolution')\"; the variant `tconv2` below is the common reading of that "
        "layer, a learned 2x2 stride-2 transposed convolution.)",
        "",
    ]
    return out


def _quote(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    out, blank = [], False
    for line in lines:  # collapse runs of blank lines
        if not line.strip():
            if not blank:
                out.append(">")
            blank = True
        else:
            out.append("> " + line)
            blank = False
    return out


def _setup(c: _Ctx) -> list[str]:
    acc_tasks = c.tasks("accuracy")
    recs = c.records
    out = ["## 2. Setup", "", "**Data** (`antialias.data`; test images are never trained on):", ""]
    desc = {
        "nuclei": "real fluorescence nuclei (DSB2018 image shipped with stardist + slices of "
        "the napari sample volume), binary segmentation",
        "textures": "synthetic blobs filled with grass (foreground) and gravel (background) "
        "textures of equal grey-level histogram: segmentation by spatial frequency alone, an "
        "aliasing stress test",
        "denoise": "grey photographs from scikit-image / scikit-learn plus Gaussian noise, "
        "regression (residual U-Net)",
    }
    for t in acc_tasks:
        r = next((x for x in recs if x["task"] == t), None)
        n_test = r["n_images"] if r else "?"
        size = "x".join(map(str, r.get("image_size", []))) if r else ""
        n_train = r.get("n_train_images") if r else None
        seeds = sorted({x["seed"] for x in recs if x["task"] == t})
        extra = f"{n_train} training images, " if n_train else ""
        out.append(
            f"- `{t}`: {desc.get(t, t)}; {extra}{n_test} test images of {size or '?'} px; "
            f"seed(s) {', '.join(map(str, seeds))}."
        )
    out += [
        "",
        "**Variants** (`antialias.models.VARIANTS`): one U-Net, only the samplers differ.",
        "",
    ]
    params = {}
    for t in acc_tasks:
        for v, e in c.variants(t, "accuracy").items():
            params.setdefault(v, e.get("num_parameters"))
    rows = [
        [f"`{v}`", DESIGN[v][0], DESIGN[v][1], str(params.get(v, "n/a"))]
        for v in VARIANT_ORDER
        if v in params
    ]
    out += _table(["variant", "down-sampling", "up-sampling", "parameters (nuclei)"], rows)
    r0 = next((x for x in recs if x.get("training") and x.get("config")), None)
    if r0:
        cfg = r0["config"]
        lines = []
        for t in acc_tasks:
            tr = next((x["training"] for x in recs if x["task"] == t and x.get("training")), {})
            lines.append(
                f"`{t}` {tr.get('epochs')} epochs of {tr.get('steps_per_epoch')} steps, batch "
                f"{tr.get('batch_size')} of {tr.get('crop')}x{tr.get('crop')} px random crops, "
                f"learning rate {tr.get('lr')} ({tr.get('warmup_steps')} warm-up steps)"
            )
        threads = sorted({str(x["training"].get("threads")) for x in recs if x.get("training")})
        out += [
            "",
            "**Training** (`python -m analysis.train_all`, from the checkpoints' metadata): "
            + "; ".join(lines)
            + f"; {'/'.join(threads)} CPU thread(s) per run; the checkpoint kept is the best "
            "epoch on the validation split. Architecture: depth "
            f"{cfg.get('depth')} (period 2^L = {2 ** int(cfg.get('depth', 0))} px), "
            f"{cfg.get('width')} channels at full resolution, doubling per level, "
            f"{cfg.get('norm')} norm.",
        ]
    out += [
        "",
        "**Metrics** (`antialias.metrics`, every value from float64 per-image sums):",
        "",
        "- accuracy: Dice of the foreground pooled over all test pixels (segmentation); mean "
        "PSNR over test images in dB, data range 1 (denoising). Recomputed by the study from "
        "the checkpoints and checked against the value stored in each checkpoint.",
        "- shift consistency (`analysis/shift_consistency.py`): the prediction of a shifted "
        "input against the shifted prediction, on the pixels both cover. Segmentation: share "
        "of pixels whose label changes (% = 100 (1 - agreement)); denoising: EQ-T PSNR in dB "
        "(StyleGAN3's definition; higher is more equivariant). Crop shifts cut a new window "
        "from the image (nothing wraps around, as in real use); circular shifts roll the "
        "input (the APS protocol); fractional shifts use a Lanczos-3 kernel.",
        "- intervals: 95% percentile bootstrap over seeds and test images (seeds resampled, "
        "then images, the same image draws for every seed); with one seed, over images "
        "only. `±` is the standard deviation over seeds.",
        "- speed (`analysis/speed.py`): median wall time of a forward pass and of a training "
        "step (forward + backward), interleaved rounds, ratio to `bilinear` measured in the "
        "same run.",
        "",
    ]
    return out


def _main_table(c: _Ctx, task: str) -> list[str]:
    acc = c.get("tasks", task, "accuracy", default=None)
    crop = c.get("tasks", task, "crop", default=None)
    if not acc:
        return []
    seg = acc["kind"] == "segmentation"
    spd = c.speed_recs()
    top = _max_shift(c, task)
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
        row.append(
            f"{s['train_step_ratio']:.2f} [{s['train_step_ratio_q1']:.2f}, "
            f"{s['train_step_ratio_q3']:.2f}]"
            if s
            else "n/a"
        )
        rows.append(row)
    n = crop["n_images"] if crop else "?"
    return [
        f"**Table: {task}.** Mean ± std over seeds [95% CI]; consistency pooled over the crop "
        f"shifts (0, 1..{top}) px on {n} test image(s) per checkpoint; speed: median of per-round "
        "ratios [quartiles].",
        "",
        *_table(head, rows),
        "",
    ]


def _max_shift(c: _Ctx, task: str | None = None) -> str:
    """The largest crop shift (px) of a task (or of the first task with crop results)."""
    tasks = [task] if task else c.tasks("crop")
    for t in tasks:
        shifts = c.get("tasks", t, "crop", "shifts", default=None)
        if shifts:
            return f"{max(max(abs(a), abs(b)) for a, b in shifts):g}"
    return "?"


def _results(c: _Ctx, figures_dir: Path) -> list[str]:
    out = ["## 3. Results", ""]
    spectral = [n for n in FIGURE_LINES if (figures_dir / f"{n}.png").is_file()]
    if spectral:
        out += [
            "### 3.0 The samplers themselves",
            "",
            "Before any training, the up- and down-samplers can be characterised as filters "
            "(`python -m analysis.spectra`):",
            "",
        ]
        for n in spectral:
            out += [
                f"![{FIGURE_LINES[n]}](../figures/{n}.png)",
                "",
                f"*{n}: {FIGURE_LINES[n]}.*",
                "",
            ]
    out += ["### 3.1 Accuracy and consistency at a glance", ""]
    for t in c.tasks("accuracy"):
        out += _main_table(c, t)
    out += _fig_section(
        c,
        "3.2 Shift consistency against the shift",
        "fig4_shift_vs_offset",
        f"Figure 4: consistency against the horizontal crop shift (0-{_max_shift(c)} px), every "
        "variant, "
        "mean over seeds with 95% bands; top every compared pixel, bottom the interior.",
    )
    out += _fig_section(
        c,
        "3.3 The period",
        "fig5_period_maps",
        "Figure 5: shift consistency for every circular shift (dy, dx) of the 2^L x 2^L period "
        "(interior pixels): label changes (segmentation), EQ-T PSNR (denoising).",
    )
    out += _period_text(c)
    out += _fig_section(
        c,
        "3.4 Sub-pixel shifts",
        "fig6_fractional",
        "Figure 6: consistency against a sub-pixel (Lanczos-3) shift: EQ-T PSNR of the "
        "denoising U-Nets (and label changes of the nuclei U-Nets when computed).",
    )
    out += _fractional_text(c)
    out += _fig_section(
        c,
        "3.5 The trade-off",
        "fig7_tradeoff",
        "Figure 7: accuracy against consistency against training-step time; large markers: "
        "mean over seeds with 95% CI, small: individual seeds.",
    )
    out += _speed_section(c)
    out += _fig_section(
        c,
        "3.7 What a 1-px shift does to one image",
        "fig8_example",
        "Figure 8: one test window, the prediction of a transposed-conv and of an antialiased "
        "U-Net, the change of the foreground probability under a 1-px shift and the pixels "
        "whose label flips.",
    )
    out += _example_text(c)
    out += _fig_section(
        c,
        "3.8 Where inside the network",
        "fig9_per_layer",
        "Figure 9: relative feature error per level (rows) and kind of shift (columns).",
    )
    out += _layers_text(c)
    return out


def _fig_section(c: _Ctx, title: str, name: str, caption: str) -> list[str]:
    return [f"### {title}", "", f"![{caption}](../figures/{name}.png)", "", f"*{caption}*", ""]


def _period_text(c: _Ctx) -> list[str]:
    out = []
    for t in c.tasks("period"):
        per = c.get("tasks", t, "period")
        vs = c.variants(t, "period")
        if not vs or per.get("kind") != "segmentation":
            continue
        parts = []
        for v, e in vs.items():
            parts.append(f"{LABEL[v]} {_num(_pct(e['pooled_interior']['mean']), 3)}")
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


def _fractional_text(c: _Ctx) -> list[str]:
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


def _speed_section(c: _Ctx) -> list[str]:
    if not c.speed:
        return ["(No speed results: run `python -m analysis.speed`.)", ""]
    sp = c.speed
    out = ["### 3.6 Speed and size", ""]
    for arch in sp.get("config", {}).get("archs", ["shipped"]):
        for threads in sp.get("config", {}).get("threads", []):
            recs = c.speed_recs(arch, threads)
            if not recs:
                continue
            rows = []
            for v in VARIANT_ORDER:
                if v not in recs:
                    continue
                r = recs[v]
                rows.append(
                    [
                        LABEL[v],
                        str(r["num_parameters"]),
                        f"{r['gmacs_per_image']:.3f}",
                        f"{r['forward_ms']:.1f}",
                        f"{r['forward_ratio']:.2f} [{r['forward_ratio_q1']:.2f}, "
                        f"{r['forward_ratio_q3']:.2f}]",
                        f"{r['train_step_ms']:.1f}",
                        f"{r['train_step_ratio']:.2f} [{r['train_step_ratio_q1']:.2f}, "
                        f"{r['train_step_ratio_q3']:.2f}]",
                    ]
                )
            cfg = next(iter(recs.values()))["config"]
            out += [
                f"**Table: speed, `{arch}` architecture (depth {cfg['depth']}, width "
                f"{cfg['width']}), input {tuple(_input_shape(recs, sp))}, "
                f"{threads} CPU thread(s), "
                f"{sp['config']['repeats']} rounds.** GMAC: multiply-adds of one forward pass of "
                "one image. Ratios: median of per-round ratios to bilinear [quartiles].",
                "",
                *_table(
                    [
                        "variant",
                        "parameters",
                        "GMAC/image",
                        "forward (ms)",
                        "forward / bilinear",
                        "train step (ms)",
                        "train step / bilinear",
                    ],
                    rows,
                ),
                "",
            ]
    return out


def _input_shape(recs: dict[str, Any], sp: dict[str, Any]) -> list[int]:
    return next(iter(recs.values())).get("input_shape", sp.get("input_shape", []))


def _example_text(c: _Ctx) -> list[str]:
    ex = c.get("example", default=None)
    if not ex:
        return []
    parts = [
        f"{LABEL[r['variant']]}: {r['n_changed']} of {r['n_compared']} pixels "
        f"({_num(100 * r['changed_fraction'], 3)}%), largest probability change "
        f"{_num(r['max_abs_prob_change'], 3)}"
        for r in ex["results"]
    ]
    return [
        f"Labels that flip under the ({ex['shift'][0]}, {ex['shift'][1]}) px shift of test image "
        f"`{ex['image_source']}`: " + "; ".join(parts) + ".",
        "",
    ]


def _layers_text(c: _Ctx) -> list[str]:
    layers = c.get("layers", default=None)
    if not layers or not layers.get("variants"):
        return []
    levels, strides = layers["levels"], layers["strides"]
    classes = layers["shift_classes"]
    have = {v: e for v, e in layers["variants"].items() if "interior" in e}
    if not have:
        return []
    enc = [i for i, n in enumerate(levels) if n.startswith("enc")]
    out_row = len(levels) - 1  # dec0, the output's level
    enc_max = {
        v: max(
            (x for i in enc for x in e["interior"][i] if x is not None and not math.isnan(x)),
            default=float("nan"),
        )
        for v, e in have.items()
    }
    odd = classes.index(1) if 1 in classes else None
    parts = []
    if odd is not None:
        vals = {v: e["interior"][out_row][odd] for v, e in have.items()}
        ok = {v: x for v, x in vals.items() if x is not None and not math.isnan(x)}
        if ok:
            lo, hi = min(ok, key=ok.get), max(ok, key=ok.get)
            parts.append(
                f"At the output level ({levels[out_row]}) odd shifts leave a relative RMS error "
                f"from {ok[lo]:.3g} ({LABEL.get(lo, lo)}) to {ok[hi]:.3g} ({LABEL.get(hi, hi)})."
            )
    dec = [i for i, n in enumerate(levels) if n.startswith("dec") and strides[i] > 1]
    peak = {}
    for v, e in have.items():
        cells = [
            (e["interior"][i][j], levels[i])
            for i in dec
            for j in range(len(classes))
            if e["interior"][i][j] is not None and not math.isnan(e["interior"][i][j])
        ]
        if cells:
            peak[v] = max(cells)
    if peak:
        order = sorted(peak, key=lambda v: peak[v][0], reverse=True)
        parts.append(
            "Largest error inside the decoder (coarser levels): "
            + "; ".join(f"{LABEL.get(v, v)} {peak[v][0]:.3g} at {peak[v][1]}" for v in order)
            + "."
        )
    seeds = sorted({s for e in have.values() for s in e["seeds"]})
    exact = [v for v, x in enc_max.items() if x == 0.0]
    inexact = {v: x for v, x in enc_max.items() if x != 0.0}
    enc_text = ""
    if exact:
        enc_text += (
            "Encoder levels, compared at shifts their stride divides, are exactly equivariant "
            "(relative error 0) in " + ", ".join(LABEL.get(v, v) for v in exact) + ": there "
            "the error enters only where a level sees a shift its stride does not divide, and "
            "then passes through the decoder's up-samplers. "
        )
    if inexact:
        enc_text += (
            "Largest encoder-level error elsewhere: "
            + ", ".join(f"{LABEL.get(v, v)} {x:.3g}" for v, x in inexact.items())
            + ". "
        )
    return [
        f"Per-level errors from {layers['n_images']} {layers['task']} test image(s), seed(s) "
        f"{seeds}, interior >= {layers.get('border', '?')} px from the window edges. "
        + enc_text
        + " ".join(parts),
        "",
    ]


def _conclusion(c: _Ctx) -> list[str]:
    out = ["## 4. Conclusion: the answer's claims, one by one", ""]
    nuc_acc = c.variants("nuclei", "accuracy")
    nuc_crop = c.variants("nuclei", "crop")
    spd = c.speed_recs()
    # 1
    out += [
        '**4.1 "Transposed convolution is regular convolution with zeros inserted."** True, '
        "exactly (zeros between the inputs, the kernel flipped, channel axes swapped, padding "
        "`d(k-1) - p`); see [the tutorial](transposed_convolution.md), which checks it and the "
        "matrix and polyphase views numerically.",
        "",
    ]
    # 2 speed
    out += ['**4.2 "It will only make your CNN slower."** ' + _speed_claim(c), ""]
    # 3 accuracy
    out += ['**4.3 "It won\'t really increase your F1 score."** ' + _accuracy_claim(c), ""]
    # 4 nearest
    out += ['**4.4 "Nearest neighbour + conv loses nothing."** ' + _nearest_claim(c), ""]
    # 5 blur
    out += ["**4.5 Aliasing and blur.** " + _blur_claim(c, spd), ""]
    # 6 advice
    out += ["**4.6 What a U-Net author should choose.** " + _advice(c, nuc_acc, nuc_crop, spd), ""]
    return out


def _speed_claim(c: _Ctx) -> str:
    sp = c.speed or {}
    threads_all = sp.get("config", {}).get("threads") or []
    texts = []
    for arch in sp.get("config", {}).get("archs", []):
        for threads in threads_all:
            spd = c.speed_recs(arch, threads)
            if "bilinear" not in spd:
                continue
            cfg = spd["bilinear"]["config"]
            parts = [
                f"{LABEL[v]} {spd[v]['train_step_ratio']:.2f}x "
                f"[{spd[v]['train_step_ratio_q1']:.2f}, {spd[v]['train_step_ratio_q3']:.2f}] "
                f"({_speed_word(spd[v])})"
                for v in (*TCONV, "nearest", "pixelshuffle")
                if v in spd
            ]
            fwd = [
                f"{LABEL[v]} {spd[v]['forward_ratio']:.2f}x ({_speed_word(spd[v], 'forward')})"
                for v in (*TCONV, "nearest")
                if v in spd
            ]
            macs = [
                f"{LABEL[v]} {spd[v]['gmacs_per_image']:.3f}"
                for v in (*TCONV, "nearest", "bilinear")
                if v in spd
            ]
            texts.append(
                f"*{arch} U-Net (depth {cfg['depth']}, width {cfg['width']}), input "
                f"{tuple(spd['bilinear'].get('input_shape', sp.get('input_shape', [])))}, "
                f"{threads} CPU thread(s):* training "
                "step (forward + backward) relative to bilinear + conv in the same rounds: "
                + "; ".join(parts)
                + ". Forward pass alone: "
                + "; ".join(fwd)
                + ". Multiply-adds per image (GMAC): "
                + "; ".join(macs)
                + "."
            )
    if not texts:
        return "No speed results were found."
    return (
        " ".join(texts) + ' ("Slower"/"faster": the quartiles of the per-round ratio exclude 1.) A '
        "resize-conv applies its 3x3 convolution at the up-sampled resolution, a stride-2 "
        "transposed convolution computes from the coarse input, which is why the learned "
        "up-sampler can cost fewer multiply-adds than the fixed one followed by a conv."
    )


def _best(vs: dict[str, Any], names: Sequence[str]) -> str | None:
    have = [v for v in names if v in vs]
    return max(have, key=lambda v: vs[v]["mean"]) if have else None


def _accuracy_claim(c: _Ctx) -> str:
    parts = []
    for t in c.tasks("accuracy"):
        acc = c.get("tasks", t, "accuracy")
        vs = c.variants(t, "accuracy")
        bt, bf = _best(vs, TCONV), _best(vs, FIXED)
        if not bt or not bf:
            continue
        metric = "Dice" if acc["metric"] == "dice" else "PSNR (dB)"
        digits = 4 if acc["metric"] == "dice" else 2
        pd = c.paired(t, "accuracy", bt, bf)
        sign = _excludes_zero(pd)
        verdict = (
            "the paired interval contains 0: no clear difference"
            if sign == 0
            else ("the transposed conv is better" if sign > 0 else "the fixed up-sampler is better")
        )
        parts.append(
            f"{t}: best transposed conv ({LABEL[bt]}) {metric} {cell(vs[bt], digits)} vs best "
            f"fixed ({LABEL[bf]}) {cell(vs[bf], digits)}, difference {_pdiff(pd, digits)}; "
            f"{verdict}"
        )
    if not parts:
        return "Not measured (no accuracy results)."
    return (
        "Best learned vs best fixed up-sampler per task (mean ± std over seeds [95% CI]; the "
        "difference with a 95% interval paired over the test images): " + "; ".join(parts) + "."
    )


def _nearest_claim(c: _Ctx) -> str:
    parts = []
    for t in c.tasks("accuracy"):
        vs = c.variants(t, "accuracy")
        crop = c.variants(t, "crop")
        acc = c.get("tasks", t, "accuracy")
        if "nearest" not in vs:
            continue
        digits = 4 if acc["metric"] == "dice" else 2
        seg = acc["kind"] == "segmentation"
        worse = [
            v
            for v in TCONV
            if v in vs and _excludes_zero(c.paired(t, "accuracy", v, "nearest")) > 0
        ]
        text = f"{t}: nearest + conv {cell(vs['nearest'], digits)}"
        text += (
            f"; transposed convs clearly above it: {', '.join(LABEL[v] for v in worse)}"
            if worse
            else "; no transposed conv is clearly above it"
        )
        if "nearest" in crop:
            cons = crop["nearest"]["pooled_all"]
            tc = [v for v in TCONV if v in crop]
            unit = "% label changes" if seg else "dB EQ-T"
            words = {1: "more consistent", -1: "less consistent", 0: "no clear difference"}
            text += (
                f"; consistency {cell(cons, 3 if seg else 2, changes=seg)} {unit} vs "
                + ", ".join(
                    f"{LABEL[v]} {cell(crop[v]['pooled_all'], 3 if seg else 2, changes=seg)} "
                    f"(nearest {words[_excludes_zero(c.paired(t, 'crop', 'nearest', v))]})"
                    for v in tc
                )
            )
        parts.append(text)
    if not parts:
        return "Not measured."
    return (
        "In the sense of the tutorial (a resize-conv is a transposed conv with a constrained "
        "kernel) something is given up, but whether it matters is measured here: "
        + "; ".join(parts)
        + "."
    )


def _blur_claim(c: _Ctx, spd: dict[str, Any]) -> str:
    pairs = (
        ("bilinear", "blurpool_bilinear"),
        ("tconv4", "blurpool_tconv4"),
        ("bilinear", "blurpool_blur"),
    )
    parts = []
    for t in c.tasks("crop"):
        crop = c.variants(t, "crop")
        acc = c.variants(t, "accuracy")
        kind = c.get("tasks", t, "crop", "kind")
        seg = kind == "segmentation"
        for base, aa in pairs:
            if base not in crop or aa not in crop:
                continue
            b, a = crop[base]["pooled_all"], crop[aa]["pooled_all"]
            if seg:
                cb, ca = _pct(b["mean"]), _pct(a["mean"])
                change = (
                    f"label changes {cb:.3f}% -> {ca:.3f}% ("
                    + (
                        f"{cb / ca:.1f}x fewer"
                        if ca > 0 and cb >= ca
                        else f"{ca / cb:.1f}x more"
                        if cb > 0
                        else "n/a"
                    )
                    + ")"
                )
            else:
                diff = a["mean"] - b["mean"]
                change = f"EQ-T PSNR {b['mean']:.2f} -> {a['mean']:.2f} dB ({diff:+.2f} dB)"
            sign = _excludes_zero(c.paired(t, "crop", aa, base))
            sig = {1: " (paired interval: better)", -1: " (paired interval: worse)", 0: ""}[sign]
            acc_txt = ""
            if base in acc and aa in acc:
                digits = 4 if seg else 2
                acc_txt = f", accuracy {_pdiff(c.paired(t, 'accuracy', aa, base), digits)}"
            parts.append(f"{t}, {LABEL[base]} -> {LABEL[aa]}: {change}{sig}{acc_txt}")
    spd_txt = ""
    if spd and "bilinear" in spd:
        spd_txt = (
            " Training-step time relative to bilinear: "
            + "; ".join(
                f"{LABEL[v]} {spd[v]['train_step_ratio']:.2f}x"
                for v in ("blurpool_bilinear", "blurpool_tconv4", "blurpool_blur", "aps")
                if v in spd
            )
            + "."
        )
    aps_txt = ""
    per = c.variants("nuclei", "period")
    crop_n = c.variants("nuclei", "crop")
    if "aps" in per and "aps" in crop_n:
        aps_txt = (
            " APS under circular shifts (its design case, period maps): "
            f"{_num(_pct(per['aps']['pooled_interior']['mean']), 3)}% of interior labels change; "
            "under crop shifts, where new content enters at the border: "
            f"{_num(_pct(crop_n['aps']['pooled_all']['mean']), 3)}% (nuclei)."
        )
    if not parts:
        return "Not measured."
    return (
        _period_effect(c)
        + " Adding blur before each down-sampling (max-blur-pool), pooled over crop shifts of "
        f"1-{_max_shift(c)} px: " + "; ".join(parts) + "." + spd_txt + aps_txt
    )


def _period_effect(c: _Ctx) -> str:
    """Label changes at shifts that are multiples of the period vs the others (max-pool nets)."""
    texts = []
    for t in c.tasks("crop"):
        crop = c.variants(t, "crop")
        if c.get("tasks", t, "crop", "kind") != "segmentation":
            continue
        period = c.get("tasks", t, "crop", "period")
        maxpool = [v for v in (*TCONV, *FIXED, "pixelshuffle") if v in crop]
        have = [v for v in maxpool if "on_period_interior" in crop[v]]
        if not have:
            continue
        on = [_pct(crop[v]["on_period_interior"]["mean"]) for v in have]
        off = [_pct(crop[v]["off_period_interior"]["mean"]) for v in have]
        fewer = sum(o < f for o, f in zip(on, off))
        texts.append(
            f"{t}: {min(off):.3f}-{max(off):.3f}% of interior labels change at shifts that are "
            f"not multiples of the {period} px period, {min(on):.3f}-{max(on):.3f}% at "
            f"multiples of it (fewer at multiples for {fewer} of {len(have)} max-pool variants)"
        )
    if not texts:
        return ""
    return (
        "Max-pooling U-Nets change their output under small shifts, and the change depends on "
        "the shift modulo the period 2^L, the signature of the down-sampling (a shift by a "
        "multiple of the period moves every sampling grid by whole samples): "
        + "; ".join(texts)
        + "."
    )


def _advice(c: _Ctx, acc: dict, crop: dict, spd: dict) -> str:
    if not acc:
        return "Not enough results for advice."
    best = max(acc, key=lambda v: acc[v]["mean"])
    tied = [
        v for v in acc if v == best or _excludes_zero(c.paired("nuclei", "accuracy", v, best)) == 0
    ]
    text = (
        f"On nuclei, the variants whose Dice differs from the best ({LABEL[best]}) by a paired "
        f"interval that contains 0 are a statistical tie at this size: "
        f"{', '.join(LABEL[v] for v in tied)}."
    )
    if spd:
        fastest = min(
            (v for v in tied if v in spd), key=lambda v: spd[v]["train_step_ratio"], default=None
        )
        if fastest:
            text += (
                f" Among them the cheapest training step is {LABEL[fastest]} "
                f"({spd[fastest]['train_step_ratio']:.2f}x bilinear)."
            )
    if crop:
        cands = [v for v in tied if v in crop]
        if cands:
            most = max(cands, key=lambda v: crop[v]["pooled_all"]["mean"])
            text += (
                f" The most shift-consistent of them is {LABEL[most]} "
                f"({_num(_pct(crop[most]['pooled_all']['mean']), 3)}% label changes under crop "
                "shifts"
                + (
                    f", training step {spd[most]['train_step_ratio']:.2f}x bilinear"
                    if most in spd
                    else ""
                )
                + ")."
            )
    if (
        spd
        and all(v in spd for v in ("nearest", "tconv2"))
        and all(v in acc for v in ("nearest", "tconv2"))
    ):
        pd = c.paired("nuclei", "accuracy", "tconv2", "nearest")
        sign = _excludes_zero(pd)
        r = spd["nearest"]["train_step_ratio"] / spd["tconv2"]["train_step_ratio"]
        verdict = {
            1: "transposed 2x2 is more accurate",
            -1: "nearest + conv is more accurate",
            0: "no clear difference",
        }[sign]
        text += (
            " On the answer's advice (nearest neighbour instead of a transposed conv): Dice of "
            f"transposed 2x2 minus nearest + conv {_pdiff(pd, 4)} ({verdict}); a nearest + "
            f"conv training step takes {r:.2f}x that of transposed 2x2."
        )
    text += (
        " In short: at this scale the choice between learned and fixed up-sampling does not "
        "decide accuracy; pick the cheaper one, and if predictions must not depend on where "
        "the image is cropped (tiling, sliding windows), add low-pass filters around the "
        "samplers and pay the time in the speed table."
        if len(tied) == len(acc)
        else " The variants outside the tie ("
        + ", ".join(LABEL[v] for v in acc if v not in tied)
        + ") have a lower nuclei Dice than the best; pick among the tied ones by cost and by "
        "how much shift consistency matters."
    )
    return text


def _limitations(c: _Ctx) -> list[str]:
    recs = c.records
    params = [r["num_parameters"] for r in recs if r.get("num_parameters")]
    seeds = {
        t: sorted({r["seed"] for r in recs if r["task"] == t})
        for t in ("nuclei", "textures", "denoise")
    }
    sp = c.speed or {}
    depth = next((r["config"].get("depth") for r in recs if r.get("config")), "?")
    epochs = sorted({r["training"].get("epochs") for r in recs if r.get("training")} - {None})
    steps = sorted(
        {r["training"].get("steps_per_epoch") for r in recs if r.get("training")} - {None}
    )
    lines = [
        "## 5. Limitations",
        "",
        f"- Small models: {min(params) if params else '?'}-{max(params) if params else '?'} "
        f"parameters, depth {depth}, trained for "
        f"{'/'.join(map(str, epochs)) or '?'} epochs of {'/'.join(map(str, steps)) or '?'} "
        "steps on CPU. "
        "Larger, longer-trained U-Nets may rank differently.",
        "- One image family per task, small test sets (nuclei: one DSB2018 quadrant and slices "
        "of one volume; textures: synthetic; denoising: tiles of photographs held out from "
        "training), so intervals are wide "
        "and a difference inside them is not evidence of no effect.",
        f"- Seeds: nuclei {seeds['nuclei']}, textures {seeds['textures']}, denoise "
        f"{seeds['denoise']}; the single-seed tasks show image-to-image, not training, variation.",
        "- Coverage of this run: " + _coverage(c) + ". " + _coverage_note(c),
        f"- Timings are CPU wall times ({', '.join(map(str, sp.get('threads', [])))} thread(s), "
        f"input {tuple(sp.get('input_shape', []))}) on a shared 2-core machine whose load "
        "varied; rounds are interleaved and ratios taken within a round to cancel the load, but "
        "GPU ratios can differ (a transposed conv is one fused kernel there).",
        "- Consistency is measured for translations only (no rotations, scale, or intensity "
        "changes), and accuracy only as Dice / PSNR.",
        "",
    ]
    return lines


def _coverage(c: _Ctx) -> str:
    """Which images and seeds each piece of this run used (from the results)."""
    split = {}
    for r in c.records:
        split.setdefault(r["task"], r["n_images"])
    parts = []
    for piece, what in (
        ("crop", "crop shifts"),
        ("period", "period maps"),
        ("fractional", "sub-pixel shifts"),
    ):
        for t in c.tasks(piece):
            node = c.get("tasks", t, piece)
            seeds = sorted({s for e in node["variants"].values() for s in e["seeds"]})
            size = "x".join(map(str, node["frame_sizes"][0])) if node.get("frame_sizes") else "?"
            parts.append(
                f"{what} on {t}: {node['n_images']} of {split.get(t, '?')} test images "
                f"({size} px frames), seeds {seeds}"
            )
    layers = c.get("layers", default=None)
    if layers and layers.get("variants"):
        seeds = sorted({s for e in layers["variants"].values() for s in e["seeds"]})
        parts.append(
            f"per-level errors on {layers['task']}: {layers['n_images']} image(s), seeds {seeds}"
        )
    return "; ".join(parts) if parts else "n/a"


def _coverage_note(c: _Ctx) -> str:
    split = {}
    for r in c.records:
        split.setdefault(r["task"], r["n_images"])
    every = all(
        c.get("tasks", t, "crop", "n_images") == split.get(t) for t in c.tasks("crop")
    ) and bool(c.tasks("crop"))
    if every:
        return (
            "These are the results of `python -m analysis.study --full`; the main job "
            "(`make demo`) uses fewer images and seeds to fit its time budget."
        )
    return "`python -m analysis.study --full` uses every test image and seed."


def _provenance(c: _Ctx) -> list[str]:
    timings = c.get("timings", default={})
    prov = c.get("provenance", default={})
    loads = c.get("load_average_1min", default={}) or {}
    rows = [
        [k, _num(v, 1), " -> ".join(f"{x:.1f}" for x in loads.get(k) or []) or "n/a"]
        for k, v in timings.items()
        if v is not None
    ]
    total = sum(v for v in timings.values() if v is not None)
    pieces = c.get("pieces", default={}) or {}
    commits = ", ".join(f"`{x}`" for x in sorted({p.get("git_commit") for p in pieces.values()}))
    stamps = sorted(p.get("time_utc") for p in pieces.values() if p.get("time_utc"))
    times = (
        "?"
        if not stamps
        else stamps[0]
        if stamps[0] == stamps[-1]
        else f"{stamps[0]} to {stamps[-1]}"
    )
    return [
        "## 6. Reproduce",
        "",
        "```sh",
        "python -m analysis.study          # results/study/* from the shipped checkpoints",
        "python figures/make_all.py        # every figure from the committed results",
        "python -m analysis.write_paper    # this page",
        "python -m analysis.train_all     # retrain every checkpoint (slow)",
        "```",
        "",
        f"Pieces computed at git commit(s) {commits} ({times}); summary written at "
        f"`{prov.get('git_commit')}` ({prov.get('time_utc')}). "
        f"Measured time of each piece of the study (s, sum {total:.0f} s), with the machine's "
        "1-minute load average at its start and end (2 cores; other jobs shared them):",
        "",
        *_table(["piece", "seconds", "load average"], rows),
        "",
    ]


def render(
    study: dict[str, Any],
    speed: dict[str, Any] | None,
    seed_text: str | None = None,
    figures_dir: Path = REPO / "figures",
) -> str:
    """The paper as Markdown (no I/O besides checking which figure files exist)."""
    if not isinstance(study, dict) or study.get("schema") != "antialias.study/1":
        raise PaperError("expected an antialias.study/1 document (results/study/study.json)")
    c = _Ctx(study, speed)
    lines = [
        "# Fixed or learned up-sampling in a U-Net? Measured on shipped checkpoints",
        "",
        "<!-- generated by analysis/write_paper.py from results/study/*.json; do not edit -->",
        "",
        "Every number on this page is read from `results/study/` (written by "
        "`python -m analysis.study` from the checkpoints in `checkpoints/`); the figures are "
        "drawn from the same files by `python figures/make_all.py`.",
        "",
    ]
    lines += _question(seed_text)
    lines += _setup(c)
    lines += _results(c, figures_dir)
    lines += _conclusion(c)
    lines += _limitations(c)
    lines += _provenance(c)
    return "\n".join(lines).rstrip() + "\n"


# ----------------------------------------------------------------------------------------------
# command line


def _read_json(path: Path, command: str, required: bool = True) -> dict[str, Any] | None:
    if not path.is_file():
        if required:
            raise PaperError(f"missing results file {path}; run `{command}` first")
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise PaperError(f"cannot read {path} ({err}); rerun `{command}`") from err


def _seed_text() -> str | None:
    folder = REPO.parent / "shared" / "seeds"
    files = sorted(folder.glob("*.txt")) if folder.is_dir() else []
    return files[0].read_text(encoding="utf-8") if files else None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line on stderr, exit 2
        self.exit(2, f"{PROG}: error: {message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (2 for missing results)."""
    p = _Parser(prog=PROG, description="Write docs/paper.md from the study's results.")
    p.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    try:
        args = p.parse_args(argv)
    except SystemExit as stop:
        return int(stop.code or 0)
    try:
        study = _read_json(args.results / "study.json", "python -m analysis.study")
        speed = _read_json(args.results / "speed.json", "python -m analysis.speed", False)
        text = render(study, speed, _seed_text())
        args.out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{args.out.name}.", dir=args.out.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, args.out)
    except KeyError as err:
        print(
            f"{PROG}: error: results lack the key {err}; rerun `python -m analysis.study`",
            file=sys.stderr,
        )
        return 2
    except (PaperError, OSError, TypeError) as err:
        text = str(err).strip().splitlines()
        print(f"{PROG}: error: {text[0] if text else type(err).__name__}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
