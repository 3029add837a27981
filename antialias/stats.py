"""Seed-level inference for the design comparisons, and the one rule that names a verdict.

A comparison is design ``a`` against a reference ``b`` on one metric, from a
``(seeds, images)`` array per design: training variance lives in the seeds (one training run
each), test variance in the images (independent test units). Seed ``k`` of ``a`` is paired with
seed ``k`` of ``b`` (same initialisation seed and crop sequence), image ``i`` with image ``i``.

- :func:`hierarchical_bootstrap`: resample seeds, then images (both paired), and take the mean
  difference; percentile intervals (95% for the effect, 90% for equivalence).
- :func:`paired_seed_test`: paired t-test on the per-seed means (``n_seeds - 1`` degrees of
  freedom): the seed is the unit of the test, so images never inflate ``n``.
- :func:`tost`: two one-sided paired t-tests against the margin of :data:`MARGINS`.
- :func:`holm`: Holm's step-down adjustment across a family of comparisons.
- :func:`compare` collects all of these in a :class:`Comparison`; :func:`adjust_family` Holm-
  adjusts a family (difference tests and equivalence tests, each as one family);
  :func:`verdict` names the result.

The verdict rule (``alpha`` = 0.05, all p-values Holm-adjusted):

- **equivalent**: TOST ``p < alpha`` *and* the 90% hierarchical interval lies inside
  ``(-margin, +margin)``. Checked first: a difference smaller than the margin is not one that
  matters, even when it is detectable.
- **better** / **worse**: paired seed-level ``p < alpha`` *and* the 95% hierarchical interval
  excludes 0, on the better / worse side (by the metric's direction).
- **inconclusive**: everything else. An interval containing 0 is *not* evidence of equivalence.

Margins (:data:`MARGINS`) are declared here, before any study-v2 result exists: 0.005 Dice
(and IoU), 0.1 dB PSNR, 5% relative time.

What does not live here: per-image metrics (:mod:`antialias.baselines`), running the study
(``analysis/study_v2.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

__all__ = [
    "ALPHA",
    "MARGINS",
    "VERDICTS",
    "Comparison",
    "Margin",
    "adjust_family",
    "compare",
    "hierarchical_bootstrap",
    "holm",
    "paired_seed_test",
    "tost",
    "verdict",
]

ALPHA = 0.05
VERDICTS: tuple[str, ...] = ("better", "worse", "equivalent", "inconclusive")


@dataclass(frozen=True)
class Margin:
    """An equivalence margin: ``value`` in the metric's units, or relative (``a / b - 1``)."""

    value: float
    higher_is_better: bool
    relative: bool = False


MARGINS: dict[str, Margin] = {
    "dice": Margin(0.005, higher_is_better=True),
    "iou": Margin(0.005, higher_is_better=True),
    "psnr": Margin(0.1, higher_is_better=True),
    "time": Margin(0.05, higher_is_better=False, relative=True),
}
"""Pre-declared equivalence margins (issue 12): +-0.005 Dice, +-0.1 dB PSNR, +-5% time."""


