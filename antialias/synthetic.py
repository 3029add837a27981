"""Simulated fluorescence nuclei, BBBC005-style: one seed per image, so every image is an
independent test unit.

The generator follows the structure of BBBC005v1 (Broad Bioimage Benchmark Collection,
Ljosa et al., Nat. Methods 9:637, 2012), which was made with SIMCEP (Lehmussola et al.,
IEEE Trans. Med. Imaging 26:1010, 2007): a cell count per image, touching/clustered nuclei,
focus blur by a Gaussian filter, and sensor noise; the segmentation ground truth is the
in-focus object mask (BBBC005 gives ground truth for its in-focus images only). Per image:

1. **Count** ``n`` uniform in :attr:`NucleiParams.count`. BBBC005 has 1-100 cells per
   696 x 520 image (0.2-18 per 256 x 256); the default 5-30 per 256 x 256 reaches denser
   fields so that touching nuclei are common.
2. **Shapes**: ellipses, semi-major axis uniform in :attr:`~NucleiParams.semi_axis` pixels,
   aspect (minor / major) uniform in :attr:`~NucleiParams.aspect`, orientation uniform.
   BBBC005 matched its nuclei areas to the U2OS nuclei of BBBC006; the default (7-13 px,
   area about 100-500 px) is chosen to look alike at this tile size, not measured.
3. **Placement and touching**: with probability :attr:`~NucleiParams.cluster_probability`
   (BBBC005: 25%) a nucleus is put next to an already placed one, at a centre distance of
   0.8-1.05 times the sum of their semi-major axes (touching or slightly overlapping, as in
   clustered SIMCEP populations); otherwise uniformly in the image. Later nuclei occlude
   earlier ones in the instance labels; the binary mask is their union.
4. **Intensity**: background :attr:`~NucleiParams.background`; each nucleus a brightness
   uniform in [0.5, 1] times a smooth chromatin texture ``1 + t * g`` (``g``: unit-variance
   Gaussian noise low-passed with sigma 2 px, ``t`` = :attr:`~NucleiParams.texture`).
5. **Focus blur** exactly as BBBC005 describes it: a rotationally symmetric Gaussian of
   diameter ``d`` and sigma ``0.25 d`` (MATLAB ``fspecial('gaussian', d, d / 4)``; here
   ``scipy.ndimage.gaussian_filter`` truncated at radius ``d / 2``), ``d`` uniform in
   :attr:`~NucleiParams.blur_diameter` (BBBC005: 1-48; default 1-16, sigma <= 4 px, so that
   the in-focus mask remains a sensible target).
6. **Noise**: Poisson-Gaussian (Foi et al., IEEE Trans. Image Process. 17:1737, 2008): photon
   counts ``Poisson(peak * clean)`` with ``peak`` log-uniform in :attr:`~NucleiParams.photons`,
   scaled back by ``1 / peak``, plus Gaussian read noise of standard deviation
   :attr:`~NucleiParams.read_noise` (0.01 = BBBC005's CCD noise variance 0.0001 on [0, 1]).
7. **Normalisation** as the real ``nuclei`` task: the 1st/99.8th percentiles map to 0/1
   (:func:`antialias.data.normalize_percentile`).

Everything an image depends on is drawn from ``numpy.random.default_rng(seed)``: the same seed
gives the same image on every machine (up to the float32 rounding of scipy's filter), and two
seeds share nothing. Splits use disjoint seed ranges (:mod:`antialias.data`).

What does not live here: the task registry and splits (:mod:`antialias.data`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = ["NucleiParams", "SimulatedNuclei", "simulate_nuclei", "simulate_nuclei_set"]


@dataclass(frozen=True)
class NucleiParams:
    """Parameters of :func:`simulate_nuclei` (ranges are ``(low, high)``, both inclusive).

    Attributes:
        size: image side in pixels.
        count: number of nuclei per image.
        semi_axis: semi-major axis in pixels.
        aspect: minor / major axis ratio.
        cluster_probability: chance that a nucleus touches an already placed one.
        background: clean background level (nuclei peak at about 1).
        texture: relative amplitude of the chromatin texture.
        blur_diameter: BBBC005 focus-blur diameter ``d`` (sigma ``d / 4``), integers.
        photons: expected photon count at intensity 1 (log-uniform).
        read_noise: Gaussian read-noise standard deviation (clean range about 1).
    """

    size: int = 256
    count: tuple[int, int] = (5, 30)
    semi_axis: tuple[float, float] = (7.0, 13.0)
    aspect: tuple[float, float] = (0.6, 1.0)
    cluster_probability: float = 0.25
    background: float = 0.05
    texture: float = 0.15
    blur_diameter: tuple[int, int] = (1, 16)
    photons: tuple[float, float] = (30.0, 300.0)
    read_noise: float = 0.01

    def __post_init__(self) -> None:
        if not isinstance(self.size, int) or self.size < 16:
            raise ValueError(f"expected size an int >= 16, got {self.size!r}")
        for name in ("count", "semi_axis", "aspect", "blur_diameter", "photons"):
            lo, hi = getattr(self, name)
            if not (0 < lo <= hi):
                raise ValueError(f"expected {name} a range 0 < low <= high, got {(lo, hi)}")
        if not 0 <= self.cluster_probability <= 1:
            raise ValueError(
                f"expected cluster_probability in [0, 1], got {self.cluster_probability!r}"
            )


@dataclass(frozen=True)
class SimulatedNuclei:
    """One simulated image.

    Attributes:
        image: normalised noisy blurred image, float32.
        mask: in-focus foreground, int64 in {0, 1}.
        labels: in-focus instance labels, int32 (0 background; occluded parts lost).
        raw: the noisy blurred image before normalisation (photon units / peak), float32.
        meta: the drawn per-image parameters (``seed``, ``count``, ``blur_diameter``,
            ``photons``) and the :class:`NucleiParams`.

    Shape: every array ``(size, size)``.
    """

    image: np.ndarray
    mask: np.ndarray
    labels: np.ndarray
    meta: dict[str, Any]
    raw: np.ndarray


def _ellipse(
    yy: np.ndarray, xx: np.ndarray, cy: float, cx: float, a: float, b: float, theta: float
) -> np.ndarray:
    c, s = np.cos(theta), np.sin(theta)
    u = (xx - cx) * c + (yy - cy) * s
    v = -(xx - cx) * s + (yy - cy) * c
    return (u / a) ** 2 + (v / b) ** 2 <= 1.0


def _place(
    rng: np.random.Generator,
    placed: list[tuple[float, float, float]],
    a: float,
    size: int,
    p: float,
) -> tuple[float, float]:
    if placed and rng.random() < p:
        cy0, cx0, a0 = placed[int(rng.integers(len(placed)))]
        dist = (a + a0) * rng.uniform(0.8, 1.05)
        angle = rng.uniform(0, 2 * np.pi)
        cy, cx = cy0 + dist * np.sin(angle), cx0 + dist * np.cos(angle)
        return float(np.clip(cy, 0, size - 1)), float(np.clip(cx, 0, size - 1))
    return float(rng.uniform(0, size - 1)), float(rng.uniform(0, size - 1))


def simulate_nuclei(seed: int, params: NucleiParams | None = None) -> SimulatedNuclei:
    """Simulate one fluorescence-nuclei image from ``seed`` (module docstring: the model).

    Args:
        seed: non-negative int; the only source of randomness.
        params: generator parameters (default :class:`NucleiParams`).

    Returns:
        A :class:`SimulatedNuclei`.

    Example:
        >>> sim = simulate_nuclei(0, NucleiParams(size=64, count=(2, 3)))
        >>> sim.image.shape, sim.image.dtype.name, sorted(set(sim.mask.ravel().tolist()))
        ((64, 64), 'float32', [0, 1])
    """
    from scipy.ndimage import gaussian_filter

    from antialias.data import normalize_percentile

    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"expected seed a non-negative int, got {seed!r}")
    p = params or NucleiParams()
    rng = np.random.default_rng(seed)
    n = int(rng.integers(p.count[0], p.count[1] + 1))
    yy, xx = np.mgrid[0 : p.size, 0 : p.size].astype(np.float64)
    labels = np.zeros((p.size, p.size), np.int32)
    brightness = np.zeros((p.size, p.size), np.float64)
    placed: list[tuple[float, float, float]] = []
    for k in range(1, n + 1):
        a = rng.uniform(*p.semi_axis)
        b = a * rng.uniform(*p.aspect)
        cy, cx = _place(rng, placed, a, p.size, p.cluster_probability)
        theta, level = rng.uniform(0, np.pi), rng.uniform(0.5, 1.0)
        # only the bounding box of the ellipse (radius <= a) is evaluated
        r0, r1 = max(int(cy - a) - 1, 0), min(int(cy + a) + 2, p.size)
        c0, c1 = max(int(cx - a) - 1, 0), min(int(cx + a) + 2, p.size)
        box = (slice(r0, r1), slice(c0, c1))
        inside = _ellipse(yy[box], xx[box], cy, cx, a, b, theta)
        labels[box][inside] = k
        brightness[box][inside] = level
        placed.append((cy, cx, a))
    texture = gaussian_filter(rng.standard_normal((p.size, p.size)), 2.0)
    texture /= max(float(texture.std()), 1e-12)
    clean = np.where(
        labels > 0, brightness * np.clip(1 + p.texture * texture, 0, None), p.background
    )
    d = int(rng.integers(p.blur_diameter[0], p.blur_diameter[1] + 1))
    blurred = gaussian_filter(clean, sigma=d / 4, truncate=2.0, mode="reflect") if d > 1 else clean
    peak = float(np.exp(rng.uniform(np.log(p.photons[0]), np.log(p.photons[1]))))
    noisy = rng.poisson(np.clip(blurred, 0, None) * peak) / peak
    noisy = noisy + rng.normal(0.0, p.read_noise, noisy.shape)
    meta = {"seed": seed, "count": n, "blur_diameter": d, "photons": peak, "params": asdict(p)}
    mask = (labels > 0).astype(np.int64)
    return SimulatedNuclei(
        normalize_percentile(noisy), mask, labels, meta, noisy.astype(np.float32)
    )


def simulate_nuclei_set(
    seeds: list[int] | range, params: NucleiParams | None = None
) -> tuple[np.ndarray, np.ndarray, list[dict[str, Any]]]:
    """:func:`simulate_nuclei` for every seed: ``(images, masks, metas)``.

    Shape:
        - images: :math:`(N, size, size)` float32; masks: :math:`(N, size, size)` int64
    """
    sims = [simulate_nuclei(int(s), params) for s in seeds]
    return (
        np.stack([s.image for s in sims]),
        np.stack([s.mask for s in sims]),
        [s.meta for s in sims],
    )
