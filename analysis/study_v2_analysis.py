"""Study v2 verdicts from the result files (``python -m analysis.study_v2 --analyse``).

One idea: turn whatever run files exist under ``results/study_v2/runs/`` (and the baselines
under ``results/study_v2/baselines/``) into the declared verdicts, so a half-finished study
already says what it can, and says how little it rests on.

- **Design families** (:func:`design_families`): per task and width, every headline design
  against ``tconv2`` (the family ``headline/<task>/w<width>/<metric>``), and every other design
  against its reference (:data:`analysis.study_v2.REFERENCE`; ``designs/...``). Seeds are
  paired by seed number (only seeds present on both sides); images by position (checked to be
  the same test images); the ``crossed/...`` family repeats the headline comparison inside
  the max-blur-pool encoder (:data:`analysis.study_v2.CROSSED`). Statistics from
  :mod:`antialias.stats`: hierarchical bootstrap intervals (seeds, then images), paired
  seed-level t-test and TOST against the pre-declared margin, Holm across each family;
  :func:`antialias.stats.verdict` names the result. Each row states ``n_seeds`` and
  ``n_images``.
- **Sensitivity** (:func:`pooled_widths`): the headline comparisons of a task at every width
  as one Holm family (stricter than the declared per-width families; reported beside them,
  never replacing them).
- **Baselines** (:func:`baseline_comparisons`): every U-Net cell against every no-learning
  baseline of its task (Gaussian + Otsu; TV, non-local means), per image and paired: the
  U-Net's per-image score averaged over its seeds against the baseline's on the same image
  (a baseline has no training seed, so the image is the unit), paired t-test and TOST over
  images, Holm across the whole baseline family, plus how many images the U-Net wins.
- **Speed** (:func:`speed_comparisons`): from the real-design benchmark
  (``benchmarks/results/bench_designs_*.json``), per configuration, the U-Net's 2x2
  transposed conv against the fixed up paths, on per-round training-step seconds paired by
  round (relative margin 5%, Holm within the configuration); the verdict of "slower?" is read
  at :data:`SPEED_DECLARED`.
- **Convergence** (:func:`convergence`): how many runs stopped by the plateau rule, how many
  hit the budget, and how many of those still improved in their last epoch (the target of
  issue 12: under 10% of runs at the budget with best epoch == last epoch).
- **Compute** (:func:`compute`): the measured wall seconds of every run, per piece and in total
  (the budget of issue 12: the full retrain in <= 8 h on 2 cores).

:func:`report` prints all of it as text (what ``--analyse`` shows).
"""

from __future__ import annotations

from dataclasses import asdict, replace
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any

import numpy as np

from antialias import stats
from antialias.files import read_json

__all__ = [
    "SPEED_DECLARED",
    "analyse",
    "baseline_comparisons",
    "compute",
    "convergence",
    "design_families",
    "load_results",
    "pooled_widths",
    "speed_comparisons",
]


def load_results(root: Path) -> list[dict[str, Any]]:
    """Every run result under ``root / "runs"``."""
    return [read_json(p) for p in sorted((root / "runs").glob("*/*.json"))]


def _metric(doc: dict[str, Any]) -> str:
    return "psnr" if "psnr" in doc["test"] else "dice"


def _cells(docs: list[dict[str, Any]]) -> dict[tuple[str, str, int], list[dict]]:
    cells: dict[tuple[str, str, int], list[dict]] = {}
    for d in docs:
        r = d["run"]
        cells.setdefault((r["task"], r["design"], r["width"]), []).append(d)
    return {k: sorted(v, key=lambda d: d["run"]["seed"]) for k, v in sorted(cells.items())}


def _scores(docs: list[dict], metric: str) -> tuple[list[int], list[list[float]], list[str]]:
    sources = docs[0]["test"]["sources"]
    if any(d["test"]["sources"] != sources for d in docs):
        raise ValueError("expected every run of a cell to be scored on the same test images")
    return [d["run"]["seed"] for d in docs], [d["test"][metric] for d in docs], sources


def _row(c: stats.Comparison, **extra: Any) -> dict[str, Any]:
    return {**asdict(c), "verdict": stats.verdict(c), **extra}


