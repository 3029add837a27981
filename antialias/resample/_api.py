"""The public entries of :mod:`antialias.resample`: ``upfirdn2d`` and its wrappers, the slow
reference, and the "prepare once" plan the layers hold (:func:`prepare_upfirdn2d`).

Each entry checks its arguments once, here; the paths behind (``_fast``, ``_reference``)
trust them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from antialias._checks import check_pad_mode

from ._core import (
    Padding,
    Taps,
    as_kernel,
    axes,
    check_factor,
    check_gain,
    check_impl,
    check_input,
    check_padding,
    taps_tensor,
)
from ._fast import AUTO, BLOCK, interpolation_mode, torch_interpolation, upfirdn2d_fast
from ._pad import exporting, static_shape, upfirdn2d_pad
from ._reference import reference
from .borders import extend

__all__ = [
    "UpFirDn2dPlan",
    "downsample2d",
    "filter2d",
    "prepare_upfirdn2d",
    "upfirdn2d",
    "upfirdn2d_reference",
    "upsample2d",
]


def _run(
    x: torch.Tensor,
    taps: torch.Tensor,
    up: int,
    down: int,
    padding: Padding,
    pad_mode: str,
    gain: float,
    impl: str,
    flip_filter: bool,
    known: str | None,
) -> torch.Tensor:
    """upfirdn2d of checked arguments by ``impl``.

    ``known``: the F.interpolate mode computing zeros + these taps (None: none), or AUTO to
    compare the taps on this call; only ``impl="auto"`` hands over to torch's kernels.

    While tracing, exporting or compiling every ``impl`` runs as ``"pad"`` (decided here,
    before any size-dependent Python): the other paths' size arithmetic would be frozen at the
    traced size or recorded as guards on it.
    """
    traced = exporting()
    kernel = as_kernel(taps, x, gain, flip_filter)
    if traced or impl == "pad":
        if not traced:  # eager: the same refusals (empty output, bounds) as every impl
            axes(x, kernel, up, down, padding)
        # a plan's decision for torch's kernel holds (no data-dependent test of the taps)
        torch_mode = known if impl == "auto" and known != AUTO else None
        y = upfirdn2d_pad(x, kernel, up, down, padding, pad_mode, torch_mode)
        if traced:
            return y
    elif impl == "reference":
        ah, aw = axes(x, kernel, up, down, padding)
        y = reference(x, kernel, up, down, (aw.p0, aw.p1, ah.p0, ah.p1), pad_mode)
    elif pad_mode == "circular" and up > 1 and down == 1:
        y = _circular_up(x, kernel, up, padding, known if impl == "auto" else None, impl)
        if not (x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()):
            return y  # a crop of the wrapped result: a view, no copy of the whole output
    else:
        ax = axes(x, kernel, up, down, padding)
        torch_mode = torch_interpolation(kernel, ax, known if impl == "auto" else None)
        y = upfirdn2d_fast(x, kernel, ax, pad_mode, torch_mode, impl != "depthwise")
    # Keep the input's layout, as torch's own ops do (some conv backends do not).
    channels_last = x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()
    layout = torch.channels_last if channels_last else torch.contiguous_format
    if not y.is_contiguous(memory_format=layout):
        y = y.contiguous(memory_format=layout)
    return y


def _circular_up(
    x: torch.Tensor,
    kernel: torch.Tensor,
    up: int,
    padding: Padding,
    known: str | None,
    impl: str,
) -> torch.Tensor:
    """Circular up-sampling: wrap ``x`` by the samples the taps reach, run the whole-tensor op
    (torch's kernel or the conv) without border handling of its own, crop.

    Every kept output then comes from one op with one summation order, never from the
    recomputed border strips, so a circular shift of the input by ``k`` shifts the output by
    exactly ``up k`` (to the last bit, where the BLAS kernel rounds alike by position).
    """
    ah, aw = axes(x, kernel, up, 1, padding)
    # the same answer for the wrapped input (same taps and padding)
    torch_mode = torch_interpolation(kernel, (ah, aw), known)
    reach = [max(-(-ax.taps // up) + 1, ax.pad_before(), ax.pad_after()) for ax in (ah, aw)]
    if x.dtype == torch.float32 and aw.n % BLOCK == 0:
        # keep the wrapped width a multiple of the column block, so that the blocked conv
        # applies (the forward's, and the adjoint's in backward even behind torch's kernel)
        reach[1] = -(-reach[1] // (BLOCK // 2)) * (BLOCK // 2)
    xp = extend(x, [(-reach[0], ah.n + reach[0]), (-reach[1], aw.n + reach[1])], "circular")
    wrapped = axes(xp, kernel, up, 1, (aw.p0, aw.p1, ah.p0, ah.p1))
    # the mode only decides the (cropped) border: replicate lets torch's kernel compute it
    # all, zeros lets the conv pad itself; either way no strips
    mode = "zeros" if torch_mode is None else "replicate"
    y = upfirdn2d_fast(xp, kernel, wrapped, mode, torch_mode, impl != "depthwise")
    ch, cw = up * reach[0], up * reach[1]
    return y[..., ch : ch + ah.out, cw : cw + aw.out]


def _checked(
    x: object, up: object, down: object, pad_mode: object, gain: object, impl: object
) -> tuple[torch.Tensor, int, int, str, float, str]:
    return (
        check_input(x),
        check_factor("up", up),
        check_factor("down", down),
        check_pad_mode(pad_mode),
        check_gain(gain),
        check_impl(impl),
    )


def upfirdn2d(
    x: torch.Tensor,
    taps: Taps,
    up: int = 1,
    down: int = 1,
    padding: Padding = None,
    pad_mode: str = "zeros",
    gain: float = 1.0,
    *,
    impl: str = "auto",
    flip_filter: bool = False,
) -> torch.Tensor:
    """Zero-stuff by ``up``, pad, apply the FIR filter, keep every ``down``-th sample.

    The exact definition, phase convention and default padding are in the module docstring.
    The taps are used as given (times ``gain``): no normalisation here (see the wrappers).

    Args:
        x: input, shape ``(N, C, H, W)``, floating point; any memory layout.
        taps: 1-D taps (separable: the same taps along H and W, 2-D kernel = outer product),
            an int ``n`` (``binomial_taps(n)``), or a 2-D kernel ``(kh, kw)``.
        up: up-sampling factor (integer >= 1), both axes.
        down: down-sampling factor (integer >= 1), both axes.
        padding: padding of the zero-stuffed signal in fine-grid samples: ``None`` (default
            phase convention), an int (all sides), ``(p0, p1)`` (start, end; both axes) or
            ``(left, right, top, bottom)`` as in ``F.pad``. Negative values crop.
        pad_mode: how ``x`` is extended: ``zeros``, ``reflect``, ``replicate`` or ``circular``.
        gain: factor applied to the kernel (the 2-D kernel's sum is ``gain * sum(taps)**2``).
        impl: how to compute it, one of :data:`IMPLS` (``"auto"``: the fastest path; all
            equal to ``"reference"``, the definition, up to rounding).
        flip_filter: ``False``: the taps are a convolution kernel (the definition above);
            ``True``: a correlation kernel, as ``F.conv2d`` and antialiased-cnns apply them
            (``taps[m]`` weighs ``x[j*down - p0 + m]`` when ``up = 1``). Equal for symmetric
            taps.

    Returns:
        Output, shape ``(N, C, H_out, W_out)`` with ``H_out = (H*up + p0 + p1 - kh)//down + 1``
        (``ceil(H*up/down)`` with the default padding); same dtype and device as ``x``.

    Shape:
        - Input: :math:`(N, C, H, W)`
        - Output: :math:`(N, C, H_{out}, W_{out})`

    Raises:
        TypeError: non-tensor or non-float ``x``, non-integer factors, bad ``padding`` type.
        ValueError: wrong rank, non-positive factors, empty or non-finite taps, unknown
            ``pad_mode`` or ``impl``, empty output or one of more than ``2**31 - 1`` samples
            per channel, padding beyond ``2**20`` samples.

    Example:
        >>> x = torch.tensor([[[[1.0, 2.0, 3.0]]]])
        >>> upfirdn2d(x, [1.0], up=2, padding=0)  # zero-stuffing only
        tensor([[[[1., 0., 2., 0., 3., 0.],
                  [0., 0., 0., 0., 0., 0.]]]])
        >>> upfirdn2d(torch.ones(1, 1, 4, 4), 3, down=2)  # binomial [1, 2, 1]/4, zero padding
        tensor([[[[0.5625, 0.7500],
                  [0.7500, 1.0000]]]])
    """
    x, up, down, pad_mode, gain, impl = _checked(x, up, down, pad_mode, gain, impl)
    t = taps_tensor(taps)
    return _run(x, t, up, down, check_padding(padding), pad_mode, gain, impl, flip_filter, AUTO)


def upfirdn2d_reference(
    x: torch.Tensor,
    taps: Taps,
    up: int = 1,
    down: int = 1,
    padding: Padding = None,
    pad_mode: str = "zeros",
    gain: float = 1.0,
) -> torch.Tensor:
    """Slow, obvious :func:`upfirdn2d`: ``F.pad`` by ``pad_mode``, zero-stuff, conv, slice.

    Same arguments, result and errors as :func:`upfirdn2d`; it stores and multiplies the
    inserted zeros and copies the whole padded tensor. It is the definition the fast path is
    tested against. The same as ``upfirdn2d(..., impl="reference")``.

    Shape:
        - Input: :math:`(N, C, H, W)`
        - Output: :math:`(N, C, H_{out}, W_{out})`

    Example:
        >>> x = torch.arange(4.0).view(1, 1, 2, 2)
        >>> upfirdn2d_reference(x, [1.0, 1.0], up=2)  # nearest x2
        tensor([[[[0., 0., 1., 1.],
                  [0., 0., 1., 1.],
                  [2., 2., 3., 3.],
                  [2., 2., 3., 3.]]]])
    """
    return upfirdn2d(x, taps, up, down, padding, pad_mode, gain, impl="reference")


@dataclass(frozen=True)
class UpFirDn2dPlan:
    """An :func:`upfirdn2d` with every argument but the input fixed, checked and decided once
    (:func:`prepare_upfirdn2d`): what a layer holds beside its taps buffer.

    Call it as ``plan(x, taps)`` with the taps it was prepared with, in any dtype and device
    (a module's non-persistent buffer after ``.to()``); only their shape is checked, so the
    call does no data-dependent work in Python (``torch.compile`` traces it whole).

    Attributes:
        up, down, padding, pad_mode, gain, impl, flip_filter: as in :func:`upfirdn2d`.
        taps_shape: the shape of the taps it was prepared with.
        torch_mode: the ``F.interpolate`` mode that computes zeros + these taps (``impl="auto"``
            up-sampling with exactly its filter), else None.
    """

    up: int
    down: int
    padding: Padding
    pad_mode: str
    gain: float
    impl: str
    flip_filter: bool
    taps_shape: tuple[int, ...]
    torch_mode: str | None

    def __call__(self, x: torch.Tensor, taps: torch.Tensor) -> torch.Tensor:
        """Apply the plan to ``x`` (shape ``(N, C, H, W)``) with ``taps`` (its taps)."""
        x = check_input(x)
        if static_shape(taps) != self.taps_shape:
            raise ValueError(
                f"expected taps of shape {self.taps_shape} (as prepared), got {tuple(taps.shape)}"
            )
        return _run(
            x,
            taps,
            self.up,
            self.down,
            self.padding,
            self.pad_mode,
            self.gain,
            self.impl,
            self.flip_filter,
            self.torch_mode,
        )


def prepare_upfirdn2d(
    taps: Taps,
    up: int = 1,
    down: int = 1,
    padding: Padding = None,
    pad_mode: str = "zeros",
    gain: float = 1.0,
    *,
    impl: str = "auto",
    flip_filter: bool = False,
) -> UpFirDn2dPlan:
    """Check the arguments of :func:`upfirdn2d` once and decide its path: the "prepare once"
    entry for modules (filters as buffers, decisions made at construction).

    Arguments as in :func:`upfirdn2d` (``taps`` are those the plan will be called with; they
    are not stored). Whether torch's own kernel computes these taps is decided here, once,
    instead of comparing them on every call.

    Returns:
        An :class:`UpFirDn2dPlan`; ``plan(x, taps)`` equals
        ``upfirdn2d(x, taps, up, down, padding, pad_mode, gain, impl=..., flip_filter=...)``.

    Example:
        >>> taps = torch.tensor([1.0, 3.0, 3.0, 1.0]) / 4
        >>> plan = prepare_upfirdn2d(taps, up=2, pad_mode="replicate")  # linear_taps(2)
        >>> plan.torch_mode, plan(torch.tensor([[[[0.0, 4.0]]]]), taps)[0, 0, 0].tolist()
        ('bilinear', [0.0, 1.0, 3.0, 4.0])
    """
    up, down = check_factor("up", up), check_factor("down", down)
    pad_mode, gain, impl = check_pad_mode(pad_mode), check_gain(gain), check_impl(impl)
    if not isinstance(flip_filter, bool):
        raise TypeError(f"expected flip_filter to be True or False, got {flip_filter!r}")
    check_padding(padding)
    if padding is not None and not isinstance(padding, int):
        padding = tuple(padding)  # hashable, and safe from later changes by the caller
    t = taps_tensor(taps)
    torch_mode = None
    if impl == "auto" and up > 1 and down == 1:
        # 1-D taps with gain 1 compare as they are; otherwise the 2-D kernel carries the gain
        probe = t if (t.ndim == 1 and gain == 1.0) else as_kernel(t, t, gain, flip_filter)
        if flip_filter and probe is t:
            probe = t.flip(0)
        torch_mode = interpolation_mode(probe.detach(), up)
    return UpFirDn2dPlan(
        up, down, padding, pad_mode, gain, impl, flip_filter, tuple(t.shape), torch_mode
    )


def _normalized(taps: Taps, dc: float, normalize: bool = True) -> torch.Tensor:
    """Validated taps (or 2-D kernel), scaled so that each axis has DC gain ``dc``."""
    t = taps_tensor(taps)
    if not normalize:
        return t
    total = t.sum()
    if float(total) == 0.0:
        raise ValueError(
            "expected taps with a non-zero sum to normalise, got sum 0; "
            "pass normalize=False to use them as given"
        )
    return t * ((dc**t.ndim) / total)


def upsample2d(
    x: torch.Tensor,
    taps: Taps,
    up: int = 2,
    padding: Padding = None,
    pad_mode: str = "zeros",
    normalize: bool = True,
    gain: float = 1.0,
    *,
    impl: str = "auto",
) -> torch.Tensor:
    """Up-sample by ``up``: zero-stuff and interpolate with ``taps`` (``upfirdn2d``, down=1).

    DC gain: with ``normalize=True`` the taps are scaled to sum to ``up`` per axis (a 2-D
    kernel to ``up**2``), so a constant input stays constant away from zero padding; with
    ``normalize=False`` they are used as given (e.g. :func:`antialias.filters.linear_taps`
    already sums to ``up``). ``gain`` multiplies the result's kernel.

    Output ``j`` is centred at input coordinate ``(j + 1/2)/up - 1/2`` (``align_corners=False``
    grid) when ``len(taps) + up`` is even. With ``pad_mode='replicate'``,
    ``upsample2d(x, linear_taps(up))`` is ``F.interpolate(x, scale_factor=up,
    mode='bilinear')``; see :mod:`antialias.catalogue`.

    Args:
        x: input, shape ``(N, C, H, W)``.
        taps: 1-D taps, binomial length, or 2-D kernel.
        up: integer factor >= 1.
        padding: override of the default padding (see :func:`upfirdn2d`).
        pad_mode: ``zeros``, ``reflect``, ``replicate`` or ``circular``.
        normalize: scale the taps to DC gain ``up`` per axis.
        gain: extra factor on the kernel.
        impl: one of :data:`IMPLS` (see :func:`upfirdn2d`).

    Returns:
        Output, shape ``(N, C, H*up, W*up)`` with the default padding.

    Shape:
        - Input: :math:`(N, C, H, W)`
        - Output: :math:`(N, C, H \\cdot up, W \\cdot up)`

    Example:
        >>> x = torch.tensor([[[[0.0, 4.0]]]])
        >>> upsample2d(x, [1, 3, 3, 1], pad_mode="replicate")[0, 0, 0]
        tensor([0., 1., 3., 4.])
    """
    x, up, down, pad_mode, gain, impl = _checked(x, up, 1, pad_mode, gain, impl)
    t = _normalized(taps, float(up), normalize)
    return _run(x, t, up, down, check_padding(padding), pad_mode, gain, impl, False, AUTO)


def downsample2d(
    x: torch.Tensor,
    taps: Taps,
    down: int = 2,
    padding: Padding = None,
    pad_mode: str = "zeros",
    normalize: bool = True,
    gain: float = 1.0,
    *,
    impl: str = "auto",
) -> torch.Tensor:
    """Low-pass filter with ``taps`` and keep every ``down``-th sample (``upfirdn2d``, up=1).

    DC gain: with ``normalize=True`` the taps are scaled to sum to 1 (a constant input stays
    constant away from zero padding). Output ``j`` is centred on input ``j*down`` for an odd
    number of taps (padding ``(L-1)//2`` each side) and at ``j*down + 1/2`` for an even number
    (padding ``((L-1)//2, L//2)``). For every length this equals kornia's ``blur_pool2d``
    (``pad_mode='zeros'``) and antialiased-cnns' ``BlurPool`` (``pad_mode='reflect'``, or
    ``'zeros'`` for its ``pad_type='zero'``); a symmetric split for even ``L`` is ``padding=p``.

    Args:
        x: input, shape ``(N, C, H, W)``.
        taps: 1-D taps, binomial length (``3`` means ``[1, 2, 1]/4``), or 2-D kernel.
        down: integer factor >= 1.
        padding: override of the default padding (see :func:`upfirdn2d`).
        pad_mode: ``zeros``, ``reflect``, ``replicate`` or ``circular``.
        normalize: scale the taps to DC gain 1 per axis.
        gain: extra factor on the kernel.
        impl: one of :data:`IMPLS` (see :func:`upfirdn2d`).

    Returns:
        Output, shape ``(N, C, ceil(H/down), ceil(W/down))`` with the default padding.

    Shape:
        - Input: :math:`(N, C, H, W)`
        - Output: :math:`(N, C, \\lceil H/down \\rceil, \\lceil W/down \\rceil)`

    Example:
        >>> x = torch.tensor([[[[0.0, 0.0, 4.0, 4.0, 4.0]]]])
        >>> downsample2d(x, 3, pad_mode="replicate")[0, 0, 0]
        tensor([0., 3., 4.])
    """
    x, up, down, pad_mode, gain, impl = _checked(x, 1, down, pad_mode, gain, impl)
    t = _normalized(taps, 1.0, normalize)
    return _run(x, t, up, down, check_padding(padding), pad_mode, gain, impl, False, AUTO)


def filter2d(
    x: torch.Tensor,
    taps: Taps,
    padding: Padding = None,
    pad_mode: str = "zeros",
    normalize: bool = True,
    gain: float = 1.0,
    *,
    impl: str = "auto",
) -> torch.Tensor:
    """Filter with ``taps`` at the same resolution (``upfirdn2d`` with up = down = 1).

    DC gain 1 with ``normalize=True``. Output ``j`` is centred on input ``j`` for an odd
    number of taps and on ``j + 1/2`` for an even number (default padding
    ``((L-1)//2, L//2)``).

    Args:
        x: input, shape ``(N, C, H, W)``.
        taps: 1-D taps, binomial length, or 2-D kernel.
        padding: override of the default padding (see :func:`upfirdn2d`).
        pad_mode: ``zeros``, ``reflect``, ``replicate`` or ``circular``.
        normalize: scale the taps to DC gain 1 per axis.
        gain: extra factor on the kernel.
        impl: one of :data:`IMPLS` (see :func:`upfirdn2d`).

    Returns:
        Output, shape ``(N, C, H, W)`` with the default padding.

    Shape:
        - Input: :math:`(N, C, H, W)`
        - Output: :math:`(N, C, H, W)`

    Example:
        >>> x = torch.tensor([[[[0.0, 4.0, 0.0]]]])
        >>> filter2d(x, 3, pad_mode="circular")[0, 0, 0]
        tensor([1., 2., 1.])
    """
    x, up, down, pad_mode, gain, impl = _checked(x, 1, 1, pad_mode, gain, impl)
    t = _normalized(taps, 1.0, normalize)
    return _run(x, t, up, down, check_padding(padding), pad_mode, gain, impl, False, AUTO)
