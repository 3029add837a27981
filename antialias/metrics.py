"""Equivariance and task metrics, all computed from per-image float64 sums.

Every metric here is a ratio of sums that are accumulated per image in float64. A data set's
value is the metric of the summed sums (pooled, "micro" averaging, as StyleGAN3's EQ-T); so
partial results from several processes (``torchrun``) or batches combine by adding their sums,
and a bootstrap over images resamples the per-image sums.

Sums (``*_sums``, torch in, float64 torch out, one row per image):

- :func:`agreement_sums` ``(N, 2)``: ``[n_equal, n_valid]`` between two label maps.
- :func:`overlap_sums` ``(N, K, 3)``: per class ``[intersection, count_a, count_b]``.
- :func:`squared_error_sums` ``(N, 2)``: ``[sum of masked squared error, mask count]``.
- :func:`confusion_sums` ``(N, K, K)``: the confusion matrix of two label maps, from which
  :func:`agreement_from_confusion` and :func:`overlap_from_confusion` give the two sums above
  (one ``bincount`` instead of a pass per class: what the shift analysis accumulates).

Statistics (numpy float64, last axes are the sums, any leading axes are kept):
:func:`agreement`, :func:`iou`, :func:`dice`, :func:`mse`, :func:`psnr`; :func:`eqt_psnr` is the
one-call EQ-T PSNR. :func:`bootstrap_ci` gives percentile confidence intervals over images;
:func:`band_masks` splits a frame into interior and border band.

Definitions:

- *label agreement* = fraction of valid pixels where the two label maps are equal. For circular
  shifts, ``agreement(argmax f(roll(x, r)), roll(argmax f(x), r))`` is exactly the mASSC of
  Learnable Polyphase Sampling (their ``roll(., -r)`` of the shifted prediction changes neither
  which pixels are compared nor the count).
- *IoU / Dice* per class ``k``: ``I / (A + B - I)`` and ``2 I / (A + B)`` from pooled sums; a
  class absent from both maps everywhere scores 1.0 (nothing to disagree on). The reported value
  is the mean over the chosen classes (default: every class except 0, the background).
- *EQ-T PSNR* exactly as StyleGAN3: ``(a - b)^2 * mask`` in the input precision, summed in
  float64, divided by the number of mask elements (the mask is broadcast over channels and
  counted per element), ``PSNR = 20 log10(data_range) - 10 log10(MSE)`` in dB. StyleGAN3's
  images span [-1, 1], i.e. ``data_range = 2``; an error of exactly zero gives ``+inf``.

What does not live here: the shift operators (:mod:`antialias.shifts`) and the analysis that runs
models (:mod:`antialias.consistency`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "agreement",
    "agreement_from_confusion",
    "agreement_sums",
    "band_masks",
    "BOOTSTRAP_SLICE_BYTES",
    "MAX_BOOTSTRAP_DRAWS",
    "bootstrap_ci",
    "bootstrap_counts",
    "confusion_sums",
    "dice",
    "eqt_psnr",
    "iou",
    "mse",
    "overlap_from_confusion",
    "overlap_sums",
    "psnr",
    "squared_error_sums",
]


def _labels(x: Tensor, name: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"expected {name} to be a torch.Tensor, got {type(x).__name__}")
    if torch.is_floating_point(x) or torch.is_complex(x):
        raise TypeError(f"expected integer labels for {name}, got dtype {x.dtype}")
    if x.ndim == 4 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 3:
        raise ValueError(
            f"expected {name} of shape (N, H, W) or (N, 1, H, W), got {tuple(x.shape)}"
        )
    return x


def _mask3(mask: Tensor | None, like: Tensor) -> Tensor:
    """Boolean mask broadcast to the labels' ``(N, H, W)``."""
    if mask is None:
        return torch.ones_like(like, dtype=torch.bool)
    if not isinstance(mask, Tensor):
        raise TypeError(f"expected mask to be a torch.Tensor or None, got {type(mask).__name__}")
    m = mask.to(torch.bool)
    if m.ndim == 4:
        if m.shape[1] != 1:
            raise ValueError(f"expected a mask with one channel, got shape {tuple(mask.shape)}")
        m = m[:, 0]
    try:
        return torch.broadcast_to(m, like.shape)
    except RuntimeError as err:
        raise ValueError(
            f"expected a mask broadcastable to {tuple(like.shape)}, got {tuple(mask.shape)}"
        ) from err


def _same_shape(a: Tensor, b: Tensor) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"expected a and b of the same shape, got {tuple(a.shape)} and {tuple(b.shape)}"
        )


