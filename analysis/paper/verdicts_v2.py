"""The verdict table's rows from study v2 and the real-design speed benchmark.

Study v1's rows (:mod:`analysis.paper.verdicts`) compared the study's resize-conv variants; the
review of issue 12 showed that their speed row measured a design no real U-Net uses. These rows
read the evidence that replaced them:

- **accuracy**: ``results/study_v2/analysis.json`` (``python -m analysis.study_v2 --analyse``):
  the headline families ``headline/<task>/w<width>/<metric>``, each fixed up path of
  :data:`FIXED` against the U-Net's 2x2 transposed conv, with the verdict word that
  :func:`antialias.stats.verdict` wrote there (nothing is re-decided here);
- **speed**: the ``speed`` part of the same file, which the analysis computes from the
  real-design benchmark (``python benchmarks/bench_designs.py``: per-round training-step
  seconds in interleaved rounds, paired by round, relative margin 5%, Holm within a
  configuration); the rows read the configuration declared before the benchmark ran
  (``speed_declared``: width 64, 256^2, batch 8, 2 threads).

A row reads its verdicts against the claim of the seed's answer: the claim is *supported* only
when every measured cell supports it, *not supported* when one cell contradicts it, else *not
decided*. :func:`choose_row` applies the declared rule of "what to choose" (:data:`CHOOSE_RULE`).
"""

from __future__ import annotations

from typing import Any

from analysis.paper.verdicts import Row, claim_reading
from antialias import stats, variants

__all__ = [
    "CHOOSE_RULE",
    "FIXED",
    "SPEED_ROWS",
    "accuracy_cells",
    "accuracy_rows",
    "baseline_row",
    "choose_row",
    "declared_speed",
    "other_speed",
    "pooled_caveat",
    "speed_rows",
    "v2_rows",
]

FIXED = ("bilinear_1x1", "bilinear", "bilinear_only")
"""The fixed up paths of the headline comparison (each against ``tconv2``)."""

SPEED_ROWS = ("nearest", "bilinear_1x1", "bilinear_only")
"""The fixed up paths whose speed against ``tconv2`` gets a row ("it only makes it slower")."""

CHOOSE_RULE = (
    "a fixed up path is preferred to the 2x2 transposed conv when every measured accuracy "
    "verdict against it is equivalent or better and its training step is not slower"
)


def declared_speed(analysis: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, dict]]:
    """``(configuration, reference -> comparison)`` of the declared speed configuration
    (``analysis["speed_declared"]``), or ``({}, {})`` when it was not benchmarked."""
    for cfg in (analysis or {}).get("speed") or []:
        if cfg.get("declared"):
            return cfg, {c["reference"]: c for c in cfg["comparisons"]}
    return {}, {}


def _setting(cfg: dict[str, Any]) -> str:
    t = cfg["threads"]
    return (
        f"width {cfg['width']}, depth 4, input {cfg['batch']}x1x{cfg['size']}^2, {t} CPU "
        f"thread{'s' if t > 1 else ''}, training step, {cfg.get('rounds')} interleaved rounds; "
        "'better' = faster"
    )


def _label(name: str) -> str:
    return variants.label(name)


def _mirrors(name: str) -> str:
    return variants.DESIGNS[name].mirrors.split("(")[0].strip()


def other_speed(analysis: dict[str, Any] | None, ref: str, verdict: str) -> str:
    """How the benchmarked configurations other than the declared one read ``tconv2`` against
    ``ref``: how many give ``verdict`` too, and which do not (``""``: no other configuration)."""
    others = []
    for cfg in (analysis or {}).get("speed") or []:
        if cfg.get("declared") or cfg.get("what", "train_step") != "train_step":
            continue
        for c in cfg["comparisons"]:
            if c["reference"] == ref:
                where = f"w{cfg['width']} {cfg['batch']}x{cfg['size']}^2 {cfg['threads']} thr"
                others.append((c["verdict"], where))
    if not others:
        return ""
    differ = [f"{v} at {w}" for v, w in others if v != verdict]
    same = len(others) - len(differ)
    return f"; other configurations: {verdict} at {same} of {len(others)}" + (
        f" ({', '.join(differ)})" if differ else ""
    )


