"""Section 3.9 of the paper: the answer's claims one by one, each decided by stated comparisons.

Qualitative words ("slower", "no clear difference", "more consistent") are chosen from the
numbers: quartiles of per-round speed ratios that exclude 1, paired bootstrap intervals that
exclude 0 (:func:`analysis.paper.wording.excludes_zero`).

What does not live here: the numbers' wording (:mod:`analysis.paper.wording`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from analysis.paper.results import FIXED, LABEL, TCONV, StudyResults
from analysis.paper.wording import cell, excludes_zero, num, pct, pdiff, speed_word


def conclusion(c: StudyResults, words: dict[tuple, dict[str, str]] | None = None) -> list[str]:
    """Section 3.9: each claim of the answer in turn, with the numbers that decide it."""
    out = ["### 3.9 The answer's claims, one by one, in detail", ""]
    nuc_acc = c.variants("nuclei", "accuracy")
    nuc_crop = c.variants("nuclei", "crop")
    spd = c.speed_recs()
    # 1
    out += [
        '**3.9.1 "Transposed convolution is regular convolution with zeros inserted."** True, '
        "as an identity (zeros between the inputs, the kernel flipped, channel axes swapped, "
        "padding `d(k-1) - p`); see [the tutorial](transposed_convolution.md), which checks it "
        "and the matrix and polyphase views numerically.",
        "",
    ]
    # 2 speed
    out += [
        '**3.9.2 "It will only make your CNN slower."** ' + _speed_claim(c, words),
        "",
        "Study v1's resize-conv designs interpolate and then apply a 3x3 conv at the fine "
        "resolution, the extra multiply-adds that make them slower here; the fixed up paths "
        "real U-Nets use (MONAI's 1x1 conv at the coarse resolution, Pytorch-UNet's "
        "interpolation alone) do not, so these ratios do not answer the claim for them: the "
        "speed rows of the verdict table (study v2, the real designs) do.",
        "",
    ]
    # 3 accuracy
    out += ['**3.9.3 "It won\'t really increase your F1 score."** ' + _accuracy_claim(c), ""]
    # 4 nearest
    out += ['**3.9.4 "Nearest neighbour + conv loses nothing."** ' + _nearest_claim(c), ""]
    # 5 blur
    out += ["**3.9.5 Aliasing and blur.** " + _blur_claim(c, spd), ""]
    # 6 advice
    out += [
        "**3.9.6 What a U-Net author should choose.** " + _advice(c, nuc_acc, nuc_crop, spd),
        "",
    ]
    return out


def _speed_claim(c: StudyResults, words: dict[tuple, dict[str, str]] | None = None) -> str:
    """3.9.2: training-step and forward ratios to bilinear, and multiply-adds, per run.

    ``words``: ``(arch, threads, what) -> {variant: word}`` from the seed-level statistics
    (:func:`analysis.paper.verdicts.speed_words`); without them, the quartile rule of
    :func:`~analysis.paper.wording.speed_word`.
    """
    words = words or {}

    def word(arch: str, threads: int, v: str, rec: dict, what: str = "train_step") -> str:
        return words.get((arch, threads, what), {}).get(v) or speed_word(rec, what)

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
                f"({word(arch, threads, v, spd[v])})"
                for v in (*TCONV, "nearest", "pixelshuffle")
                if v in spd
            ]
            fwd = [
                f"{LABEL[v]} {spd[v]['forward_ratio']:.2f}x "
                f"({word(arch, threads, v, spd[v], 'forward')})"
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
    rule = (
        "(Words: `antialias.stats.verdict` of the per-round times against bilinear + conv, "
        "paired by round, Holm within each run, equivalence margin 5%.)"
        if words
        else '("Slower"/"faster": the quartiles of the per-round ratio exclude 1.)'
    )
    return (
        " ".join(texts) + f" {rule} A "
        "resize-conv applies its 3x3 convolution at the up-sampled resolution, a stride-2 "
        "transposed convolution computes from the coarse input, which is why the learned "
        "up-sampler can cost fewer multiply-adds than the fixed one followed by a conv."
    )


def _best(vs: dict[str, Any], names: Sequence[str]) -> str | None:
    """The variant among ``names`` with the highest mean (``None`` if none measured)."""
    have = [v for v in names if v in vs]
    return max(have, key=lambda v: vs[v]["mean"]) if have else None


def _accuracy_claim(c: StudyResults) -> str:
    """4.3: best learned vs best fixed up-sampler per task, with the paired difference."""
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
        sign = excludes_zero(pd)
        verdict = (
            "the paired interval contains 0: no clear difference"
            if sign == 0
            else ("the transposed conv is better" if sign > 0 else "the fixed up-sampler is better")
        )
        parts.append(
            f"{t}: best transposed conv ({LABEL[bt]}) {metric} {cell(vs[bt], digits)} vs best "
            f"fixed ({LABEL[bf]}) {cell(vs[bf], digits)}, difference {pdiff(pd, digits)}; "
            f"{verdict}"
        )
    if not parts:
        return "Not measured (no accuracy results)."
    return (
        "Best learned vs best fixed up-sampler per task (mean ± std over seeds [95% CI]; the "
        "difference with a 95% interval paired over the test images): " + "; ".join(parts) + "."
    )


def _nearest_claim(c: StudyResults) -> str:
    """4.4: nearest + conv against the transposed convs, in accuracy and consistency."""
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
            v for v in TCONV if v in vs and excludes_zero(c.paired(t, "accuracy", v, "nearest")) > 0
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
                    f"(nearest {words[excludes_zero(c.paired(t, 'crop', 'nearest', v))]})"
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


def consistency_change(before: dict[str, Any], after: dict[str, Any], seg: bool) -> str:
    """How consistency changes from ``before`` to ``after`` (pooled crop entries).

    >>> consistency_change({"mean": 0.99}, {"mean": 0.995}, True)
    'label changes 1.000% -> 0.500% (2.0x fewer)'
    >>> consistency_change({"mean": 40.0}, {"mean": 41.5}, False)
    'EQ-T PSNR 40.00 -> 41.50 dB (+1.50 dB)'
    """
    if not seg:
        diff = after["mean"] - before["mean"]
        return f"EQ-T PSNR {before['mean']:.2f} -> {after['mean']:.2f} dB ({diff:+.2f} dB)"
    cb, ca = pct(before["mean"]), pct(after["mean"])
    if ca > 0 and cb >= ca:
        ratio = f"{cb / ca:.1f}x fewer"
    else:
        ratio = f"{ca / cb:.1f}x more" if cb > 0 else "n/a"
    return f"label changes {cb:.3f}% -> {ca:.3f}% ({ratio})"


def _blur_claim(c: StudyResults, spd: dict[str, Any]) -> str:
    """4.5: the period signature, then what blur before down-sampling changes (and costs)."""
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
            change = consistency_change(crop[base]["pooled_all"], crop[aa]["pooled_all"], seg)
            sign = excludes_zero(c.paired(t, "crop", aa, base))
            sig = {1: " (paired interval: better)", -1: " (paired interval: worse)", 0: ""}[sign]
            acc_txt = ""
            if base in acc and aa in acc:
                digits = 4 if seg else 2
                acc_txt = f", accuracy {pdiff(c.paired(t, 'accuracy', aa, base), digits)}"
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
            f"{num(pct(per['aps']['pooled_interior']['mean']), 3)}% of interior labels change; "
            "under crop shifts, where new content enters at the border: "
            f"{num(pct(crop_n['aps']['pooled_all']['mean']), 3)}% (nuclei)."
        )
    if not parts:
        return "Not measured."
    return (
        _period_effect(c)
        + " Adding blur before each down-sampling (max-blur-pool), pooled over crop shifts of "
        f"1-{c.max_shift()} px: " + "; ".join(parts) + "." + spd_txt + aps_txt
    )


def _period_effect(c: StudyResults) -> str:
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
        on = [pct(crop[v]["on_period_interior"]["mean"]) for v in have]
        off = [pct(crop[v]["off_period_interior"]["mean"]) for v in have]
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


def _advice(c: StudyResults, acc: dict, crop: dict, spd: dict) -> str:
    """4.6: the statistical tie on nuclei Dice, then cost and consistency within it."""
    if not acc:
        return "Not enough results for advice."
    best = max(acc, key=lambda v: acc[v]["mean"])
    tied = [
        v for v in acc if v == best or excludes_zero(c.paired("nuclei", "accuracy", v, best)) == 0
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
                f"({num(pct(crop[most]['pooled_all']['mean']), 3)}% label changes under crop "
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
        sign = excludes_zero(pd)
        r = spd["nearest"]["train_step_ratio"] / spd["tconv2"]["train_step_ratio"]
        verdict = {
            1: "transposed 2x2 is more accurate",
            -1: "nearest + conv is more accurate",
            0: "no clear difference",
        }[sign]
        text += (
            " On the answer's advice (nearest neighbour instead of a transposed conv): Dice of "
            f"transposed 2x2 minus nearest + conv {pdiff(pd, 4)} ({verdict}); a nearest + "
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
