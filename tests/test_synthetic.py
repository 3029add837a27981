"""Tests of antialias.synthetic: seeding (same seed same image, different seeds independent),
the documented model (blur diameter -> sigma d/4, Poisson-Gaussian noise level, counts,
touching nuclei), masks, and argument checks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from antialias.synthetic import NucleiParams, simulate_nuclei, simulate_nuclei_set


def test_same_seed_same_image_and_different_seeds_differ() -> None:
    a, b = simulate_nuclei(7), simulate_nuclei(7)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.labels, b.labels)
    c = simulate_nuclei(8)
    assert not np.array_equal(a.mask, c.mask)
    # images from different seeds are uncorrelated at the pixel level (masks overlap by chance)
    r = np.corrcoef(a.image.ravel(), c.image.ravel())[0, 1]
    assert abs(r) < 0.2, f"correlation {r}"


def test_shapes_dtypes_mask_and_label_consistency() -> None:
    sim = simulate_nuclei(3)
    assert sim.image.shape == sim.mask.shape == sim.labels.shape == (256, 256)
    assert sim.image.dtype == np.float32 and sim.mask.dtype == np.int64
    assert np.array_equal(sim.mask, (sim.labels > 0).astype(np.int64))
    lo, hi = np.percentile(sim.image, [1, 99.8])
    assert abs(lo) < 1e-5 and abs(hi - 1) < 1e-5  # percentile normalisation
    visible = len(np.unique(sim.labels)) - 1
    assert 1 <= visible <= sim.meta["count"] <= 30
    assert 1 <= sim.meta["blur_diameter"] <= 16 and 30 <= sim.meta["photons"] <= 300


def test_nuclei_are_brighter_than_background_and_some_touch() -> None:
    images, masks, metas = simulate_nuclei_set(range(20))
    for img, m in zip(images, masks):
        assert img[m == 1].mean() > img[m == 0].mean() + 0.3
    # touching: at least one image has a connected foreground component holding > 1 nucleus
    touching = 0
    for seed in range(20):
        sim = simulate_nuclei(seed)
        comps, n = ndimage.label(sim.mask)
        for k in range(1, n + 1):
            if len(np.unique(sim.labels[comps == k])) > 1:
                touching += 1
    assert touching >= 10, f"only {touching} touching groups in 20 images"
    counts = [m["count"] for m in metas]
    assert min(counts) < 15 < max(counts), "density varies"


def test_noise_is_poisson_gaussian_with_the_stated_levels() -> None:
    # background far from the nuclei, no blur: variance = background / peak + read_noise**2
    for photons, read in ((50.0, 0.01), (400.0, 0.02)):
        p = NucleiParams(
            count=(1, 1), blur_diameter=(1, 1), photons=(photons, photons), read_noise=read
        )
        sim = simulate_nuclei(11, p)
        far = ndimage.binary_dilation(sim.mask, iterations=3) == 0
        values = sim.raw[far].astype(np.float64)
        expected = p.background / photons + read**2
        assert abs(values.mean() - p.background) < 0.005
        assert abs(values.var() / expected - 1) < 0.1, (values.var(), expected)


def test_blur_is_bbbc005_gaussian_sigma_quarter_diameter() -> None:
    # a sharp, noise-free image blurred by the generator equals scipy's Gaussian with d / 4
    kw = dict(size=96, count=(6, 6), photons=(1e9, 1e9), read_noise=0.0, texture=0.0)
    sharp = simulate_nuclei(5, NucleiParams(**kw, blur_diameter=(1, 1)))
    blurred = simulate_nuclei(5, NucleiParams(**kw, blur_diameter=(12, 12)))
    assert np.array_equal(sharp.labels, blurred.labels)
    ref = ndimage.gaussian_filter(sharp.image.astype(np.float64), 3.0, truncate=2.0)
    ref = (ref - np.percentile(ref, 1)) / (np.percentile(ref, 99.8) - np.percentile(ref, 1))
    err = np.abs(ref - blurred.image).max()
    assert err < 2e-3, f"max abs error {err}"  # photon noise at 1e9 photons and float32


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="expected seed a non-negative int"):
        simulate_nuclei(-1)
    with pytest.raises(ValueError, match="expected count a range"):
        NucleiParams(count=(5, 2))
    with pytest.raises(ValueError, match="expected cluster_probability in"):
        NucleiParams(cluster_probability=1.5)
