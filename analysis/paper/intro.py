"""Sections 1 and 2 of the paper: the question (quoted from the seed) and the setup.

What does not live here: the numbers' wording (:mod:`analysis.paper.wording`), the results.
"""

from __future__ import annotations

from typing import Any

from analysis.paper.results import DESIGN, VARIANT_ORDER, StudyResults
from analysis.paper.wording import known, table


def question(seed_text: str | None) -> list[str]:
    """Section 1: the user's question and the answer given (quoted), and its five claims."""
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
        "The answer makes five claims, which this study turns into measurements (their "
        "verdicts open this page):",
        "",
        "1. *A transposed convolution is a regular convolution with zeros inserted between the "
        "inputs.* Worked through, with every view checked numerically, in "
        "[the transposed-convolution tutorial](transposed_convolution.md); section 3.9.1.",
        "2. *It only makes the network slower.* Timed in 3.6; section 3.9.2.",
        "3. *It won't really increase your F1 (Dice) score.* Test Dice / PSNR in 3.1; "
        "section 3.9.3.",
        "4. *With a convolution after each up-sampling, nearest neighbour loses nothing.* Nearest "
        "+ conv against the transposed convs, in accuracy and in shift consistency; 3.9.4.",
        '5. *Aliasing, as in "Making Convolutional Networks Shift-Invariant Again", also '
        "happens with max pooling.* Shift consistency of every variant, with and without "
        "blur-pooling, 3.2-3.8; section 3.9.5.",
        "",
        "(On the answer's first sentence: the U-Net paper (Ronneberger et al. 2015) describes "
        'each up-step as "an upsampling of the feature map followed by a 2x2 convolution '
        "('up-convolution')\"; the variant `tconv2` below is the common reading of that "
        "layer, a learned 2x2 stride-2 transposed convolution.)",
        "",
    ]
    return out


def _quote(text: str) -> list[str]:
    """``text`` as a Markdown quote, runs of blank lines collapsed."""
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


TASK_DESCRIPTIONS = {
    "nuclei": "real fluorescence nuclei (DSB2018 image shipped with stardist + slices of "
    "the napari sample volume), binary segmentation",
    "textures": "synthetic blobs filled with grass (foreground) and gravel (background) "
    "textures of equal grey-level histogram: segmentation by spatial frequency alone, an "
    "aliasing stress test",
    "denoise": "grey photographs from scikit-image / scikit-learn plus Gaussian noise, "
    "regression (residual U-Net)",
}

METRICS = [
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


def setup(c: StudyResults) -> list[str]:
    """Section 2: data, variants, training (from the checkpoints' metadata), metrics."""
    out = ["## 2. Setup", "", "**Data** (`antialias.data`; test images are never trained on):", ""]
    out += [data_line(c, t) for t in c.tasks("accuracy")]
    out += [
        "",
        "**Variants** (`antialias.models.VARIANTS`): one U-Net, only the samplers differ.",
        "",
    ]
    out += variants_table(c)
    out += training(c)
    return out + ["", *METRICS]


def data_line(c: StudyResults, task: str) -> str:
    """One bullet of the data list: what the task is, its image counts and seeds."""
    recs = c.records
    r = next((x for x in recs if x["task"] == task), None)
    n_test = r["n_images"] if r else "?"
    size = "x".join(map(str, r.get("image_size", []))) if r else ""
    n_train = r.get("n_train_images") if r else None
    seeds = sorted({x["seed"] for x in recs if x["task"] == task})
    extra = f"{n_train} training images, " if n_train else ""
    return (
        f"- `{task}`: {TASK_DESCRIPTIONS.get(task, task)}; {extra}{n_test} test images of "
        f"{size or '?'} px; seed(s) {', '.join(map(str, seeds))}."
    )


def variants_table(c: StudyResults) -> list[str]:
    """The designs with their parameter counts (first task that has each)."""
    params: dict[str, Any] = {}
    for t in c.tasks("accuracy"):
        for v, e in c.variants(t, "accuracy").items():
            params.setdefault(v, e.get("num_parameters"))
    rows = [
        [f"`{v}`", DESIGN[v][0], DESIGN[v][1], str(params.get(v, "n/a"))]
        for v in VARIANT_ORDER
        if v in params
    ]
    return table(["variant", "down-sampling", "up-sampling", "parameters (nuclei)"], rows)


def _crops(size: Any) -> str:
    """``128x128 px random crops``, or that the crop size was not recorded."""
    return "random crops (size not recorded)" if size is None else f"{size}x{size} px random crops"


def training(c: StudyResults) -> list[str]:
    """The training paragraph, from the checkpoints' metadata (empty if none recorded)."""
    recs = c.records
    r0 = next((x for x in recs if x.get("training") and x.get("config")), None)
    if not r0:
        return []
    cfg = r0["config"]
    lines = []
    for t in c.tasks("accuracy"):
        tr = next((x["training"] for x in recs if x["task"] == t and x.get("training")), {})
        lines.append(
            f"`{t}` {known(tr.get('epochs'))} epochs of {known(tr.get('steps_per_epoch'))} "
            f"steps, batch {known(tr.get('batch_size'))} of {_crops(tr.get('crop'))}, "
            f"learning rate {known(tr.get('lr'))} "
            f"({known(tr.get('warmup_steps'))} warm-up steps)"
        )
    threads = sorted({str(x["training"].get("threads")) for x in recs if x.get("training")})
    return [
        "",
        "**Training** (`python -m analysis.train_all`, from the checkpoints' metadata): "
        + "; ".join(lines)
        + f"; {'/'.join(threads)} CPU thread(s) per run; the checkpoint kept is the best "
        "epoch on the validation split. Architecture: depth "
        f"{known(cfg.get('depth'))} (period 2^L = {2 ** int(cfg.get('depth', 0))} px), "
        f"{known(cfg.get('width'))} channels at full resolution, doubling per level, "
        f"{known(cfg.get('norm'))} norm.",
    ]
