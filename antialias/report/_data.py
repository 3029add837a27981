"""What a report shows, computed from a shift-consistency result: no drawing, no HTML.

- :func:`load_result`: read ``RESULT.json`` (a digest-checked set when it carries
  ``files_sha256``), refuse any other schema.
- :func:`primary_metric`, :func:`verdict`, :func:`summary_rows`: the numbers and the one-line
  verdict.
- :func:`kernels_of`: learned up-sampling kernels of a record's model (polyphase DC gains and
  checkerboard index), from the record itself when it carries them, else from its
  ``.safetensors`` checkpoint (data only: never unpickled, never TorchScript, which runs code).
- :func:`shift_axes`, :func:`shift_text`: the shift's keys (``dy, dx`` for images, ``dz, dy,
  dx`` for volumes) and how a shift is written; what only volumes have is in ``_volumes.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from antialias._cli import UsageError
from antialias.files import read_json, read_result_set

__all__ = [
    "SCHEMA",
    "LayerKernels",
    "is_volume",
    "kernels_of",
    "load_result",
    "model_label",
    "primary_metric",
    "shift_axes",
    "shift_text",
    "summary_rows",
    "verdict",
    "worst_header",
]

#: The only result schema a report reads (written by the shift-consistency command).
SCHEMA = "antialias.shift_consistency/1"

_PRIMARY = {"segmentation": "agreement", "regression": "psnr"}
_UNITS = {"agreement": "", "psnr": " dB"}


def load_result(json_path: str | Path) -> dict[str, Any]:
    """The result document of ``json_path``; one-line :class:`UsageError` for anything else.

    A JSON with ``files_sha256`` is read with :func:`antialias.files.read_result_set` (an
    interrupted write is refused); an older one (no digests) with ``read_json``.
    """
    path = Path(json_path)
    if path.is_dir():
        raise UsageError(f"expected a result .json file, got the folder {str(path)!r}")
    try:
        doc = read_json(path)
    except ValueError as err:  # missing or malformed: the reader's one line
        raise UsageError(str(err)) from None
    if not isinstance(doc, dict):
        raise UsageError(f"expected a JSON object in {str(path)!r}, got {type(doc).__name__}")
    schema = doc.get("schema")
    if schema != SCHEMA:  # checked first: a foreign file's siblings mean nothing here
        raise UsageError(
            f"expected a result of schema {SCHEMA!r} in {str(path)!r}, got {schema!r} "
            "(write it again with this version's antialias shift-consistency)"
        )
    if "files_sha256" in doc:
        try:
            doc, _ = read_result_set(path)
        except ValueError as err:  # an interrupted write: the set is refused
            raise UsageError(str(err)) from None
    results = doc.get("results")
    if not isinstance(results, list) or not results:
        raise UsageError(f"expected at least one model record in {str(path)!r}, got none")
    for rec in results:
        if not isinstance(rec, dict) or rec.get("kind") not in _PRIMARY or "shifts" not in rec:
            raise UsageError(f"expected model records with kind and shifts in {str(path)!r}")
    return doc


_AXIS_KEYS = ("dz", "dy", "dx")


def shift_axes(rec: dict[str, Any]) -> tuple[str, ...]:
    """The shift keys of a record, in axis order: ``("dy", "dx")`` or ``("dz", "dy", "dx")``."""
    shifts = rec.get("shifts") or [{}]
    found = tuple(k for k in _AXIS_KEYS if k in shifts[0])
    return found if len(found) >= 2 else ("dy", "dx")


def is_volume(rec: dict[str, Any]) -> bool:
    """Whether the record is of a 3-D model (shifts with ``dz``)."""
    return len(shift_axes(rec)) == 3


def _doc_axes(doc: dict[str, Any]) -> tuple[str, ...] | None:
    """The shift keys shared by every record, ``None`` when images and volumes are mixed."""
    kinds = {shift_axes(r) for r in doc["results"]}
    return kinds.pop() if len(kinds) == 1 else None


def shift_text(entry: dict[str, Any], axes: tuple[str, ...], named: bool = False) -> str:
    """``(1, 3)`` (or ``dz=1, dy=3, dx=1`` when ``named``): a shift as the page writes it."""
    if named:
        return ", ".join(f"{k}={entry[k]}" for k in axes)
    return "(" + ", ".join(str(entry[k]) for k in axes) + ")"


def worst_header(doc: dict[str, Any]) -> str:
    """The summary column's heading: ``worst shift (dy, dx)`` (or ``(dz, dy, dx)``)."""
    axes = _doc_axes(doc)
    return "worst shift" if axes is None else f"worst shift ({', '.join(axes)})"


