"""The summary of a study: per task and variant, each quantity per seed, its mean, spread and CI.

:func:`summarise` reads every piece file of a results folder (through
:func:`antialias.files.read_result_set`, so a half-written set is refused) and returns the
``study.json`` document and the ``study.npz`` arrays; :func:`study_csv` is the one-row-per-variant
table. Nothing here writes.

What does not live here: the statistics (:mod:`analysis.study.stats`), the files
(:mod:`analysis.study.files`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from analysis import shift_consistency as sc
from analysis.speed import csv_cell
from analysis.study.config import SCHEMA, TASKS, StudyError
from analysis.study.stats import (
    agreement_stat,
    dice_stat,
    mean_stat,
    paired_table,
    psnr_stat,
    seed_image_stats,
)
from antialias.files import csv_bytes, read_result_set
from antialias.models import VARIANTS


def _scalar(stats: dict[str, np.ndarray], index: Any = ()) -> dict[str, Any]:
    """One statistic (at ``index``) as JSON numbers: per seed, mean, std, interval."""

    def f(v: Any) -> float:
        return float(np.asarray(v)[index])

    return {
        "per_seed": [f(v) for v in stats["per_seed"]],
        "mean": f(stats["mean"]),
        "std": f(stats["std"]),
        "lo": f(stats["lo"]),
        "hi": f(stats["hi"]),
    }


def _load_piece(out: Path, stem: str) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
    """A piece's document and arrays; a set whose files do not belong together is an error.

    Piece files written before result sets carried digests are read as they are.
    """
    js, npz = out / f"{stem}.json", out / f"{stem}.npz"
    if not js.is_file():
        return None
    doc, _ = read_result_set(js)
    arrays: dict[str, np.ndarray] = {}
    if npz.is_file():
        with np.load(npz, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    return doc, arrays


def _dtype(doc: dict[str, Any]) -> dict[str, str]:
    """``{"dtype": ...}`` of the models a shift piece ran (what "exact to rounding" is relative
    to), or ``{}`` when the piece did not record it."""
    dtype = (doc.get("config") or {}).get("dtype")
    return {"dtype": dtype} if isinstance(dtype, str) else {}


def _groups(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Variant -> its records sorted by seed, variants in :data:`VARIANTS` order."""
    out: dict[str, list[dict[str, Any]]] = {}
    for v in VARIANTS:
        recs = sorted((r for r in records if r.get("variant") == v), key=lambda r: r["seed"])
        if recs:
            out[v] = recs
    return out


def _stack(arrays: dict[str, np.ndarray], recs: list[dict[str, Any]], field_: str) -> np.ndarray:
    """Per-seed per-image sums ``(S, N, ...)``; seeds tested on different image counts fail."""
    parts = [arrays[f"{r['id']}__sums__{field_}"] for r in recs]
    shapes = {p.shape for p in parts}
    if len(shapes) != 1:
        raise StudyError(f"expected the same images for every seed, got shapes {sorted(shapes)}")
    return np.stack(parts)


def _on_period(shift: np.ndarray, period: int) -> bool:
    """Whether a shift is a multiple of the period in every axis."""
    return all(float(d) % period == 0 for d in shift)


