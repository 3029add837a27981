"""Accessors of figures 4-9: the study's results, checked as a figure reads them.

The figures read only ``results/study/study.{json,npz}`` (``python -m analysis.study``) and
``results/study/speed.json`` (``python -m analysis.speed``, also run by the study), through
:func:`figures._main.read_results`; this module checks what a figure takes from them and
computes nothing. A missing or malformed file is a :class:`ResultsError` naming the command
that writes it (one line on stderr and exit 2 from :func:`figures._main.figure_main`).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # for `python figures/figN_*.py` from anywhere
    sys.path.insert(0, str(ROOT))

from figures._main import RESULTS_DIR, ResultsError, read_results  # noqa: E402
from figures.style import VARIANT_LABEL, VARIANT_ORDER, variant_style  # noqa: E402

STUDY_DIR = RESULTS_DIR / "study"
STUDY_COMMAND = "python -m analysis.study"
SPEED_COMMAND = "python -m analysis.speed"
TASK_LABEL = {
    "nuclei": "nuclei (real, segmentation)",
    "textures": "textures (synthetic, segmentation)",
    "denoise": "denoise (photographs, regression)",
}

__all__ = [
    "STUDY_DIR",
    "ResultsError",
    "Study",
    "TASK_LABEL",
    "VARIANT_LABEL",
    "VARIANT_ORDER",
    "can_log",
    "consistency_axis",
    "load_study",
    "log_axis",
    "look",
    "variant_style",
]


@dataclass
class Study:
    """The study's summary (``study.json`` + ``study.npz``) and, if present, ``speed.json``."""

    doc: dict[str, Any]
    arrays: dict[str, np.ndarray]
    speed: dict[str, Any] | None
    where: Path

    def fail(self, what: str, command: str = STUDY_COMMAND) -> ResultsError:
        return ResultsError(f"incomplete results in {self.where}: {what}; run `{command}`")

    def get(self, *path: str) -> Any:
        """``doc[path[0]][path[1]]...`` or :class:`ResultsError` naming the missing key."""
        node: Any = self.doc
        for i, key in enumerate(path):
            if not isinstance(node, dict) or key not in node:
                raise self.fail(f"expected the JSON key {'/'.join(path[: i + 1])!r} in study.json")
            node = node[key]
        return node

    def array(self, key: str, ndim: int | None = None) -> np.ndarray:
        """An array of ``study.npz`` as float64 (NaN allowed: cells with nothing to compare)."""
        if key not in self.arrays:
            raise self.fail(f"expected the array {key!r} in study.npz")
        value = np.asarray(self.arrays[key])
        if ndim is not None and value.ndim != ndim:
            raise self.fail(f"expected {key!r} with {ndim} dimensions, got shape {value.shape}")
        return value.astype(np.float64) if value.dtype != np.bool_ else value

    def tasks_with(self, piece: str) -> list[str]:
        """Tasks (in the study's order) that have ``piece`` results."""
        tasks = self.get("tasks")
        found = [t for t in ("nuclei", "textures", "denoise") if piece in tasks.get(t, {})]
        if not found:
            raise self.fail(f"expected {piece!r} results for at least one task")
        return found

    def variants(self, task: str, piece: str) -> list[str]:
        """Variants with ``piece`` results for ``task``, in the display order."""
        have = self.get("tasks", task, piece, "variants")
        names = [v for v in VARIANT_ORDER if v in have]
        if not names:
            raise self.fail(f"expected at least one variant in {task}/{piece}")
        return names

    def speed_threads(self) -> int:
        """The thread count figures show: the first one the speed run timed."""
        if self.speed is None:
            raise ResultsError(f"missing {self.where / 'speed.json'}; run `{SPEED_COMMAND}`")
        threads = (self.speed.get("config") or {}).get("threads") or [None]
        return threads[0] if isinstance(threads, list) else threads

    def speed_records(self, arch: str = "shipped") -> dict[str, dict[str, Any]]:
        """Variant -> speed record of ``arch`` at :meth:`speed_threads` (``speed.json``)."""
        threads = self.speed_threads()
        recs = {
            r["variant"]: r
            for r in self.speed.get("results", [])
            if r.get("arch") == arch and r.get("threads") == threads
        }
        if not recs:
            raise self.fail(
                f"expected {arch!r} records with {threads} threads in speed.json", SPEED_COMMAND
            )
        return recs