def model_label(rec: dict[str, Any]) -> str:
    """``task/name`` when the record has a task, else its name."""
    name = str(rec.get("name") or rec.get("id") or "?")
    return f"{rec['task']}/{name}" if rec.get("task") else name


def primary_metric(rec: dict[str, Any]) -> str:
    """``agreement`` (segmentation: label agreement) or ``psnr`` (regression: EQ-T PSNR)."""
    return _PRIMARY[rec["kind"]]


def _num(v: Any) -> float:
    return math.nan if v is None else float(v)


def fmt(value: Any, metric: str) -> str:
    """A metric value for a reader: 4 decimals (agreement), 2 (dB); ``inf`` = exact."""
    v = _num(value)
    if math.isnan(v):
        return "n/a"
    if math.isinf(v):
        return "inf (exact to rounding)" if v > 0 else "-inf"
    return f"{v:.4f}" if metric == "agreement" else f"{v:.2f}{_UNITS.get(metric, '')}"


def _ci(summary: dict[str, Any], key: str, metric: str) -> str:
    lo, hi = summary.get(key + "_lo"), summary.get(key + "_hi")
    if lo is None or hi is None:
        return ""
    return f" [{fmt(lo, metric).split(' ')[0]}, {fmt(hi, metric).split(' ')[0]}]"


def summary_rows(doc: dict[str, Any]) -> list[dict[str, str]]:
    """One row of readable cells per model (pooled over non-zero shifts, 95% CI)."""
    rows = []
    mixed = _doc_axes(doc) is None  # images and volumes: each cell names its axes
    for rec in doc["results"]:
        metric = primary_metric(rec)
        axes = shift_axes(rec)
        s = rec.get("summary") or {}
        worst = (rec.get("worst") or {}).get(metric)
        cells = {
            "model": model_label(rec),
            "kind": rec["kind"],
            "mode": str(rec.get("mode", "")),
            "images": str(rec.get("n_images", "")),
            "shifts": str(s.get("n_shifts", "")),
            "metric": metric,
        }
        for region, key in (("all", metric), ("interior", metric + "_interior")):
            cells[region] = fmt(s.get(key), metric) + _ci(s, key, metric)
        cells["border"] = fmt(s.get(metric + "_border"), metric)
        cells["worst"] = (
            f"{fmt(worst['value'], metric)} at {shift_text(worst, axes, mixed)}" if worst else "n/a"
        )
        rows.append(cells)
    return rows


def verdict(doc: dict[str, Any]) -> str:
    """One line: how shift-consistent the model(s) are, pooled over the non-zero shifts."""
    recs = [r for r in doc["results"] if (r.get("summary") or {}).get("n_shifts")]
    if not recs:
        return "No non-zero shift was measured, so the result says nothing about consistency."
    kinds = {r["kind"] for r in recs}
    kind = "segmentation" if "segmentation" in kinds else "regression"
    recs = [r for r in recs if r["kind"] == kind]
    metric = _PRIMARY[kind]
    what = "label agreement" if kind == "segmentation" else "EQ-T PSNR"

    def value(r: dict[str, Any]) -> float:
        v = _num(r["summary"].get(metric))
        return -math.inf if math.isnan(v) else v

    ranked = sorted(recs, key=value, reverse=True)
    mode = recs[0].get("mode", "?")
    if len(ranked) == 1:
        r = ranked[0]
        s = r["summary"]
        worst = (r.get("worst") or {}).get(metric)
        axes = shift_axes(r)
        named = f"({', '.join(axes)}) " if len(axes) == 3 else ""  # volumes say which is which
        tail = (
            f"; worst shift {named}{shift_text(worst, axes)}: {fmt(worst['value'], metric)}"
            if worst
            else ""
        )
        return (
            f"{model_label(r)}: {what} {fmt(s.get(metric), metric)}{_ci(s, metric, metric)} "
            f"under {s['n_shifts']} non-zero {mode} shifts{tail}."
        )
    best, worst_rec = ranked[0], ranked[-1]
    return (
        f"Most shift-consistent of {len(ranked)} models: {model_label(best)} ({what} "
        f"{fmt(best['summary'].get(metric), metric)}); least: {model_label(worst_rec)} "
        f"({fmt(worst_rec['summary'].get(metric), metric)}), {mode} shifts."
    )