def agreement_sums(a: Tensor, b: Tensor, mask: Tensor | None = None) -> Tensor:
    """Per image: number of valid pixels where two label maps agree, and of valid pixels.

    Args:
        a: integer label map.
        b: integer label map of the same shape.
        mask: valid pixels (``True``), broadcastable to ``(N, H, W)`` (``(1, 1, H, W)`` as the
            shift operators return it is fine); ``None``: all.

    Returns:
        float64 ``[n_equal, n_valid]`` per image.

    Shape:
        - a, b: ``(N, H, W)`` or ``(N, 1, H, W)``
        - output: ``(N, 2)``

    Example:
        >>> a = torch.tensor([[[0, 1, 1, 0]]])
        >>> agreement_sums(a, torch.tensor([[[0, 1, 0, 0]]])).tolist()
        [[3.0, 4.0]]
    """
    a, b = _labels(a, "a"), _labels(b, "b")
    _same_shape(a, b)
    m = _mask3(mask, a)
    equal = ((a == b) & m).flatten(1).sum(1, dtype=torch.float64)
    return torch.stack([equal, m.flatten(1).sum(1, dtype=torch.float64)], dim=1)


def overlap_sums(a: Tensor, b: Tensor, num_classes: int, mask: Tensor | None = None) -> Tensor:
    """Per image and class: ``[intersection, count in a, count in b]`` over valid pixels.

    Args:
        a: integer label map (prediction, or the reference prediction).
        b: integer label map (ground truth, or the shifted prediction).
        num_classes: ``K``; labels outside ``[0, K)`` count for no class.
        mask: valid pixels, as for :func:`agreement_sums`.

    Returns:
        float64 sums; feed them (summed over images) to :func:`iou` or :func:`dice`.

    Shape:
        - a, b: ``(N, H, W)`` or ``(N, 1, H, W)``
        - output: ``(N, K, 3)``

    Example:
        >>> a = torch.tensor([[[0, 1, 1, 0]]])
        >>> b = torch.tensor([[[0, 1, 0, 0]]])
        >>> overlap_sums(a, b, 2)[0, 1].tolist()
        [1.0, 2.0, 1.0]
    """
    a, b = _labels(a, "a"), _labels(b, "b")
    _same_shape(a, b)
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"expected num_classes a positive int, got {num_classes!r}")
    m = _mask3(mask, a)
    rows = []
    for k in range(num_classes):
        in_a, in_b = (a == k) & m, (b == k) & m
        rows.append(
            torch.stack(
                [
                    (in_a & in_b).flatten(1).sum(1, dtype=torch.float64),
                    in_a.flatten(1).sum(1, dtype=torch.float64),
                    in_b.flatten(1).sum(1, dtype=torch.float64),
                ],
                dim=1,
            )
        )
    return torch.stack(rows, dim=1)


def confusion_sums(a: Tensor, b: Tensor, num_classes: int, mask: Tensor | None = None) -> Tensor:
    """Per image: ``counts[n, i, j]`` = valid pixels with ``a == i`` and ``b == j``.

    Labels outside ``[0, K)`` count nowhere. Exact integer counts, returned as float64.

    Args:
        a: integer label map.
        b: integer label map of the same shape.
        num_classes: ``K``.
        mask: valid pixels, as for :func:`agreement_sums`.

    Shape:
        - a, b: ``(N, H, W)`` or ``(N, 1, H, W)``
        - output: ``(N, K, K)``

    Example:
        >>> a = torch.tensor([[[0, 1, 1, 0]]])
        >>> confusion_sums(a, torch.tensor([[[0, 1, 0, 0]]]), 2)[0].tolist()
        [[2.0, 0.0], [1.0, 1.0]]
    """
    a, b = _labels(a, "a"), _labels(b, "b")
    _same_shape(a, b)
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"expected num_classes a positive int, got {num_classes!r}")
    k = num_classes
    m = _mask3(mask, a) & (a >= 0) & (a < k) & (b >= 0) & (b < k)
    image = torch.arange(a.shape[0], device=a.device).view(-1, 1, 1)
    index = ((image * k + a) * k + b)[m]
    counts = torch.bincount(index, minlength=a.shape[0] * k * k)
    return counts.view(a.shape[0], k, k).to(torch.float64)


def agreement_from_confusion(confusion: np.ndarray | Tensor) -> np.ndarray:
    """:func:`agreement_sums` from confusion matrices: ``[trace, total]``.

    Shape:
        - confusion: ``(..., K, K)``; output: ``(..., 2)``
    """
    c = _np(confusion)
    return np.stack([np.trace(c, axis1=-2, axis2=-1), c.sum(axis=(-2, -1))], axis=-1)


