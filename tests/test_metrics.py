"""Metrics: naive references here, scikit-learn as a second reference, StyleGAN3's formula."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import f1_score, jaccard_score

from antialias.metrics import (
    agreement,
    agreement_from_confusion,
    agreement_sums,
    band_masks,
    bootstrap_ci,
    bootstrap_counts,
    confusion_sums,
    dice,
    eqt_psnr,
    iou,
    mse,
    overlap_from_confusion,
    overlap_sums,
    psnr,
    squared_error_sums,
)


def _labels(n: int, h: int, w: int, k: int = 2) -> torch.Tensor:
    return torch.randint(0, k, (n, h, w))


def test_agreement_matches_naive_with_mask() -> None:
    a, b = _labels(3, 7, 9), _labels(3, 7, 9)
    mask = torch.rand(1, 1, 7, 9) > 0.3
    s = agreement_sums(a, b, mask)
    assert s.dtype == torch.float64 and s.shape == (3, 2)
    an, bn, mn = a.numpy(), b.numpy(), mask[0, 0].numpy()
    for i in range(3):
        assert s[i, 0] == np.sum((an[i] == bn[i]) & mn) and s[i, 1] == mn.sum()
    pooled = float(agreement(s.sum(0)))
    naive = sum(np.sum((an[i] == bn[i]) & mn) for i in range(3)) / (3 * mn.sum())
    assert abs(pooled - naive) < 1e-15


def test_agreement_is_the_lps_massc_for_circular_shifts() -> None:
    """mASSC: mean pixel accuracy of argmax f(x) vs roll(argmax f(roll(x, r)), -r)."""
    n, h, w = 4, 8, 10
    pred = _labels(n, h, w, k=3)  # argmax f(x)
    pred_shift = _labels(n, h, w, k=3)  # argmax f(roll(x, r)), an arbitrary model
    r = (3, -2)
    massc = np.mean(
        [
            np.mean(pred[i].numpy() == np.roll(pred_shift[i].numpy(), (-r[0], -r[1]), (0, 1)))
            for i in range(n)
        ]
    )
    ours = float(agreement(agreement_sums(pred_shift, torch.roll(pred, r, (-2, -1))).sum(0)))
    assert abs(ours - massc) < 1e-15, f"abs error {abs(ours - massc)}"


@pytest.mark.parametrize("k", [2, 4])
def test_iou_dice_match_sklearn(k: int) -> None:
    a, b = _labels(3, 9, 11, k), _labels(3, 9, 11, k)
    s = overlap_sums(a, b, k).sum(0)
    classes = list(range(1, k))
    ref_iou = jaccard_score(b.flatten(), a.flatten(), labels=classes, average="macro")
    ref_dice = f1_score(b.flatten(), a.flatten(), labels=classes, average="macro")
    assert abs(float(iou(s)) - ref_iou) < 1e-12
    assert abs(float(dice(s)) - ref_dice) < 1e-12
    # naive per-class counts
    for c in range(k):
        ia, ib = (a == c).numpy(), (b == c).numpy()
        assert s[c].tolist() == [float((ia & ib).sum()), float(ia.sum()), float(ib.sum())]


def test_iou_dice_conventions() -> None:
    empty = np.array([[10.0, 10.0, 10.0], [0.0, 0.0, 0.0]])  # no foreground in either map
    assert float(iou(empty)) == 1.0 and float(dice(empty)) == 1.0
    disjoint = np.array([[0.0, 1.0, 1.0], [0.0, 3.0, 2.0]])
    assert float(iou(disjoint)) == 0.0 and float(dice(disjoint)) == 0.0
    with pytest.raises(ValueError, match="expected classes in"):
        iou(disjoint, classes=[2])


def _stylegan3_psnr(ref: torch.Tensor, img: torch.Tensor, mask: torch.Tensor, rng: float):
    """StyleGAN3 metrics/equivariance.py, with its 20 log10(2) replaced by 20 log10(range)."""
    mask = mask.to(ref.dtype).expand_as(ref)
    s = torch.stack([x.to(torch.float64).sum() for x in [(ref - img).square() * mask, mask]])
    m = s[0] / s[1]
    return (np.log10(rng) * 20 - m.log10() * 10).item()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_psnr_is_stylegan3_eqt(dtype: torch.dtype) -> None:
    ref = torch.rand(3, 2, 10, 12, dtype=dtype) * 2 - 1
    img = ref + 0.01 * torch.randn_like(ref)
    mask = torch.zeros(1, 1, 10, 12, dtype=torch.bool)
    mask[..., 2:9, 1:10] = True
    ours = eqt_psnr(ref, img, mask, data_range=2.0)
    theirs = _stylegan3_psnr(ref, img, mask, 2.0)
    assert abs(ours - theirs) < 1e-12, f"abs error {abs(ours - theirs)}"
    s = squared_error_sums(ref, img, mask)
    assert s.dtype == torch.float64
    assert s[:, 1].tolist() == [2 * 7 * 9.0] * 3  # the mask counts per element (channels)
    # per-image sums reduce: two halves added give the pooled value exactly
    halves = squared_error_sums(ref[:1], img[:1], mask).sum(0) + squared_error_sums(
        ref[1:], img[1:], mask
    ).sum(0)
    assert float(psnr(halves, 2.0)) == float(psnr(s.sum(0), 2.0))
    assert abs(float(mse(s.sum(0))) - 10 ** (-_stylegan3_psnr(ref, img, mask, 1.0) / 10)) < 1e-15


def test_psnr_edge_cases() -> None:
    x = torch.rand(2, 1, 4, 4)
    assert eqt_psnr(x, x.clone(), None, 1.0) == math.inf
    assert math.isnan(float(mse(np.array([0.0, 0.0]))))
    with pytest.raises(ValueError, match="expected a positive finite data_range"):
        psnr(np.array([1.0, 1.0]), 0.0)


def test_band_masks() -> None:
    inner, band = band_masks(10, 12, 3)
    assert torch.equal(inner, ~band) and inner.shape == (1, 1, 10, 12)
    assert int(inner.sum()) == 4 * 6
    assert inner[0, 0, 3:7, 3:9].all()
    inner0, band0 = band_masks(5, 5, 0)
    assert inner0.all() and not band0.any()
    inner_all, _ = band_masks(4, 4, 2)
    assert not inner_all.any()


def test_bootstrap_matches_naive_loop() -> None:
    rng0 = np.random.default_rng(1)
    per_image = np.stack([rng0.integers(50, 100, 20), np.full(20, 100)], axis=1).astype(float)
    lo, hi = bootstrap_ci(per_image, agreement, n_boot=300, seed=7)
    rng = np.random.default_rng(7)
    idx = rng.integers(0, 20, size=(300, 20))
    vals = np.sort([per_image[i, 0].sum() / per_image[i, 1].sum() for i in idx])
    assert lo == vals[int(np.floor(0.025 * 300))] and hi == vals[int(np.ceil(0.975 * 300)) - 1]
    point = float(agreement(per_image.sum(0)))
    assert lo < point < hi
    # same seed, same interval; the counts are shared between metrics
    counts = bootstrap_counts(20, 300, seed=7)
    assert np.array_equal(counts.sum(1), np.full(300, 20.0))
    lo2, hi2 = bootstrap_ci(per_image, agreement, counts=counts)
    assert lo2 == lo and hi2 == hi


def test_bootstrap_keeps_extra_axes_and_infinite_psnr() -> None:
    per_image = np.zeros((5, 3, 2))
    per_image[..., 1] = 16.0
    per_image[:, 1, 0] = np.arange(5.0)  # one shift with errors, two exact
    lo, hi = bootstrap_ci(per_image, lambda s: psnr(s, 1.0), n_boot=100)
    assert lo.shape == (3,) and np.isinf(lo[0]) and np.isinf(hi[2])
    assert np.isfinite(lo[1]) and lo[1] <= hi[1]


def test_bad_input() -> None:
    a = _labels(1, 4, 4)
    with pytest.raises(TypeError, match="expected integer labels"):
        agreement_sums(a.float(), a)
    with pytest.raises(ValueError, match="expected a and b of the same shape"):
        agreement_sums(a, _labels(1, 4, 5))
    with pytest.raises(ValueError, match="expected a mask broadcastable"):
        agreement_sums(a, a, torch.ones(1, 1, 3, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"expected a of shape \(N, C, H, W\)"):
        squared_error_sums(torch.zeros(4, 4), torch.zeros(4, 4))
    with pytest.raises(ValueError, match="expected num_classes"):
        overlap_sums(a, a, 0)


@pytest.mark.parametrize("k", [2, 3])
def test_confusion_sums_give_the_same_sums(k: int) -> None:
    a, b = _labels(4, 6, 7, k), _labels(4, 6, 7, k)
    a[0, 0, 0] = k + 1  # out of range: counted nowhere
    mask = torch.rand(4, 1, 6, 7) > 0.4
    conf = confusion_sums(a, b, k, mask)
    valid = mask[:, 0] & (a < k)
    assert np.array_equal(agreement_from_confusion(conf), agreement_sums(a, b, valid).numpy())
    assert np.array_equal(overlap_from_confusion(conf), overlap_sums(a, b, k, valid).numpy())
    for n in range(4):  # naive
        for i in range(k):
            for j in range(k):
                assert conf[n, i, j] == ((a[n] == i) & (b[n] == j) & valid[n]).sum()


def _unsliced_ci(per_image: np.ndarray, statistic, counts: np.ndarray, level: float = 0.95):
    """The bootstrap written out in one piece: resample everything, sort, pick two ranks."""
    values = np.sort(statistic(np.tensordot(counts, per_image, axes=(1, 0))), axis=0)
    b = values.shape[0]
    lo = int(np.floor((1.0 - level) / 2.0 * b))
    hi = min(int(np.ceil((1.0 + level) / 2.0 * b)) - 1, b - 1)
    return values[lo], values[hi]


@pytest.mark.parametrize("slice_bytes", [1, 5000, 2**26])
def test_streamed_bootstrap_equals_the_unsliced_one(monkeypatch, slice_bytes: int) -> None:
    import antialias.metrics as M

    monkeypatch.setattr(M, "BOOTSTRAP_SLICE_BYTES", slice_bytes)
    rng = np.random.default_rng(0)
    counts = bootstrap_counts(7, 300, seed=3)
    confusion = rng.integers(0, 50, (7, 13, 3, 2, 2)).astype(np.float64)  # (N, S, regions, K, K)

    def agree(c):
        return agreement(agreement_from_confusion(c))

    want = _unsliced_ci(confusion, agree, counts)
    got = bootstrap_ci(confusion, agree, counts=counts, kept_axes=2)
    for g, w in zip(got, want):
        assert g.shape == (13, 3) and np.array_equal(g, w), np.abs(g - w).max()
    se = np.stack([rng.random((7, 13, 3)), np.full((7, 13, 3), 64.0)], -1)  # float sums

    def peak(s):
        return psnr(s, 1.0)

    want = _unsliced_ci(se, peak, counts)
    got = bootstrap_ci(se, peak, counts=counts, kept_axes=2)
    for g, w in zip(got, want):
        err = np.abs(g - w).max()
        assert np.allclose(g, w, rtol=1e-14, atol=0), f"max abs error {err}"


def test_streamed_bootstrap_memory_does_not_grow_with_shifts_times_resamples() -> None:
    import tracemalloc

    # 4096 shifts x 4000 resamples: the unsliced resampled sums alone would be 1.5 GiB
    per_image = np.ones((4, 4096, 3, 2, 2))
    counts = bootstrap_counts(4, 4000, seed=0)
    tracemalloc.start()
    try:
        lo, hi = bootstrap_ci(
            per_image, lambda c: agreement(agreement_from_confusion(c)), counts=counts, kept_axes=2
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert lo.shape == (4096, 3) and np.all(lo == 0.5) and np.all(hi == 0.5)
    assert peak < 256 * 2**20, f"peak {peak / 2**20:.0f} MiB"


def test_bootstrap_sizes_are_bounded_before_allocating() -> None:
    with pytest.raises(ValueError, match="n_boot x n_items"):
        bootstrap_counts(1000, 10**9)
    with pytest.raises(ValueError, match="kept_axes"):
        bootstrap_ci(np.ones((3, 2)), agreement, n_boot=5, kept_axes=2)
