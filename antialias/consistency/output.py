"""Results out: the result document and its files, the printed table, the plan of a dry run.

The files of a run are one *result set* (:func:`antialias.files.write_result_set`):
``<name>.json`` (config, provenance, one record per model, plus ``files_sha256`` of the
siblings), ``<name>.csv`` (one row per model and shift), ``<name>_layers.csv`` (with
``--per-layer``) and ``<name>.npz`` (period maps, shifts, raw per-image sums). The set appears
whole or not at all; the package docstring gives the schema.

What does not live here: computing the numbers (:mod:`~antialias.consistency.engine`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from antialias.files import csv_bytes, json_bytes, npz_bytes, write_result_set

__all__ = [
    "describe_plan",
    "format_table",
    "result_document",
    "result_files",
    "write_files",
    "write_result",
]


def job_period(job) -> str:
    """The period of a job as text: ``16`` (every axis), ``4x8x8`` (per axis)."""
    p = set(job.periods)
    return str(job.periods[0]) if len(p) == 1 else "x".join(map(str, job.periods))


_ID_COLUMNS = ("id", "name", "source", "task", "variant", "seed", "mode")


def result_document(
    result: dict[str, Any], provenance: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """``(JSON document, siblings)``: siblings map a suffix (``.csv``, ...) to file content."""
    doc = {
        "schema": result["schema"],
        "config": result["config"],
        "provenance": provenance,
        "results": result["results"],
    }
    rows, layer_rows = [], []
    for rec in result["results"]:
        ident = {k: rec.get(k) for k in _ID_COLUMNS}
        rows += [{**ident, **shift} for shift in rec["shifts"]]
        layer_rows += [{**ident, **layer} for layer in rec["per_layer"] or []]
    siblings = {".csv": csv_bytes(rows)}
    if layer_rows:
        siblings["_layers.csv"] = csv_bytes(layer_rows)
    siblings[".npz"] = npz_bytes(result["arrays"])
    return doc, siblings


def result_files(result: dict[str, Any], provenance: dict[str, Any]) -> dict[str, bytes]:
    """The output files as suffix (``.json``, ``.csv``, ``_layers.csv``, ``.npz``) -> content.

    The JSON here lacks ``files_sha256``, which :func:`write_files` adds when it writes the set.
    """
    doc, siblings = result_document(result, provenance)
    return {".json": json_bytes(doc), **siblings}


def write_files(files: dict[str, bytes], out_dir: str | Path, name: str) -> list[Path]:
    """Write ``files`` (from :func:`result_files`, or any ``{".json": ..., ...}``) as one set.

    Through :func:`antialias.files.write_result_set`: the set appears whole or not at all, the
    JSON last with the SHA-256 of every sibling; returns the paths, JSON last.
    """
    if ".json" not in files:
        raise ValueError(f"expected a '.json' file in the set, got {sorted(files)}")
    doc = json.loads(files[".json"].decode("utf-8"))
    siblings = {k: v for k, v in files.items() if k != ".json"}
    return write_result_set(out_dir, name, doc, siblings)


def write_result(
    result: dict[str, Any], provenance: dict[str, Any], out_dir: str | Path, name: str
) -> list[Path]:
    """Write a :func:`~antialias.consistency.run` result as one result set; JSON path last."""
    doc, siblings = result_document(result, provenance)
    return write_result_set(out_dir, name, doc, siblings)


def _fmt(v: Any, width: int = 7) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "nan".rjust(width)
    if isinstance(v, float) and math.isinf(v):
        return ("inf" if v > 0 else "-inf").rjust(width)
    return f"{v:.4f}".rjust(width) if abs(v) < 100 else f"{v:.1f}".rjust(width)


def _label(rec: dict[str, Any]) -> str:
    return f"{rec['task']}/{rec['name']}" if rec.get("task") else rec["name"]


_TABLE_COLUMNS = (
    ("segmentation", ("agreement", "agreement_interior", "agreement_border", "iou", "task_dice")),
    ("regression", ("psnr", "psnr_interior", "psnr_border", "mse", "task_psnr")),
)


def _kind_table(kind: str, cols: tuple[str, ...], recs: list[dict[str, Any]]) -> list[str]:
    name_w = max(12, *(len(_label(r)) for r in recs))
    head = f"{'model':<{name_w}} {'mode':<10} {'shifts':>6} {'images':>6} " + " ".join(
        f"{c:>18}" for c in cols
    )
    lines = [f"{kind} (pooled over non-zero shifts; [95% CI] over images)", head]
    for r in recs:
        s = r["summary"]
        cells = []
        for c in cols:
            if c not in s:
                cells.append(f"{'-':>18}")
            else:
                cells.append(
                    f"{_fmt(s[c], 7)} [{_fmt(s[c + '_lo'], 4).strip()},"
                    f"{_fmt(s[c + '_hi'], 4).strip()}]".rjust(18)
                )
        lines.append(
            f"{_label(r):<{name_w}} {r['mode']:<10} {s['n_shifts']:>6} "
            f"{r['n_images']:>6} " + " ".join(cells)
        )
    return [*lines, ""]


def format_table(result: dict[str, Any]) -> str:
    """A readable summary: one row per model, pooled over its non-zero shifts."""
    lines: list[str] = []
    for kind, cols in _TABLE_COLUMNS:
        recs = [r for r in result["results"] if r["kind"] == kind]
        if recs:
            lines += _kind_table(kind, cols, recs)
    for r in result["results"]:
        if r["per_layer_summary"]:
            lines.append(
                f"{_label(r)}: relative RMS feature error per level (all / interior / "
                "border), pooled over shifts that are multiples of the stride"
            )
            for e in r["per_layer_summary"]:
                lines.append(
                    f"  {e['level']:<12} stride {e['stride']:>3}  shifts {e['n_shifts']:>4}"
                    f"  {_fmt(e['rel_error'])} {_fmt(e['rel_error_interior'])} "
                    f"{_fmt(e['rel_error_border'])}"
                )
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def describe_plan(the_plan: Any) -> str:
    """The plan of a run as text (``--dry-run``): models, images, shifts, forward passes."""
    cfg = the_plan.cfg
    lines = [f"plan: mode {cfg.mode}, {the_plan.world} rank(s); nothing is computed"]
    total = 0
    for job in the_plan.jobs:
        m, d = job.model, job.data
        sizes = sorted({"x".join(map(str, shape[1:])) for shape in d.shapes})
        passes = job.passes_per_image * len(d.shapes)
        total += passes
        mem = "unknown" if job.copy_bytes is None else f"{job.copy_bytes / 2**20:.1f} MiB"
        levels = ""
        if m.level_modules:
            levels = "; levels " + ", ".join(f"{n} (/{r})" for n, _, r in m.level_modules)
        lines.append(
            f"  {m.name} ({m.source}): {job.kind}, {job.k} channel(s), period {job_period(job)}; "
            f"data {d.name}: {len(d.shapes)} image(s) {', '.join(sizes[:4])}; "
            f"{len(job.shifts)} shifts; batch {job.batch_size} (~{mem} per copy); "
            f"{passes} forward passes{levels}"
        )
    lines.append(f"total: {total} forward passes, bootstrap {cfg.n_boot} resamples")
    return "\n".join(lines) + "\n"