def overlap_from_confusion(confusion: np.ndarray | Tensor) -> np.ndarray:
    """:func:`overlap_sums` from confusion matrices: per class ``[diagonal, row sum, col sum]``.

    Shape:
        - confusion: ``(..., K, K)``; output: ``(..., K, 3)``
    """
    c = _np(confusion)
    diag = np.diagonal(c, axis1=-2, axis2=-1)
    return np.stack([diag, c.sum(axis=-1), c.sum(axis=-2)], axis=-1)


def squared_error_sums(a: Tensor, b: Tensor, mask: Tensor | None = None) -> Tensor:
    """Per image: masked sum of squared errors and number of mask elements (StyleGAN3's EQ-T).

    As StyleGAN3 does, ``(a - b)^2 * mask`` is formed in the inputs' precision and then summed in
    float64; the mask is broadcast over channels, so the count is per element (``C`` per valid
    pixel).

    Args:
        a: reference (e.g. the shifted output of the unshifted input).
        b: the other tensor (e.g. the output of the shifted input), same shape.
        mask: valid pixels, broadcastable to ``a``; ``None``: all.

    Returns:
        float64 ``[sse, n]`` per image.

    Shape:
        - a, b: ``(N, C, H, W)``
        - mask: broadcastable, e.g. ``(1, 1, H, W)`` or ``(N, 1, H, W)``
        - output: ``(N, 2)``

    Example:
        >>> a = torch.zeros(1, 1, 2, 2)
        >>> squared_error_sums(a, a + 0.5).tolist()
        [[1.0, 4.0]]
    """
    for name, t in (("a", a), ("b", b)):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected {name} to be a torch.Tensor, got {type(t).__name__}")
        if t.ndim != 4:
            raise ValueError(f"expected {name} of shape (N, C, H, W), got {tuple(t.shape)}")
    _same_shape(a, b)
    if mask is None:
        m = torch.ones_like(a)
    else:
        try:
            m = torch.broadcast_to(mask.to(a.dtype), a.shape)
        except RuntimeError as err:
            raise ValueError(
                f"expected a mask broadcastable to {tuple(a.shape)}, got {tuple(mask.shape)}"
            ) from err
    err = (a - b).square() * m
    return torch.stack(
        [err.flatten(1).sum(1, dtype=torch.float64), m.flatten(1).sum(1, dtype=torch.float64)],
        dim=1,
    )


def _np(sums: np.ndarray | Tensor) -> np.ndarray:
    if isinstance(sums, Tensor):
        sums = sums.detach().cpu().numpy()
    return np.asarray(sums, dtype=np.float64)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def agreement(sums: np.ndarray | Tensor) -> np.ndarray:
    """Label agreement ``n_equal / n_valid`` from (summed) :func:`agreement_sums`; NaN if empty.

    Shape:
        - sums: ``(..., 2)``; output: ``(...)``

    Example:
        >>> float(agreement(np.array([3.0, 4.0])))
        0.75
    """
    s = _np(sums)
    return _ratio(s[..., 0], s[..., 1])


def _class_ratio(
    sums: np.ndarray | Tensor, classes: Sequence[int] | None, dice_: bool
) -> np.ndarray:
    s = _np(sums)
    if s.ndim < 2 or s.shape[-1] != 3:
        raise ValueError(f"expected overlap sums of shape (..., K, 3), got {s.shape}")
    k = s.shape[-2]
    if classes is None:
        classes = list(range(1, k)) if k > 1 else [0]
    classes = list(classes)
    if not classes or any(c < 0 or c >= k for c in classes):
        raise ValueError(f"expected classes in [0, {k}), got {classes}")
    inter, ca, cb = (s[..., classes, i] for i in range(3))
    num = 2.0 * inter if dice_ else inter
    den = ca + cb if dice_ else ca + cb - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        per_class = np.where(ca + cb > 0, num / np.where(den > 0, den, 1.0), 1.0)
    return per_class.mean(axis=-1)


def iou(sums: np.ndarray | Tensor, classes: Sequence[int] | None = None) -> np.ndarray:
    """Mean IoU ``I / (A + B - I)`` over ``classes`` from (summed) :func:`overlap_sums`.

    Args:
        sums: overlap sums.
        classes: classes to average; default every class but 0 (for two classes: the
            foreground). A class absent from both maps scores 1.0.

    Shape:
        - sums: ``(..., K, 3)``; output: ``(...)``

    Example:
        >>> float(iou(np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 1.0]])))
        0.5
    """
    return _class_ratio(sums, classes, dice_=False)


