"""Small wording functions of the paper: numbers, intervals, verdicts, "exact to rounding".

Each turns a number (or a result entry) into the words the paper prints, and nothing else; the
tests (``tests/test_write_paper_wording.py``) check them on constructed values.

What does not live here: which numbers are read (:mod:`analysis.paper.results`) and the
sections that assemble the sentences.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from antialias.exact import exact_tolerance, is_exact_relative

__all__ = [
    "NOT_RECORDED",
    "cell",
    "exact_split",
    "exact_to_rounding",
    "excludes_zero",
    "known",
    "num",
    "pct",
    "pdiff",
    "ratio_quartiles",
    "signed",
    "speed_word",
    "table",
]

NOT_RECORDED = "not recorded"


def known(value: Any) -> str:
    """``str(value)``, or "not recorded" for a missing (``None``) provenance or metadata key.

    >>> known("abc123"), known(None)
    ('abc123', 'not recorded')
    """
    return NOT_RECORDED if value is None else str(value)


def num(x: float | None, digits: int) -> str:
    """``x`` with ``digits`` decimals; ``n/a`` for missing / NaN, ``inf`` / ``-inf``.

    >>> num(0.12345, 3), num(None, 2), num(float("inf"), 1)
    ('0.123', 'n/a', 'inf')
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if isinstance(x, float) and math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.{digits}f}"


def pct(agreement: float) -> float:
    """Label agreement -> share of pixels whose label changes, in %."""
    return 100.0 * (1.0 - agreement)


def cell(stat: dict[str, Any], digits: int, changes: bool = False) -> str:
    """``mean ± std [lo, hi]`` (std omitted for one seed); ``changes``: agreement -> % changed.

    >>> cell({"mean": 0.5, "std": 0.25, "lo": 0.25, "hi": 0.75}, 2)
    '0.50 ± 0.25 [0.25, 0.75]'
    """
    mean, std, lo, hi = (stat.get(k) for k in ("mean", "std", "lo", "hi"))
    if changes:
        mean, lo, hi = pct(mean), pct(hi), pct(lo)
    text = num(mean, digits)
    if std is not None and not (isinstance(std, float) and math.isnan(std)):
        text += f" ± {num(std * (100.0 if changes else 1.0), digits)}"
    return f"{text} [{num(lo, digits)}, {num(hi, digits)}]"


def speed_word(rec: dict[str, Any], what: str = "train_step") -> str:
    """ "slower" / "faster" when the ratio's quartiles exclude 1, else indistinguishable."""
    q1, q3 = rec[f"{what}_ratio_q1"], rec[f"{what}_ratio_q3"]
    if q1 > 1.0:
        return "slower"
    if q3 < 1.0:
        return "faster"
    return "indistinguishable in speed"


def ratio_quartiles(rec: dict[str, Any], what: str = "train_step") -> str:
    """``median [q1, q3]`` of a speed record's per-round ratio to the reference.

    >>> ratio_quartiles({"forward_ratio": 1.5, "forward_ratio_q1": 1.4, "forward_ratio_q3": 1.6},
    ...                 "forward")
    '1.50 [1.40, 1.60]'
    """
    return (
        f"{rec[f'{what}_ratio']:.2f} [{rec[f'{what}_ratio_q1']:.2f}, {rec[f'{what}_ratio_q3']:.2f}]"
    )


def signed(x: float, digits: int) -> str:
    """``+0.0012`` / ``-0.0012``; a difference that rounds to zero is ``±0``."""
    return "±0" if round(x, digits) == 0 else f"{x:+.{digits}f}"


def excludes_zero(d: dict[str, float] | None) -> int:
    """+1 / -1 if the paired interval lies above / below 0, else 0 (also for no data)."""
    if not d or any(isinstance(d[k], float) and math.isnan(d[k]) for k in ("lo", "hi")):
        return 0
    return 1 if d["lo"] > 0 else -1 if d["hi"] < 0 else 0


def pdiff(d: dict[str, float] | None, digits: int, scale: float = 1.0) -> str:
    """``+0.0067 [-0.0010, +0.0140]`` (scaled; a negative scale flips the interval)."""
    if not d:
        return "n/a"
    lo, hi = sorted((d["lo"] * scale, d["hi"] * scale))
    return f"{signed(d['diff'] * scale, digits)} [{lo:+.{digits}f}, {hi:+.{digits}f}]"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table as lines."""
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def exact_split(
    errors: dict[str, float], dtype: str = "float32"
) -> tuple[dict[str, float], dict[str, float]]:
    """Split ``name -> relative error`` into (exact to rounding, not), by :mod:`antialias.exact`.

    NaN (nothing compared) counts as not exact. ``dtype`` is the models' dtype ("float32" when
    the results do not record it).

    >>> exact_split({"a": 0.0, "b": 1e-9, "c": 0.1})
    ({'a': 0.0, 'b': 1e-09}, {'c': 0.1})
    >>> exact_split({"b": 1e-9}, "float64")
    ({}, {'b': 1e-09})
    """
    exact = {k: x for k, x in errors.items() if is_exact_relative(x, dtype)}
    return exact, {k: x for k, x in errors.items() if k not in exact}


def exact_to_rounding(errors: Iterable[float], dtype: str = "float32") -> str:
    """ "exact to rounding (max relative error X)", X the largest of the measured ``errors``.

    The tolerance is :func:`antialias.exact.exact_tolerance` of ``dtype`` (256 ulps of the
    data's scale), stated so that a reader sees what "exact" allowed.

    >>> exact_to_rounding([0.0, 2.5e-8])
    'exact to rounding (max relative error 2.5e-08; float32 rounding allows 3.05e-05)'
    >>> exact_to_rounding([0.0, 0.0], "float64")
    'exact to rounding (max relative error 0; float64 rounding allows 5.68e-14)'
    """
    worst = max(errors)
    return (
        f"exact to rounding (max relative error {worst:.3g}; {dtype} rounding allows "
        f"{exact_tolerance(dtype):.3g})"
    )