# ----------------------------------------------------------------------------- kernels


@dataclass(frozen=True)
class LayerKernels:
    """One learned up-sampler of a model.

    Attributes:
        name: qualified module name.
        stride: the up-sampling factor ``s`` (3-D layers with unequal strides: one per axis).
        phase_gain: ``(s, s)`` operator norm of each polyphase component's DC gain matrix
            ``G_r`` (the output a constant input gets at output phase ``r``); ``(s, s, s)``
            (``(*s)``) for a 3-D layer.
        checkerboard_index: ``max |H(k/s)| / |H(0)|`` (0: no checkerboard on flat input).
    """

    name: str
    stride: int | tuple[int, ...]
    phase_gain: np.ndarray
    checkerboard_index: float


def _find_layers(net: Any) -> list[tuple[str, int, np.ndarray]]:
    """``(name, stride, transposed-conv weight)`` of every learned up-sampler of ``net``."""
    try:  # the full finder (also conv + pixel shuffle) once the analysis tools are installed
        from antialias.tools.learned_kernels import find_upsampling_layers
    except ImportError:
        find_upsampling_layers = None
    if find_upsampling_layers is not None:
        return [(u.name, u.stride, u.weight) for u in find_upsampling_layers(net)]
    from torch import nn

    found = []
    for name, m in net.named_modules():
        if isinstance(m, nn.ConvTranspose2d) and m.stride[0] == m.stride[1] >= 2:
            if m.groups == 1 and tuple(m.dilation) == (1, 1):
                found.append((name, int(m.stride[0]), m.weight.detach().double().numpy()))
    return found


def _from_weight(name: str, stride: int | tuple[int, ...], weight: np.ndarray) -> LayerKernels:
    if weight.ndim != 4:  # 1-D / 3-D transposed convs (per-axis strides): the N-D routines
        from antialias import spectral_nd

        gains = spectral_nd.phase_gains_nd(weight, stride)  # (*s, Ci, Co)
        index = float(spectral_nd.checkerboard_index_nd(weight, stride))
    else:
        from antialias import spectral

        gains = spectral.polyphase_components(weight, stride).sum(axis=(-2, -1))  # (s, s, ..)
        index = float(spectral.checkerboard_index(weight, stride))
    norms = np.linalg.svd(gains, compute_uv=False)[..., 0]
    return LayerKernels(name, stride, np.asarray(norms, dtype=np.float64), index)


def _checkpoint_path(source: str, json_path: Path) -> Path | None:
    """Where the record's checkpoint is: as written, or relative to the result's folders."""
    path = Path(source)
    if path.is_absolute():
        return path if path.is_file() else None
    for base in (Path.cwd(), json_path.parent, *json_path.parent.parents):
        if (base / path).is_file():
            return base / path
    return None


def kernels_of(rec: dict[str, Any], json_path: Path) -> tuple[list[LayerKernels], str]:
    """The learned up-samplers of a record's model, and a sentence saying where they came from.

    Returns ``([], reason)`` when there are none to show (no learned up-sampler, a factory or
    TorchScript model, a checkpoint that is not found).
    """
    given = rec.get("kernels")
    if isinstance(given, list):  # a result that carries its kernels (future schema addition)
        layers = [
            LayerKernels(
                str(k["name"]),
                tuple(int(v) for v in k["stride"])
                if isinstance(k["stride"], list)
                else int(k["stride"]),
                np.asarray(k["phase_gain"], dtype=np.float64),
                _num(k.get("checkerboard_index")),
            )
            for k in given
        ]
        return layers, "from the result file"
    source = str(rec.get("source") or "")
    if not source.endswith(".safetensors"):
        return [], (
            "the result has no kernels and its model is not a .safetensors checkpoint "
            "(factories and TorchScript are not re-run by a report): "
            "see `antialias kernels` for this model"
        )
    path = _checkpoint_path(source, json_path)
    if path is None:
        return [], f"the result has no kernels and its checkpoint {source!r} is not found"
    from antialias.checkpoint import load_checkpoint

    try:
        net, _ = load_checkpoint(path)
    except (ValueError, TypeError, OSError) as err:
        return [], f"the checkpoint {source!r} could not be read ({err})"
    layers = [_from_weight(*found) for found in _find_layers(net)]
    if not layers:
        return [], "its model has no learned up-sampler (fixed interpolation only)"
    return layers, f"from the checkpoint {source}"