def load_study(directory: Path = STUDY_DIR) -> Study:
    """Read ``study.json``, ``study.npz`` and (optional) ``speed.json`` from ``directory``."""
    directory = Path(directory)
    doc, arrays = read_results(directory, "study", STUDY_COMMAND)
    if doc.get("schema") != "antialias.study/1":
        raise ResultsError(f"expected an antialias.study/1 document in {directory / 'study.json'}")
    speed = None
    if (directory / "speed.json").is_file():
        speed, _ = read_results(directory, "speed", SPEED_COMMAND, arrays=False)
    return Study(doc=doc, arrays=arrays, speed=speed, where=directory)


def consistency_axis(kind: str) -> tuple[str, Callable[[np.ndarray], np.ndarray], bool]:
    """``(label, transform, log-scale)`` of a consistency value for plotting.

    Segmentation: label agreement ``a`` is shown as the share of pixels whose label changes,
    ``100 (1 - a)`` %, on a log axis (lower is better). Regression: EQ-T PSNR in dB as is
    (higher is better).
    """
    if kind == "segmentation":
        return "label changes (% of compared pixels)", lambda a: 100.0 * (1.0 - a), True
    return "EQ-T PSNR (dB)", lambda a: a, False


def look(variant: str) -> dict[str, Any]:
    """:func:`figures.style.variant_style` (family colour, encoder marker; hollow for blur-pool)."""
    return dict(variant_style(variant))


