"""Tests of antialias.stats on constructed data: each verdict, Holm changing a verdict, the
bootstrap resampling both levels, the t-test against scipy, TOST against its definition."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from antialias import stats


def _pair(diff: float, seed_sd: float, seed: int = 0, seeds: int = 5):
    rng = np.random.default_rng(seed)
    base = 0.9 + rng.normal(0, 0.02, 24)[None, :] + np.zeros((seeds, 1))
    noise = rng.normal(0, seed_sd, (seeds, 1)) + rng.normal(0, seed_sd / 4, (seeds, 24))
    return base + diff + noise, base


def _verdict(a, b, metric="dice"):
    (c,) = stats.adjust_family([stats.compare("a", a, "b", b, metric, n_boot=4000)])
    return stats.verdict(c), c


def test_margins_are_the_declared_ones() -> None:
    assert stats.MARGINS["dice"].value == 0.005 and stats.MARGINS["psnr"].value == 0.1
    assert stats.MARGINS["time"].value == 0.05 and stats.MARGINS["time"].relative
    assert not stats.MARGINS["time"].higher_is_better


def test_clearly_better_and_clearly_worse() -> None:
    a, b = _pair(0.03, 0.002)
    v, c = _verdict(a, b)
    assert v == "better" and c.ci95[0] > 0 and c.diff == pytest.approx(0.03, abs=0.003)
    v, _ = _verdict(b, a)
    assert v == "worse"
    # lower is better for time: a 30% slower design is worse
    slow, fast = np.full(5, 1.3) + np.arange(5) * 0.001, np.ones(5)
    v, c = _verdict(slow, fast, "time")
    assert v == "worse" and c.diff == pytest.approx(0.302, abs=0.003)


def test_equivalent_within_margin() -> None:
    a, b = _pair(0.0005, 0.0005)
    v, c = _verdict(a, b)
    assert v == "equivalent" and -0.005 < c.ci90[0] and c.ci90[1] < 0.005


def test_wide_interval_containing_zero_is_inconclusive_not_equivalent() -> None:
    a, b = _pair(0.0, 0.02)  # seed spread 4x the margin
    v, c = _verdict(a, b)
    assert c.ci95[0] < 0 < c.ci95[1]
    assert v == "inconclusive"


def test_significant_but_tiny_difference_is_equivalent() -> None:
    a, b = _pair(0.002, 0.0002)
    v, c = _verdict(a, b)
    assert c.p_diff < 0.05 and c.ci95[0] > 0  # detectable ...
    assert v == "equivalent"  # ... but inside the margin


def test_holm_changes_a_verdict() -> None:
    # per-seed differences with exact mean 0.01 and sd 0.006: t = 3.73 on 4 df, p = 0.020
    z = np.array([-2.0, -1.0, 0.0, 1.0, 2.0]) / np.sqrt(2.5)  # mean 0, sd 1
    b = 0.9 + np.random.default_rng(1).normal(0, 0.02, (1, 24)) + np.zeros((5, 1))
    a = b + (0.01 + 0.006 * z)[:, None]
    alone = stats.adjust_family([stats.compare("a", a, "b", b, "dice", n_boot=4000)])[0]
    assert alone.p_diff == pytest.approx(0.0204, abs=0.001)
    assert stats.verdict(alone) == "better"
    nulls = [stats.compare(f"n{k}", b + (0.006 * z)[:, None], "b", b, "dice") for k in range(4)]
    family = stats.adjust_family([stats.compare("a", a, "b", b, "dice", n_boot=4000), *nulls])
    assert family[0].p_diff_holm == pytest.approx(5 * alone.p_diff)
    assert stats.verdict(family[0]) == "inconclusive"


def test_verdict_requires_holm_adjustment() -> None:
    a, b = _pair(0.03, 0.002)
    with pytest.raises(ValueError, match="Holm-adjusted"):
        stats.verdict(stats.compare("a", a, "b", b, "dice", n_boot=100))


def test_holm_matches_the_definition() -> None:
    p = np.array([0.04, 0.001, 0.03, 0.2])
    # sorted: 0.001*4, 0.03*3, 0.04*2, 0.2*1, made monotone
    expected = {1: 0.004, 2: 0.09, 0: 0.09, 3: 0.2}
    got = stats.holm(p)
    for i, v in expected.items():
        assert got[i] == pytest.approx(v)


def test_paired_seed_test_matches_scipy() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.normal(0.9, 0.01, (6, 10)), rng.normal(0.9, 0.01, (6, 10))
    mean, p, dz = stats.paired_seed_test(a, b)
    ref = sps.ttest_rel(a.mean(1), b.mean(1))
    assert p == pytest.approx(ref.pvalue, rel=1e-10)
    d = a.mean(1) - b.mean(1)
    assert mean == pytest.approx(d.mean()) and dz == pytest.approx(d.mean() / d.std(ddof=1))


def test_tost_is_the_larger_one_sided_p() -> None:
    rng = np.random.default_rng(6)
    a, b = rng.normal(0.9, 0.002, (5, 3)), rng.normal(0.9, 0.002, (5, 3))
    d = a.mean(1) - b.mean(1)
    lower = sps.ttest_1samp(d, -0.005, alternative="greater").pvalue
    upper = sps.ttest_1samp(d, 0.005, alternative="less").pvalue
    assert stats.tost(a, b, 0.005) == pytest.approx(max(lower, upper), rel=1e-10)


def test_bootstrap_resamples_images_as_well_as_seeds() -> None:
    # identical seeds (no training variance) but image-level differences: the interval must
    # still have width (a seed-only bootstrap would give a single point)
    rng = np.random.default_rng(7)
    per_image = rng.normal(0.0, 0.01, 30)
    a = 0.5 + np.tile(per_image, (5, 1))
    b = np.full((5, 30), 0.5)
    lo, hi = stats.hierarchical_bootstrap(a, b, (0.95,), 4000)[0.95]
    assert hi - lo > 0.003 and lo < per_image.mean() < hi
    # ... and seeds: identical images but seed spread
    a2 = 0.5 + rng.normal(0, 0.01, (5, 1)) + np.zeros((5, 30))
    lo2, hi2 = stats.hierarchical_bootstrap(a2, b, (0.95,), 4000)[0.95]
    assert hi2 - lo2 > 0.003


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="expected a of shape"):
        stats.compare("a", [1.0], "b", [1.0], "dice")
    with pytest.raises(ValueError, match="expected metric"):
        stats.compare("a", [1.0, 2.0], "b", [1.0, 2.0], "f1")
    with pytest.raises(ValueError, match="paired arrays"):
        stats.paired_seed_test(np.ones((3, 2)), np.ones((3, 4)))
    with pytest.raises(ValueError, match="finite"):
        stats.tost([1.0, math.nan], [1.0, 1.0], 0.1)
