"""The paper's summary of study v2 so far: verdicts of the pieces that have run.

Reads ``results/study_v2/analysis.json`` (written by ``python -m analysis.study_v2
--analyse``); every verdict word there is :func:`antialias.stats.verdict`'s. Nothing here
decides a verdict.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from antialias import variants

FIGURES = {  # figure stem -> caption (drawn from analysis.json by figures/<stem>.py)
    "fig10_study_v2": "Figure 10: each fixed up path minus the U-Net's 2x2 transposed conv: "
    "(a) test Dice on simulated nuclei per decoder width, (b) PSNR on held-out photographs, "
    "(c) training-step time per benchmarked configuration; hierarchical 95% intervals, the "
    "declared margins in grey, the verdict word above each point",
    "fig11_study_v2_designs": "Figure 11: the other designs, each against the design it changes "
    "in one respect (encoder, filter, padding, initialisation), the headline comparison inside "
    "the max-blur-pool encoder, and the width-matched twins; test Dice difference with its "
    "hierarchical 95% interval, the declared margin in grey, the verdict at the right",
}

__all__ = ["study_v2_lines"]


def _interval(ci: list[float]) -> str:
    return f"[{ci[0]:+.4f}, {ci[1]:+.4f}]"


def _comparison(c: dict[str, Any]) -> str:
    """One comparison as a sentence fragment: design vs reference, verdict, effect, tests."""
    name, ref = variants.label(c["name"]), variants.label(c["reference"])
    mirrors = variants.DESIGNS[c["name"]].mirrors if c["name"] in variants.DESIGNS else ""
    mirrors = mirrors.split("(")[0].strip()  # the implementation's name, not its details
    width = c.get("width")
    twin = f", width-matched twin at width {width}," if c.get("twin") else ""
    return (
        f"{name}{f' (as {mirrors})' if mirrors else ''}{twin} vs {ref}: **{c['verdict']}** "
        f"({c['metric']} {c['diff']:+.4f} {_interval(c['ci95'])}; difference test Holm p = "
        f"{c['p_diff_holm']:.2g}, equivalence (TOST, ±{c['margin']:g}) Holm p = "
        f"{c['p_tost_holm']:.2g}; {c['n_seeds']} seeds x {c['n_images']} independent images)"
    )


def study_v2_lines(analysis: dict[str, Any] | None, figures_dir: Path | None = None) -> list[str]:
    """Markdown lines for the pieces of study v2 that have run (none: no lines), with the
    figures of :data:`FIGURES` that exist under ``figures_dir``."""
    if not analysis or not analysis.get("families"):
        return []
    plan = analysis.get("plan") or {}
    complete = bool(plan) and all(v["done"] >= v["planned"] for v in plan.values())
    out = [
        f"### Study v2{'' if complete else ' so far'}: the up paths real U-Nets use",
        "",
        "Independent test images (simulated nuclei, one generator seed per image; held-out "
        "photographs for denoising), models "
        "trained until a declared plateau rule stops them, verdicts from `antialias.stats` "
        "with the margins declared before any run. "
        + ("Every family of the declared plan:" if complete else "Pieces run so far:"),
        "",
    ]
    for family, comparisons in analysis["families"].items():
        out.append(f"- `{family}`:")
        out += [f"  - {_comparison(c)}" for c in comparisons]
    out += _sensitivity(analysis.get("sensitivity_pooled_widths") or {})
    conv = analysis.get("convergence") or {}
    if conv:
        out += [
            "",
            f"Convergence: {conv.get('runs')} runs, {conv.get('stopped_by_rule')} stopped by the "
            f"plateau rule, {conv.get('hit_budget')} hit the epoch budget.",
        ]
    cost = analysis.get("compute") or {}
    if cost:
        out[-1] += (
            f" Measured cost: {cost['core_hours']:.1f} core-hours (one thread per run, while "
            f"other jobs shared the machine) = {cost['wall_hours']:.1f} h with "
            f"{cost['workers']} runs side by side."
        )
    base = analysis.get("vs_baseline") or []
    if base:
        worst = min(base, key=lambda b: b["diff"])
        out += [
            "",
            f"Every U-Net against the no-learning baseline ({worst['reference']}, same images): "
            + "; ".join(f"{b['name']} **{b['verdict']}**" for b in base)
            + f" (smallest gain {worst['diff']:+.4f} {_interval(worst['ci95'])}).",
        ]
    out += ["", _progress(plan), ""]
    for stem, caption in FIGURES.items():
        if figures_dir is not None and (figures_dir / f"{stem}.png").is_file():
            out += [f"![{caption}](../figures/{stem}.png)", "", f"*{caption}.*", ""]
    return out


def _sensitivity(pooled: dict[str, list[dict[str, Any]]]) -> list[str]:
    """One paragraph: which headline verdicts change when every width of a task is one Holm
    family (a sensitivity reading; the declared families are one per width)."""
    if not pooled:
        return []
    parts = []
    for key, rows in pooled.items():
        task = key.split("/")[0]
        changed = [r for r in rows if r["pooled_verdict"] != r["declared_verdict"]]
        said = "; ".join(
            f"{variants.label(r['name'])} at width {r['width']}: {r['declared_verdict']} -> "
            f"**{r['pooled_verdict']}** (Holm p = {r['p_diff_holm_pooled']:.2g})"
            for r in changed
        )
        parts.append(f"`{task}` ({len(rows)} comparisons): {said or 'every verdict unchanged'}")
    return [
        "",
        "Sensitivity, not the declared rule: with every width of a task in one Holm family "
        "(the declared families are one per width), " + "; ".join(parts) + ".",
    ]


def _progress(plan: dict[str, dict[str, int]]) -> str:
    """Which pieces of the declared plan the results hold (from ``analysis.json``'s ``plan``)."""
    if not plan:
        return "Plan progress not recorded (`python -m analysis.study_v2 --plan`)."
    parts = [f"`{p}` {v['done']}/{v['planned']} runs" for p, v in plan.items()]
    missing = [p for p, v in plan.items() if v["done"] < v["planned"]]
    tail = (
        "; every piece is complete."
        if not missing
        else "; verdicts of unfinished pieces rest on the runs done so far, and the pieces "
        "not started have no verdict yet (`python -m analysis.study_v2 --plan`)."
    )
    return "Plan progress: " + ", ".join(parts) + tail
