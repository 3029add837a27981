"""Filter *application*: ``upfirdn2d`` (zero-stuff, pad, FIR, decimate) and its wrappers.

What lives here: the general resampling primitive :func:`upfirdn2d`, its slow and obvious
twin :func:`upfirdn2d_reference` (the definition, used by the tests), the thin wrappers
:func:`upsample2d`, :func:`downsample2d`, :func:`filter2d`, the "prepare once" entry
:func:`prepare_upfirdn2d` and the border extension :func:`extend2d`. Filter *design* lives in
:mod:`antialias.filters`; modules (``BlurPool2d``, ``Upsample2d``) live in
:mod:`antialias.layers`.

Definition (per axis; the 2-D operation applies it to H and W with the same ``up``/``down``).
Let ``x`` have ``n`` samples and the taps ``f`` have ``L`` entries. Extend ``x`` to all
integers by ``pad_mode`` (``zeros``: 0 outside; ``reflect``: mirror without repeating the
edge, as ``F.pad(mode='reflect')``; ``replicate``: clamp; ``circular``: periodic). Padding
longer than the input (small maps deep in a U-Net) goes on reflecting or wrapping, as
``numpy.pad`` does, where ``F.pad`` would refuse. Zero-stuff:
``z[up*i] = x[i]``, ``z = 0`` between. Filter (true convolution, not correlation) and keep
every ``down``-th sample::

    y[j] = sum_k f[k] * z[j*down + (L - 1 - p0) - k],     j = 0 .. out - 1,
    out  = (n*up + p0 + p1 - L) // down + 1.

``padding = (p0, p1)`` is the padding of the zero-stuffed signal, in fine-grid samples (as
StyleGAN3's ``upfirdn2d``). With ``pad_mode='zeros'`` this is exactly scipy's / StyleGAN3's
upfirdn; other modes extend ``x`` *before* zero-stuffing (the inserted samples stay zero).

Phase convention (which input position each output is centred on). Output ``j`` is centred
at fine-grid position ``j*down + (L - 1)/2 - p0``, i.e. at input coordinate
``(j*down + (L - 1)/2 - p0) / up`` (input sample ``i`` sits at coordinate ``i``). The default
padding is ``p0 = (L + up - 2) // 2``, ``p1 = L - 1 - p0``, which gives ``out = ceil(n*up/down)``
and:

- **up-sampling** (``down = 1``): output ``j`` is centred at ``(j + 1/2)/up - 1/2``, the
  half-pixel grid of ``F.interpolate(align_corners=False)``, whenever ``L + up`` is even (true
  for every interpolation filter in :mod:`antialias.filters`); when it is odd, half a
  fine-grid sample later. So ``upsample2d(x, linear_taps(2), pad_mode='replicate')`` equals
  ``F.interpolate(x, scale_factor=2, mode='bilinear')``.
- **down-sampling** (``up = 1``): output ``j`` is centred on input sample ``j*down`` for odd
  ``L`` (symmetric padding ``(L-1)//2``) and at ``j*down + 1/2`` for even ``L`` (padding
  ``((L-1)//2, L//2)``). This is the split of antialiased-cnns' ``BlurPool`` and of kornia
  0.9's ``blur_pool2d`` for every ``L`` (both checked in the tests); a symmetric split for
  even ``L`` is ``padding=p`` (e.g. ``padding=(L-1)//2``).

Implementations (``impl=`` of every entry; :data:`IMPLS`): ``"auto"`` (default) picks the
fastest path for the arguments, ``"generic"`` and ``"depthwise"`` switch fast paths off (to
time or test them), ``"reference"`` is the definition step by step, ``"pad"`` the
export-safe path (below). All agree up to rounding. What the fast paths do (``_fast.py``
gives each its reason and benchmark row):

- ``up = 1``: one strided ``conv2d`` with the zero padding inside the conv; ``up > 1``: one
  ``conv_transpose2d`` with stride ``up`` (each output phase from its own polyphase
  sub-filter: the inserted zeros are never stored nor multiplied).
- Both as a *column-blocked* dense conv where it applies (float32, contiguous NCHW, width a
  multiple of the block, short filters): the tensor viewed as ``(N*C, B, H, W/B)`` is a
  channels_last tensor with ``B`` channels, so the op runs as an ordinary channels_last conv
  mapping ``B`` to ``B*up/down`` channels (oneDNN's fast kernels); ``impl="depthwise"``
  switches it off.
- Up-sampling with exactly the taps of ``F.interpolate``'s nearest, bilinear or bicubic
  modes (default padding): torch's own kernel computes the forward (``impl="auto"`` only).
- Non-zero ``pad_mode``: the conv runs with zero padding, then only the few border
  rows/columns whose support leaves the input are recomputed and written in (no full-tensor
  ``F.pad`` copy). Circular up-sampling instead wraps the input by the few samples the taps
  reach and crops, so that every output comes from one op: exactly shift-equivariant.
- Backward: the adjoint operator, again by this fast path (up and down swapped, kernel
  flipped: one conv), plus the few padding rows/columns added back onto their sources.

Tracing, export, compilation: while ``torch.jit.trace``, ``torch.export`` (and the ONNX
exporter on it) or ``torch.compile`` traces a call, every ``impl`` runs as ``"pad"``: the whole
tensor extended by ``pad_mode`` (one ``F.pad``), one depthwise ``conv2d(stride=down)``
(``conv_transpose2d(stride=up)`` plus crops by constants for up-sampling), and no Python
that reads ``H`` or ``W``, so the graph holds at every size (the fast paths' border strips and
column blocking decide by size: frozen by a trace, guards in an export). Eager calls keep the
fast paths.

Layout of the package: ``_pad`` (the export-safe path), ``_core`` (checks, index
arithmetic, :data:`IMPLS`), ``borders``
(:func:`extend2d`), ``_reference`` (the definition), ``_fast`` (the fast paths), ``_api``
(the entries below, and :func:`prepare_upfirdn2d`, the "prepare once" plan layers hold).

All ops are differentiable (with respect to ``x`` and to tensor taps), keep channels_last
inputs channels_last, and run in float16/bfloat16/float32/float64 on CPU.
"""

from __future__ import annotations

from antialias._checks import PAD_MODES

from ._api import (
    UpFirDn2dPlan,
    downsample2d,
    filter2d,
    prepare_upfirdn2d,
    upfirdn2d,
    upfirdn2d_reference,
    upsample2d,
)
from ._core import IMPLS, MAX_PADDING, MAX_PLANE
from .borders import extend2d

__all__ = [
    "IMPLS",
    "MAX_PADDING",
    "MAX_PLANE",
    "PAD_MODES",
    "UpFirDn2dPlan",
    "downsample2d",
    "extend2d",
    "filter2d",
    "prepare_upfirdn2d",
    "upfirdn2d",
    "upfirdn2d_reference",
    "upsample2d",
]
