"""Adaptive polyphase sampling (APS, Chaman & Dokmanic 2021) and its up-sampling partner.

What lives here: :func:`aps_down2d` / :class:`APSDown2d` (keep the polyphase component of
largest norm, per sample, and say which) and :func:`aps_up2d` / :class:`APSUp2d` (write a
low-resolution map back into a given phase, zeros elsewhere). Any factor ``>= 2``, any
device, norms ``l2``, ``l1``, ``linf``. Signals and volumes (per-axis factors): ``aps_nd.py``.

Why it is exactly equivariant: a circular shift of the input by ``s`` permutes its polyphase
components (component ``p`` moves to ``(p + s) mod down`` and is itself rolled), so the
component of largest norm moves with the shift; writing the low-resolution map back into
the remembered phase undoes the permutation. With circular padding everywhere in between,
``up(down(roll(x, s))) == roll(up(down(x)), s)`` for every integer ``s``, bit for bit
(tested in float64). Ties between equal norms are broken towards the lowest phase index,
which is *not* shift-consistent: inputs with exactly equal polyphase norms (a constant
map, say) are the one case where the property fails.

Pairing in a U-Net: ``APSDown2d.forward`` returns a plain tensor (so the U-Net code is the
same for every down-sampler) and keeps the chosen phase per batch element in
``down.phase`` (a ``(B, 2)`` long tensor of ``(row, col)`` offsets). An
``APSUp2d(..., pair=down)`` reads it when called without an explicit ``phase``. Build one
pair per resolution level::

    down = APSDown2d(64)
    up = APSUp2d(128, 64, pair=down)
    y = down(x)          # (B, 64, H/2, W/2); down.phase is (B, 2)
    ...
    z = up(y2)           # (B, 64, H, W), written into down.phase

The pair is held as a plain reference, not a sub-module, so the down-sampler is not
registered twice (``named_modules``, ``state_dict`` and ``repr`` see it once, where the
model put it); ``copy.deepcopy`` of the whole model keeps the link.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

from ._common import (
    check_choice,
    check_feature_map,
    check_int,
    check_optional_channels,
    check_pad_mode,
)
from ._parts import blur_plan, make_resize_conv, resolve_taps

__all__ = ["APSDown2d", "APSUp2d", "aps_down2d", "aps_up2d", "APS_NORMS"]

APS_NORMS: tuple[str, ...] = ("l2", "l1", "linf")


def _polyphase_norms(xp: Tensor, norm: str) -> Tensor:
    # xp: (B, C, h, d, w, d) view; norms per (B, row phase, col phase). Half precision is
    # accumulated in float32 so that near-equal phases are still told apart sensibly.
    if xp.dtype in (torch.float16, torch.bfloat16):
        xp = xp.float()
    if norm == "l2":  # squared: monotone in the l2 norm, one sqrt fewer
        return xp.pow(2).sum(dim=(1, 2, 4))
    if norm == "l1":
        return xp.abs().sum(dim=(1, 2, 4))
    return xp.abs().amax(dim=(1, 2, 4))


def aps_down2d(x: Tensor, down: int = 2, norm: str = "l2") -> tuple[Tensor, Tensor]:
    """Keep, per sample, the polyphase component of largest norm.

    Component ``(i, j)`` is ``x[:, :, i::down, j::down]``; its norm is taken over channels and
    space. Ties go to the lowest ``i * down + j``.

    Args:
        x: input, ``H`` and ``W`` divisible by ``down``.
        down: factor, ``>= 2`` (1 is accepted and returns ``x`` with phase 0).
        norm: ``"l2"``, ``"l1"`` or ``"linf"``.

    Returns:
        ``(y, phase)``: the chosen components and their ``(row, col)`` offsets.

    Shape:
        - x: ``(B, C, H, W)``
        - y: ``(B, C, H / down, W / down)``
        - phase: ``(B, 2)``, ``torch.long``, values in ``[0, down)``

    Example:
        >>> x = torch.zeros(1, 1, 4, 4); x[0, 0, 1, 2] = 5.0
        >>> y, phase = aps_down2d(x)
        >>> phase.tolist(), y[0, 0].tolist()
        ([[1, 0]], [[0.0, 5.0], [0.0, 0.0]])
    """
    check_feature_map(x, "aps_down2d")
    check_int("down", down, 1)
    check_choice("norm", norm, APS_NORMS)
    b, c, h, w = x.shape
    if h % down or w % down:
        raise ValueError(
            f"aps_down2d: expected H and W divisible by down={down}, got {h}x{w}; crop or pad "
            "the input (circularly, to keep exact equivariance) to a multiple of down"
        )
    xp = x.reshape(b, c, h // down, down, w // down, down)
    flat = _polyphase_norms(xp, norm).reshape(b, down * down).argmax(dim=1)
    row = torch.div(flat, down, rounding_mode="floor")
    col = flat - row * down
    batch = torch.arange(b, device=x.device)
    # advanced indices at dims 0, 3, 5 (not adjacent): the batch dim comes first -> (B, C, h, w)
    y = xp[batch, :, :, row, :, col]
    return y, torch.stack([row, col], dim=1)


def aps_up2d(y: Tensor, phase: Tensor, up: int = 2) -> Tensor:
    """Write ``y`` into polyphase component ``phase`` of a zero map ``up`` times larger.

    The adjoint of picking that component: ``aps_down2d`` followed by ``aps_up2d`` with the
    returned phase keeps the chosen samples in place and zeros the rest.

    Args:
        y: low-resolution map.
        phase: ``(row, col)`` offsets per sample, values in ``[0, up)``.
        up: factor, ``>= 1``.

    Returns:
        The up-sampled map, DC gain ``1 / up**2`` (a later filter with gain ``up**2`` restores
        it; see :class:`APSUp2d`).

    Shape:
        - y: ``(B, C, h, w)``
        - phase: ``(B, 2)`` integer
        - output: ``(B, C, up h, up w)``

    Example:
        >>> aps_up2d(torch.ones(1, 1, 1, 2), torch.tensor([[1, 0]]))[0, 0].tolist()
        [[0.0, 0.0, 0.0, 0.0], [1.0, 0.0, 1.0, 0.0]]
    """
    check_feature_map(y, "aps_up2d")
    check_int("up", up, 1)
    b, c, h, w = y.shape
    if not isinstance(phase, Tensor) or phase.shape != (b, 2):
        got = tuple(phase.shape) if isinstance(phase, Tensor) else type(phase).__name__
        raise ValueError(f"aps_up2d: expected phase of shape ({b}, 2) for this batch, got {got}")
    if phase.dtype.is_floating_point or phase.dtype == torch.bool:
        raise TypeError(f"aps_up2d: expected an integer phase tensor, got {phase.dtype}")
    # a data-dependent check: skipped while torch.compile traces (it cannot branch on values)
    if not torch.compiler.is_compiling() and bool(((phase < 0) | (phase >= up)).any()):
        raise ValueError(f"aps_up2d: expected phase values in [0, {up}), got {phase.tolist()}")
    phase = phase.to(device=y.device, dtype=torch.long)
    # One-hot masks of each sample's phase row and column, and one select: no index
    # assignment, whose view shapes a trace would freeze at the traced size. torch.where
    # (not a product with the mask) keeps non-finite values where they were.
    offsets = torch.arange(up, device=y.device)
    rows = (phase[:, 0, None] == offsets).view(-1, 1, 1, up, 1, 1)
    cols = (phase[:, 1, None] == offsets).view(-1, 1, 1, 1, 1, up)
    out = torch.where(rows & cols, y[:, :, :, None, :, None], y.new_zeros(()))
    return out.reshape(b, c, h * up, w * up)


class APSDown2d(nn.Module):
    """Adaptive polyphase down-sampling, optionally after a low-pass blur ("APS + LPF").

    Returns a plain tensor; the phase chosen for each batch element is kept in
    :attr:`phase` for a paired :class:`APSUp2d` (module docstring).

    Args:
        channels: expected input channels, or ``None`` for any.
        down: factor, ``>= 2``.
        norm: ``"l2"``, ``"l1"`` or ``"linf"``.
        taps: blur before selection: an int (binomial length; 1 = no blur, the original APS) or
            1-D taps (normalised to sum 1).
        pad_mode: padding of the blur; ``"circular"`` keeps the layer exactly
            circular-shift-equivariant.
        device: device of the filter buffer.
        dtype: dtype of the filter buffer.

    Shape:
        - Input: ``(B, C, H, W)``, ``H`` and ``W`` divisible by ``down``
        - Output: ``(B, C, H / down, W / down)``

    Example:
        >>> down = APSDown2d(3)
        >>> down(torch.randn(2, 3, 8, 8)).shape, down.phase.shape
        (torch.Size([2, 3, 4, 4]), torch.Size([2, 2]))
    """

    phase: Optional[Tensor]  # noqa: UP045 - TorchScript reads this annotation

    def __init__(
        self,
        channels: int | None = None,
        down: int = 2,
        norm: str = "l2",
        taps: int | Tensor | list[float] = 1,
        pad_mode: str = "circular",
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.channels = check_optional_channels("channels", channels)
        self.down = check_int("down", down, 2)
        self.norm = check_choice("norm", norm, APS_NORMS)
        self.pad_mode = check_pad_mode(pad_mode)
        self.register_buffer(
            "taps", resolve_taps(taps, gain=1.0, device=device, dtype=dtype), persistent=False
        )
        self.plan = blur_plan(self.taps, 1, self.pad_mode, "adobe")  # same-size blur
        self.phase = None

    def forward(self, x: Tensor) -> Tensor:
        check_feature_map(x, "APSDown2d", self.channels)
        if self.taps.numel() > 1:
            x = self.plan(x, self.taps)
        y, phase = aps_down2d(x, self.down, self.norm)
        self.phase = phase
        return y

    def extra_repr(self) -> str:
        return (
            f"channels={self.channels}, down={self.down}, norm={self.norm!r}, "
            f"taps={self.taps.numel()}, pad_mode={self.pad_mode!r}"
        )


class APSUp2d(nn.Module):
    """Up-sampling into the phase chosen by a paired :class:`APSDown2d` ("APS-U").

    Zeros everywhere but the remembered phase, then an optional low-pass blur with DC gain
    ``up**2``, then a conv when the channel counts differ (or ``conv=True``).

    Args:
        in_channels: input channels (``None`` for any, only without conv).
        out_channels: output channels (``None``: same as input).
        up: factor, ``>= 2``; must equal the pair's ``down``.
        pair: the :class:`APSDown2d` whose phase to use (or set later via :attr:`pair`).
        taps: blur after zero insertion: int (binomial length; 1 = none) or 1-D taps
            (normalised to sum ``up``).
        pad_mode: padding of the blur and of the conv.
        kernel_size: kernel of the conv.
        conv: force (``True``) or forbid (``False``) the conv; ``None``: only if channels differ.
        device: device of parameters and buffers.
        dtype: dtype of parameters and buffers.

    Shape:
        - Input: ``(B, C_in, h, w)``
        - Output: ``(B, C_out, up h, up w)``

    Example:
        >>> down = APSDown2d(); up = APSUp2d(pair=down)
        >>> x = torch.randn(2, 3, 8, 8)
        >>> z = up(down(x))
        >>> z.shape, bool((z != 0).sum() == 2 * 3 * 16)
        (torch.Size([2, 3, 8, 8]), True)
    """

    def __init__(
        self,
        in_channels: int | None = None,
        out_channels: int | None = None,
        up: int = 2,
        pair: APSDown2d | None = None,
        taps: int | Tensor | list[float] = 1,
        pad_mode: str = "circular",
        kernel_size: int = 3,
        conv: bool | None = None,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.in_channels = check_optional_channels("in_channels", in_channels)
        out_channels = check_optional_channels("out_channels", out_channels)
        self.out_channels = self.in_channels if out_channels is None else out_channels
        self.up = check_int("up", up, 2)
        self.pad_mode = check_pad_mode(pad_mode)
        self.register_buffer(
            "taps", resolve_taps(taps, gain=float(up), device=device, dtype=dtype), persistent=False
        )
        self.plan = blur_plan(self.taps, 1, self.pad_mode, "adobe")  # same-size blur
        self.conv = make_resize_conv(
            self.in_channels, self.out_channels, conv, kernel_size, pad_mode, device, dtype
        )
        self._pair: list[APSDown2d] = []
        APSUp2d.pair.fset(self, pair)

    def __setattr__(self, name: str, value: object) -> None:
        # nn.Module would register a Module value as a sub-module and bypass the property
        if name == "pair":
            APSUp2d.pair.fset(self, value)
        else:
            super().__setattr__(name, value)

    @property
    def pair(self) -> APSDown2d | None:
        """The paired :class:`APSDown2d` (a plain reference, not a sub-module)."""
        return self._pair[0] if self._pair else None

    @pair.setter
    def pair(self, down: APSDown2d | None) -> None:
        if down is not None and not isinstance(down, APSDown2d):
            raise TypeError(f"expected pair to be an APSDown2d or None, got {type(down).__name__}")
        if down is not None and down.down != self.up:
            raise ValueError(
                f"expected the pair's down ({down.down}) to equal up ({self.up}), got different"
            )
        self._pair = [] if down is None else [down]

    def _pair_phase(self) -> Tensor:
        down = self.pair
        if down is None:
            raise ValueError(
                "APSUp2d: expected a phase, got none: pass forward(x, phase) or build it with "
                "pair=<the APSDown2d of this level>"
            )
        if down.phase is None:
            raise ValueError(
                "APSUp2d: expected the paired APSDown2d to have run first in this forward, got no "
                "stored phase"
            )
        return down.phase

    def forward(self, x: Tensor, phase: Tensor | None = None) -> Tensor:
        check_feature_map(x, "APSUp2d", self.in_channels)
        if phase is None:
            phase = self._pair_phase()
        if phase.shape[0] != x.shape[0]:
            raise ValueError(
                f"APSUp2d: expected a phase for each of the {x.shape[0]} samples, got "
                f"{phase.shape[0]} (did the paired down-sampler see another batch?)"
            )
        y = aps_up2d(x, phase, self.up)
        if self.taps.numel() > 1:
            y = self.plan(y, self.taps)
        if self.conv is not None:
            y = self.conv(y)
        return y

    def extra_repr(self) -> str:
        paired = "set" if self.pair is not None else "none"
        return (
            f"in_channels={self.in_channels}, out_channels={self.out_channels}, up={self.up}, "
            f"taps={self.taps.numel()}, pad_mode={self.pad_mode!r}, pair={paired}"
        )