def speed_rows(analysis: dict[str, Any] | None) -> list[Row]:
    """ "It only makes the CNN slower", once per fixed up path of :data:`SPEED_ROWS`: the
    verdict of ``tconv2`` against it (``worse`` = slower supports the claim)."""
    cfg, comps = declared_speed(analysis)
    out = []
    for ref in SPEED_ROWS:
        claim = f"It only makes the CNN slower (vs {_label(ref)})"
        c = comps.get(ref)
        if c is None:
            out.append(Row(claim, "not measured", "-", _mirrors(ref), "", ref))
            continue
        lo, hi = c["ci95"]
        macs = cfg.get("gmacs_forward") or {}
        out.append(
            Row(
                claim,
                f"{c['verdict']} ({_label('tconv2')} vs {_label(ref)}): "
                f"{claim_reading([c['verdict']], ('worse',))}",
                f"{_label('tconv2')} / {_label(ref)} - 1: {100 * c['diff']:+.1f}% "
                f"[{100 * lo:+.1f}, {100 * hi:+.1f}] time; paired p = {c['p_diff_holm']:.2g} "
                f"(Holm) over {c['n_seeds']} timing rounds, margin +-{100 * c['margin']:.0f}%",
                f"{_mirrors(ref)}; {_setting(cfg)}; forward GMAC "
                f"{macs.get('tconv2', float('nan')):.1f} vs {macs.get(ref, float('nan')):.1f}"
                f"{other_speed(analysis, ref, c['verdict'])}",
                "stats",
                ref,
            )
        )
    return out


def accuracy_cells(analysis: dict[str, Any] | None, design: str) -> list[dict[str, Any]]:
    """Every headline comparison of ``design`` against ``tconv2``, in family order, each with
    its family's task and width."""
    cells = []
    for family, rows in ((analysis or {}).get("families") or {}).items():
        kind, task, width, _metric = family.split("/")
        if kind != "headline":
            continue
        for c in rows:
            if c["name"] == design and c["reference"] == "tconv2":
                cells.append({**c, "task": task, "width": int(width.removeprefix("w"))})
    return sorted(cells, key=lambda c: (c["task"] != "nuclei_sim", c["task"], c["width"]))


def _where(c: dict[str, Any]) -> str:
    task = "nuclei" if c["task"] == "nuclei_sim" else "denoising"
    return f"{task} w{c['width']}"


def pooled_caveat(analysis: dict[str, Any] | None, design: str) -> str:
    """The verdicts of ``design`` that change when every width of a task is one Holm family
    (``analysis["sensitivity_pooled_widths"]``; ``""`` when none changes)."""
    changed = [
        f"w{r['width']} {r['declared_verdict']} -> {r['pooled_verdict']}"
        for rows in ((analysis or {}).get("sensitivity_pooled_widths") or {}).values()
        for r in rows
        if r["name"] == design and r["pooled_verdict"] != r["declared_verdict"]
    ]
    return f"; all widths as one Holm family (sensitivity): {', '.join(changed)}" if changed else ""


def accuracy_rows(analysis: dict[str, Any] | None) -> list[Row]:
    """ "It won't really increase the F1 (Dice)": each fixed up path against ``tconv2``, the
    verdict of every task and width measured so far."""
    out = []
    for d in FIXED:
        cells = accuracy_cells(analysis, d)
        claim = f"It won't really increase the F1 (Dice) score (over {_label(d)})"
        if not cells:
            out.append(Row(claim, "not measured", "-", "study v2 piece not run", "", d))
            continue
        words = [c["verdict"] for c in cells]
        verdict = "; ".join(f"{_where(c)} {c['verdict']}" for c in cells)
        number = "; ".join(
            f"{_where(c)}: {c['diff']:+.4f} [{c['ci95'][0]:+.4f}, {c['ci95'][1]:+.4f}] "
            f"{'dB' if c['metric'] == 'psnr' else 'Dice'}, Holm p {c['p_diff_holm']:.2g}"
            for c in cells
        )
        n = sorted({f"{c['n_seeds']} seeds x {c['n_images']} images" for c in cells})
        mirrors = variants.DESIGNS[d].mirrors.split("(")[0].strip()
        out.append(
            Row(
                claim,
                f"{verdict}: {claim_reading(words, ('equivalent', 'better'))}",
                f"{_label(d)} - {_label('tconv2')}: {number}",
                f"{mirrors}; {', '.join(n)} (independent test images; seed = unit of the test); "
                f"margins +-{cells[0]['margin']:g} Dice, +-0.1 dB{pooled_caveat(analysis, d)}",
                "stats",
                d,
            )
        )
    return out


