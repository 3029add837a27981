"""Transposed-conv weights in 1, 2 or 3 spatial dimensions: polyphase gains and checkerboard.

What lives here: :func:`polyphase_components_nd` (the ``prod(stride)`` sub-kernels of a
``ConvTranspose1d/2d/3d`` weight, per-axis strides, dilation folded in),
:func:`phase_gains_nd` (their DC gains), :func:`checkerboard_index_nd` (response at the images
of DC relative to DC), and :func:`score_transposed_convs` (every transposed conv of a model,
e.g. the 3-D deconvs of MONAI's ``UNet(spatial_dims=3)``, scored; a warning when there is
none); measuring a whole module: :func:`impulse_response_nd` (its effective taps from
impulses, with linearity and periodic shift-invariance checks, per-axis ``up`` / ``down``)
and :func:`frequency_response_nd` (the DTFT of N-D taps on a grid). What does not: the 2-D
frequency responses and filter measures (:mod:`antialias.spectral`, whose
``polyphase_components``, ``checkerboard_index`` and ``impulse_response`` these functions
equal in 2-D with equal factors: tested).

Phase convention (``torch.nn.ConvTranspose3d``'s, per axis): ``output[o] = sum_i x[i]
w[o - stride*i + padding]``. The full output ``z[o] = output[o - padding]`` has phase
``r = o mod stride`` (output ``o`` of the layer: ``(o + padding) mod stride``) and
``z[stride*m + r] = sum_j g_r[j] x[m - j]`` with ``g_r[j] = w[stride*j + r]``. A constant
input ``c`` gives ``z = G_r c`` in phase ``r``, with ``G_r = sum_j g_r[j]`` (a ``C_in x C_out``
matrix): flat output only when all ``G_r`` are equal. Frequencies in cycles/sample (Nyquist
= 0.5): the images of DC after zero insertion sit at ``(k_1/s_1, ..., k_d/s_d) != 0``, where
``H(k) = sum_r exp(-2j pi sum_d k_d r_d / s_d) G_r``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product

import numpy as np
import torch
from torch import nn

from antialias._checks import check_int

__all__ = [
    "ImpulseResponseNd",
    "TransposedScore",
    "checkerboard_index_nd",
    "frequency_response_nd",
    "impulse_response_nd",
    "phase_gains_nd",
    "polyphase_components_nd",
    "score_transposed_convs",
]

ArrayLike = torch.Tensor | np.ndarray | Sequence


def _weight(weight: object) -> np.ndarray:
    """A finite real ``(C_in, C_out, *k)`` float64 array with 1 to 3 spatial axes."""
    if isinstance(weight, torch.Tensor):
        weight = weight.detach().cpu().to(torch.float64).numpy()
    try:
        w = np.asarray(weight)
    except (TypeError, ValueError) as err:
        raise TypeError(f"expected weight as an array of real numbers, got {weight!r:.60}") from err
    if w.dtype.kind not in "iuf":
        raise TypeError(f"expected weight as real numbers, got dtype {w.dtype}")
    if w.ndim not in (3, 4, 5) or w.size == 0:
        raise ValueError(
            "expected weight of shape (C_in, C_out, *kernel) with 1 to 3 spatial axes, "
            f"got shape {tuple(w.shape)}"
        )
    w = w.astype(np.float64)
    if not np.all(np.isfinite(w)):
        raise ValueError("expected a finite weight, got NaN or inf")
    return w


def _per_axis(name: str, value: object, dims: int) -> tuple[int, ...]:
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != dims:
            raise ValueError(
                f"expected {name} to be an integer or {dims} integers (one per spatial axis), "
                f"got {value!r}"
            )
        return tuple(check_int(name, v, minimum=1) for v in value)
    return (check_int(name, value, minimum=1),) * dims


def _dilate(w: np.ndarray, dilation: tuple[int, ...]) -> np.ndarray:
    """The dense kernel of a dilated one: tap ``m`` at position ``m * dilation``."""
    if all(d == 1 for d in dilation):
        return w
    shape = [(k - 1) * d + 1 for k, d in zip(w.shape[2:], dilation)]
    out = np.zeros(w.shape[:2] + tuple(shape))
    out[(..., *(slice(None, None, d) for d in dilation))] = w
    return out


def polyphase_components_nd(
    weight: ArrayLike, stride: int | Sequence[int], dilation: int | Sequence[int] = 1
) -> np.ndarray:
    """The polyphase sub-kernels of a transposed-conv weight, one per output phase.

    Component ``r = (r_1, ..., r_d)`` is ``g_r[j] = w[s_1 j_1 + r_1, ..., s_d j_d + r_d]``
    (module docstring), zero-padded at the end to ``ceil(k_d / s_d)`` taps per axis.

    Args:
        weight: ``ConvTranspose{1,2,3}d.weight``, layout ``(C_in, C_out/groups, *kernel)``.
        stride: an int or one per spatial axis.
        dilation: an int or one per spatial axis (folded into a dense kernel first).

    Returns:
        float64 array indexed ``[r_1, ..., r_d]``, each a ``(C_in, C_out, *ceil(k/s))`` weight.

    Shape:
        - weight: ``(C_in, C_out, *k)``
        - output: ``(*s, C_in, C_out, *ceil(k_d / s_d))``

    Example:
        >>> w = np.arange(8.0).reshape(1, 1, 2, 2, 2)
        >>> polyphase_components_nd(w, (2, 1, 2))[1, 0, 0, 0, 0].tolist()  # D row 1, W col 0
        [[[4.0], [6.0]]]
    """
    w = _weight(weight)
    dims = w.ndim - 2
    strides = _per_axis("stride", stride, dims)
    w = _dilate(w, _per_axis("dilation", dilation, dims))
    ks = [-(-k // s) for k, s in zip(w.shape[2:], strides)]
    padded = np.zeros(w.shape[:2] + tuple(k * s for k, s in zip(ks, strides)))
    padded[(..., *(slice(0, k) for k in w.shape[2:]))] = w
    # (C_in, C_out, K_1, s_1, ..., K_d, s_d) -> (s_1, ..., s_d, C_in, C_out, K_1, ..., K_d)
    split = padded.reshape(w.shape[:2] + tuple(v for k, s in zip(ks, strides) for v in (k, s)))
    order = [3 + 2 * d for d in range(dims)] + [0, 1] + [2 + 2 * d for d in range(dims)]
    return np.ascontiguousarray(split.transpose(order))


def phase_gains_nd(
    weight: ArrayLike, stride: int | Sequence[int], dilation: int | Sequence[int] = 1
) -> np.ndarray:
    """DC gain ``G_r`` (sum of taps) of every output phase: shape ``(*s, C_in, C_out)``.

    On a constant input ``c`` (per input channel), away from the borders, phase ``r`` of
    output channel ``o`` equals ``sum_i c_i G_r[i, o]``.

    Example:
        >>> phase_gains_nd(np.ones((1, 1, 3, 3, 3)), 2)[..., 0, 0][:, :, 0].tolist()
        [[8.0, 4.0], [4.0, 2.0]]
    """
    parts = polyphase_components_nd(weight, stride, dilation)
    dims = (parts.ndim - 2) // 2
    return parts.sum(axis=tuple(range(parts.ndim - dims, parts.ndim)))


def _root(k: int, s: int) -> complex:
    """``exp(-2j pi k / s)``, exactly 1, -1, +-1j where those are the values."""
    z = complex(np.exp(-2j * np.pi * k / s))
    re = 0.0 if abs(z.real) < 1e-15 else z.real
    im = 0.0 if abs(z.imag) < 1e-15 else z.imag
    return complex(re, im)


def checkerboard_index_nd(
    weight: ArrayLike,
    stride: int | Sequence[int],
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
) -> float:
    """Response at the images of DC relative to DC: ``max_k ||H(k)||_2 / ||H(0)||_2``.

    ``H(k)`` (module docstring) is a ``C_in x C_out`` matrix per image frequency ``k`` (block
    diagonal over ``groups``), ``||.||_2`` its operator norm: the worst case over input channel
    mixtures. 0 exactly (to rounding) when all phases have equal DC gains; for a constant input
    the output's peak-to-mean modulation at each image is this ratio. Strides of 1 have no
    images: 0.

    Args:
        weight: ``(C_in, C_out/groups, *kernel)``, 1 to 3 spatial axes.
        stride: an int or one per axis (anisotropic deconvs: ``(1, 2, 2)``).
        dilation: an int or one per axis.
        groups: the layer's groups (``C_in`` divisible by it).

    Returns:
        The index, >= 0; ``inf`` when ``H(0) = 0`` but an image does not vanish, ``nan`` when
        both vanish.

    Example:
        >>> checkerboard_index_nd(np.ones((1, 1, 2, 2, 2)), 2)  # nearest: flat
        0.0
        >>> round(checkerboard_index_nd(np.ones((1, 1, 3, 3, 3)), 2), 4)  # 3x3x3 stride 2
        0.3333
    """
    gains = phase_gains_nd(weight, stride, dilation)
    dims = gains.ndim - 2
    strides = gains.shape[:dims]
    groups = check_int("groups", groups, minimum=1)
    c_in = gains.shape[dims]
    if c_in % groups:
        raise ValueError(f"expected C_in = {c_in} divisible by groups = {groups}")
    phases = list(product(*(range(s) for s in strides)))
    images = [k for k in phases if any(k)]
    if not images:
        return 0.0
    per = c_in // groups

    def norm(k: tuple[int, ...]) -> float:
        h = sum(
            math.prod(_root(kd * rd, s) for kd, rd, s in zip(k, r, strides)) * gains[r]
            for r in phases
        )
        blocks = [h[g * per : (g + 1) * per] for g in range(groups)]
        return max(float(np.linalg.norm(b, 2)) for b in blocks)

    dc = norm((0,) * dims)
    worst = max(norm(k) for k in images)
    if dc == 0:
        return math.nan if worst == 0 else math.inf
    return worst / dc


@dataclass(frozen=True)
class TransposedScore:
    """One transposed conv of a model and its checkerboard index."""

    name: str
    spatial_dims: int
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    checkerboard_index: float
    phase_gain_spread: float  # (max - min) / max |G| over phases, worst channel pair


_TRANSPOSED = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)


def score_transposed_convs(model: nn.Module) -> list[TransposedScore]:
    """Every ``ConvTranspose{1,2,3}d`` of ``model`` with its checkerboard index, in module order.

    Warns (``UserWarning``) when the model has no transposed conv: an up-sampling path by
    interpolation or pixel shuffle has no learned kernel here to read, and "0 layers" must not
    pass silently.

    A MONAI volume U-Net (``tests/test_spectral_nd.py`` runs this)::

        from monai.networks.nets import UNet
        unet = UNet(spatial_dims=3, in_channels=1, out_channels=2, channels=(8, 16, 32),
                    strides=(2, 2))
        for s in score_transposed_convs(unet):  # model.1.submodule.2.conv, model.2.conv
            print(s.name, s.kernel_size, s.stride, f"{s.checkerboard_index:.3f}")

    Example:
        >>> net = nn.Sequential(nn.ConvTranspose3d(2, 2, 2, stride=2), nn.ReLU())
        >>> [(s.name, s.spatial_dims, s.stride) for s in score_transposed_convs(net)]
        [('0', 3, (2, 2, 2))]
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"expected model to be a torch.nn.Module, got {type(model).__name__}")
    scores = []
    for name, module in model.named_modules():
        if not isinstance(module, _TRANSPOSED):
            continue
        w = module.weight
        gains = phase_gains_nd(w, module.stride, module.dilation)
        dims = w.dim() - 2
        flat = gains.reshape(-1, *gains.shape[dims:])
        scale = float(np.abs(flat).max())
        spread = float((flat.max(axis=0) - flat.min(axis=0)).max() / scale) if scale else 0.0
        index = checkerboard_index_nd(w, module.stride, module.dilation, module.groups)
        scores.append(
            TransposedScore(
                name, dims, tuple(module.kernel_size), tuple(module.stride), index, spread
            )
        )
    if not scores:
        warnings.warn(
            f"found no transposed conv in {type(model).__name__}: no learned up-sampling "
            "kernel to score",
            UserWarning,
            stacklevel=2,
        )
    return scores


