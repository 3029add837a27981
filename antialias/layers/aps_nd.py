"""Adaptive polyphase sampling (APS, Chaman & Dokmanic 2021) for signals and volumes.

What lives here: :func:`aps_down_nd` (keep, per sample, the polyphase component of largest
norm among the ``prod(down)`` components, and say which), :func:`aps_up_nd` (write a
low-resolution map back into a given phase, zeros elsewhere), and their modules
:class:`APSDown1d` / :class:`APSDown3d` / :class:`APSUp1d` / :class:`APSUp3d`. What does not:
the 2-D layers (``aps.py``; same semantics, same pairing, same tie rule), blur-pool and the
other up-samplers (``blurpool_nd.py``, ``upsample_nd.py``).

The factor is an int or one per spatial axis (``(1, 2, 2)``: anisotropic volumes, D kept);
an axis with factor 1 has one phase and, as in the blur-pools, is not blurred. The phase of a
sample is one offset per spatial axis, a ``(B, dims)`` long tensor; component ``p`` is
``x[..., p_0::d_0, p_1::d_1, p_2::d_2]``. Ties between equal norms go to the lowest
row-major index ``(p_0 d_1 + p_1) d_2 + p_2``: with depth 1 and ``down=(1, 2, 2)`` the choice
is the 2-D layer's.

Why it is exactly equivariant (as in 2-D): a circular shift of the input by ``s`` permutes the
components (``p -> (p + s) mod d`` per axis) and rolls each, so the component of largest norm
moves with the shift; writing back into the remembered phase undoes the permutation. With
circular padding everywhere in between, ``up(down(roll(x, s))) == roll(up(down(x)), s)`` for
every integer shift on every axis, to rounding (tested in float64), unless two components'
norms are exactly equal.

Pairing: ``APSDown3d.forward`` returns a plain tensor and keeps the chosen phase in
``down.phase``; ``APSUp3d(..., pair=down)`` reads it (a plain reference, not a sub-module).
"""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor, nn

from antialias._checks import check_choice, check_int, check_pad_mode

from ._nd_common import (
    Factor,
    TapsLike,
    check_input_nd,
    filtered_axes,
    optional_channels,
    per_axis_factors,
    resolve_taps_nd,
    taps_repr,
)
from .aps import APS_NORMS
from .blurconv import same_blur

__all__ = ["APSDown1d", "APSDown3d", "APSUp1d", "APSUp3d", "aps_down_nd", "aps_up_nd"]

_CONV = {1: nn.Conv1d, 3: nn.Conv3d}


def _dims_of(x: object, op: str) -> int:
    if not isinstance(x, Tensor) or x.dim() not in (3, 4, 5):
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"{op}: expected input (B, C, *S) with 1 to 3 axes, got {shape}")
    return x.dim() - 2


def _norms(xp: Tensor, norm: str, dims: int) -> Tensor:
    """Norms per (B, phase per axis) of ``xp`` of shape (B, C, n_0, d_0, n_1, d_1, ...)."""
    if xp.dtype in (torch.float16, torch.bfloat16):
        xp = xp.float()  # as in 2-D: tell near-equal phases apart sensibly
    over = (1, *(2 + 2 * k for k in range(dims)))
    if norm == "l2":  # squared: monotone in the l2 norm
        return xp.pow(2).sum(dim=over)
    if norm == "l1":
        return xp.abs().sum(dim=over)
    return xp.abs().amax(dim=over)