def design_families(
    docs: list[dict[str, Any]],
    headline: tuple[str, ...],
    reference: dict[str, str],
    twins: dict[tuple[str, int], int] | None = None,
    crossed: dict[str, str] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Verdict rows per family (module docstring); cells with < 2 paired seeds are left out.

    ``twins``: ``(design, matched width) -> reference width``: a twin is compared with its
    reference at the reference width (family ``twins/<task>/w<reference width>/<metric>``).
    ``crossed``: ``design -> reference`` pairs made *in addition* to ``reference`` (family
    ``crossed/<task>/w<width>/<metric>``): the headline comparison repeated under another
    encoder, so a reader sees whether the up-path verdict depends on the down-sampler.
    """
    cells = _cells(docs)
    families: dict[str, list[tuple[stats.Comparison, list[int], int]]] = {}
    twin_of = dict(twins or {})
    for (task, design, width), runs in cells.items():
        metric = _metric(runs[0])
        ref = "tconv2" if design in headline else reference.get(design)
        # a width-matched twin is compared with its reference at the width it was matched to
        twin = twin_of.get((design, width))
        ref_width = twin if twin is not None else width
        kind = "twins" if twin is not None else "headline" if design in headline else "designs"
        pairs = [(ref, ref_width, kind)]
        if design in (crossed or {}) and twin is None:
            pairs.append((crossed[design], width, "crossed"))
        seeds_a, a, src = _scores(runs, metric)  # the design's side: once for all its pairs
        for ref, ref_width, kind in pairs:
            if ref is None or ref == design or (task, ref, ref_width) not in cells:
                continue
            seeds_b, b, src_b = _scores(cells[(task, ref, ref_width)], metric)
            if src != src_b:
                raise ValueError(f"expected {design} and {ref} on the same test images ({task})")
            common = sorted(set(seeds_a) & set(seeds_b))
            if len(common) < 2:
                continue
            a_ = [a[seeds_a.index(k)] for k in common]
            b_ = [b[seeds_b.index(k)] for k in common]
            fam = f"{kind}/{task}/w{ref_width}/{metric}"
            comp = stats.compare(design, a_, ref, b_, metric)
            families.setdefault(fam, []).append((comp, common, width))
    out = {}
    for fam, pairs in families.items():
        adjusted = stats.adjust_family([c for c, _, _ in pairs])
        twin = fam.startswith("twins/")
        out[fam] = [
            _row(c, seeds=seeds, width=w, twin=twin) for c, (_, seeds, w) in zip(adjusted, pairs)
        ]
    return out


def pooled_widths(families: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """A sensitivity reading, not the declared rule: the headline comparisons of a task at
    *every* width as one Holm family (the declared families are one per width), so a reader
    sees which verdicts survive the stricter correction. Each row keeps its declared verdict
    beside the pooled one."""
    fields = {f.name for f in dataclass_fields(stats.Comparison)}
    pooled: dict[str, list[tuple[dict[str, Any], int]]] = {}
    for family, rows in families.items():
        kind, task, width, metric = family.split("/")
        if kind == "headline":
            for r in rows:
                pooled.setdefault(f"{task}/{metric}", []).append((r, int(width[1:])))
    out = {}
    for key, rows in sorted(pooled.items()):
        comps = [stats.Comparison(**{k: v for k, v in r.items() if k in fields}) for r, _ in rows]
        comps = [replace(c, ci95=tuple(c.ci95), ci90=tuple(c.ci90)) for c in comps]
        adjusted = stats.adjust_family(comps)
        out[key] = [
            {
                "name": c.name,
                "reference": c.reference,
                "width": w,
                "declared_verdict": r["verdict"],
                "pooled_verdict": stats.verdict(c),
                "p_diff_holm_pooled": c.p_diff_holm,
                "p_tost_holm_pooled": c.p_tost_holm,
                "family_size": len(adjusted),
            }
            for c, (r, w) in zip(adjusted, rows)
        ]
    return out


def baseline_comparisons(
    docs: list[dict[str, Any]], baselines: dict[str, dict]
) -> list[dict[str, Any]]:
    """Every U-Net cell against every baseline of its task, per image, paired; one Holm family.

    The U-Net side of image ``i`` is the mean over the cell's seeds of its score on image
    ``i``; cells with one seed are compared too (their ``n_seeds`` says so).
    """
    comps: list[stats.Comparison] = []
    extra: list[dict[str, Any]] = []
    for (task, design, width), runs in _cells(docs).items():
        doc = baselines.get(task)
        if not doc:
            continue
        metric = _metric(runs[0])
        seeds, a, src = _scores(runs, metric)
        unet = np.mean(np.asarray(a, dtype=np.float64), axis=0)  # per image, over seeds
        for method, result in sorted(doc["methods"].items()):
            if result["test"]["sources"] != src or len(src) < 2:
                continue  # not the same test images: no paired comparison
            base = np.asarray(result["test"][metric], dtype=np.float64)
            # 1-D arrays: the image is the unit of the test (stats treats rows as units)
            comps.append(stats.compare(f"{design}_w{width}", unet, method, base, metric))
            extra.append(
                {
                    "task": task,
                    "unit": "image",
                    "n_seeds": len(seeds),
                    "n_images": len(src),
                    "images_unet_better": int((unet > base).sum()),
                    "unet_mean": float(unet.mean()),
                    "baseline_mean": float(base.mean()),
                }
            )
    if not comps:
        return []
    return [_row(c, **e) for c, e in zip(stats.adjust_family(comps), extra)]


def convergence(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts of how runs ended (module docstring); older files without ``stop_reason`` count
    as budget runs."""
    n = len(docs)
    rule = sum(d.get("stop_reason") == "plateau" for d in docs)
    budget = [d for d in docs if d.get("stop_reason") != "plateau"]
    still = sum(d["best_epoch"] == d["epochs_done"] for d in budget)
    last = sum(d["best_epoch"] == d["epochs_done"] for d in docs)
    return {
        "runs": n,
        "stopped_by_rule": rule,
        "hit_budget": len(budget),
        "budget_and_best_is_last": still,
        "share_budget_and_best_is_last": still / n if n else None,
        "best_epoch_is_last": last,
        "share_best_epoch_is_last": last / n if n else None,
        "target": "share_budget_and_best_is_last < 0.10",
    }


def compute(docs: list[dict[str, Any]], workers: int = 2) -> dict[str, Any]:
    """The retrain's measured cost: wall seconds of every finished run (each run one thread;
    measured while other jobs shared the machine, so an upper bound), per piece and in total,
    and the hours that is with ``workers`` runs side by side."""
    per_piece: dict[str, float] = {}
    for d in docs:
        piece = d["run"].get("piece", "?")
        per_piece[piece] = per_piece.get(piece, 0.0) + float(d.get("wall_seconds", 0.0))
    total = sum(per_piece.values())
    return {
        "runs": len(docs),
        "core_hours_per_piece": {k: v / 3600 for k, v in sorted(per_piece.items())},
        "core_hours": total / 3600,
        "workers": workers,
        "wall_hours": total / workers / 3600,
    }


SPEED_REFERENCES = ("nearest", "bilinear_1x1", "bilinear_only", "bilinear")
"""``tconv2``'s training step is timed against each of these fixed up paths."""

SPEED_DECLARED = {"threads": 2, "width": 64, "size": 256, "batch": 8, "autocast": False}
"""The configuration whose verdicts answer "slower?", declared before the benchmark ran: the
original U-Net's width (64), depth 4, a 256^2 input, batch 8, 2 CPU threads, float32."""

_CONFIG_KEYS = ("device", "threads", "autocast", "width", "size", "batch", "rounds")


def speed_comparisons(
    bench: list[dict[str, Any]], what: str = "train_step"
) -> list[dict[str, Any]]:
    """Per benchmark configuration: ``tconv2`` against each of :data:`SPEED_REFERENCES` on
    per-round ``what`` seconds (``benchmarks/bench_designs.py`` files), paired by round,
    relative margin (:data:`antialias.stats.MARGINS` ``time``), Holm within the configuration.

    Configurations without per-round times (older files keep medians only) are skipped.
    """
    out = []
    for doc in bench:
        for row in doc.get("rows", []):
            des = row["designs"]
            if len(des.get("tconv2", {}).get(f"{what}_s", [])) < 2:
                continue
            a = des["tconv2"][f"{what}_s"]
            cs = [
                stats.compare("tconv2", a, r, des[r][f"{what}_s"], "time")
                for r in SPEED_REFERENCES
                if len(des.get(r, {}).get(f"{what}_s", [])) == len(a)
            ]
            config = {k: row[k] for k in _CONFIG_KEYS if k in row}
            out.append(
                {
                    **config,
                    "what": what,
                    "declared": all(row.get(k) == v for k, v in SPEED_DECLARED.items()),
                    "gmacs_forward": {d: r["gmacs_forward"] for d, r in des.items()},
                    "parameters": {d: r.get("parameters") for d, r in des.items()},
                    "comparisons": [_row(c) for c in stats.adjust_family(cs)],
                }
            )
    return out


def analyse(
    docs: list[dict[str, Any]],
    baselines: dict[str, dict] | None,
    headline: tuple[str, ...],
    reference: dict[str, str],
    bench: list[dict[str, Any]] | None = None,
    twins: dict[tuple[str, int], int] | None = None,
    crossed: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The whole analysis document (module docstring); ``bench``: the real-design speed
    benchmark files (:func:`speed_comparisons`)."""
    cells = _cells(docs)
    families = design_families(docs, headline, reference, twins, crossed)
    return {
        "speed": speed_comparisons(bench or []),
        "speed_declared": SPEED_DECLARED,
        "runs": [
            {
                "task": t,
                "design": d,
                "width": w,
                "seeds": [r["run"]["seed"] for r in runs],
                "n_images": len(runs[0]["test"]["sources"]),
                "unit": runs[0]["test"].get("unit"),
                "test_mean": [float(np.mean(r["test"][_metric(r)])) for r in runs],
                "best_epoch": [r["best_epoch"] for r in runs],
                "epochs_done": [r["epochs_done"] for r in runs],
            }
            for (t, d, w), runs in cells.items()
        ],
        "families": families,
        "sensitivity_pooled_widths": pooled_widths(families),
        "vs_baseline": baseline_comparisons(docs, baselines or {}),
        "convergence": convergence(docs),
        "compute": compute(docs),
        "margins": {k: asdict(v) for k, v in stats.MARGINS.items()},
        "alpha": stats.ALPHA,
    }


def _interval(c: dict[str, Any]) -> str:
    lo, hi = c["ci95"]
    return f"{c['diff']:+.4f} [{lo:+.4f}, {hi:+.4f}]"


def report(doc: dict[str, Any]) -> str:
    """The analysis as text: runs, verdicts (with n seeds and n images), baselines, convergence."""
    lines = ["study v2 analysis (antialias.stats; Holm within each family, alpha 0.05)"]
    lines.append("runs (task design width: seeds; test mean per seed; best/last epoch):")
    for r in doc["runs"]:
        means = " ".join(f"{m:.4f}" for m in r["test_mean"])
        epochs = " ".join(f"{b}/{e}" for b, e in zip(r["best_epoch"], r["epochs_done"]))
        lines.append(
            f"  {r['task']} {r['design']} w{r['width']}: seeds {r['seeds']}; {means}; {epochs} "
            f"({r['n_images']} test images)"
        )
    for fam, rows in doc["families"].items():
        lines.append(f"{fam}:")
        for c in rows:
            lines.append(
                f"  {c['name']} vs {c['reference']}: {c['verdict']} ({c['metric']} diff "
                f"{_interval(c)}; p {c['p_diff']:.3g}, Holm {c['p_diff_holm']:.3g}; TOST +-"
                f"{c['margin']} Holm {c['p_tost_holm']:.3g}; n {c['n_seeds']} seeds x "
                f"{c['n_images']} images)"
            )
    if not doc["families"]:
        lines.append("no design comparison yet (needs >= 2 paired seeds of a design and its ref)")
    if doc["vs_baseline"]:
        lines.append("U-Net vs no-learning baselines (per image, paired; Holm over all rows):")
    for c in doc["vs_baseline"]:
        lines.append(
            f"  {c['task']} {c['name']} vs {c['reference']}: {c['verdict']} ({c['metric']} "
            f"{c['unet_mean']:.4f} vs {c['baseline_mean']:.4f}, diff {_interval(c)}; U-Net "
            f"better on {c['images_unet_better']}/{c['n_images']} images; Holm p "
            f"{c['p_diff_holm']:.3g}; U-Net side = mean of {c['n_seeds']} seeds)"
        )
    for cfg in doc.get("speed", []):
        lines.append(
            f"speed ({cfg['what']}, width {cfg['width']}, {cfg['batch']}x1x{cfg['size']}^2, "
            f"{cfg['threads']} thread(s), {cfg.get('rounds')} rounds"
            f"{', declared' if cfg['declared'] else ''}):"
        )
        for c in cfg["comparisons"]:
            lo, hi = c["ci95"]
            lines.append(
                f"  tconv2 vs {c['reference']}: {c['verdict']} ({100 * c['diff']:+.1f}% "
                f"[{100 * lo:+.1f}, {100 * hi:+.1f}]; Holm p {c['p_diff_holm']:.3g})"
            )
    cv = doc["convergence"]
    share = cv["share_budget_and_best_is_last"]
    lines.append(
        f"convergence: {cv['runs']} runs, {cv['stopped_by_rule']} stopped by the plateau rule, "
        f"{cv['hit_budget']} hit the budget, {cv['budget_and_best_is_last']} of those with best "
        f"epoch == last ({'-' if share is None else f'{100 * share:.0f}%'}; target < 10%)"
    )
    for key, rows in (doc.get("sensitivity_pooled_widths") or {}).items():
        changed = [r for r in rows if r["pooled_verdict"] != r["declared_verdict"]]
        lines.append(
            f"sensitivity (not the declared rule): headline {key}, all widths one Holm family "
            f"({len(rows)} comparisons): "
            + (
                "; ".join(
                    f"{r['name']} w{r['width']} {r['declared_verdict']} -> {r['pooled_verdict']} "
                    f"(Holm p {r['p_diff_holm_pooled']:.3g}, TOST {r['p_tost_holm_pooled']:.3g})"
                    for r in changed
                )
                or "every verdict unchanged"
            )
        )
    cost = doc.get("compute")
    if cost:
        lines.append(
            f"compute: {cost['runs']} runs, {cost['core_hours']:.2f} core-h measured (wall, one "
            f"thread per run) = {cost['wall_hours']:.2f} h with {cost['workers']} runs side by side"
        )
    return "\n".join(lines)