def dice(sums: np.ndarray | Tensor, classes: Sequence[int] | None = None) -> np.ndarray:
    """Mean Dice ``2 I / (A + B)`` over ``classes`` from (summed) :func:`overlap_sums`.

    Shape:
        - sums: ``(..., K, 3)``; output: ``(...)``

    Example:
        >>> round(float(dice(np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 1.0]]))), 6)
        0.666667
    """
    return _class_ratio(sums, classes, dice_=True)


def mse(sums: np.ndarray | Tensor) -> np.ndarray:
    """Mean squared error ``sse / n`` from (summed) :func:`squared_error_sums`; NaN if empty.

    Shape:
        - sums: ``(..., 2)``; output: ``(...)``
    """
    s = _np(sums)
    return _ratio(s[..., 0], s[..., 1])


def psnr(sums: np.ndarray | Tensor, data_range: float) -> np.ndarray:
    """PSNR in dB, ``20 log10(data_range) - 10 log10(sse / n)``; ``+inf`` for zero error.

    Args:
        sums: (summed) :func:`squared_error_sums`.
        data_range: peak-to-peak range of the data (StyleGAN3: 2 for images in [-1, 1]).

    Shape:
        - sums: ``(..., 2)``; output: ``(...)``

    Example:
        >>> float(psnr(np.array([1.0, 100.0]), data_range=1.0))
        20.0
    """
    if not np.isfinite(data_range) or data_range <= 0:
        raise ValueError(f"expected a positive finite data_range, got {data_range}")
    m = mse(sums)
    with np.errstate(divide="ignore"):
        return 20.0 * np.log10(float(data_range)) - 10.0 * np.log10(m)


def eqt_psnr(a: Tensor, b: Tensor, mask: Tensor | None, data_range: float) -> float:
    """EQ-T PSNR in dB of a batch, pooled over images as StyleGAN3 does.

    Shape:
        - a, b: ``(N, C, H, W)``; mask broadcastable to them.

    Example:
        >>> a = torch.zeros(2, 1, 4, 4)
        >>> eqt_psnr(a, a + 0.01, None, data_range=1.0)  # MSE 1e-4
        40.0...
    """
    return float(psnr(squared_error_sums(a, b, mask).sum(0), data_range))


def band_masks(
    height: int, width: int, border: int, device: torch.device | str | None = None
) -> tuple[Tensor, Tensor]:
    """Split an ``H x W`` frame into its interior and a border band ``border`` pixels wide.

    Returns:
        ``(interior, band)`` boolean masks, complementary; with ``border = 0`` the band is empty.

    Shape:
        - interior, band: ``(1, 1, H, W)``

    Example:
        >>> inner, band = band_masks(4, 5, 1)
        >>> int(inner.sum()), int(band.sum())
        (6, 14)
    """
    for name, v in (("height", height), ("width", width), ("border", border)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValueError(f"expected {name} a non-negative int, got {v!r}")
    inner = torch.zeros(1, 1, height, width, dtype=torch.bool, device=device)
    if height > 2 * border and width > 2 * border:
        inner[..., border : height - border, border : width - border] = True
    return inner, ~inner


#: Most resamples x items :func:`bootstrap_counts` draws (2**28: 2 GiB of float64 counts).
MAX_BOOTSTRAP_DRAWS = 2**28

#: Memory target of one streamed slice of :func:`bootstrap_ci` (resampled sums plus values).
BOOTSTRAP_SLICE_BYTES = 2**26


def bootstrap_counts(n_items: int, n_boot: int, seed: int = 0) -> np.ndarray:
    """How often each of ``n_items`` images is drawn in each of ``n_boot`` bootstrap resamples.

    Using the same counts for every metric makes their intervals come from the same resamples.
    ``n_boot * n_items`` is bounded by :data:`MAX_BOOTSTRAP_DRAWS` (checked before allocating).

    Returns:
        float64 counts, each row sums to ``n_items``.

    Shape:
        - output: ``(n_boot, n_items)``
    """
    for name, v in (("n_items", n_items), ("n_boot", n_boot)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"expected {name} to be an integer >= 1, got {v!r}")
    if n_boot * n_items > MAX_BOOTSTRAP_DRAWS:
        raise ValueError(
            f"expected n_boot x n_items <= {MAX_BOOTSTRAP_DRAWS}, got {n_boot} x {n_items}"
        )
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n_items, size=(n_boot, n_items))
    counts = np.zeros((n_boot, n_items), dtype=np.float64)
    np.add.at(counts, (np.arange(n_boot)[:, None], idx), 1.0)
    return counts