# ----------------------------------------------------------------------------- measuring modules


@dataclass(frozen=True)
class ImpulseResponseNd:
    """Effective taps of a module on signals, images or volumes, and whether they mean anything.

    Model, per axis ``d``: ``y[o] = sum_i x[i] taps[c_out, c_in][down_d o_d - up_d i_d +
    origin_d]`` (scipy's ``upfirdn`` convention, as
    :class:`antialias.spectral.ImpulseResponse` in 2-D, whose numbers these equal there).

    Attributes:
        taps: ``(C_out, C_in, *K)``, float64, from ``f(impulse) - f(0)``, trimmed to the
            support (entries ``> tol * max``).
        origin: one per spatial axis, in the model above.
        up, down: per axis; shifting the input by ``down_d`` shifts the output by ``up_d``.
        linear: superposition holds and ``f(0) = 0``.
        affine: superposition holds for ``f(x) - f(0)`` (a bias).
        linearity_error: ``max|g(a x1 + b x2) - a g(x1) - b g(x2)| / max(|g(x1)|, |g(x2)|)``,
            ``g = f - f(0)``, random ``x1, x2``.
        offset: ``max |f(0)|`` relative to the same scale.
        shift_invariant: periodically shift-invariant along every axis, away from the borders.
        shift_error: the largest relative deviation in that test.
        truncated: the response reaches the output border (taps cut: increase ``size``).
    """

    taps: np.ndarray
    origin: tuple[int, ...]
    up: tuple[int, ...]
    down: tuple[int, ...]
    linear: bool
    affine: bool
    linearity_error: float
    offset: float
    shift_invariant: bool
    shift_error: float
    truncated: bool

    @property
    def kernel(self) -> np.ndarray:
        """The kernel of a single-channel response, ``(*K)``."""
        if self.taps.shape[:2] != (1, 1):
            raise ValueError(
                f"expected a single-channel response (1, 1, *K), got {self.taps.shape}"
            )
        return self.taps[0, 0]