def _shift_summary(
    doc: dict[str, Any], arrays: dict[str, np.ndarray], n_boot: int, seed: int, prefix: str
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Per variant: curves over shifts and pooled values, mean/std over seeds and CIs."""
    out: dict[str, Any] = {"variants": {}}
    arr: dict[str, np.ndarray] = {}
    recs = doc["results"]
    if not recs:
        return out, arr
    kind = recs[0]["kind"]
    field_ = "eq_confusion" if kind == "segmentation" else "eq_se"
    stat = agreement_stat if kind == "segmentation" else psnr_stat
    out.update(
        {
            "kind": kind,
            "metric": "agreement" if kind == "segmentation" else "psnr",
            "mode": recs[0]["mode"],
            "n_images": recs[0]["n_images"],
            "frame_sizes": recs[0]["frame_sizes"],
            "period": recs[0]["period"],
            **_dtype(doc),
        }
    )
    shifts = np.asarray(arrays[f"{recs[0]['id']}__shifts"], dtype=np.float64)
    out["shifts"] = shifts.tolist()
    arr[f"{prefix}__shifts"] = shifts
    nonzero = [i for i, s in enumerate(shifts.tolist()) if s != [0.0, 0.0]]
    pooled_sums: dict[str, np.ndarray] = {}
    for v, vr in _groups(recs).items():
        sums = _stack(arrays, vr, field_)  # (S, N, n_shifts, 2 regions, ...)
        pooled_sums[v] = sums[:, :, nonzero, 0].sum(2)
        entry: dict[str, Any] = {
            "seeds": [r["seed"] for r in vr],
            "sources": [r["source"] for r in vr],
        }
        for r, region in enumerate(("all", "interior")):
            curve = seed_image_stats(sums[:, :, :, r], stat, n_boot, seed)
            for key in ("mean", "lo", "hi", "std", "per_seed"):
                arr[f"{prefix}__{v}__{region}__{key}"] = np.asarray(curve[key])
            pooled = seed_image_stats(sums[:, :, nonzero, r].sum(2), stat, n_boot, seed)
            entry[f"pooled_{region}"] = _scalar(pooled)
            # shifts that are multiples of the period (no sampling effect) vs the rest
            on = [i for i in nonzero if _on_period(shifts[i], out["period"])]
            off = [i for i in nonzero if i not in on]
            if out["mode"] != "fractional" and on and off:
                for name, idx in (("on_period", on), ("off_period", off)):
                    st = seed_image_stats(sums[:, :, idx, r].sum(2), stat, n_boot, seed)
                    entry[f"{name}_{region}"] = _scalar(st)
            for i, s in enumerate(shifts.tolist()):
                if s == [0.0, 1.0]:
                    entry[f"shift1_{region}"] = _scalar(curve, i)
        if out["mode"] == "circular":
            period = vr[0]["period"]
            residues = [int(dy) % period * period + int(dx) % period for dy, dx in shifts.tolist()]
            maps = []
            for region, r in (("all", 0), ("interior", 1)):
                grid = np.zeros((sums.shape[0], period * period, *sums.shape[4:]))
                for i, res in enumerate(residues):
                    grid[:, res] += sums[:, :, i, r].sum(1)
                vals = np.asarray(stat(grid), dtype=np.float64).reshape(-1, period, period)
                arr[f"{prefix}__{v}__map_{region}"] = vals.mean(0)
                maps.append(region)
            entry["maps"] = maps
        out["variants"][v] = entry
    if pooled_sums and nonzero:
        out["paired_all"] = paired_table(pooled_sums, stat, n_boot, seed)
    return out, arr


def _layer_summary(
    doc: dict[str, Any], arrays: dict[str, np.ndarray], prefix: str
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Relative RMS feature error per level and shift class (largest power of 2 dividing it).

    Pooled over images, seeds and the non-zero shifts of each class; interior and all pixels.
    """
    recs = doc["results"]
    out: dict[str, Any] = {"variants": {}}
    arr: dict[str, np.ndarray] = {}
    if not recs or not recs[0].get("per_layer_summary"):
        return out, arr
    levels = [e["level"] for e in recs[0]["per_layer_summary"]]
    strides = [e["stride"] for e in recs[0]["per_layer_summary"]]
    shifts = np.asarray(arrays[f"{recs[0]['id']}__shifts"], dtype=np.float64)
    period = recs[0]["period"]
    classes = [2**j for j in range(int(math.log2(period)) + 1)]  # 1, 2, 4, ..., period

    def cls(s: tuple[float, float]) -> int | None:
        g = math.gcd(int(abs(s[0])), int(abs(s[1])))
        if g == 0:
            return None
        return min(g & -g, period)  # largest power of two dividing both, capped at the period

    members = {c: [i for i, s in enumerate(shifts.tolist()) if cls(tuple(s)) == c] for c in classes}
    out.update(
        {
            "levels": levels,
            "strides": strides,
            "shift_classes": classes,
            "class_shifts": {str(c): [shifts[i].tolist() for i in members[c]] for c in classes},
            "n_images": recs[0]["n_images"],
            "border": recs[0]["border"],
            **_dtype(doc),
        }
    )
    for v, vr in _groups(recs).items():
        layer = np.stack([arrays[f"{r['id']}__sums__layer"] for r in vr])  # (S,N,sh,2,Lv,3)
        total = layer.sum((0, 1))  # (sh, 2, Lv, 3)
        grids: dict[str, list[list[float]]] = {}  # region -> (level, shift class), NaN: n/a
        for r, region in enumerate(("all", "interior")):
            grid = np.full((len(levels), len(classes)), np.nan)
            for j, c in enumerate(classes):
                if not members[c]:
                    continue
                pooled = total[members[c], r].sum(0)  # (Lv, 3)
                with np.errstate(divide="ignore", invalid="ignore"):
                    rel = np.where(pooled[:, 2] > 0, np.sqrt(pooled[:, 0] / pooled[:, 1]), np.nan)
                grid[:, j] = rel
            arr[f"{prefix}__{v}__{region}"] = grid
            grids[region] = [[float(x) for x in row] for row in grid]
        out["variants"][v] = {"seeds": [r["seed"] for r in vr], **grids}
    return out, arr


def summarise(out_dir: str | Path, n_boot: int = 1000, seed: int = 0) -> tuple[dict, dict]:
    """Read every piece file under ``out_dir``; return ``(study.json doc, study.npz arrays)``.

    Raises:
        StudyError: no piece file at all under ``out_dir``.
    """
    out = Path(out_dir)
    doc: dict[str, Any] = {"schema": SCHEMA, "timings": {}, "pieces": {}, "tasks": {}}
    arrays: dict[str, np.ndarray] = {}
    stems = sorted(p.stem for p in out.glob("*.json") if p.stem not in ("study",))
    if not stems:
        raise StudyError(f"expected piece files under {str(out)!r}; run python -m analysis.study")
    for stem in stems:
        loaded = _load_piece(out, stem)
        if loaded is None:
            continue
        pdoc, parr = loaded
        study = (pdoc.get("provenance") or {}).get("study") or {}
        doc["timings"][stem] = study.get("seconds")
        doc.setdefault("load_average_1min", {})[stem] = study.get("load_average_1min")
        doc["pieces"][stem] = {
            "file": f"{stem}.json",
            "time_utc": (pdoc.get("provenance") or {}).get("time_utc"),
            "git_commit": (pdoc.get("provenance") or {}).get("git_commit"),
        }
        piece, _, task = stem.partition("_")
        if piece == "accuracy":
            _accuracy_summary(pdoc, parr, doc, arrays, n_boot, seed)
            doc.setdefault("accuracy_records", []).extend(pdoc["results"])
        elif piece in ("crop", "period", "fractional") and pdoc.get("schema") == sc.SCHEMA:
            s, a = _shift_summary(pdoc, parr, n_boot, seed, stem)
            doc["tasks"].setdefault(task, {})[piece] = s
            arrays.update(a)
        elif piece == "layers" and pdoc.get("schema") == sc.SCHEMA:
            s, a = _layer_summary(pdoc, parr, stem)
            doc["layers"] = {"task": task, **s}
            arrays.update(a)
        elif stem == "example":
            doc["example"] = {k: v for k, v in pdoc.items() if k not in ("provenance",)}
            arrays.update({f"example__{k}": v for k, v in parr.items()})
        elif stem == "speed":
            doc["speed"] = {k: v for k, v in pdoc.items() if k not in ("provenance",)}
    return doc, arrays


def _accuracy_summary(pdoc, parr, doc, arrays, n_boot: int, seed: int) -> None:
    """Per task: each variant's accuracy over seeds and images, and paired differences."""
    recs = pdoc["results"]
    for task in TASKS:
        trecs = [r for r in recs if r["task"] == task]
        if not trecs:
            continue
        kind = trecs[0]["kind"]
        metric = trecs[0]["metric"]
        stat = dice_stat if kind == "segmentation" else mean_stat
        tdoc = doc["tasks"].setdefault(task, {})
        acc: dict[str, Any] = {"kind": kind, "metric": metric, "variants": {}}
        all_sums: dict[str, np.ndarray] = {}
        for v, vr in _groups(trecs).items():
            sums = np.stack([parr[f"{r['id']}__sums"] for r in vr])
            all_sums[v] = sums
            stats = seed_image_stats(sums, stat, n_boot, seed)
            entry = _scalar(stats)
            entry["seeds"] = [r["seed"] for r in vr]
            entry["metadata_per_seed"] = [r["metadata_value"] for r in vr]
            meta = [r["metadata_value"] for r in vr if r["metadata_value"] is not None]
            entry["max_abs_diff_vs_metadata"] = (
                max(abs(a - b) for a, b in zip(entry["per_seed"], meta)) if meta else None
            )
            entry["num_parameters"] = vr[0]["num_parameters"]
            secs = [r["train_seconds"] for r in vr if r["train_seconds"] is not None]
            entry["train_seconds"] = {
                "per_seed": secs,
                "mean": float(np.mean(secs)) if secs else None,
                "std": float(np.std(secs, ddof=1)) if len(secs) > 1 else None,
            }
            if kind == "regression":
                inp = [r["metadata_metrics"].get("psnr_input") for r in vr]
                entry["metadata_psnr_input"] = inp[0]
            acc["variants"][v] = entry
        acc["paired"] = paired_table(all_sums, stat, n_boot, seed)
        tdoc["accuracy"] = acc


def study_csv(doc: dict[str, Any]) -> str:
    """One row per (task, variant): accuracy and pooled crop consistency, mean/std/CI."""
    rows = []
    for task, tdoc in doc["tasks"].items():
        for v in VARIANTS:
            row: dict[str, Any] = {"task": task, "variant": v}
            acc = tdoc.get("accuracy", {}).get("variants", {}).get(v)
            if acc:
                m = tdoc["accuracy"]["metric"]
                row.update({"seeds": len(acc["seeds"]), f"test_{m}": acc["mean"]})
                row.update({f"test_{m}_std": acc["std"], f"test_{m}_lo": acc["lo"]})
                row.update({f"test_{m}_hi": acc["hi"]})
            crop = tdoc.get("crop", {}).get("variants", {}).get(v)
            if crop:
                m = tdoc["crop"]["metric"]
                for region in ("all", "interior"):
                    p = crop[f"pooled_{region}"]
                    row.update(
                        {f"crop_{m}_{region}": p["mean"], f"crop_{m}_{region}_std": p["std"]}
                    )
                    row.update({f"crop_{m}_{region}_lo": p["lo"], f"crop_{m}_{region}_hi": p["hi"]})
            if len(row) > 2:
                rows.append(row)
    return csv_bytes([{k: csv_cell(v) for k, v in row.items()} for row in rows]).decode()