def _as_scores(x: object, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]  # one value per seed (e.g. a timing)
    if a.ndim != 2 or a.shape[0] < 2 or a.shape[1] < 1:
        raise ValueError(f"expected {name} of shape (seeds >= 2, images >= 1), got {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"expected finite {name}, got non-finite values")
    return a


def _differences(a: np.ndarray, b: np.ndarray, relative: bool) -> np.ndarray:
    if a.shape != b.shape:
        raise ValueError(f"expected paired arrays of one shape, got {a.shape} and {b.shape}")
    return a / b - 1.0 if relative else a - b


def hierarchical_bootstrap(
    a: object,
    b: object,
    levels: tuple[float, ...] = (0.95, 0.90),
    n_boot: int = 10_000,
    seed: int = 0,
    relative: bool = False,
) -> dict[float, tuple[float, float]]:
    """Percentile intervals of the mean paired difference, resampling seeds then images.

    Each replicate draws ``n_seeds`` seeds and ``n_images`` images with replacement (the same
    draws for ``a`` and ``b``: pairs stay pairs) and averages the differences of the drawn
    cells. With ``relative=True`` the differences are ``a / b - 1``.

    Shape: ``a``, ``b``: ``(seeds, images)`` (or ``(seeds,)``).

    Returns:
        ``{level: (low, high)}``.
    """
    d = _differences(_as_scores(a, "a"), _as_scores(b, "b"), relative)
    rng = np.random.default_rng(seed)
    s, n = d.shape
    seeds = rng.integers(0, s, (n_boot, s))
    images = rng.integers(0, n, (n_boot, n))
    # mean over drawn images per seed, then over drawn seeds
    per_seed = d[:, images].mean(axis=2).T  # (n_boot, s)
    means = np.take_along_axis(per_seed, seeds, axis=1).mean(axis=1)
    out = {}
    for level in levels:
        lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
        out[level] = (float(lo), float(hi))
    return out


def _t_sf(t: float, df: int) -> float:
    from scipy import stats

    return float(stats.t.sf(t, df))


def paired_seed_test(a: object, b: object, relative: bool = False) -> tuple[float, float, float]:
    """Paired t-test of the per-seed mean difference against 0.

    Returns:
        ``(mean difference, two-sided p, dz)`` with ``dz = mean / sd`` of the per-seed
        differences (the standardised paired effect). Zero spread: ``p`` is 0 for a non-zero
        mean and 1 for a zero mean.
    """
    d = _differences(_as_scores(a, "a"), _as_scores(b, "b"), relative).mean(axis=1)
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    if sd == 0.0:
        return (
            mean,
            (1.0 if mean == 0.0 else 0.0),
            (0.0 if mean == 0.0 else math.copysign(math.inf, mean)),
        )
    t = mean / (sd / math.sqrt(d.size))
    return mean, min(1.0, 2 * _t_sf(abs(t), d.size - 1)), mean / sd


def tost(a: object, b: object, margin: float, relative: bool = False) -> float:
    """Two one-sided paired t-tests on the per-seed differences: p of equivalence within
    ``(-margin, +margin)`` (the larger of the two one-sided p-values)."""
    if not margin > 0:
        raise ValueError(f"expected margin > 0, got {margin!r}")
    d = _differences(_as_scores(a, "a"), _as_scores(b, "b"), relative).mean(axis=1)
    mean, sd, n = float(d.mean()), float(d.std(ddof=1)), d.size
    if sd == 0.0:
        return 0.0 if abs(mean) < margin else 1.0
    se = sd / math.sqrt(n)
    p_low = _t_sf((mean + margin) / se, n - 1)  # H0: diff <= -margin
    p_high = _t_sf((margin - mean) / se, n - 1)  # H0: diff >= +margin
    return max(p_low, p_high)


def holm(pvalues: object) -> np.ndarray:
    """Holm's step-down adjusted p-values (same order as given, capped at 1).

    Example:
        >>> holm([0.01, 0.04, 0.03]).round(4).tolist()
        [0.03, 0.06, 0.06]
    """
    p = np.asarray(pvalues, dtype=np.float64).ravel()
    m = p.size
    order = np.argsort(p, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, (m - rank) * p[i])
        adjusted[i] = min(1.0, running)
    return adjusted


@dataclass(frozen=True)
class Comparison:
    """Design ``name`` against ``reference`` on ``metric`` (differences ``name - reference``,
    or ``name / reference - 1`` for relative margins).

    Attributes:
        name, reference, metric: what is compared.
        n_seeds, n_images: the units.
        diff: mean paired difference (the effect size in the metric's units).
        ci95, ci90: hierarchical bootstrap intervals of ``diff``.
        dz: standardised paired seed-level effect (mean / sd of per-seed differences).
        p_diff, p_tost: raw seed-level p-values (difference, equivalence).
        margin: the equivalence margin used; higher_is_better: metric direction.
        p_diff_holm, p_tost_holm: Holm-adjusted within the family (NaN until
            :func:`adjust_family`).
    """

    name: str
    reference: str
    metric: str
    n_seeds: int
    n_images: int
    diff: float
    ci95: tuple[float, float]
    ci90: tuple[float, float]
    dz: float
    p_diff: float
    p_tost: float
    margin: float
    higher_is_better: bool
    relative: bool = False
    p_diff_holm: float = math.nan
    p_tost_holm: float = math.nan


def compare(
    name: str,
    a: object,
    reference: str,
    b: object,
    metric: str,
    n_boot: int = 10_000,
    seed: int = 0,
) -> Comparison:
    """All statistics of one comparison (margin and direction from :data:`MARGINS`)."""
    if metric not in MARGINS:
        raise ValueError(f"expected metric to be one of {list(MARGINS)}, got {metric!r}")
    m = MARGINS[metric]
    a_, b_ = _as_scores(a, "a"), _as_scores(b, "b")
    ci = hierarchical_bootstrap(a_, b_, (0.95, 0.90), n_boot, seed, m.relative)
    diff, p_diff, dz = paired_seed_test(a_, b_, m.relative)
    return Comparison(
        name,
        reference,
        metric,
        a_.shape[0],
        a_.shape[1],
        diff,
        ci[0.95],
        ci[0.90],
        dz,
        p_diff,
        tost(a_, b_, m.value, m.relative),
        m.value,
        m.higher_is_better,
        m.relative,
    )


def adjust_family(comparisons: list[Comparison]) -> list[Comparison]:
    """Holm-adjust a family: the difference p-values together, the TOST p-values together."""
    pd = holm([c.p_diff for c in comparisons])
    pt = holm([c.p_tost for c in comparisons])
    return [
        replace(c, p_diff_holm=float(x), p_tost_holm=float(y))
        for c, x, y in zip(comparisons, pd, pt)
    ]


def verdict(c: Comparison, alpha: float = ALPHA) -> str:
    """``better``, ``worse``, ``equivalent`` or ``inconclusive`` (module docstring: the rule).

    Raises:
        ValueError: the comparison was not Holm-adjusted (:func:`adjust_family`; a family of
            one is adjusted too).
    """
    if math.isnan(c.p_diff_holm) or math.isnan(c.p_tost_holm):
        raise ValueError(f"expected a Holm-adjusted comparison (adjust_family), got {c.name!r}")
    lo90, hi90 = c.ci90
    if c.p_tost_holm < alpha and -c.margin < lo90 and hi90 < c.margin:
        return "equivalent"
    lo, hi = c.ci95
    if c.p_diff_holm < alpha and (lo > 0 or hi < 0):
        up = lo > 0
        return "better" if up == c.higher_is_better else "worse"
    return "inconclusive"