def _select(x: Tensor, downs: tuple[int, ...], norm: str) -> tuple[Tensor, Tensor]:
    b, c, *sizes = x.shape
    dims = len(sizes)
    split = [v for n, d in zip(sizes, downs) for v in (n // d, d)]
    xp = x.reshape(b, c, *split)
    flat = _norms(xp, norm, dims).reshape(b, math.prod(downs)).argmax(dim=1)
    phase = []
    rest = flat
    for d in reversed(downs):  # unravel the row-major index, last axis fastest
        phase.append(rest % d)
        rest = torch.div(rest, d, rounding_mode="floor")
    phase.reverse()
    batch = torch.arange(b, device=x.device)
    # advanced indices at the batch dim and at each phase dim (never adjacent): the result
    # keeps the batch dim first, then C and the low-resolution axes in order
    index: list[object] = [batch, slice(None)]
    for p in phase:
        index += [slice(None), p]
    return xp[tuple(index)], torch.stack(phase, dim=1)


def aps_down_nd(x: Tensor, down: Factor = 2, norm: str = "l2") -> tuple[Tensor, Tensor]:
    """Keep, per sample, the polyphase component of largest norm (over channels and space).

    Args:
        x: input with 1, 2 or 3 spatial axes, each divisible by its factor.
        down: factor, an int or one per spatial axis (1 on an axis: kept whole).
        norm: ``"l2"``, ``"l1"`` or ``"linf"``.

    Returns:
        ``(y, phase)``: the chosen components and their offsets, one per spatial axis.

    Shape:
        - x: ``(B, C, *S)``
        - y: ``(B, C, *(S_d / down_d))``
        - phase: ``(B, dims)``, ``torch.long``, values in ``[0, down_d)``

    Example:
        >>> x = torch.zeros(1, 1, 2, 4, 4); x[0, 0, 1, 3, 0] = 5.0
        >>> y, phase = aps_down_nd(x)
        >>> phase.tolist(), float(y.sum()), tuple(y.shape)
        ([[1, 1, 0]], 5.0, (1, 1, 1, 2, 2))
    """
    dims = _dims_of(x, "aps_down_nd")
    check_input_nd(x, "aps_down_nd", dims)
    downs = per_axis_factors("down", down, dims)
    check_choice("norm", norm, APS_NORMS)
    _check_divisible(x, downs, "aps_down_nd")
    return _select(x, downs, norm)


def _check_divisible(x: Tensor, downs: tuple[int, ...], op: str) -> None:
    sizes = tuple(x.shape[2:])
    if any(n % d for n, d in zip(sizes, downs)):
        raise ValueError(
            f"{op}: expected every spatial size divisible by its factor {downs}, got {sizes}; "
            "crop or pad the input (circularly, to keep exact equivariance) to a multiple"
        )


def _check_phase(phase: object, b: int, ups: tuple[int, ...], op: str) -> Tensor:
    dims = len(ups)
    if not isinstance(phase, Tensor) or phase.shape != (b, dims):
        got = tuple(phase.shape) if isinstance(phase, Tensor) else type(phase).__name__
        raise ValueError(f"{op}: expected phase of shape ({b}, {dims}) for this batch, got {got}")
    if phase.dtype.is_floating_point or phase.dtype == torch.bool:
        raise TypeError(f"{op}: expected an integer phase tensor, got {phase.dtype}")
    limit = torch.tensor(ups, device=phase.device)
    # a data-dependent check: skipped while torch.compile traces (it cannot branch on values)
    if not torch.compiler.is_compiling() and bool(((phase < 0) | (phase >= limit)).any()):
        raise ValueError(f"{op}: expected phase values in [0, {ups}), got {phase.tolist()}")
    return phase


def aps_up_nd(y: Tensor, phase: Tensor, up: Factor = 2) -> Tensor:
    """Write ``y`` into polyphase component ``phase`` of a zero map ``up`` times larger.

    The adjoint of picking that component (:func:`aps_down_nd`); DC gain ``1 / prod(up)``.

    Args:
        y: low-resolution map with 1, 2 or 3 spatial axes.
        phase: offsets per sample and axis, values in ``[0, up_d)``.
        up: factor, an int or one per spatial axis.

    Shape:
        - y: ``(B, C, *s)``
        - phase: ``(B, dims)`` integer
        - output: ``(B, C, *(up_d s_d))``

    Example:
        >>> aps_up_nd(torch.ones(1, 1, 2), torch.tensor([[1]]))[0, 0].tolist()
        [0.0, 1.0, 0.0, 1.0]
    """
    dims = _dims_of(y, "aps_up_nd")
    check_input_nd(y, "aps_up_nd", dims)
    ups = per_axis_factors("up", up, dims)
    b, c, *sizes = y.shape
    phase = _check_phase(phase, b, ups, "aps_up_nd").to(device=y.device, dtype=torch.long)
    # one-hot masks per axis and one select (no index assignment, whose view shapes a trace
    # would freeze); torch.where keeps non-finite values where they were
    mask = torch.ones((b,) + (1,) * (1 + 2 * dims), dtype=torch.bool, device=y.device)
    expand: list[object] = [slice(None), slice(None)]
    for k, u in enumerate(ups):
        shape = [b] + [1] * (1 + 2 * dims)
        shape[2 + 2 * k + 1] = u
        hot = phase[:, k, None] == torch.arange(u, device=y.device)
        mask = mask & hot.view(shape)
        expand += [slice(None), None]
    out = torch.where(mask, y[tuple(expand)], y.new_zeros(()))
    return out.reshape(b, c, *(n * u for n, u in zip(sizes, ups)))


# --------------------------------------------------------------------------- modules


class _APSDownNd(nn.Module):
    spatial_dims = 0
    phase: Optional[Tensor]  # noqa: UP045 - TorchScript reads this annotation

    def __init__(
        self,
        channels: int | None = None,
        down: Factor = 2,
        norm: str = "l2",
        taps: TapsLike = 1,
        pad_mode: str = "circular",
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.channels = optional_channels(channels)
        self.down = per_axis_factors("down", down, self.spatial_dims)
        if all(d == 1 for d in self.down):
            raise ValueError(f"expected down >= 2 on at least one axis, got {down!r}")
        self.norm = check_choice("norm", norm, APS_NORMS)
        self.pad_mode = check_pad_mode(pad_mode)
        self.register_buffer("taps", resolve_taps_nd(taps, 1.0, device, dtype), persistent=False)
        self.phase = None

    def forward(self, x: Tensor) -> Tensor:
        name = type(self).__name__
        check_input_nd(x, name, self.spatial_dims, self.channels)
        _check_divisible(x, self.down, name)
        if self.taps.numel() > 1:  # "APS + LPF": same-size blur along the sampled axes
            x = same_blur(x, self.taps.to(x.dtype), self.pad_mode, filtered_axes(self.down))
        y, phase = _select(x, self.down, self.norm)
        self.phase = phase
        return y

    def extra_repr(self) -> str:
        return (
            f"channels={self.channels}, down={self.down}, norm={self.norm!r}, "
            f"taps={taps_repr(self.taps)}, pad_mode={self.pad_mode!r}"
        )


class APSDown1d(_APSDownNd):
    """Adaptive polyphase down-sampling of signals, optionally after a blur ("APS + LPF").

    Args: as :class:`APSDown3d`.

    Shape:
        - Input: ``(B, C, L)``, ``L`` divisible by ``down``
        - Output: ``(B, C, L / down)``; :attr:`phase` ``(B, 1)``

    Example:
        >>> down = APSDown1d(2)
        >>> down(torch.randn(3, 2, 8)).shape, down.phase.shape
        (torch.Size([3, 2, 4]), torch.Size([3, 1]))
    """

    spatial_dims = 1


class APSDown3d(_APSDownNd):
    """Adaptive polyphase down-sampling of volumes, optionally after a blur ("APS + LPF").

    Returns a plain tensor; the phase chosen per batch element is kept in :attr:`phase` for a
    paired :class:`APSUp3d` (module docstring).

    Args:
        channels: expected input channels, or ``None`` for any.
        down: factor, an int or one per axis (``(1, 2, 2)``: D kept); ``>= 2`` somewhere.
        norm: ``"l2"``, ``"l1"`` or ``"linf"``.
        taps: blur before selection: binomial length (1 = none, the original APS) or 1-D taps
            (normalised to sum 1), applied along the axes with a factor > 1.
        pad_mode: padding of the blur; ``"circular"`` keeps the layer exactly
            circular-shift-equivariant.
        device: device of the filter buffer.
        dtype: dtype of the filter buffer.

    Shape:
        - Input: ``(B, C, D, H, W)``, each divisible by its factor
        - Output: ``(B, C, D / down_D, H / down_H, W / down_W)``; :attr:`phase` ``(B, 3)``

    Example:
        >>> down = APSDown3d(4, down=(1, 2, 2))
        >>> down(torch.randn(2, 4, 3, 8, 6)).shape, down.phase[:, 0].tolist()
        (torch.Size([2, 4, 3, 4, 3]), [0, 0])
    """

    spatial_dims = 3


class _APSUpNd(nn.Module):
    spatial_dims = 0

    def __init__(
        self,
        in_channels: int | None = None,
        out_channels: int | None = None,
        up: Factor = 2,
        pair: _APSDownNd | None = None,
        taps: TapsLike = 1,
        pad_mode: str = "circular",
        kernel_size: int = 3,
        conv: bool | None = None,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.in_channels = optional_channels(in_channels)
        out = optional_channels(out_channels)
        self.out_channels = self.in_channels if out is None else out
        self.up = per_axis_factors("up", up, self.spatial_dims)
        if all(u == 1 for u in self.up):
            raise ValueError(f"expected up >= 2 on at least one axis, got {up!r}")
        self.pad_mode = check_pad_mode(pad_mode)
        # taps sum 1 here (the 2-D layer stores them summing to up); forward multiplies by
        # prod(up), the DC the zeros took
        self.register_buffer("taps", resolve_taps_nd(taps, 1.0, device, dtype), persistent=False)
        self.conv = self._make_conv(conv, kernel_size, device, dtype)
        self._pair: list[_APSDownNd] = []
        self._set_pair(pair)

    def _make_conv(self, conv, kernel_size, device, dtype) -> nn.Module | None:
        if conv is not None and not isinstance(conv, bool):
            raise TypeError(f"expected conv to be True, False or None, got {conv!r}")
        c_in, c_out = self.in_channels, self.out_channels
        if not ((c_in != c_out) if conv is None else conv):
            if c_in != c_out:
                raise ValueError(
                    f"expected conv=True (or None) when in_channels ({c_in}) != "
                    f"out_channels ({c_out}), got conv=False"
                )
            return None
        if c_in is None or c_out is None:
            raise ValueError(
                "expected in_channels and out_channels (ints) for the conv, got "
                f"in_channels={c_in}, out_channels={c_out}"
            )
        check_int("kernel_size", kernel_size, 1)
        return _CONV[self.spatial_dims](
            c_in,
            c_out,
            kernel_size,
            padding="same",
            padding_mode=self.pad_mode,
            device=device,
            dtype=dtype,
        )

    def __setattr__(self, name: str, value: object) -> None:
        # nn.Module would register a Module value as a sub-module and bypass the pairing
        if name == "pair":
            self._set_pair(value)
        else:
            super().__setattr__(name, value)

    @property
    def pair(self) -> _APSDownNd | None:
        """The paired down-sampler (a plain reference, not a sub-module)."""
        return self._pair[0] if self._pair else None

    def _set_pair(self, down: object) -> None:
        want = {1: APSDown1d, 3: APSDown3d}[self.spatial_dims]
        if down is not None and not isinstance(down, want):
            raise TypeError(
                f"expected pair to be an {want.__name__} or None, got {type(down).__name__}"
            )
        if down is not None and down.down != self.up:
            raise ValueError(
                f"expected the pair's down ({down.down}) to equal up ({self.up}), got different"
            )
        self._pair = [] if down is None else [down]

    def _pair_phase(self) -> Tensor:
        name = type(self).__name__
        down = self.pair
        if down is None:
            raise ValueError(
                f"{name}: expected a phase, got none: pass forward(x, phase) or build it with "
                "pair=<the APS down-sampler of this level>"
            )
        if down.phase is None:
            raise ValueError(
                f"{name}: expected the paired down-sampler to have run first in this forward, "
                "got no stored phase"
            )
        return down.phase

    def forward(self, x: Tensor, phase: Tensor | None = None) -> Tensor:
        name = type(self).__name__
        check_input_nd(x, name, self.spatial_dims, self.in_channels)
        if phase is None:
            phase = self._pair_phase()
        if isinstance(phase, Tensor) and phase.dim() >= 1 and phase.shape[0] != x.shape[0]:
            raise ValueError(
                f"{name}: expected a phase for each of the {x.shape[0]} samples, got "
                f"{phase.shape[0]} (did the paired down-sampler see another batch?)"
            )
        y = aps_up_nd(x, phase, self.up)
        if self.taps.numel() > 1:
            on = filtered_axes(self.up)
            y = same_blur(y, self.taps.to(y.dtype), self.pad_mode, on)
            y = y * math.prod(self.up)  # the blur sums to 1 per axis; the zeros took prod(up)
        if self.conv is not None:
            y = self.conv(y)
        return y

    def extra_repr(self) -> str:
        paired = "set" if self.pair is not None else "none"
        return (
            f"in_channels={self.in_channels}, out_channels={self.out_channels}, up={self.up}, "
            f"taps={taps_repr(self.taps)}, pad_mode={self.pad_mode!r}, pair={paired}"
        )


class APSUp1d(_APSUpNd):
    """Up-sampling of signals into the phase chosen by a paired :class:`APSDown1d`.

    Args: as :class:`APSUp3d`.

    Shape:
        - Input: ``(B, C_in, l)``
        - Output: ``(B, C_out, up l)``

    Example:
        >>> down = APSDown1d(); up = APSUp1d(pair=down)
        >>> up(down(torch.randn(2, 3, 8))).shape
        torch.Size([2, 3, 8])
    """

    spatial_dims = 1


class APSUp3d(_APSUpNd):
    """Up-sampling of volumes into the phase chosen by a paired :class:`APSDown3d` ("APS-U").

    Zeros everywhere but the remembered phase, then an optional blur with DC gain
    ``prod(up)`` (along the up-sampled axes), then a "same" conv when the channels differ (or
    ``conv=True``).

    Args:
        in_channels: input channels (``None`` for any, only without conv).
        out_channels: output channels (``None``: same as input).
        up: factor, an int or one per axis; must equal the pair's ``down``.
        pair: the :class:`APSDown3d` whose phase to use (or set later via :attr:`pair`).
        taps: blur after zero insertion: binomial length (1 = none) or 1-D taps.
        pad_mode: padding of the blur and of the conv.
        kernel_size: kernel of the conv.
        conv: force (``True``) or forbid (``False``) the conv; ``None``: only if channels differ.
        device: device of parameters and buffers.
        dtype: dtype of parameters and buffers.

    Shape:
        - Input: ``(B, C_in, d, h, w)``
        - Output: ``(B, C_out, up_D d, up_H h, up_W w)``

    Example:
        >>> down = APSDown3d(down=(1, 2, 2)); up = APSUp3d(2, 4, (1, 2, 2), pair=down)
        >>> up(down(torch.randn(1, 2, 3, 4, 4))).shape
        torch.Size([1, 4, 3, 4, 4])
    """

    spatial_dims = 3
