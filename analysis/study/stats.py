"""Statistics over seeds and test images: two-level bootstrap intervals and paired differences.

What does not live here: the per-image sums (:mod:`antialias.metrics`) and which sums are
summarised (:mod:`analysis.study.summary`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from antialias import metrics as M


def seed_image_stats(
    sums: np.ndarray,
    statistic: Callable[[np.ndarray], np.ndarray],
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, np.ndarray]:
    """Per-seed values, their mean and std over seeds, and a two-level bootstrap interval.

    Each resample draws seeds with replacement and, independently, test images with
    replacement (the same image draws for every seed: the seeds were tested on the same
    images), applies ``statistic`` to each drawn seed's summed image sums and averages over
    the drawn seeds. The interval is the percentile interval of those means, with the order
    statistics of :func:`antialias.metrics.bootstrap_ci` (no interpolation, so infinite PSNRs
    stay infinite); with one seed it equals that function's interval.

    Args:
        sums: per seed, per image sums; the trailing axes are what ``statistic`` reduces.
        statistic: summed sums ``(..., *sum_shape)`` -> values ``(...)`` (keeps leading axes).
        n_boot: resamples.
        seed: seed of the resampling.
        level: coverage.

    Returns:
        ``{"per_seed": (S, ...), "mean", "std" (NaN for one seed), "lo", "hi"}``.

    Shape:
        - sums: ``(S, N, ...)``
    """
    sums = np.asarray(sums, dtype=np.float64)
    if sums.ndim < 2:
        raise ValueError(f"expected sums of shape (seeds, images, ...), got {sums.shape}")
    n_s, n = sums.shape[:2]
    per_seed = np.asarray(statistic(sums.sum(1)), dtype=np.float64)
    with np.errstate(invalid="ignore"):
        mean = per_seed.mean(0)
        std = per_seed.std(0, ddof=1) if n_s > 1 else np.full_like(mean, np.nan)
    img = M.bootstrap_counts(n, n_boot, seed)  # (B, N)
    seeds = M.bootstrap_counts(n_s, n_boot, seed + 1) / n_s  # (B, S) weights
    resampled = np.tensordot(img, sums, axes=([1], [1]))  # (B, S, ...)
    values = np.asarray(statistic(resampled), dtype=np.float64)  # (B, S, out...)
    w = seeds.reshape(seeds.shape + (1,) * (values.ndim - 2))
    with np.errstate(invalid="ignore"):
        boot = np.where(w > 0, w * values, 0.0).sum(1)
    # the order statistics of antialias.metrics.bootstrap_ci (identical for one seed)
    boot = np.sort(boot, axis=0)
    i_lo = int(np.floor((1.0 - level) / 2.0 * n_boot))
    i_hi = min(int(np.ceil((1.0 + level) / 2.0 * n_boot)) - 1, n_boot - 1)
    return {"per_seed": per_seed, "mean": mean, "std": std, "lo": boot[i_lo], "hi": boot[i_hi]}


def paired_diff_stats(
    a: np.ndarray,
    b: np.ndarray,
    statistic: Callable[[np.ndarray], np.ndarray],
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, float]:
    """Difference of two variants' seed-mean statistics, with an interval paired over images.

    Both variants were tested on the same images, so each resample draws the images once for
    both (which cancels the image-to-image spread shared by the two); seeds are drawn
    independently per variant (different trainings). Same order statistics as
    :func:`seed_image_stats`.

    Shape:
        - a: ``(S_a, N, ...)``, b: ``(S_b, N, ...)``; the statistic must return scalars.

    Returns:
        ``{"diff", "lo", "hi"}``: mean over seeds of ``a`` minus that of ``b``, and the interval.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape[1:] != b.shape[1:]:
        raise ValueError(f"expected the same images for both, got {a.shape} and {b.shape}")
    img = M.bootstrap_counts(a.shape[1], n_boot, seed)

    def boot(x: np.ndarray, s: int) -> tuple[float, np.ndarray]:
        w = M.bootstrap_counts(x.shape[0], n_boot, s) / x.shape[0]
        vals = np.asarray(statistic(np.tensordot(img, x, axes=([1], [1]))), dtype=np.float64)
        with np.errstate(invalid="ignore"):
            means = np.where(w > 0, w * vals, 0.0).sum(1)
        return float(np.asarray(statistic(x.sum(1)), dtype=np.float64).mean()), means

    pa, ba = boot(a, seed + 1)
    pb, bb = boot(b, seed + 2)
    with np.errstate(invalid="ignore"):
        d = np.sort(ba - bb)
        diff = pa - pb
    i_lo = int(np.floor((1.0 - level) / 2.0 * n_boot))
    i_hi = min(int(np.ceil((1.0 + level) / 2.0 * n_boot)) - 1, n_boot - 1)
    return {"diff": float(diff), "lo": float(d[i_lo]), "hi": float(d[i_hi])}


def paired_table(
    sums: dict[str, np.ndarray], statistic: Callable, n_boot: int, seed: int
) -> dict[str, dict[str, dict[str, float]]]:
    """``table[a][b]``: :func:`paired_diff_stats` of every ordered pair of variants."""
    return {
        a: {b: paired_diff_stats(sums[a], sums[b], statistic, n_boot, seed) for b in sums if b != a}
        for a in sums
    }


def agreement_stat(c: np.ndarray) -> np.ndarray:
    """Label agreement of summed confusion matrices ``(..., K, K)``."""
    return M.agreement(M.agreement_from_confusion(c))


def dice_stat(c: np.ndarray) -> np.ndarray:
    """Foreground Dice of summed confusion matrices ``(..., 2, 2)``."""
    return M.dice(M.overlap_from_confusion(c))


def psnr_stat(s: np.ndarray) -> np.ndarray:
    """PSNR (dB, data range 1) of summed ``[sse, n]``."""
    return M.psnr(s, 1.0)


def mean_stat(s: np.ndarray) -> np.ndarray:
    """Mean of per-image values stored as ``[value, 1]``."""
    return M.mse(s)  # sum / count: the mean of per-image values stored as [value, 1]
