"""The definition of upfirdn2d, step by step: the slow, obvious twin the fast paths are tested
against (``impl="reference"``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._core import Axis
from .borders import TORCH_PAD, gather


def reference(
    x: torch.Tensor,
    kernel: torch.Tensor,
    up: int,
    down: int,
    padding: tuple[int, int, int, int],
    pad_mode: str,
) -> torch.Tensor:
    """The definition, step by step: extend, zero-stuff, pad/crop, convolve, decimate."""
    pw0, pw1, ph0, ph1 = padding
    kh, kw = kernel.shape
    axes = (
        Axis(x.shape[-2], up, down, kh, ph0, ph1),
        Axis(x.shape[-1], up, down, kw, pw0, pw1),
    )
    ah, aw = axes
    before_h, after_h, before_w, after_w = (
        ah.pad_before(),
        ah.pad_after(),
        aw.pad_before(),
        aw.pad_after(),
    )
    # 1. extend x by pad_mode (enough input samples for every output). F.pad refuses reflect
    #    padding >= size and circular padding > size; numpy.pad goes on reflecting/wrapping.
    if before_h or after_h or before_w or after_w:
        limit = {"reflect": min(ah.n, aw.n) - 1, "circular": min(ah.n, aw.n)}.get(pad_mode)
        if limit is None or max(before_h, after_h, before_w, after_w) <= limit:
            x = F.pad(x, (before_w, after_w, before_h, after_h), mode=TORCH_PAD[pad_mode])
        else:
            x = gather(x, 2, -before_h, ah.n + after_h, pad_mode)
            x = gather(x, 3, -before_w, aw.n + after_w, pad_mode)
    # 2. zero-stuff: x[i] goes to up*i, zeros between (and up-1 zeros after the last sample).
    n, c, h, w = x.shape
    z = x.new_zeros(n, c, h * up, w * up)
    z[..., ::up, ::up] = x
    # 3. keep fine-grid positions [-p0, n*up + p1) of the original signal (F.pad crops when
    #    given negative amounts; the extension sits at the start of z).
    z = F.pad(
        z,
        (
            pw0 - before_w * up,
            (aw.n + before_w) * up + pw1 - w * up,
            ph0 - before_h * up,
            (ah.n + before_h) * up + ph1 - h * up,
        ),
    )
    # 4. convolve (conv2d correlates: flip the kernel), one filter per channel.
    weight = kernel.flip(0, 1).expand(c, 1, kh, kw)
    y = F.conv2d(z, weight, groups=c)
    # 5. decimate.
    return y[..., ::down, ::down]