def _prepare(module: object) -> tuple[object, torch.device]:
    """A float64, eval-mode copy of ``module`` (never the module itself) and its device."""
    import copy

    if not callable(module):
        raise TypeError(f"expected a torch module or callable, got {type(module).__name__}")
    device = torch.device("cpu")
    if isinstance(module, nn.Module):
        module = copy.deepcopy(module).to(torch.float64).eval()
        for tensor in [*module.parameters(), *module.buffers()][:1]:
            device = tensor.device
    return module, device


def _forward(module, x: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        y = module(x)
    if not isinstance(y, torch.Tensor) or y.dim() != x.dim() or y.shape[0] != x.shape[0]:
        got = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise ValueError(
            f"expected the module to return (N={x.shape[0]}, C, *S) with {x.dim() - 2} spatial "
            f"axes, got {got}"
        )
    if not torch.is_floating_point(y):
        raise TypeError(f"expected a floating-point output, got {y.dtype}")
    return y.to(torch.float64).cpu().numpy()


def _scatter_nd(resp: np.ndarray, starts: list[tuple[int, ...]], probes, ups, downs, tol):
    """Taps ``(C_out, C_in, *K)``, origin and truncation from the probes' responses ``resp``
    (``(P, C_out, *O)``; probe ``b`` is an impulse in channel ``probes[b][0]`` at
    ``starts[b]``), scattered by ``t = down o - up i``."""
    channels = 1 + max(p[0] for p in probes)
    c_out, dims = resp.shape[1], resp.ndim - 2
    peak = float(np.abs(resp).max())
    if peak == 0:
        return np.zeros((c_out, channels) + (1,) * dims), (0,) * dims, False
    nonzero = np.abs(resp) > tol * peak
    truncated = any(
        nonzero.take(0, axis=2 + d).any() or nonzero.take(-1, axis=2 + d).any() for d in range(dims)
    )
    spans = []  # per probe: per axis (first, last) nonzero output index, or None
    for m in nonzero:
        any_c = m.any(axis=0)
        if not any_c.any():
            spans.append(None)
            continue
        per = []
        for d in range(dims):
            idx = np.flatnonzero(any_c.any(axis=tuple(a for a in range(dims) if a != d)))
            per.append((int(idx[0]), int(idx[-1])))
        spans.append(per)
    lo = [
        min(downs[d] * s[d][0] - ups[d] * i[d] for s, i in zip(spans, starts) if s)
        for d in range(dims)
    ]
    hi = [
        max(downs[d] * s[d][1] - ups[d] * i[d] for s, i in zip(spans, starts) if s)
        for d in range(dims)
    ]
    taps = np.zeros((c_out, channels) + tuple(h - low + 1 for h, low in zip(hi, lo)))
    for b, (probe, span, start) in enumerate(zip(probes, spans, starts)):
        if span is None:
            continue
        outs = [np.arange(a, z + 1) for a, z in span]
        ts = [downs[d] * outs[d] - ups[d] * start[d] - lo[d] for d in range(dims)]
        block = resp[b][(slice(None), *(slice(o[0], o[-1] + 1) for o in outs))]
        taps[:, probe[0]][np.ix_(np.arange(c_out), *ts)] = block
    return taps, tuple(-v for v in lo), bool(truncated)


def impulse_response_nd(
    module: object,
    up: int | Sequence[int] = 1,
    down: int | Sequence[int] = 1,
    size: int | Sequence[int] = 16,
    channels: int = 1,
    *,
    spatial_dims: int = 3,
    tol: float = 1e-12,
    rtol: float = 1e-9,
    seed: int = 0,
) -> ImpulseResponseNd:
    """Measure the effective taps of a module on 1-D, 2-D or 3-D data by probing with impulses.

    The 2-D :func:`antialias.spectral.impulse_response` for any number of spatial axes and
    per-axis factors: the module (a float64, eval-mode deep copy) gets a unit impulse in each
    input channel at each of the ``prod(down)`` input phases near the centre of a ``size``
    input, and the zero input; each ``f(impulse) - f(0)`` is scattered into ``taps`` by the
    model of :class:`ImpulseResponseNd` (``gcd(up_d, down_d) = 1`` per axis makes that
    one-to-one). Then superposition on two random inputs, and periodic shift invariance along
    each axis (shift the input by ``down_d``, expect the output shifted by ``up_d``, compared
    away from the borders), say whether the taps describe the module.

    Args:
        module: the module or callable, ``(N, C_in, *S)`` -> ``(N, C_out, *S')``.
        up: up-sampling factor, an int or one per axis, ``>= 1``.
        down: down-sampling factor (the input period), an int or one per axis, coprime with up.
        size: input size, an int or one per axis, ``>= 8``; the response must fit inside.
        channels: input channels ``C_in``.
        spatial_dims: 1, 2 or 3.
        tol: relative threshold below which a tap counts as zero when trimming.
        rtol: relative error below which the linearity / shift tests pass.
        seed: seed of the random test inputs (a private generator).

    Returns:
        An :class:`ImpulseResponseNd`.

    Shape:
        - module input: ``(N, C_in, *size)``; taps: ``(C_out, C_in, *K)``

    Example:
        >>> from antialias.layers.nd import BlurPool3d
        >>> r = impulse_response_nd(BlurPool3d(taps=3, down=(1, 2, 2), pad_mode="zeros"),
        ...                         down=(1, 2, 2))
        >>> (r.kernel * 16).tolist(), r.origin, r.linear, r.shift_invariant
        ([[[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]], (0, 1, 1), True, True)
    """
    from antialias.spectral import MAX_PROBE_VALUES

    if spatial_dims not in (1, 2, 3) or isinstance(spatial_dims, bool):
        raise ValueError(f"expected spatial_dims to be 1, 2 or 3, got {spatial_dims!r}")
    dims = int(spatial_dims)
    ups, downs = _per_axis("up", up, dims), _per_axis("down", down, dims)
    sizes = tuple(check_int("size", v, 8) for v in _per_axis("size", size, dims))
    channels = check_int("channels", channels, 1)
    if any(math.gcd(u, d) != 1 for u, d in zip(ups, downs)):
        raise ValueError(f"expected coprime up and down per axis, got up={ups}, down={downs}")
    phases = list(product(*(range(d) for d in downs)))
    values = (channels * len(phases) + 1) * channels * math.prod(sizes)
    if values > MAX_PROBE_VALUES:
        raise ValueError(
            f"expected a probe batch of at most {MAX_PROBE_VALUES} values, got {values} "
            f"(channels={channels}, down={downs}, size={sizes}): use a smaller size"
        )
    module, device = _prepare(module)
    opts = {"dtype": torch.float64, "device": device}
    centre = [n // 2 - d // 2 for n, d in zip(sizes, downs)]
    probes = [(c, p) for c in range(channels) for p in phases]
    starts = [tuple(c0 + pd for c0, pd in zip(centre, p)) for _, p in probes]
    x = torch.zeros(len(probes) + 1, channels, *sizes, **opts)
    for b, ((c, _), start) in enumerate(zip(probes, starts), start=1):
        x[(b, c, *start)] = 1.0
    y = _forward(module, x)
    taps, origin, truncated = _scatter_nd(y[1:] - y[:1], starts, probes, ups, downs, tol)

    gen = torch.Generator().manual_seed(seed)
    x1, x2 = torch.randn(2, 1, channels, *sizes, generator=gen, dtype=torch.float64)
    a, b = 0.7, -1.3
    rolled = [x1.roll(downs[d], 2 + d) for d in range(dims)]
    batch = torch.cat([torch.zeros_like(x1), x1, x2, a * x1 + b * x2, *rolled]).to(device)
    z0, g1, g2, g3, *shifted = _forward(module, batch)
    g1, g2, g3 = g1 - z0, g2 - z0, g3 - z0
    scale = max(np.abs(g1).max(), np.abs(g2).max(), np.finfo(np.float64).tiny)
    linearity_error = float(np.abs(g3 - a * g1 - b * g2).max() / scale)
    offset = float(np.abs(z0).max() / scale)
    affine = linearity_error <= rtol
    full = g1 + z0  # f(x1)
    # Skip what the roll wraps around and what the padding touches: the response's extent
    # (output samples) plus one period from each border, on every axis.
    margins = [-(-k // d) + u for k, d, u in zip(taps.shape[2:], downs, ups)]
    if any(n - 2 * m < u for n, m, u in zip(full.shape[1:], margins, ups)):
        raise ValueError(
            f"expected size large enough to leave an interior for the shift test beyond the "
            f"response ({'x'.join(map(str, taps.shape[2:]))} taps), got size={sizes}"
        )
    inner = (slice(None), *(slice(m, n - m) for m, n in zip(margins, full.shape[1:])))
    ref = max(np.abs(full[inner]).max(), np.finfo(np.float64).tiny)
    shift_error = max(
        float(np.abs(s - np.roll(full, ups[d], axis=1 + d))[inner].max() / ref)
        for d, s in enumerate(shifted)
    )
    return ImpulseResponseNd(
        taps=taps,
        origin=origin,
        up=ups,
        down=downs,
        linear=bool(affine and offset <= rtol),
        affine=bool(affine),
        linearity_error=linearity_error,
        offset=offset,
        shift_invariant=shift_error <= rtol,
        shift_error=shift_error,
        truncated=truncated,
    )


def frequency_response_nd(taps: ArrayLike, n: int | Sequence[int] = 64) -> tuple:
    """The DTFT of N-D taps on a grid: ``(f, H)`` with ``f`` one frequency axis per dimension.

    Frequencies in cycles/sample from ``-0.5`` (Nyquist) up, ``n`` per axis (``np.fft``'s
    order shifted to ascending); ``H[k] = sum_m taps[m] exp(-2j pi f_k . m)``, the phase
    referred to index 0 of the taps. DC gain ``H(0) = sum(taps)``.

    Args:
        taps: ``(*K)`` array, 1 to 3 axes (e.g. :attr:`ImpulseResponseNd.kernel`).
        n: grid points per axis (an int or one per axis), each ``>= max(K_d, 2)``.

    Returns:
        ``(f, H)``: a tuple of 1-D frequency arrays, and the complex response ``(*n)``.

    Example:
        >>> f, h = frequency_response_nd(np.full((2, 2), 0.25), 4)
        >>> f[0].tolist(), float(abs(h[2, 2])), float(abs(h[0, 2]))  # DC, (Nyquist, 0)
        ([-0.5, -0.25, 0.0, 0.25], 1.0, 0.0)
    """
    t = np.asarray(taps, dtype=np.float64)
    if t.ndim not in (1, 2, 3) or t.size == 0 or not np.isfinite(t).all():
        raise ValueError(f"expected finite taps with 1 to 3 axes, got shape {t.shape}")
    ns = tuple(check_int("n", v, max(k, 2)) for v, k in zip(_per_axis("n", n, t.ndim), t.shape))
    if math.prod(ns) > 2**24:
        raise ValueError(f"expected at most 2**24 frequencies in all, got n={ns}")
    h = np.fft.fftshift(np.fft.fftn(t, s=ns, axes=tuple(range(t.ndim))))
    freqs = tuple(np.fft.fftshift(np.fft.fftfreq(v)) for v in ns)
    return freqs, h
