"""No-learning baselines on the same test units as the U-Nets, and the per-image metrics both use.

A U-Net result says something about up-samplers only if the U-Net beats what needs no training
(issue 12, item 5). Here:

- segmentation: Gaussian smoothing (sigma) + Otsu's threshold (:func:`segment_gaussian_otsu`);
- denoising: total variation (Chambolle; :func:`denoise_tv`) and non-local means
  (:func:`denoise_nlm`), both from scikit-image.

Every free parameter (Gaussian sigma, TV weight, NLM ``h``) is chosen on the *validation* split
from a grid declared here (:data:`GRIDS`), never on test; the chosen value and the validation
scores are returned with the test metrics. Metrics are per test image (the unit of
independence), computed with :mod:`antialias.metrics` by :func:`per_image_metrics`, which the
study-v2 runner also applies to U-Net outputs, so both sides are scored by one function.

What does not live here: training (:mod:`antialias.train`), statistics (:mod:`antialias.stats`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor

from antialias import metrics
from antialias.data import TaskSplit, load_split

__all__ = [
    "GRIDS",
    "denoise_nlm",
    "denoise_tv",
    "evaluate_baselines",
    "per_image_metrics",
    "segment_gaussian_otsu",
]

GRIDS: dict[str, tuple[float, ...]] = {
    "gaussian_otsu": (0.0, 0.5, 1.0, 1.5, 2.0, 3.0),  # Gaussian sigma in pixels (0: none)
    "tv": (0.02, 0.04, 0.06, 0.08, 0.1, 0.14, 0.2),  # denoise_tv_chambolle weight
    "nlm": (0.6, 0.8, 1.0, 1.2),  # h as a multiple of the noise sigma
}
"""Validation grids of the baselines' one free parameter each (declared before any result)."""


def per_image_metrics(kind: str, output: Tensor, target: Tensor, data_range: float = 1.0):
    """Per-image task metrics from :mod:`antialias.metrics` (float64 sums per image).

    Args:
        kind: ``"segmentation"`` (``output``: integer label map) or ``"regression"``.
        output: prediction; label map ``(N, H, W)`` or an image ``(N, C, H, W)``.
        target: ground truth of the same layout.
        data_range: PSNR range.

    Returns:
        ``{"dice": (N,), "iou": (N,)}`` (foreground class 1) or ``{"psnr": (N,)}``, numpy.
    """
    if kind == "segmentation":
        sums = metrics.overlap_sums(output.long(), target.long(), 2)
        return {"dice": metrics.dice(sums), "iou": metrics.iou(sums)}
    if kind == "regression":
        sums = metrics.squared_error_sums(output.double(), target.double())
        return {"psnr": metrics.psnr(sums, data_range)}
    raise ValueError(f"expected kind to be 'segmentation' or 'regression', got {kind!r}")


def segment_gaussian_otsu(images: np.ndarray, sigma: float) -> np.ndarray:
    """Foreground = Gaussian-smoothed image above its own Otsu threshold, per image.

    Shape: images ``(N, H, W)`` float -> ``(N, H, W)`` int64 in {0, 1}.
    """
    from skimage.filters import gaussian, threshold_otsu

    out = np.empty(images.shape, np.int64)
    for i, image in enumerate(images):
        smooth = gaussian(image.astype(np.float64), sigma) if sigma > 0 else image
        out[i] = smooth > threshold_otsu(smooth)
    return out


def denoise_tv(images: np.ndarray, weight: float) -> np.ndarray:
    """Chambolle total-variation denoising per image (``skimage``). Shape: ``(N, H, W)``."""
    from skimage.restoration import denoise_tv_chambolle

    return np.stack([denoise_tv_chambolle(im.astype(np.float64), weight=weight) for im in images])


def denoise_nlm(images: np.ndarray, h: float, sigma: float) -> np.ndarray:
    """Non-local means per image (``skimage``, fast mode, 5x5 patches, 13x13 search window,
    filter strength ``h * sigma`` with the known noise ``sigma``). Shape: ``(N, H, W)``."""
    from skimage.restoration import denoise_nl_means

    return np.stack(
        [
            denoise_nl_means(
                im.astype(np.float64),
                h=h * sigma,
                sigma=sigma,
                patch_size=5,
                patch_distance=6,
                fast_mode=True,
            )
            for im in images
        ]
    )


def _apply(method: str, split: TaskSplit, param: float) -> dict[str, np.ndarray]:
    images = split.images[:, 0].numpy()
    if method == "gaussian_otsu":
        pred = torch.from_numpy(segment_gaussian_otsu(images, param))
        return per_image_metrics("segmentation", pred, split.targets)
    if method == "tv":
        out = denoise_tv(images, param)
    else:
        out = denoise_nlm(images, param, float(split.noise_sigma))
    out_t = torch.from_numpy(out)[:, None]
    return per_image_metrics("regression", out_t, split.targets, split.data_range)


def _score(per_image: dict[str, np.ndarray]) -> float:
    return float(np.mean(per_image["psnr"] if "psnr" in per_image else per_image["dice"]))


def evaluate_baselines(
    task: str,
    methods: tuple[str, ...] | None = None,
    loader: Callable[[str, str], TaskSplit] = load_split,
    grids: dict[str, tuple[float, ...]] | None = None,
) -> dict[str, Any]:
    """Choose each baseline's parameter on val (mean per-image score), then score test.

    Args:
        task: a task of :data:`antialias.data.ALL_TASKS`.
        methods: default ``("gaussian_otsu",)`` for segmentation, ``("tv", "nlm")`` for
            regression.
        loader: ``(task, split) -> TaskSplit`` (tests pass small splits).
        grids: parameter grids (default :data:`GRIDS`).

    Returns:
        ``{"task", "unit", "kind", "methods": {name: {"param", "grid", "val_scores",
        "test": {"sources": [...], <metric>: [...]}, "test_mean": {<metric>: x}}}}``.
    """
    val, test = loader(task, "val"), loader(task, "test")
    if methods is None:
        methods = ("gaussian_otsu",) if test.kind == "segmentation" else ("tv", "nlm")
    grids = grids or GRIDS
    out: dict[str, Any] = {"task": task, "unit": test.unit, "kind": test.kind, "methods": {}}
    for method in methods:
        if method not in GRIDS:
            raise ValueError(f"expected method to be one of {list(GRIDS)}, got {method!r}")
        grid = grids[method]
        val_scores = [_score(_apply(method, val, p)) for p in grid]
        best = grid[int(np.argmax(val_scores))]  # first of equal scores
        per_image = _apply(method, test, best)
        out["methods"][method] = {
            "param": best,
            "grid": list(grid),
            "val_scores": val_scores,
            "test": {
                "sources": list(test.sources),
                **{k: v.tolist() for k, v in per_image.items()},
            },
            "test_mean": {k: float(np.mean(v)) for k, v in per_image.items()},
        }
    return out
