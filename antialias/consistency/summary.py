"""From per-image sums to the reported numbers: per-shift values, pooled summaries, CIs.

Every value is the metric of sums pooled over images; its 95% interval is a percentile
bootstrap over images (:func:`antialias.metrics.bootstrap_ci`, the same resamples for every
metric), streamed over shifts so that memory does not grow with shifts x resamples.

What does not live here: the sums themselves (:mod:`~antialias.consistency.sums`) and the files
(:mod:`~antialias.consistency.output`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from antialias import metrics as M
from antialias.consistency.config import REGIONS, Config
from antialias.consistency.geometry import AXIS_KEYS, num
from antialias.consistency.sums import Accumulator, divides, strides_of

__all__ = ["LOWER_IS_BETTER", "SEG_METRICS", "key", "metric_table", "summarise"]

SEG_METRICS: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {
    # name -> (confusion sums, statistic of summed confusion matrices)
    "agreement": ("eq_confusion", lambda c: M.agreement(M.agreement_from_confusion(c))),
    "iou": ("eq_confusion", lambda c: M.iou(M.overlap_from_confusion(c))),
    "dice": ("eq_confusion", lambda c: M.dice(M.overlap_from_confusion(c))),
    "task_accuracy": ("task_confusion", lambda c: M.agreement(M.agreement_from_confusion(c))),
    "task_iou": ("task_confusion", lambda c: M.iou(M.overlap_from_confusion(c))),
    "task_dice": ("task_confusion", lambda c: M.dice(M.overlap_from_confusion(c))),
}
LOWER_IS_BETTER = ("mse", "task_mse")


def _regions3(a: np.ndarray) -> np.ndarray:
    """Axis 2 ``(all, interior)`` -> ``(all, interior, border)``; border = all - interior."""
    return np.concatenate([a, a[:, :, :1] - a[:, :, 1:2]], axis=2)


def metric_table(kind: str, data_range: float, task: bool) -> dict[str, tuple[str, Callable]]:
    """Metric name -> (sums field, statistic) for a kind of output."""
    if kind == "segmentation":
        table = dict(SEG_METRICS)
    else:
        table = {
            "psnr": ("eq_se", lambda s: M.psnr(s, data_range)),
            "mse": ("eq_se", M.mse),
            "task_psnr": ("task_se", lambda s: M.psnr(s, data_range)),
            "task_mse": ("task_se", M.mse),
        }
    return {k: v for k, v in table.items() if task or not k.startswith("task_")}


def key(metric: str, region: str) -> str:
    """The record key of a metric in a region (``agreement_interior``; ``all`` has no suffix)."""
    return metric if region == "all" else f"{metric}_{region}"


def _worst(metric: str, col: np.ndarray, shifts, nonzero: list[int]) -> dict[str, Any] | None:
    if not (np.isfinite(col).any() or np.isinf(col).any()):
        return None
    lower = metric in LOWER_IS_BETTER
    filled = np.where(np.isnan(col), -1 if lower else np.inf, col)
    j = int(np.argmax(filled) if lower else np.argmin(filled))
    return {"value": float(col[j]), **_shift_keys(shifts[nonzero[j]])}


def _shift_keys(s: tuple[float, ...]) -> dict[str, int | float]:
    """``{"dy": .., "dx": ..}`` of a 2-D shift, ``{"dz", "dy", "dx"}`` of a 3-D one."""
    return {k: num(v) for k, v in zip(AXIS_KEYS[len(s)], s)}


def _period_cells(
    fn, per_image: np.ndarray, residues: np.ndarray, periods: tuple[int, ...]
) -> np.ndarray:
    """``(*periods, regions)``: each cell pools the shifts of one residue (NaN: no such shift)."""
    total = int(np.prod(periods))
    cells = np.bincount(residues, minlength=total)
    grid = np.zeros((total, *per_image.shape[2:]), dtype=np.float64)
    np.add.at(grid, residues, per_image.sum(0))
    gv = np.asarray(fn(grid), dtype=np.float64)  # (prod(P), 3)
    gv[cells == 0] = np.nan
    return gv.reshape(*periods, len(REGIONS))


def _nested(a: np.ndarray) -> list:
    """An N-D array as nested lists, NaN as ``None``."""
    if a.ndim == 1:
        return [None if np.isnan(v) else float(v) for v in a]
    return [_nested(row) for row in a]


def summarise(
    levels: int | tuple[int, ...],
    shifts: list[tuple[float, ...]],
    acc: Accumulator,
    info: dict[str, Any],
    cfg: Config,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The result record of one model and its NPZ arrays (``<id>__...``).

    ``levels``: the model's factor-2 down-samplings (one per spatial axis, or one for all).
    """
    rid = info["id"]
    n_images = next(iter(acc.sums.values())).shape[0]
    counts = M.bootstrap_counts(n_images, cfg.n_boot, cfg.seed)
    table = metric_table(acc.kind, info["data_range"], acc.task)
    full = {k: _regions3(v) for k, v in acc.sums.items() if k != "layer"}
    nd = len(shifts[0]) if shifts else 2
    nonzero = [i for i, s in enumerate(shifts) if any(s)]
    records: list[dict[str, Any]] = [_shift_keys(s) for s in shifts]
    summary: dict[str, Any] = {"n_shifts": len(nonzero)}
    worst: dict[str, Any] = {}
    period_map: dict[str, Any] | None = None if cfg.mode == "fractional" else {}
    arrays: dict[str, np.ndarray] = {f"{rid}__sums__{k}": v for k, v in acc.sums.items()}
    arrays[f"{rid}__shifts"] = np.asarray(shifts, dtype=np.float64).reshape(-1, nd)
    periods = tuple(2**v for v in ((levels,) * nd if isinstance(levels, int) else levels))
    residues = np.zeros(len(shifts), dtype=np.int64)
    for a, p in enumerate(periods):  # row-major index of each shift's residue in the period
        residues = residues * p + np.asarray([int(s[a]) % p for s in shifts], dtype=np.int64)
    for metric, (field, fn) in table.items():
        per_image = full[field]  # (N, S, 3, ...)
        values = fn(per_image.sum(0))  # (S, 3)
        # kept_axes=2: the statistics keep (shift, region), so the bootstrap streams over them
        lo, hi = M.bootstrap_ci(per_image, fn, counts=counts, kept_axes=2)
        for i, rec in enumerate(records):
            for r, region in enumerate(REGIONS):
                name = key(metric, region)
                rec[name] = float(values[i, r])
                rec[name + "_lo"], rec[name + "_hi"] = float(lo[i, r]), float(hi[i, r])
        if nonzero:
            pooled = per_image[:, nonzero].sum(1)  # (N, 3, ...)
            pv = fn(pooled.sum(0))
            plo, phi = M.bootstrap_ci(pooled, fn, counts=counts, kept_axes=1)
            for r, region in enumerate(REGIONS):
                name = key(metric, region)
                summary[name] = float(pv[r])
                summary[name + "_lo"], summary[name + "_hi"] = float(plo[r]), float(phi[r])
            w = _worst(metric, np.asarray(values[nonzero, 0], dtype=np.float64), shifts, nonzero)
            if w is not None:
                worst[metric] = w
        if period_map is not None:
            gv = _period_cells(fn, per_image, residues, periods)
            for r, region in enumerate(REGIONS):
                name = key(metric, region)
                arrays[f"{rid}__{name}"] = gv[..., r]
                period_map[name] = _nested(gv[..., r])
    if acc.kind == "segmentation":
        n = full["eq_confusion"].sum(0).sum(axis=(-2, -1))  # (S, 3) compared pixels
    else:
        n = full["eq_se"].sum(0)[..., 1]  # (S, 3) compared elements (pixels x channels)
    for i, rec in enumerate(records):
        for r, region in enumerate(REGIONS):
            rec[key("n_compared", region)] = float(n[i, r])
    record = {
        **info,
        "metrics": list(table),
        "shifts": records,
        "summary": summary,
        "worst": worst,
        "period_map": period_map,
        "per_layer": None,
        "per_layer_summary": None,
    }
    if acc.levels:
        record["per_layer"], record["per_layer_summary"] = _layer_records(shifts, acc, nonzero)
    return record, arrays