def baseline_row(analysis: dict[str, Any] | None) -> Row | None:
    """Every U-Net against the no-learning baselines of its task (per image, paired)."""
    base = (analysis or {}).get("vs_baseline") or []
    if not base:
        return None
    words = [b["verdict"] for b in base]
    worst = min(base, key=lambda b: b["diff"])
    counts = ", ".join(f"{words.count(w)} {w}" for w in stats.VERDICTS if words.count(w))
    return Row(
        "A U-Net beats the no-learning baselines (Gaussian + Otsu; TV, non-local means)",
        f"{counts} of {len(base)}: {claim_reading(words, ('better',))}",
        f"smallest gain {worst['name']} vs {worst['reference']} ({worst['task']}): "
        f"{worst['diff']:+.4f} [{worst['ci95'][0]:+.4f}, {worst['ci95'][1]:+.4f}], better on "
        f"{worst['images_unet_better']}/{worst['n_images']} images",
        "image = unit (a baseline has no seed); U-Net side = mean of its seeds; Holm over all",
        "stats",
    )


def choose_row(analysis: dict[str, Any] | None) -> Row:
    """What to choose, by :data:`CHOOSE_RULE` (declared), from the rows' verdicts."""
    _, comps = declared_speed(analysis)
    parts, chosen, undecided = [], [], []
    for d in FIXED:
        words = [c["verdict"] for c in accuracy_cells(analysis, d)]
        acc = claim_reading(words, ("equivalent", "better"))
        c = comps.get(d)
        # tconv2 vs d: "better" = tconv2 faster (d slower); "worse" = d faster
        sp = "not measured" if c is None else c["verdict"]
        not_slower = sp in ("worse", "equivalent")
        speed_words = {
            "better": f"slower than {_label('tconv2')}",
            "worse": f"faster than {_label('tconv2')}",
            "equivalent": f"as fast as {_label('tconv2')} (within 5%)",
            "inconclusive": "speed not decided",
        }
        acc_words = {
            "claim supported": "as accurate (equivalent or better everywhere)",
            "claim not supported": "less accurate somewhere",
        }
        acc_text = acc_words.get(acc, acc.replace("not ", "accuracy not ", 1))
        parts.append(f"{_label(d)}: {acc_text}, {speed_words.get(sp, 'speed ' + sp)}")
        excluded = acc == "claim not supported" or sp == "better"  # less accurate or slower
        if acc == "claim supported" and not_slower:
            chosen.append(_label(d))
        elif not excluded:
            undecided.append(_label(d))
    if chosen:
        verdict = "choose " + " or ".join(chosen)
    elif undecided:
        verdict = "not decided (" + ", ".join(undecided) + " may still qualify)"
    else:
        verdict = f"keep {_label('tconv2')}"
    return Row(
        "What to choose instead of the 2x2 transposed conv",
        verdict,
        "; ".join(parts),
        f"rule declared before the results: {CHOOSE_RULE}",
        "rule",
    )


def v2_rows(analysis: dict[str, Any] | None) -> dict[str, Any]:
    """The v2 rows by kind: ``speed``, ``accuracy``, ``baseline`` (or ``None``), ``choose``."""
    return {
        "speed": speed_rows(analysis),
        "accuracy": accuracy_rows(analysis),
        "baseline": baseline_row(analysis),
        "choose": choose_row(analysis),
    }
