"""torch's fixed up-samplers written as zeros + FIR: taps, phase and edge handling.

For an integer factor ``up``, ``F.interpolate(x, scale_factor=up, mode=m,
align_corners=False)`` is, along each axis, zero insertion followed by a fixed FIR filter,
with the edges extended by replication (torch clamps the indices it reads):

============== ============================================ ==============================
mode           taps (sum ``up``)                             edges
============== ============================================ ==============================
nearest        ``[1] * up`` (box)                            never read (no tap reaches)
nearest-exact  ``[1] * up``: for integer ``up`` the same     never read
               operator as ``nearest`` (``floor(j/up)``)
bilinear       ``linear_taps(up)``: ``[1, 3, 3, 1]/4`` for 2 replicate
bicubic        ``cubic_taps(up, a=-0.75)``                   replicate
============== ============================================ ==============================

Phase: output ``j`` is centred at input coordinate ``(j + 1/2)/up - 1/2`` (the
half-pixel grid) for every mode here, which is the default padding of
:func:`antialias.resample.upfirdn2d`: ``p0 = (L + up - 2)//2`` fine-grid samples before,
``p1 = L - 1 - p0`` after (for the box, ``p0 = up - 1``, ``p1 = 0``: output ``j`` copies input
``floor(j/up)``).

Spectra (``w`` in radians per output sample): nearest x2 has ``|H| = 2|cos(w/2)|``; bilinear
x2 has ``|H| = 2|cos(w/2)|**3``, as ``[1, 3, 3, 1]/4`` is 2 times the three-fold convolution
of ``[1, 1]/2``. Responses and measures live in :mod:`antialias.spectral`.

``align_corners=True`` is *not* of this form: output ``j`` samples input coordinate
``j (n - 1)/(up n - 1)``, so the sub-pixel phase of each output, hence its effective taps,
depends on the input size ``n`` (tests/test_catalogue.py shows it).

What lives here: the catalogue (:func:`interpolation_taps`: taps and phase) and its
application (:func:`interpolate_as_fir`). The table of modes and their taps lives once, in
:mod:`antialias.filters` (:data:`~antialias.filters.INTERPOLATION_MODES`,
:func:`~antialias.filters.interpolation_fir`), application in :mod:`antialias.resample`.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from antialias._checks import check_choice, check_int
from antialias.filters import INTERPOLATION_MODES, interpolation_fir
from antialias.resample import upfirdn2d

__all__ = ["MODES", "Phase", "interpolate_as_fir", "interpolation_taps"]

#: The modes of :data:`antialias.filters.INTERPOLATION_MODES` (the one table).
MODES: tuple[str, ...] = tuple(INTERPOLATION_MODES)


class Phase(NamedTuple):
    """Where the taps sit and how the edges are extended.

    Attributes:
        padding: ``(p0, p1)``: fine-grid samples of padding before/after (``upfirdn2d``'s
            ``padding`` along each axis).
        pad_mode: edge extension that reproduces torch at the borders.
        first_centre: input coordinate (input sample ``i`` at ``i``) on which output 0 is
            centred; output ``j`` is centred at ``first_centre + j/up``.
    """

    padding: tuple[int, int]
    pad_mode: str
    first_centre: float


def interpolation_taps(
    mode: str,
    up: int,
    *,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, Phase]:
    """Taps and phase of ``F.interpolate(mode=mode, align_corners=False)`` by an integer factor.

    Args:
        mode: one of :data:`MODES` (``nearest``, ``nearest-exact``, ``bilinear``, ``bicubic``).
        up: integer up-sampling factor >= 1.
        dtype: dtype of the taps (default ``torch.float64``).
        device: device of the taps.

    Returns:
        ``(taps, phase)``: 1-D taps summing to ``up`` (DC gain ``up``, so zeros + FIR keeps a
        constant), applied along H and W; ``phase`` (:class:`Phase`) gives the padding, the
        edge mode and the centre of output 0.

    Raises:
        ValueError: unknown mode or non-positive factor.
        TypeError: non-integer factor.

    Example:
        >>> taps, phase = interpolation_taps("bilinear", 2)
        >>> (taps * 4).tolist(), phase
        ([1.0, 3.0, 3.0, 1.0], Phase(padding=(2, 1), pad_mode='replicate', first_centre=-0.25))
        >>> interpolation_taps("nearest", 3)[1]
        Phase(padding=(2, 0), pad_mode='replicate', first_centre=-0.3333333333333333)
    """
    check_choice("mode", mode, MODES)
    up = check_int("up", up, minimum=1)
    taps = interpolation_fir(mode, up, dtype=dtype, device=device)
    n = len(taps)
    p0 = (n + up - 2) // 2
    # Output j sits at fine-grid position j + (L-1)/2 - p0, i.e. input coordinate /up.
    first_centre = ((n - 1) / 2 - p0) / up
    return taps, Phase((p0, n - 1 - p0), "replicate", first_centre)


def interpolate_as_fir(x: torch.Tensor, mode: str, up: int, *, impl: str = "auto") -> torch.Tensor:
    """``F.interpolate(x, scale_factor=up, mode=mode, align_corners=False)`` as zeros + FIR.

    Computed by :func:`antialias.resample.upfirdn2d` with the taps and phase of
    :func:`interpolation_taps` (``impl="auto"`` hands the work to torch's own kernel for
    exactly these taps; the tests check ``impl="generic"`` and ``"reference"`` against
    ``F.interpolate``).

    Args:
        x: input, shape ``(N, C, H, W)``.
        mode: one of :data:`MODES`.
        up: integer factor >= 1.
        impl: how :func:`~antialias.resample.upfirdn2d` computes it (``IMPLS``).

    Returns:
        Output, shape ``(N, C, H*up, W*up)``.

    Shape:
        - Input: :math:`(N, C, H, W)`
        - Output: :math:`(N, C, H \\cdot up, W \\cdot up)`

    Example:
        >>> x = torch.tensor([[[[0.0, 4.0]]]])
        >>> interpolate_as_fir(x, "bilinear", 2)[0, 0, 0]
        tensor([0., 1., 3., 4.])
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"expected x to be a torch.Tensor, got {type(x).__name__}")
    taps, phase = interpolation_taps(mode, up, dtype=x.dtype if x.is_floating_point() else None)
    p0, p1 = phase.padding
    return upfirdn2d(x, taps, up=up, padding=(p0, p1, p0, p1), pad_mode=phase.pad_mode, impl=impl)
