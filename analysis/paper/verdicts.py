"""The answer first: one verdict per claim of the seed's answer, each from data or a check.

Accuracy and speed verdicts are :func:`antialias.stats.verdict` of :func:`antialias.stats.compare`
on seed-level data (per-image Dice of every seed's checkpoint; per-round training-step times),
Holm-adjusted as one family (:func:`antialias.stats.adjust_family`). Claims about the maths or
the literature get their verdict from a computed check recorded in a results file
(``results/transposed_tutorial/tutorial.json``, ``results/study/study.json``): the check's
outcome names the word, never a typed string.

What does not live here: loading files (:func:`load_answer_data` reads them; the paper's
command calls it), the rest of the paper.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from antialias import stats, variants
from antialias.exact import exact_tolerance

__all__ = [
    "AnswerData",
    "Row",
    "aliasing_check",
    "claim_reading",
    "load_answer_data",
    "original_unet_check",
    "rows",
    "stat_row",
    "zeros_check",
]

UNET_QUOTE = (
    'Ronneberger et al. 2015, section 2: "Every step in the expansive path consists of an '
    "upsampling of the feature map followed by a 2x2 convolution (\u201cup-convolution\u201d) "
    'that halves the number of feature channels"'
)


@dataclass
class AnswerData:
    """What the verdicts are computed from.

    Attributes:
        dice: ``variant -> (seeds, images)`` per-image Dice of ``task`` (seed ``k`` of every
            variant shares initialisation seed and crops: pairs stay pairs).
        task: the task of ``dice``.
        time: ``variant -> (rounds,)`` training-step seconds of one architecture and thread
            count, rounds interleaved across variants (paired by round).
        time_setting: words for where ``time`` was measured.
        tutorial: ``tutorial.json`` (the maths checks), or ``None``.
        study: ``study.json`` (the consistency check).
        spectra: ``spectra.json`` (the landing-power probes), or ``None``.
        study_v2: ``results/study_v2/analysis.json`` (the new study's verdicts so far), or
            ``None`` when that study has not been analysed.
        time_runs: ``(arch, threads, what) -> variant -> (rounds,)`` seconds of study v1.
    """

    dice: dict[str, np.ndarray] = field(default_factory=dict)
    task: str = "nuclei"
    time: dict[str, np.ndarray] = field(default_factory=dict)
    time_setting: str = ""
    tutorial: dict | None = None
    study: dict | None = None
    spectra: dict | None = None
    study_v2: dict | None = None
    time_runs: dict[tuple[str, int, str], dict[str, np.ndarray]] = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    """One line of the verdict table."""

    claim: str
    verdict: str
    number: str
    caveat: str
    source: str
    design: str = ""  # the design a study-v2 row is about (its prose names it by label)


def _per_image_dice(sums: np.ndarray) -> np.ndarray:
    from antialias import metrics as M

    return np.asarray(M.dice(M.overlap_from_confusion(sums)), dtype=np.float64)


def load_answer_data(results: Path, study: dict, tutorial_json: Path | None) -> AnswerData:
    """Per-image Dice (task with the most seeds), per-round times, the tutorial's checks."""
    from antialias.files import read_result_set

    recs = study.get("accuracy_records", [])
    seg = [r for r in recs if r.get("metric") == "dice"]
    seeds_per_task: dict[str, set] = {}
    for r in seg:
        seeds_per_task.setdefault(r["task"], set()).add(r["seed"])
    data = AnswerData(study=study)
    if seeds_per_task:
        task = max(seeds_per_task, key=lambda t: len(seeds_per_task[t]))
        data.task = task
        with np.load(results / f"accuracy_{task}.npz") as z:
            by: dict[str, dict[int, np.ndarray]] = {}
            for r in seg:
                if r["task"] == task:
                    by.setdefault(r["variant"], {})[r["seed"]] = _per_image_dice(
                        z[f"{r['id']}__sums"]
                    )
        data.dice = {v: np.stack([s[k] for k in sorted(s)]) for v, s in by.items()}
    speed_npz = results / "speed.npz"
    if speed_npz.is_file():
        with np.load(speed_npz) as z:
            for k in z.files:  # <arch>__t<threads>__<variant>__<what>_s
                arch, t, variant, what = k.split("__")
                key = (arch, int(t[1:]), what.removesuffix("_s"))
                data.time_runs.setdefault(key, {})[variant] = z[k]
        data.time = data.time_runs.get(("shipped", 1, "train_step"), {})
        data.time_setting = "shipped U-Net, 1 CPU thread, training step"
    if tutorial_json is not None and tutorial_json.is_file():
        data.tutorial, _ = read_result_set(tutorial_json)
    spectra_json = results.parent / "spectra" / "spectra.json"
    if spectra_json.is_file():
        data.spectra, _ = read_result_set(spectra_json)
    v2_json = results.parent / "study_v2" / "analysis.json"
    if v2_json.is_file():
        data.study_v2, _ = read_result_set(v2_json)
    return data


def landing_lines(spectra: dict | None) -> list[str]:
    """What figure 3(b)'s "max-pool's landing power = avg-pool's" holds for, from the
    ``landing_power`` part of ``results/spectra/spectra.json``."""
    probes = ((spectra or {}).get("landing_power") or {}).get("probes") or []
    if not probes:
        return []
    dy = [r for r in probes if r["dyadic"]]
    other = [r for r in probes if not r["dyadic"]]
    dev = max((max(abs(r["ratio_min"] - 1), abs(r["ratio_max"] - 1)) for r in dy), default=0)
    parts = [f"{r['fraction']}: {r['ratio_min']:.2f}-{r['ratio_max']:.2f}x" for r in other]
    n = (spectra.get("config") or {}).get("n_probe_freqs")
    grid = f"`(2j+1)/{4 * n}`" if n else "of the form `(2j+1)/2^m`"
    return [
        f"Figure 3(b) probes at dyadic frequencies {grid} only. There max-pool's power at "
        "the landing frequency equals avg-pool's (largest relative difference over "
        f"{', '.join(r['fraction'] for r in dy)}: {dev:.1e}); at other frequencies it does not, "
        "and it depends on the probe's phase: max-pool / avg-pool landing power over "
        f"{spectra['landing_power']['phases']} phases, " + "; ".join(parts) + " "
        "(`landing_power` in `results/spectra/spectra.json`).",
        "",
    ]


# ---------------------------------------------------------------------------- computed checks


def zeros_check(tutorial: dict | None) -> tuple[str, str]:
    """(verdict, number): is zero insertion + stride-1 conv exact against torch's layer?"""
    if not tutorial:
        return "not checked", "tutorial results missing"
    sw = tutorial["sweep"]
    err = float(sw["max_error"]["zero insertion"])
    # the sweep's outputs are O(1..10) float64 sums: 256 ulps of a scale of 10
    ok = err <= exact_tolerance("float64") * 10
    word = "true (exact to rounding)" if ok else "false"
    return word, f"max error {err:.1e} over {sw['configs']} argument combinations"


def original_unet_check(tutorial: dict | None) -> tuple[str, str]:
    """(verdict, number): is the paper's 2x2 up-conv the same freedom as nearest?

    Nearest + 1x1 conv is the 2x2 stride-2 up-conv whose 4 phase taps are equal (1 direction
    of the 4 per channel pair); the rank of the family is in the tutorial's results.
    """
    if not tutorial:
        return "not checked", "tutorial results missing"
    fam = {r["family"]: r for r in tutorial["families"]["rows"]}["transposed 2x2"]
    params, free = int(fam["params"]), int(fam["free"])
    word = "false" if params > free else "true"
    return word, (
        f"a 2x2 up-conv learns {params} taps per channel pair; nearest (+ 1x1 conv) is the "
        f"{free}-dimensional special case with equal taps"
    )


def aliasing_check(study: dict | None, task: str, variants: tuple[str, ...]) -> tuple[str, str]:
    """(verdict, number): do max-pool U-Nets change more labels off the pooling period?

    For every max-pool variant and seed: interior label changes at shifts that are not
    multiples of the period vs at multiples of it (``crop`` piece).
    """
    node = ((study or {}).get("tasks", {}).get(task, {}) or {}).get("crop") or {}
    have = node.get("variants", {})
    pairs = []
    for v in variants:
        e = have.get(v)
        if e and "off_period_interior" in e:
            off = 1 - np.asarray(e["off_period_interior"]["per_seed"])
            on = 1 - np.asarray(e["on_period_interior"]["per_seed"])
            pairs.append((v, off, on))
    if not pairs:
        return "not checked", "crop results missing"
    ok = all((off > on).all() for _, off, on in pairs)
    v, off, on = pairs[0]
    e = have[v]["off_period_interior"]
    return ("true" if ok else "false"), (
        f"{_pct(1 - e['mean'])}% of labels change at off-period shifts "
        f"[{_pct(1 - e['hi'])}, {_pct(1 - e['lo'])}] vs {_pct(float(on.mean()))}% on-period "
        f"({v}; every one of {len(pairs)} max-pool designs, every seed)"
    )


def _pct(fraction: float) -> str:
    return f"{100 * fraction:.2f}"


# ---------------------------------------------------------------------------- the table


ACCURACY = (  # (a, reference) comparisons on Dice, one Holm family
    ("tconv2", "nearest"),
    ("nearest", "tconv3"),
    ("nearest", "tconv4"),
    ("bilinear", "tconv2"),
)
TIME = (("tconv2", "nearest"),)
MAXPOOL = ("tconv2", "tconv3", "tconv4", "nearest", "bilinear", "pixelshuffle")


def _comparisons(data: AnswerData, pairs: tuple, table: dict, metric: str) -> dict:
    """Holm-adjusted comparisons of the pairs present in ``table``."""
    have = [(a, b) for a, b in pairs if a in table and b in table]
    if not have or min(table[a].shape[0] for a, _ in have) < 2:
        return {}
    cs = [stats.compare(a, table[a], b, table[b], metric) for a, b in have]
    return {(c.name, c.reference): c for c in stats.adjust_family(cs)}


def _effect(c: stats.Comparison, unit: str) -> str:
    lo, hi = c.ci95
    if c.relative:
        return f"{100 * c.diff:+.1f}% [{100 * lo:+.1f}, {100 * hi:+.1f}] {unit}"
    return f"{c.diff:+.4f} [{lo:+.4f}, {hi:+.4f}] {unit}"


def claim_reading(words: list[str], supports: tuple[str, ...]) -> str:
    """A claim read against verdict words: *supported* when every word is one of ``supports``,
    *not supported* when a word contradicts it (neither ``supports`` nor inconclusive), else
    *not decided*; no words: *not measured*."""
    if not words:
        return "not measured"
    if all(w in supports for w in words):
        return "claim supported"
    if any(w not in supports and w != "inconclusive" for w in words):
        return "claim not supported"
    return "not decided"


def stat_row(
    claim: str,
    c: stats.Comparison | None,
    label: dict,
    unit: str,
    caveat: str,
    supports: tuple[str, ...],
    units: str = "test images each",
) -> Row:
    """A row from a comparison; ``supports``: the verdicts under which the claim holds."""
    if c is None:
        return Row(claim, "not measured", "-", caveat, "")
    word = stats.verdict(c)
    n_units = (
        f"{c.n_seeds} {units}" if c.n_images == 1 else f"{c.n_seeds} seeds ({c.n_images} {units})"
    )
    margin = f"{100 * c.margin:.0f}%" if c.relative else f"{c.margin:g}"
    reading = claim_reading([word], supports)
    return Row(
        claim,
        f"{word} ({label[c.name]} vs {label[c.reference]}): {reading}",
        f"{label[c.name]} - {label[c.reference]}: {_effect(c, unit)}; paired p = "
        f"{c.p_diff_holm:.2g} (Holm) over {n_units}, margin +-{margin}",
        caveat,
        "stats",
    )


def rows(data: AnswerData, label: dict[str, str]) -> list[Row]:
    """The verdict table: the seed answer's claims, then what to choose.

    With study v2's analysis present, the speed and accuracy rows are study v2's
    (:func:`analysis.paper.verdicts_v2.v2_rows`); otherwise study v1's.
    """
    if data.study_v2 and data.study_v2.get("families"):
        return _rows_v2(data)
    acc = _comparisons(data, ACCURACY, data.dice, "dice")
    tim = _comparisons(data, TIME, {k: v for k, v in data.time.items()}, "time")
    a_word, a_num = aliasing_check(data.study, data.task, MAXPOOL)
    n = next(iter(acc.values())).n_seeds if acc else 0
    v2 = "first piece below" if data.study_v2 else "not run yet"
    few = f"study v1: {n} seeds, one task ({data.task}); study v2 (issue 12) decides, {v2}"
    return [
        *_maths_rows(data),
        stat_row(
            "It only makes the CNN slower",
            tim.get(TIME[0]),
            label,
            "time",
            f"{data.time_setting}, one machine; 'better' = faster",
            ("worse",),
            "timing rounds",
        ),
        stat_row(
            "It won't really increase the F1 (Dice) score",
            acc.get(ACCURACY[0]),
            label,
            "Dice",
            few,
            ("equivalent", "worse"),
        ),
        stat_row(
            "Nearest + conv loses nothing (vs the 4x4 transposed conv)",
            acc.get(ACCURACY[2]),
            label,
            "Dice",
            "the resize-conv is a constrained transposed conv (tutorial §6); " + few,
            ("equivalent", "better"),
        ),
        Row(
            "Aliasing also happens with max pooling",
            a_word,
            a_num,
            blur_caveat(data.study, data.task, label),
            "check",
        ),
        stat_row(
            "What to choose: bilinear + conv instead of the 2x2 transposed conv",
            acc.get(ACCURACY[3]),
            label,
            "Dice",
            few,
            ("equivalent", "better"),
        ),
    ]


def _maths_rows(data: AnswerData) -> list[Row]:
    """The two rows decided by computed checks of the maths and the literature."""
    u_word, u_num = original_unet_check(data.tutorial)
    z_word, z_num = zeros_check(data.tutorial)
    return [
        Row(
            "The original U-Net used nearest-neighbour up-sampling",
            u_word,
            u_num,
            UNET_QUOTE + "; the text leaves the up-sampling itself unnamed",
            "check",
        ),
        Row(
            "A transposed conv is a regular conv with zeros inserted",
            z_word,
            z_num,
            "plus: kernel flipped, in/out channels swapped, padding d(k-1) - p; computed "
            "without the zeros, it is s^2 small convs (tutorial §0, §3)",
            "check",
        ),
    ]


def _rows_v2(data: AnswerData) -> list[Row]:
    from analysis.paper.verdicts_v2 import v2_rows

    v2 = v2_rows(data.study_v2)
    a_word, a_num = aliasing_check(data.study, data.task, MAXPOOL)
    out = [
        *_maths_rows(data),
        *v2["speed"],
        *v2["accuracy"],
        Row(
            "Aliasing also happens with max pooling",
            a_word,
            a_num,
            "study v1 shipped models; "
            + blur_caveat(data.study, data.task, {n: variants.label(n) for n in variants.DESIGNS}),
            "check",
        ),
    ]
    if v2["baseline"] is not None:
        out.append(v2["baseline"])
    return out + [v2["choose"]]


def blur_caveat(study: dict | None, task: str, label: dict[str, str]) -> str:
    """What blur-pooling and APS did to the same off-period label changes (crop piece)."""
    have = (((study or {}).get("tasks", {}).get(task, {}) or {}).get("crop") or {}).get(
        "variants", {}
    )

    def off(v: str) -> float | None:
        e = (have.get(v) or {}).get("off_period_interior")
        return None if e is None else 1 - e["mean"]

    parts = []
    for blurred, plain in (("blurpool_tconv4", "tconv4"), ("blurpool_bilinear", "bilinear")):
        a, b = off(blurred), off(plain)
        if a is not None and b is not None:
            parts.append(f"{label[blurred]} {_pct(a)}% vs {label[plain]} {_pct(b)}%")
    aps = off("aps")
    if aps is not None:
        parts.append(f"{label['aps']} {_pct(aps)}%")
    return "off-period label changes with blur-pooling / APS: " + (
        "; ".join(parts) if parts else "not measured"
    )


def table_lines(table: list[Row]) -> list[str]:
    """The verdict table as Markdown."""
    out = [
        "| claim (from the answer) | verdict | the number behind it [95% interval] | caveat |",
        "|---|---|---|---|",
    ]
    for r in table:
        out.append(f"| {r.claim} | **{r.verdict}** | {r.number} | {r.caveat} |")
    return out


def verdict_word(table: list[Row], start: str) -> str:
    """The verdict of the row whose claim starts with ``start`` (for the prose)."""
    for r in table:
        if r.claim.startswith(start):
            return r.verdict
    return "not measured"


def finite(x: float) -> bool:
    """A number the prose can state."""
    return isinstance(x, (int, float)) and math.isfinite(x)


def comparisons_for_prose(data: AnswerData) -> dict[str, Any]:
    """The accuracy and time comparisons, for the direct answer's sentences."""
    return {
        "acc": _comparisons(data, ACCURACY, data.dice, "dice"),
        "time": _comparisons(data, TIME, data.time, "time"),
    }


def subpixel_line(study: dict | None, task: str, label: dict[str, str]) -> str | None:
    """Blur-pooled designs against their max-pool twins under sub-pixel shifts (the
    ``fractional`` piece): label changes, with the direction of each difference computed."""
    fr = (((study or {}).get("tasks", {}).get(task, {}) or {}).get("fractional") or {}).get(
        "variants", {}
    )
    parts, words, overlap = [], [], []
    for blurred, plain in (("blurpool_tconv4", "tconv4"), ("blurpool_bilinear", "bilinear")):
        a, b = (fr.get(v, {}).get("pooled_all") for v in (blurred, plain))
        if not a or not b:
            continue
        ca, cb = 1 - a["mean"], 1 - b["mean"]
        word = "fewer" if ca < cb else "more"
        words.append(word)
        overlap.append(a["lo"] <= b["hi"] and b["lo"] <= a["hi"])
        parts.append(
            f"{label[blurred]} {_pct(ca)}% [{_pct(1 - a['hi'])}, {_pct(1 - a['lo'])}] changes "
            f"{word} labels than {label[plain]} {_pct(cb)}% [{_pct(1 - b['hi'])}, "
            f"{_pct(1 - b['lo'])}]"
        )
    if not parts:
        return None
    head = {
        frozenset({"more"}): "blur-pooling did not reduce label changes",
        frozenset({"fewer"}): "blur-pooling reduced label changes",
    }.get(frozenset(words), "blur-pooling is not a uniform gain")
    tail = (
        "intervals overlap: not decided with these seeds"
        if all(overlap)
        else "some intervals separate"
    )
    return f"Under sub-pixel shifts ({task}, figure 6) {head}: " + "; ".join(parts) + f" ({tail})."


SPEED_WORDS = {
    "better": "faster",
    "worse": "slower",
    "equivalent": "as fast, within the margin",
    "inconclusive": "not decided",
}


def speed_words(data: AnswerData, reference: str = "bilinear") -> dict[tuple, dict[str, str]]:
    """``(arch, threads, what) -> {variant: word}``: :func:`antialias.stats.verdict` of each
    variant's per-round times against ``reference`` (paired by round, Holm within the run),
    in words (:data:`SPEED_WORDS`)."""
    out: dict[tuple, dict[str, str]] = {}
    for key, run in data.time_runs.items():
        if reference not in run:
            continue
        names = [v for v in run if v != reference]
        cs = [stats.compare(v, run[v], reference, run[reference], "time") for v in names]
        if cs:
            out[key] = {c.name: SPEED_WORDS[stats.verdict(c)] for c in stats.adjust_family(cs)}
    return out