def log_axis(ax: Any, which: str = "y") -> None:
    """Log scale with plain tick labels at 1, 2 and 5 times each power of ten."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis = ax.yaxis if which == "y" else ax.xaxis
    (ax.set_yscale if which == "y" else ax.set_xscale)("log")
    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def can_log(values: list[np.ndarray]) -> bool:
    """Whether any value is finite and positive (a log axis needs one)."""
    return any(np.any(np.isfinite(v) & (np.asarray(v) > 0)) for v in values)


def finite_limits(values: list[np.ndarray], log: bool, pad: float = 0.08) -> tuple[float, float]:
    """Axis limits enclosing every finite (and, on a log axis, positive) value."""
    flat = np.concatenate([np.ravel(v) for v in values]) if values else np.array([])
    ok = flat[np.isfinite(flat)]
    if log:
        ok = ok[ok > 0]
    if ok.size == 0:
        return (0.1, 1.0) if log else (0.0, 1.0)
    lo, hi = float(ok.min()), float(ok.max())
    if log:
        return 10 ** (math.log10(lo) - pad * 2), 10 ** (math.log10(hi) + pad * 2)
    span = hi - lo if hi > lo else max(abs(hi), 1.0)
    return lo - pad * span, hi + pad * span


#: The design every difference is taken to: the original U-Net up-conv (transposed 2x2).
REFERENCE = "tconv2"


def reference(names: list[str]) -> str:
    """:data:`REFERENCE` when it was run, else the first design shown (named in every title)."""
    return REFERENCE if REFERENCE in names else names[0]


@dataclass
class PieceSums:
    """Per-seed, per-image sums of one shift piece (``<piece>_<task>.{json,npz}``).

    ``sums[v]`` has shape ``(S, N, n_shifts, 2 regions (all, interior), ...)``: the sums the
    study's statistics reduce (confusion matrices for segmentation, ``[sse, n]`` for PSNR).
    """

    kind: str
    shifts: np.ndarray
    period: int
    sums: dict[str, np.ndarray]
    checkpoints: dict[str, list[str]]


def load_piece_sums(study: Study, piece: str, task: str, field_: str | None = None) -> PieceSums:
    """The per-image sums of ``piece`` for ``task``, variants in the display order.

    ``field_``: which sums (default: the consistency sums of the task's kind; ``"layer"``:
    the per-level feature errors ``(..., levels, [sum err^2, sum ref^2, count])``).
    """
    stem = f"{piece}_{task}"
    doc, arrays = read_results(study.where, stem, STUDY_COMMAND)
    recs = doc.get("results") or []
    if not recs:
        raise study.fail(f"expected records in {stem}.json")
    kind = recs[0].get("kind")
    if field_ is None:
        field_ = "eq_confusion" if kind == "segmentation" else "eq_se"
    sums: dict[str, np.ndarray] = {}
    sources: dict[str, list[str]] = {}
    for v in VARIANT_ORDER:
        vr = sorted((r for r in recs if r.get("variant") == v), key=lambda r: r["seed"])
        if not vr:
            continue
        try:
            parts = [np.asarray(arrays[f"{r['id']}__sums__{field_}"], np.float64) for r in vr]
        except KeyError as err:
            raise study.fail(f"expected the array {err.args[0]!r} in {stem}.npz") from None
        if len({p.shape for p in parts}) != 1:
            raise study.fail(f"expected the same images for every seed of {v} in {stem}")
        sums[v] = np.stack(parts)
        sources[v] = [r.get("source", "") for r in vr]
    key = f"{recs[0]['id']}__shifts"
    if key not in arrays:
        raise study.fail(f"expected the array {key!r} in {stem}.npz")
    return PieceSums(
        kind, np.asarray(arrays[key], np.float64), int(recs[0]["period"]), sums, sources
    )


def shift_groups(shifts: np.ndarray, period: int) -> dict[str, list[int]]:
    """Indices of the non-zero shifts: ``all``, ``on`` (multiples of the period), ``off``."""
    nonzero = [i for i, s in enumerate(shifts.tolist()) if any(d != 0 for d in s)]
    on = [i for i in nonzero if all(float(d) % period == 0 for d in shifts[i])]
    return {"all": nonzero, "on": on, "off": [i for i in nonzero if i not in on]}


def paired_to_reference(
    study: Study,
    ps: PieceSums,
    ref: str,
    index: list[int],
    region: int = 0,
    stat: Callable[[np.ndarray], np.ndarray] | None = None,
    scale: float | None = None,
) -> dict[str, dict[str, float]]:
    """Design minus ``ref`` over the shifts ``index``, with the study's paired 95% interval.

    The statistic, the resampling and its seed are the study's own
    (:func:`analysis.study.stats.paired_diff_stats`: images drawn once for both designs,
    seeds per design), so over every non-zero shift this equals ``study.json``'s
    ``paired_all``. Values in plot units: label changes in percentage points (design minus
    reference: negative = fewer changes) or EQ-T PSNR in dB (positive = more consistent);
    ``stat`` and ``scale`` replace the statistic and the factor (other sums, e.g. per level).
    """
    from analysis.study.stats import agreement_stat, paired_diff_stats, psnr_stat

    cfg = study.doc.get("config") or {}
    n_boot, seed = int(cfg.get("n_boot", 1000)), int(cfg.get("seed", 0))
    if stat is None:
        stat = agreement_stat if ps.kind == "segmentation" else psnr_stat
    if scale is None:
        scale = -100.0 if ps.kind == "segmentation" else 1.0  # agreement -> % label changes
    out = {}
    for v, s in ps.sums.items():
        if v == ref or not index:
            continue
        d = paired_diff_stats(
            s[:, :, index, region].sum(2),
            ps.sums[ref][:, :, index, region].sum(2),
            stat,
            n_boot,
            seed,
        )
        lo, hi = sorted((scale * d["lo"], scale * d["hi"]))
        out[v] = {"diff": scale * d["diff"], "lo": lo, "hi": hi}
    return out


def checkpoint_note(sources: dict[str, list[str]]) -> str:
    """The checkpoints behind a panel, compactly: ``checkpoints/nuclei/<design>_s{0,1,2}``.

    Built from the record sources (the paths the study read), with the design name and the
    seed replaced by placeholders; patterns that do not fit are listed as they are.
    """
    import re

    folders: dict[str, set[str]] = {}
    for v, paths in sources.items():
        for p in paths:
            m = re.match(rf"(.*/){re.escape(v)}_s(\d+)\.safetensors$", p)
            if m:
                folders.setdefault(m.group(1), set()).add(m.group(2))
            else:
                folders.setdefault(p, set())
    parts = []
    for folder, seeds in folders.items():
        if not seeds:
            parts.append(folder)
            continue
        s = sorted(seeds, key=int)
        parts.append(f"{folder}<design>_s{{{','.join(s)}}}.safetensors")
    return "; ".join(parts)