def _rel(sums: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(sums[..., 2] > 0, sums[..., 0] / sums[..., 1], np.nan)
    return np.sqrt(ratio)


def _layer_records(shifts, acc: Accumulator, nonzero: list[int]):
    layer = _regions3(acc.sums["layer"]).sum(0)  # (S, 3, Lv, 3)
    rel = _rel(layer)  # (S, 3, Lv)
    records, summary = [], []
    nd = len(shifts[0]) if shifts else 2
    for j, (name, _module, stride) in enumerate(acc.levels):
        strides = strides_of(stride, nd)
        ok = [i for i, s in enumerate(shifts) if divides(s, strides) and layer[i, 0, j, 2] > 0]
        stride = list(stride) if not isinstance(stride, int) else stride
        for i in ok:
            rec = {"level": name, "stride": stride, **_shift_keys(shifts[i])}
            for r, region in enumerate(REGIONS):
                rec[key("rel_error", region)] = float(rel[i, r, j])
            records.append(rec)
        used = [i for i in ok if i in nonzero]
        pooled = layer[used].sum(0) if used else np.zeros((3, layer.shape[2], 3))
        prel = _rel(pooled)
        entry = {"level": name, "stride": stride, "n_shifts": len(used)}
        for r, region in enumerate(REGIONS):
            entry[key("rel_error", region)] = float(prel[r, j])
        summary.append(entry)
    return records, summary
