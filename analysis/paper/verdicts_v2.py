"""The verdict table's rows from study v2 and the real-design speed benchmark.

Study v1's rows (:mod:`analysis.paper.verdicts`) compared the study's resize-conv variants; the
review of issue 12 showed that their speed row measured a design no real U-Net uses. These rows
read the evidence that replaced them:

- **accuracy**: ``results/study_v2/analysis.json`` (``python -m analysis.study_v2 --analyse``):
  the headline families ``headline/<task>/w<width>/<metric>``, each fixed up path of
  :data:`FIXED` against the U-Net's 2x2 transposed conv, with the verdict word that
  :func:`antialias.stats.verdict` wrote there (nothing is re-decided here);
- **speed**: ``benchmarks/results/bench_designs_t2_256_b8.json``
  (``python benchmarks/bench_designs.py``): per-round training-step seconds of every design in
  interleaved rounds, compared here, paired by round, with :func:`antialias.stats.compare`
  (relative margin 5%) and Holm-adjusted as one family, at the configuration declared in
  :data:`SPEED_CONFIG` before the benchmark ran.

A row reads its verdicts against the claim of the seed's answer: the claim is *supported* only
when every measured cell supports it, *not supported* when one cell contradicts it, else *not
decided*. :func:`choose_row` applies the declared rule of "what to choose" (:data:`CHOOSE_RULE`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from analysis.paper.verdicts import Row, stat_row
from antialias import stats, variants
from antialias.files import read_json

__all__ = [
    "CHOOSE_RULE",
    "FIXED",
    "SPEED_CONFIG",
    "SPEED_FILE",
    "accuracy_cells",
    "accuracy_rows",
    "baseline_row",
    "choose_row",
    "load_design_speed",
    "speed_comparisons",
    "speed_rows",
    "v2_rows",
]

FIXED = ("bilinear_1x1", "bilinear", "bilinear_only")
"""The fixed up paths of the headline comparison (each against ``tconv2``)."""

SPEED_FILE = Path("benchmarks") / "results" / "bench_designs_t2_256_b8.json"
SPEED_CONFIG = {"threads": 2, "width": 64, "size": 256, "batch": 8, "autocast": False}
"""Declared before the benchmark ran: the original U-Net's width (64), depth 4, 256^2 input,
batch 8, 2 CPU threads, float32, training step (forward + loss + backward + Adam)."""

SPEED_REFERENCES = ("nearest", "bilinear_1x1", "bilinear_only", "bilinear")
"""``tconv2`` is timed against each (one Holm family); the first three get a row."""

CHOOSE_RULE = (
    "a fixed up path is preferred to the 2x2 transposed conv when every measured accuracy "
    "verdict against it is equivalent or better and its training step is not slower"
)


def load_design_speed(repo: Path) -> dict[str, Any] | None:
    """The benchmark document at :data:`SPEED_FILE` under ``repo``, or ``None``."""
    path = repo / SPEED_FILE
    return read_json(path) if path.is_file() else None


def _speed_row_config(doc: dict[str, Any], config: dict[str, Any]) -> dict[str, Any] | None:
    for row in doc.get("rows", []):
        if all(row.get(k) == v for k, v in config.items()):
            return row
    return None


def speed_comparisons(
    doc: dict[str, Any] | None, config: dict[str, Any] = SPEED_CONFIG, what: str = "train_step"
) -> dict[str, stats.Comparison]:
    """``reference -> tconv2 vs reference`` on per-round ``what`` seconds (paired by round,
    relative), Holm-adjusted together; empty when the configuration or per-round times are
    missing."""
    row = _speed_row_config(doc or {}, config)
    if row is None:
        return {}
    des = row["designs"]
    if "tconv2" not in des or f"{what}_s" not in des["tconv2"]:
        return {}
    a = np.asarray(des["tconv2"][f"{what}_s"], dtype=np.float64)
    cs = [
        stats.compare("tconv2", a, r, np.asarray(des[r][f"{what}_s"], dtype=np.float64), "time")
        for r in SPEED_REFERENCES
        if r in des and len(des[r].get(f"{what}_s", [])) == len(a)
    ]
    return {c.reference: c for c in stats.adjust_family(cs)} if len(a) >= 2 else {}


def _setting(config: dict[str, Any]) -> str:
    return (
        f"width {config['width']}, depth 4, input {config['batch']}x1x{config['size']}^2, "
        f"{config['threads']} CPU thread{'s' if config['threads'] > 1 else ''}, training step, "
        "interleaved rounds; 'better' = faster"
    )


def _label(name: str) -> str:
    return variants.label(name)


def speed_rows(doc: dict[str, Any] | None, config: dict[str, Any] = SPEED_CONFIG) -> list[Row]:
    """ "It only makes the CNN slower", once per fixed up path people use instead."""
    comps = speed_comparisons(doc, config)
    label = {d: _label(d) for d in ("tconv2", *SPEED_REFERENCES)}
    macs = _macs(doc, config)
    out = []
    for ref in SPEED_REFERENCES[:3]:
        mirrors = variants.DESIGNS[ref].mirrors.split("(")[0].strip()
        caveat = f"{mirrors}; {_setting(config)}"
        if ref in macs and "tconv2" in macs:
            caveat += f"; forward GMAC {macs['tconv2']:.1f} vs {macs[ref]:.1f}"
        row = stat_row(
            f"It only makes the CNN slower (vs {label[ref]})",
            comps.get(ref),
            label,
            "time",
            caveat,
            ("worse",),
            "timing rounds",
        )
        out.append(replace(row, design=ref))
    return out


def _macs(doc: dict[str, Any] | None, config: dict[str, Any]) -> dict[str, float]:
    row = _speed_row_config(doc or {}, config)
    return {} if row is None else {d: r["gmacs_forward"] for d, r in row["designs"].items()}


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


def _reading(words: list[str], supports: tuple[str, ...]) -> str:
    if not words:
        return "not measured"
    if all(w in supports for w in words):
        return "claim supported"
    if any(w not in supports and w != "inconclusive" for w in words):
        return "claim not supported"
    return "not decided"


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
                f"{verdict}: {_reading(words, ('equivalent', 'better'))}",
                f"{_label(d)} - {_label('tconv2')}: {number}",
                f"{mirrors}; {', '.join(n)} (independent test images; seed = unit of the test); "
                f"margins +-{cells[0]['margin']:g} Dice, +-0.1 dB",
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
        f"{counts} of {len(base)}: {_reading(words, ('better',))}",
        f"smallest gain {worst['name']} vs {worst['reference']} ({worst['task']}): "
        f"{worst['diff']:+.4f} [{worst['ci95'][0]:+.4f}, {worst['ci95'][1]:+.4f}], better on "
        f"{worst['images_unet_better']}/{worst['n_images']} images",
        "image = unit (a baseline has no seed); U-Net side = mean of its seeds; Holm over all",
        "stats",
    )


def choose_row(analysis: dict[str, Any] | None, speed: dict[str, Any] | None) -> Row:
    """What to choose, by :data:`CHOOSE_RULE` (declared), from the rows' verdicts."""
    comps = speed_comparisons(speed)
    parts, chosen, undecided = [], [], []
    for d in FIXED:
        words = [c["verdict"] for c in accuracy_cells(analysis, d)]
        acc = _reading(words, ("equivalent", "better"))
        c = comps.get(d)
        # tconv2 vs d: "better" = tconv2 faster (d slower); "worse" = d faster
        sp = "not measured" if c is None else stats.verdict(c)
        not_slower = sp in ("worse", "equivalent")
        speed_words = {
            "better": f"slower than {_label('tconv2')}",
            "worse": f"faster than {_label('tconv2')}",
            "equivalent": f"as fast as {_label('tconv2')} (within 5%)",
            "inconclusive": "speed not decided",
        }
        parts.append(f"{_label(d)}: accuracy {acc}, {speed_words.get(sp, 'speed ' + sp)}")
        if acc == "claim supported" and not_slower:
            chosen.append(_label(d))
        elif acc == "not decided" or sp == "inconclusive":
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


def v2_rows(analysis: dict[str, Any] | None, speed: dict[str, Any] | None) -> dict[str, Any]:
    """The v2 rows by kind: ``speed``, ``accuracy``, ``baseline`` (or ``None``), ``choose``."""
    return {
        "speed": speed_rows(speed),
        "accuracy": accuracy_rows(analysis),
        "baseline": baseline_row(analysis),
        "choose": choose_row(analysis, speed),
    }
