"""Measuring whole modules: impulse responses (linearity, shift invariance), the checkerboard
on constant input, aliasing energy from probe sinusoids."""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from antialias._checks import check_int

from ._common import check_probe, dc_images, image_ratio

# ----------------------------------------------------------------------------- measuring modules


def _prepare(module: Callable[[torch.Tensor], torch.Tensor]):
    """A float64, eval-mode copy of ``module`` (never the module itself) and its device."""
    if not callable(module):
        raise TypeError(f"expected a torch module or callable, got {type(module).__name__}")
    device = torch.device("cpu")
    if isinstance(module, torch.nn.Module):
        module = copy.deepcopy(module).to(torch.float64).eval()
        for tensor in itertools.chain(module.parameters(), module.buffers()):
            device = tensor.device
            break
    return module, device


def _forward(module: Callable, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        y = module(x)
    if not isinstance(y, torch.Tensor) or y.ndim != 4 or y.shape[0] != x.shape[0]:
        got = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise ValueError(f"expected the module to return (N={x.shape[0]}, C, H, W), got {got}")
    if not torch.is_floating_point(y):
        raise TypeError(f"expected a floating-point output, got {y.dtype}")
    return y.to(torch.float64)


@dataclass(frozen=True)
class ImpulseResponse:
    """Effective taps of a module and whether they mean anything.

    Model, per axis: ``y[o] = sum_i x[i] taps[c_out, c_in][down*o - up*i + origin]`` (scipy's
    ``upfirdn`` convention). For ``ConvTranspose2d(stride=s, padding=p)``:
    ``taps[co, ci] = weight[ci, co]``, ``origin = (p, p)``. For a strided ``Conv2d`` (torch
    convolutions are correlations) the taps are the kernel flipped.

    Attributes:
        taps: ``(C_out, C_in, Ky, Kx)``, float64, from ``f(impulse) - f(0)``, trimmed to the
            support (entries ``> tol * max``).
        origin: ``(origin_y, origin_x)`` in the model above.
        up, down: the period assumed: shifting the input by ``down`` shifts the output by ``up``.
        linear: superposition holds and ``f(0) = 0``.
        affine: superposition holds for ``f(x) - f(0)`` (e.g. a bias).
        linearity_error: ``max|g(a x1 + b x2) - a g(x1) - b g(x2)| / max(|g(x1)|, |g(x2)|)``
            with ``g = f - f(0)``, random ``x1, x2``.
        offset: ``max |f(0)|`` relative to the same scale.
        shift_invariant: periodically shift-invariant: shifting a random input by ``down``
            along H (then W) equals shifting the output by ``up``, away from the borders (by
            the response's extent plus ``up`` output pixels).
        shift_error: the largest relative deviation in that test.
        truncated: the response reaches the output border: taps are cut, increase ``size``.
    """

    taps: np.ndarray
    origin: tuple[int, int]
    up: int
    down: int
    linear: bool
    affine: bool
    linearity_error: float
    offset: float
    shift_invariant: bool
    shift_error: float
    truncated: bool

    @property
    def kernel(self) -> np.ndarray:
        """The 2-D kernel of a single-channel response, ``(Ky, Kx)``."""
        if self.taps.shape[:2] != (1, 1):
            raise ValueError(
                f"expected a single-channel response (1, 1, Ky, Kx), got {self.taps.shape}"
            )
        return self.taps[0, 0]


def _scatter_taps(
    resp: np.ndarray,
    probes: list[tuple[int, int, int]],
    i0: int,
    up: int,
    down: int,
    tol: float,
) -> tuple[np.ndarray, tuple[int, int], bool]:
    """The taps ``(C_out, C_in, Ky, Kx)``, their origin and whether the support was cut, from
    the probes' responses ``resp`` (probe ``(c_in, py, px)`` at ``(i0 + py, i0 + px)``)."""
    channels = 1 + max(ci for ci, _, _ in probes)
    c_out = resp.shape[1]
    # Scatter by t = down*o - up*i (origin unknown until the support is known), over the
    # union of the probes' supports only (the full output grid can be large for many channels).
    peak = np.abs(resp).max()
    if peak == 0:
        taps, origin, truncated = np.zeros((c_out, channels, 1, 1)), (0, 0), False
    else:
        nonzero = np.abs(resp) > tol * peak  # (probes, C_out, Ho, Wo)
        truncated = bool(
            nonzero[..., 0, :].any()
            or nonzero[..., -1, :].any()
            or nonzero[..., 0].any()
            or nonzero[..., -1].any()
        )
        rows = [np.flatnonzero(m.any(axis=(0, 2))) for m in nonzero]
        cols = [np.flatnonzero(m.any(axis=(0, 1))) for m in nonzero]
        shifts = [(up * (i0 + py), up * (i0 + px)) for _, py, px in probes]
        lo_y = min(down * r[0] - sy for r, (sy, _) in zip(rows, shifts) if r.size)
        hi_y = max(down * r[-1] - sy for r, (sy, _) in zip(rows, shifts) if r.size)
        lo_x = min(down * c[0] - sx for c, (_, sx) in zip(cols, shifts) if c.size)
        hi_x = max(down * c[-1] - sx for c, (_, sx) in zip(cols, shifts) if c.size)
        taps = np.zeros((c_out, channels, hi_y - lo_y + 1, hi_x - lo_x + 1))
        for b, (ci, _, _) in enumerate(probes):
            if rows[b].size == 0:
                continue
            oy = np.arange(rows[b][0], rows[b][-1] + 1)
            ox = np.arange(cols[b][0], cols[b][-1] + 1)
            ty, tx = down * oy - shifts[b][0] - lo_y, down * ox - shifts[b][1] - lo_x
            block = resp[b][:, oy[0] : oy[-1] + 1, ox[0] : ox[-1] + 1]
            taps[:, ci][np.ix_(np.arange(c_out), ty, tx)] = block
        origin = (int(-lo_y), int(-lo_x))
    return taps, origin, truncated


def impulse_response(
    module: Callable[[torch.Tensor], torch.Tensor],
    up: int = 1,
    down: int = 1,
    size: int = 32,
    channels: int = 1,
    *,
    tol: float = 1e-12,
    rtol: float = 1e-9,
    seed: int = 0,
) -> ImpulseResponse:
    """Measure the effective taps of a torch module by probing it with impulses.

    The module (a float64, eval-mode deep copy; the original is untouched) is fed a unit impulse
    in each input channel at each of the ``down x down`` input phases near the centre of a
    ``size x size`` input (one impulse suffices for a pure up-sampler), and the all-zeros input.
    Each response ``f(impulse) - f(0)`` is scattered into ``taps`` by the model
    ``y[o] = sum_i x[i] taps[down*o - up*i + origin]`` (``gcd(up, down) = 1`` makes that
    one-to-one). Two further tests say whether these taps describe the module:

    - linearity: superposition on two random inputs (see :class:`ImpulseResponse`);
    - periodic shift invariance: shift a random input by ``down``, expect the output shifted
      by ``up``, compared away from the borders (so padding and wrap-around do not count).

    Works for ``nn.Upsample``, ``nn.ConvTranspose2d``, conv + ``nn.PixelShuffle``, strided or
    pooling layers, and any callable mapping ``(N, C_in, H, W)`` to ``(N, C_out, H', W')``.

    Args:
        module: the module or callable.
        up: output shift per input shift of ``down`` (the up-sampling factor), ``>= 1``.
        down: the input period (down-sampling factor), ``>= 1``, coprime with ``up``.
        size: input height and width, ``>= 8``; the response must fit in the output.
        channels: number of input channels ``C_in``.
        tol: relative threshold below which a tap counts as zero when trimming.
        rtol: relative error below which the linearity / shift tests pass.
        seed: seed of the random test inputs (a private generator).

    Returns:
        An :class:`ImpulseResponse`.

    Shape:
        - module input: ``(N, C_in, size, size)``; taps: ``(C_out, C_in, Ky, Kx)``

    Example:
        >>> r = impulse_response(torch.nn.Upsample(scale_factor=2, mode="bilinear"), up=2)
        >>> (r.kernel[1] * 16).tolist(), r.origin, r.linear, r.shift_invariant
        ([3.0, 9.0, 9.0, 3.0], (1, 1), True, True)
    """
    up = check_int("up", up, 1)
    down = check_int("down", down, 1)
    size = check_int("size", size, 8)
    channels = check_int("channels", channels, 1)
    if math.gcd(up, down) != 1:
        raise ValueError(f"expected coprime up and down, got up={up}, down={down}")
    check_probe(
        f"(channels*down**2 + 1) x channels x size**2 with channels={channels}, down={down}, "
        f"size={size}",
        (channels * down * down + 1) * channels * size * size,
    )
    module, device = _prepare(module)
    opts = {"dtype": torch.float64, "device": device}

    # All probes in one batch: zeros first, then (c_in, py, px) impulses.
    i0 = size // 2 - down // 2
    probes = list(itertools.product(range(channels), range(down), range(down)))
    x = torch.zeros(len(probes) + 1, channels, size, size, **opts)
    for b, (ci, py, px) in enumerate(probes, start=1):
        x[b, ci, i0 + py, i0 + px] = 1.0
    y = _forward(module, x).cpu().numpy()
    zero, resp = y[0], y[1:] - y[:1]
    c_out, ho, wo = zero.shape

    taps, origin, truncated = _scatter_taps(resp, probes, i0, up, down, tol)

    gen = torch.Generator().manual_seed(seed)
    x1, x2 = torch.randn(2, 1, channels, size, size, generator=gen, dtype=torch.float64)
    a, b = 0.7, -1.3
    batch = torch.cat(
        [torch.zeros_like(x1), x1, x2, a * x1 + b * x2, x1.roll(down, -2), x1.roll(down, -1)]
    )
    z0, g1, g2, g3, s_y, s_x = _forward(module, batch.to(device)).cpu().numpy()
    g1, g2, g3 = g1 - z0, g2 - z0, g3 - z0
    scale = max(np.abs(g1).max(), np.abs(g2).max(), np.finfo(np.float64).tiny)
    linearity_error = float(np.abs(g3 - a * g1 - b * g2).max() / scale)
    offset = float(np.abs(z0).max() / scale)
    affine = linearity_error <= rtol
    linear = affine and offset <= rtol

    full = g1 + z0  # f(x1)
    # Skip what the roll wraps around and what the padding touches: the response's extent
    # (output pixels) plus one period from each border.
    by, bx = (-(-k // down) + up for k in taps.shape[-2:])
    if full.shape[-2] - 2 * by < up or full.shape[-1] - 2 * bx < up:
        raise ValueError(
            f"expected size large enough to leave an interior for the shift test beyond the "
            f"response ({taps.shape[-2]}x{taps.shape[-1]} taps), got size={size}"
        )
    inner = (slice(None), slice(by, full.shape[-2] - by), slice(bx, full.shape[-1] - bx))
    expect_y, expect_x = np.roll(full, up, axis=-2), np.roll(full, up, axis=-1)
    ref = max(np.abs(full[inner]).max(), np.finfo(np.float64).tiny)
    shift_error = float(
        max(np.abs(s_y - expect_y)[inner].max(), np.abs(s_x - expect_x)[inner].max()) / ref
    )
    return ImpulseResponse(
        taps=taps,
        origin=origin,
        up=up,
        down=down,
        linear=bool(linear),
        affine=bool(affine),
        linearity_error=linearity_error,
        offset=offset,
        shift_invariant=shift_error <= rtol,
        shift_error=shift_error,
        truncated=truncated,
    )


def constant_input_checkerboard(
    module: Callable[[torch.Tensor], torch.Tensor],
    up: int,
    size: int = 32,
    channels: int = 1,
    margin: int | None = None,
) -> float:
    """Measured twin of :func:`checkerboard_index`: feed constants, measure the modulation.

    For each input channel ``c`` the module (float64, eval-mode copy) gets the input that is 1
    on channel ``c`` and 0 elsewhere; ``f(0)`` is subtracted (a bias is not a pattern). Away
    from the borders (``margin``), the mean of every output phase
    ``(o_y mod up, o_x mod up)`` gives ``G[c_out, c, ry, rx]``; its 2-D DFT over the phases,
    ``M_k = sum_r G_r exp(-2j pi k.r/up)``, equals ``H(k/up)`` up to a unimodular factor for
    a linear periodically shift-invariant module. Returns
    ``max_{k != 0} ||M_k||_2 / ||M_0||_2`` (operator norms over channels), which then equals
    :func:`checkerboard_index` of the module's taps. For other modules it is still the
    period-``up`` modulation of the constant response, relative to its mean.

    Args:
        module: module or callable mapping ``(N, C_in, H, W)`` to ``(N, C_out, H', W')``.
        up: the period of the output pattern (up-sampling factor), ``>= 1``.
        size: input height and width, ``>= 8``.
        channels: number of input channels.
        margin: output pixels left out at each border; must exceed the reach of the padding
            (about the kernel length); default a quarter of the output size.

    Returns:
        The index (``inf`` / ``nan`` as in :func:`checkerboard_index`).
    """
    up = check_int("up", up, 1)
    size = check_int("size", size, 8)
    channels = check_int("channels", channels, 1)
    if margin is not None:
        margin = check_int("margin", margin, 0)
    check_probe(
        f"(channels + 1) x channels x size**2 with channels={channels}, size={size}",
        (channels + 1) * channels * size * size,
    )
    module, device = _prepare(module)
    x = torch.zeros(channels + 1, channels, size, size, dtype=torch.float64, device=device)
    for c in range(channels):
        x[c + 1, c] = 1.0
    y = _forward(module, x).cpu().numpy()
    g = y[1:] - y[:1]  # (C_in, C_out, Ho, Wo)
    ho, wo = g.shape[-2:]
    my, mx = (ho // 4, wo // 4) if margin is None else (margin, margin)
    ny, nx = (ho - 2 * my) // up, (wo - 2 * mx) // up
    if ny < 1 or nx < 1:
        raise ValueError(
            f"expected an output larger than 2 * margin + up, got {(ho, wo)} with margin "
            f"{(my, mx)}: increase size"
        )
    inner = g[..., my : my + ny * up, mx : mx + nx * up]
    phases = inner.reshape(*g.shape[:2], ny, up, nx, up).mean(axis=(2, 4))
    spectrum = np.fft.fft2(phases, axes=(-2, -1))  # (C_in, C_out, ky, kx)
    norms = np.linalg.svd(spectrum.transpose(2, 3, 0, 1), compute_uv=False)[..., 0]
    return image_ratio(norms[0, 0], np.array([norms[k] for k in dc_images(up, 2)]))


@dataclass(frozen=True)
class AliasingProbe:
    """Result of :func:`aliasing_energy_empirical`.

    Attributes:
        freqs: input frequencies ``f`` (cycles/pixel along W), the midpoints of ``n_freqs`` equal
            bins of ``[0, 0.5]``, shape ``(F,)``.
        aliased: where each lands after down-sampling, ``|down f - round(down f)|`` in output
            cycles/pixel, shape ``(F,)``.
        transfer: output power at ``aliased`` divided by the input power at ``f`` (phase- and
            channel-averaged), shape ``(F,)``; equals ``|H(f)|^2`` for a linear down-sampler.
        share: ``sum_{f > 1/(2 down)} transfer / sum_f transfer``, the empirical aliasing energy.
        distortion: output power at every *other* non-zero frequency (harmonics a nonlinear op
            creates, folded by the decimation), divided by the input power, shape ``(F,)``;
            0 for a linear down-sampler.
        share_with_distortion: the share of all output AC power that is not the faithful
            component: ``(sum_{f > 1/(2 down)} transfer + sum_f distortion) /
            sum_f (transfer + distortion)``; equals ``share`` for a linear down-sampler.
    """

    freqs: np.ndarray
    aliased: np.ndarray
    transfer: np.ndarray
    share: float
    distortion: np.ndarray
    share_with_distortion: float


def aliasing_energy_empirical(
    module: Callable[[torch.Tensor], torch.Tensor],
    down: int,
    n_freqs: int = 64,
    n_phases: int = 8,
    channels: int = 1,
    margin: int = 8,
) -> AliasingProbe:
    """Aliasing energy of any down-sampler, linear or not (max-pool), from sinusoid probes.

    Each probe is ``x[n] = cos(2 pi f n + phi)`` along W (constant along H and over channels),
    for ``f`` the midpoints ``(2j + 1) / (4 n_freqs)`` of ``[0, 0.5]`` and ``n_phases`` phases
    ``phi`` evenly spaced in ``[0, 2 pi)``. Down-sampling maps ``f`` to ``down f`` (output
    cycles/pixel), which above the new Nyquist ``1/(2 down)`` folds to ``|down f - round(down f)|``.
    The output (a float64 eval-mode copy of the module) is periodic with period
    ``L = 4 n_freqs`` outputs, so the DFT of ``L`` interior outputs (middle row, ``margin``
    output pixels from each end) holds the component at exactly that frequency; its amplitude
    ``2|Y_k|/L``, squared, is the transfer ``T(f)`` (input amplitude 1). ``n_freqs`` even keeps
    every landing bin off DC and Nyquist. Harmonics and the DC that a nonlinear op creates are
    not counted in ``share`` (they are not where ``f`` lands) but in ``distortion`` and
    ``share_with_distortion``. (For ``nn.MaxPool2d(2)``, ``max(a, b) = (a + b)/2 + |a - b|/2``:
    the transfer at the landing frequency is exactly avg-pool's, and everything max-pool adds
    lies in DC and even harmonics, which is why the second share exists.)

    The share ``sum_{f > 1/(2 down)} T / sum_f T`` is the midpoint-rule version of
    :func:`aliasing_energy` along one axis: for a linear down-sampler ``T(f) = |H(f)|^2``
    exactly and the share converges to the analytic 1-D value as ``n_freqs`` grows.

    Args:
        module: maps ``(N, channels, H, W)`` to ``(N, C_out, H', W')``, down-sampling W by
            ``down`` (e.g. ``nn.MaxPool2d(2)``).
        down: the down-sampling factor ``>= 2``.
        n_freqs: number of probe frequencies (even, ``>= 2``).
        n_phases: phases per frequency, ``>= 1``.
        channels: input channels.
        margin: output pixels kept clear of each border (must exceed the receptive-field
            radius divided by ``down``).

    Returns:
        An :class:`AliasingProbe`.
    """
    down = check_int("down", down, 2)
    n_freqs = check_int("n_freqs", n_freqs, 2)
    if n_freqs % 2:
        raise ValueError(f"expected an even n_freqs, got {n_freqs}")
    n_phases = check_int("n_phases", n_phases, 1)
    channels = check_int("channels", channels, 1)
    margin = check_int("margin", margin, 1)
    period = 4 * n_freqs
    width = down * (period + 2 * margin)
    height = down * (margin + 1)
    check_probe(
        f"n_freqs x n_phases x channels x {height} x {width} with n_freqs={n_freqs}, "
        f"n_phases={n_phases}, channels={channels}, margin={margin}, down={down}",
        n_freqs * n_phases * channels * height * width,
    )
    module, device = _prepare(module)
    j = np.arange(n_freqs)
    freqs = (2 * j + 1) / (4 * n_freqs)
    phis = 2 * np.pi * np.arange(n_phases) / n_phases
    n = np.arange(width)
    rows = np.cos(2 * np.pi * freqs[:, None, None] * n + phis[None, :, None])  # (F, P, W)
    x = torch.from_numpy(rows.reshape(-1, 1, 1, width)).to(device)
    x = x.expand(-1, channels, height, width)
    y = _forward(module, x).cpu().numpy()
    ho, wo = y.shape[-2:]
    if abs(wo * down - width) > down * margin or wo < period + 2:
        raise ValueError(
            f"expected the module to down-sample W by {down} (about {width // down} output "
            f"columns for {width} input columns), got {wo} columns"
        )
    start = (wo - period) // 2
    window = y[:, :, ho // 2, start : start + period]  # (F*P, C_out, L)
    spectrum = np.fft.rfft(window, axis=-1).reshape(n_freqs, n_phases, y.shape[1], -1)
    bins = (down * (2 * j + 1)) % period
    bins = np.minimum(bins, period - bins)  # real output: bin k and L-k are the same cosine
    amp = 2 * np.abs(spectrum[j, :, :, bins]) / period  # (F, P, C_out)
    # Powers relative to the input's 1/2: a cosine of amplitude A carries A^2 / 2.
    transfer = (amp**2).mean(axis=(1, 2))
    ac_power = window.var(axis=-1).reshape(n_freqs, n_phases, -1)  # Parseval, DC removed
    distortion = np.maximum(2 * ac_power - amp**2, 0.0).mean(axis=(1, 2))
    above = freqs > 1 / (2 * down)
    total = transfer.sum()
    share = float(transfer[above].sum() / total) if total > 0 else math.nan
    total_all = total + distortion.sum()
    share_all = (
        float((transfer[above].sum() + distortion.sum()) / total_all) if total_all > 0 else math.nan
    )
    aliased = np.abs(down * freqs - np.round(down * freqs))
    return AliasingProbe(
        freqs=freqs,
        aliased=aliased,
        transfer=transfer,
        share=share,
        distortion=distortion,
        share_with_distortion=share_all,
    )