def _percentiles(values: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    values = np.sort(np.asarray(values, dtype=np.float64), axis=0)
    b = values.shape[0]
    lo = int(np.floor((1.0 - level) / 2.0 * b))
    hi = min(int(np.ceil((1.0 + level) / 2.0 * b)) - 1, b - 1)
    # copies: a view would keep the whole (n_boot, ...) array of a slice alive
    return values[lo].copy(), values[hi].copy()


def bootstrap_ci(
    per_image: np.ndarray | Tensor,
    statistic: Callable[[np.ndarray], np.ndarray],
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    counts: np.ndarray | None = None,
    kept_axes: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap confidence interval over images for a metric of pooled sums.

    Each resample draws ``N`` images with replacement, adds their sums and applies
    ``statistic`` (e.g. :func:`agreement` or ``lambda s: psnr(s, 1.0)``). The bounds are the
    order statistics at ``(1 - level) / 2`` and ``(1 + level) / 2`` (no interpolation, so
    ``+inf`` PSNRs stay ``+inf``).

    Memory: with ``kept_axes = k`` the first ``k`` axes after the image axis are ones the
    statistic keeps element-wise (shifts, regions: every statistic here keeps its leading
    axes), and the resamples are computed in slices along them of about
    :data:`BOOTSTRAP_SLICE_BYTES`, so memory does not grow with those axes x ``n_boot``. The
    resamples and the order statistics are the same as without slicing; each slice's sums are
    the same dot products over images (integer sums such as confusion counts are identical, a
    test checks float sums too).

    Args:
        per_image: per-image sums, images first.
        statistic: maps summed sums ``(n_boot, ...)`` to values ``(n_boot, ...)``.
        n_boot: number of resamples.
        level: coverage, in (0, 1).
        seed: seed of the resampling (numpy ``default_rng``).
        counts: precomputed :func:`bootstrap_counts` (overrides ``n_boot`` and ``seed``).
        kept_axes: how many leading axes of ``per_image[0]`` the statistic keeps (0: none;
            then the whole array is resampled at once).

    Returns:
        ``(low, high)``, each of the statistic's shape.

    Shape:
        - per_image: ``(N, ...)``; low, high: the statistic's per-resample shape.

    Example:
        >>> sums = np.array([[1.0, 1.0], [0.0, 1.0], [1.0, 1.0], [1.0, 1.0]])
        >>> lo, hi = bootstrap_ci(sums, agreement, n_boot=200)
        >>> bool(lo <= 0.75 <= hi)
        True
    """
    s = _np(per_image)
    if not 0.0 < level < 1.0:
        raise ValueError(f"expected 0 < level < 1, got {level}")
    if isinstance(kept_axes, bool) or not isinstance(kept_axes, int):
        raise TypeError(f"expected kept_axes to be an integer, got {kept_axes!r}")
    if not 0 <= kept_axes < s.ndim:
        raise ValueError(f"expected kept_axes in [0, {s.ndim - 1}], got {kept_axes}")
    if counts is None:
        counts = bootstrap_counts(s.shape[0], n_boot, seed)
    if counts.ndim != 2 or counts.shape[1] != s.shape[0]:
        raise ValueError(f"expected counts of shape (n_boot, {s.shape[0]}), got {counts.shape}")
    if kept_axes == 0 or s.size == 0:
        return _percentiles(statistic(np.tensordot(counts, s, axes=(1, 0))), level)
    kept = s.shape[1 : 1 + kept_axes]
    rest = s.shape[1 + kept_axes :]
    flat = s.reshape(s.shape[0], -1, *rest)  # (N, M, *rest)
    per_element = counts.shape[0] * max(1, int(np.prod(rest))) * 8 * 2
    step = max(1, BOOTSTRAP_SLICE_BYTES // per_element)
    lows, highs = [], []
    for start in range(0, flat.shape[1], step):
        part = np.tensordot(counts, flat[:, start : start + step], axes=(1, 0))
        lo, hi = _percentiles(statistic(part), level)
        lows.append(lo)
        highs.append(hi)
    lo, hi = np.concatenate(lows, axis=0), np.concatenate(highs, axis=0)
    return lo.reshape(*kept, *lo.shape[1:]), hi.reshape(*kept, *hi.shape[1:])
