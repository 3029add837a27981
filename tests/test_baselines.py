"""Tests of antialias.baselines: per-image metrics against naive formulas, Otsu segmentation of
an easy image, TV/NLM improving PSNR, parameters chosen on val (never test)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from antialias import baselines
from antialias.data import TaskSplit


def test_per_image_metrics_match_naive_formulas() -> None:
    gen = torch.Generator().manual_seed(0)
    pred = (torch.rand(3, 16, 16, generator=gen) > 0.5).long()
    true = (torch.rand(3, 16, 16, generator=gen) > 0.4).long()
    m = baselines.per_image_metrics("segmentation", pred, true)
    for i in range(3):
        inter = float(((pred[i] == 1) & (true[i] == 1)).sum())
        a, b = float(pred[i].sum()), float(true[i].sum())
        assert m["dice"][i] == pytest.approx(2 * inter / (a + b), abs=1e-12)
        assert m["iou"][i] == pytest.approx(inter / (a + b - inter), abs=1e-12)
    out = torch.rand(3, 1, 8, 8, generator=gen)
    clean = torch.rand(3, 1, 8, 8, generator=gen)
    p = baselines.per_image_metrics("regression", out, clean)["psnr"]
    naive = [-10 * np.log10(float(((out[i] - clean[i]).double() ** 2).mean())) for i in range(3)]
    assert np.allclose(p, naive, atol=1e-9)
    with pytest.raises(ValueError, match="expected kind"):
        baselines.per_image_metrics("count", out, clean)


def test_gaussian_otsu_segments_a_noisy_disc() -> None:
    yy, xx = np.mgrid[:64, :64]
    disc = ((yy - 32) ** 2 + (xx - 30) ** 2 < 15**2).astype(np.int64)
    rng = np.random.default_rng(0)
    image = 0.2 + 0.6 * disc + rng.normal(0, 0.2, disc.shape)
    raw = baselines.segment_gaussian_otsu(image[None], 0.0)[0]
    smooth = baselines.segment_gaussian_otsu(image[None], 2.0)[0]
    err_raw, err_smooth = (raw != disc).mean(), (smooth != disc).mean()
    assert err_smooth < 0.02 < err_raw, (err_raw, err_smooth)


def _toy_split(split: str, kind: str, n: int, seed: int) -> TaskSplit:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:48, :48]
    clean = np.stack([0.5 + 0.3 * np.sign(np.sin(xx / (4 + i) + yy / 7)) for i in range(n)]).astype(
        np.float32
    )
    noisy = clean + rng.normal(0, 0.1, clean.shape).astype(np.float32)
    if kind == "segmentation":
        targets = torch.from_numpy((clean > 0.5).astype(np.int64))
    else:
        targets = torch.from_numpy(clean)[:, None]
    return TaskSplit(
        "toy",
        split,
        kind,
        torch.from_numpy(noisy)[:, None],
        targets,
        1.0,
        tuple(f"toy[{split} {i}]" for i in range(n)),
        0.1 if kind == "regression" else None,
        unit="image",
    )


def test_denoisers_beat_the_noisy_input_and_params_come_from_val() -> None:
    splits = {
        "val": _toy_split("val", "regression", 2, 1),
        "test": _toy_split("test", "regression", 3, 2),
    }
    res = baselines.evaluate_baselines("toy", loader=lambda t, s: splits[s])
    test = splits["test"]
    noisy_psnr = baselines.per_image_metrics("regression", test.images, test.targets)["psnr"]
    for name in ("tv", "nlm"):
        r = res["methods"][name]
        assert len(r["test"]["psnr"]) == 3 and r["test"]["sources"] == list(test.sources)
        assert all(p > q + 3 for p, q in zip(r["test"]["psnr"], noisy_psnr)), name
        assert r["param"] == r["grid"][int(np.argmax(r["val_scores"]))]
    assert res["unit"] == "image"
    # changing the *test* split does not change the chosen parameter; changing val can
    swapped = {"val": splits["val"], "test": dataclasses.replace(test, images=test.targets)}
    res2 = baselines.evaluate_baselines("toy", ("tv",), loader=lambda t, s: swapped[s])
    assert res2["methods"]["tv"]["param"] == res["methods"]["tv"]["param"]


def test_segmentation_baseline_on_toy_split() -> None:
    splits = {
        "val": _toy_split("val", "segmentation", 2, 3),
        "test": _toy_split("test", "segmentation", 2, 4),
    }
    res = baselines.evaluate_baselines("toy", loader=lambda t, s: splits[s])
    r = res["methods"]["gaussian_otsu"]
    assert min(r["test"]["dice"]) > 0.9 and r["param"] in baselines.GRIDS["gaussian_otsu"]
    with pytest.raises(ValueError, match="expected method"):
        baselines.evaluate_baselines("toy", ("unet",), loader=lambda t, s: splits[s])
