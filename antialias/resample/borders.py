"""Border extension: a tensor's rows and columns outside ``[0, n)`` by ``pad_mode``, for any
amount (``numpy.pad``'s semantics where ``F.pad`` refuses), and its adjoint.

Public: :func:`extend2d` (the layers' periodic wraps and this package's reference use it).
The rest is the package's own (its siblings import it).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from antialias._checks import PAD_MODES, check_int, check_pad_mode

__all__ = ["extend2d"]

TORCH_PAD = {m: m for m in PAD_MODES} | {"zeros": "constant"}  # names in F.pad


def extend2d(x: torch.Tensor, padding: tuple[int, int, int, int], pad_mode: str) -> torch.Tensor:
    """``x`` extended by ``padding = (left, right, top, bottom)`` samples (as ``F.pad``) by
    ``pad_mode``, for any amounts ``>= 0``.

    Where ``F.pad`` can (reflect padding < size, circular padding <= size) it is one
    ``F.pad``; beyond that the extension goes on reflecting or wrapping, as ``numpy.pad``'s
    ``reflect`` / ``wrap`` do (small maps deep in a U-Net). ``zeros`` pads with 0,
    ``replicate`` repeats the edge. Differentiable.

    Args:
        x: input, shape ``(N, C, H, W)``.
        padding: ``(left, right, top, bottom)``, each an integer ``>= 0``.
        pad_mode: one of :data:`antialias.PAD_MODES`.

    Returns:
        Shape ``(N, C, top + H + bottom, left + W + right)``, same dtype and device.

    Shape:
        - Input: :math:`(N, C, H, W)`
        - Output: :math:`(N, C, H + top + bottom, W + left + right)`

    Example:
        >>> x = torch.arange(3.0).view(1, 1, 1, 3)
        >>> extend2d(x, (4, 4, 0, 0), "circular")[0, 0, 0].tolist()  # wraps more than once
        [2.0, 0.0, 1.0, 2.0, 0.0, 1.0, 2.0, 0.0, 1.0, 2.0, 0.0]
    """
    check_pad_mode(pad_mode)
    if not isinstance(padding, tuple | list) or len(padding) != 4:
        raise TypeError(f"expected padding to be (left, right, top, bottom), got {padding!r}")
    left, right, top, bottom = (
        check_int(name, p, 0, 2**20) for name, p in zip(("left", "right", "top", "bottom"), padding)
    )
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        raise ValueError(f"expected x of shape (N, C, H, W), got {getattr(x, 'shape', x)!r}")
    h, w = x.shape[-2], x.shape[-1]
    return extend(x, [(-top, h + bottom), (-left, w + right)], pad_mode)


def source(i: int, n: int, mode: str) -> int:
    """Input index that virtual position i reads under pad_mode (-1: a zero), for any i.

    As ``numpy.pad``: reflect (numpy 'reflect') mirrors back and forth, circular ('wrap')
    repeats, replicate ('edge') clamps; within F.pad's limits the same as F.pad.
    """
    if 0 <= i < n:
        return i
    if mode == "zeros":
        return -1
    if mode == "replicate":
        return min(max(i, 0), n - 1)
    if mode == "circular":
        return i % n
    if n == 1:  # reflect of one sample (only reached with no reflect padding)
        return 0
    r = i % (2 * n - 2)
    return 2 * n - 2 - r if r >= n else r


def gather(x: torch.Tensor, dim: int, start: int, stop: int, mode: str) -> torch.Tensor:
    """Virtual positions [start, stop) of x along dim (2 or 3), extended by pad_mode."""
    n = x.shape[dim]
    if start >= 0 and stop <= n:
        return x.narrow(dim, start, stop - start)
    if mode == "zeros":
        lo, hi = max(start, 0), min(stop, n)
        if hi <= lo:
            shape = list(x.shape)
            shape[dim] = stop - start
            return x.new_zeros(shape)
        pad = [0, 0, 0, 0]
        pad[2 * (3 - dim)], pad[2 * (3 - dim) + 1] = lo - start, stop - hi
        return F.pad(x.narrow(dim, lo, hi - lo), pad)
    src = [source(i, n, mode) for i in range(start, stop)]
    return x.index_select(dim, torch.tensor(src, device=x.device))


def extend(x: torch.Tensor, spans: list[tuple[int, int]], mode: str) -> torch.Tensor:
    """Virtual rows/cols spans[0] x spans[1] of x extended by mode, copying only that block."""
    view, pad = x, [0, 0, 0, 0]
    fits = True
    for d, (start, stop) in enumerate(spans):
        n = x.shape[2 + d]
        lo, hi = max(start, 0), min(stop, n)
        before, after = lo - start, stop - hi
        if hi <= lo:
            fits = False
            break
        view = view.narrow(2 + d, lo, hi - lo)
        pad[2 * (1 - d)], pad[2 * (1 - d) + 1] = before, after
        # F.pad of the narrowed view equals the extension of x when it reads only rows the
        # view holds: always for zeros/replicate; reflect needs pad < view size; circular
        # wraps within the view, so padding a side needs the view to reach the other end.
        if mode == "reflect":
            fits = fits and max(before, after) < hi - lo
        elif mode == "circular":
            fits = fits and (before == 0 or hi == n) and (after == 0 or lo == 0)
            fits = fits and max(before, after) <= hi - lo
    if fits:  # one F.pad of a small block: the common case, and the fewest ops
        return F.pad(view, pad, mode=TORCH_PAD[mode]) if any(pad) else view
    # Gather the narrower side first, so that the second gather copies a small tensor.
    order = sorted((0, 1), key=lambda d: (spans[d][1] - spans[d][0]) / x.shape[2 + d])
    for d in order:
        x = gather(x, 2 + d, *spans[d], mode)
    return x


def fold(grad: torch.Tensor, band: torch.Tensor, dim: int, start: int, mode: str) -> torch.Tensor:
    """Adjoint of gather: add band (virtual positions start.. along dim) into grad's sources."""
    n = grad.shape[dim]
    src = [source(i, n, mode) for i in range(start, start + band.shape[dim])]
    keep = [k for k, s in enumerate(src) if s >= 0]
    if len(keep) < len(src):
        band = band.index_select(dim, torch.tensor(keep, device=band.device))
        src = [src[k] for k in keep]
    if not src:
        return grad
    # A run of consecutive sources (circular; reflect, reversed; replicate, one) is a narrow
    # add: much cheaper than index_add_ when the sources are columns of a large tensor.
    steps = {b - a for a, b in zip(src, src[1:])}
    if steps <= {1}:
        grad.narrow(dim, src[0], len(src)).add_(band)
    elif steps == {-1}:
        grad.narrow(dim, src[-1], len(src)).add_(band.flip(dim))
    elif steps == {0}:
        grad.narrow(dim, src[0], 1).add_(band.sum(dim, keepdim=True))
    else:
        grad.index_add_(dim, torch.tensor(src, device=grad.device), band)
    return grad
