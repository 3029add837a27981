"""One factory per direction: the model says *where* a resampler goes, the factory says *which*.

``create_downsample(name, channels, **kw)`` and ``create_upsample(name, in_channels,
out_channels, **kw)``; the registries :data:`DOWNSAMPLERS` and :data:`UPSAMPLERS` map each
name to its builder, and ``list_downsamplers()`` / ``list_upsamplers()`` list the names.
An unknown name raises ``ValueError`` listing the valid ones; a keyword a builder does not
take raises ``TypeError`` listing the ones it does. ``down``/``up``, ``pad_mode``, ``device``
and ``dtype`` are the *common* keywords (:data:`DOWN_COMMON`, ``UPSAMPLE_COMMON``): a model
passes one ``pad_mode`` to whichever resampler it builds. They are checked here, once, for
every name, and handed only to builders that take them: ``maxpool`` / ``avgpool`` have no
border (kernel = stride, no padding) and no weights, so their output is the same for every
``pad_mode`` and their builders do not take it. Up-sampler keywords come from the one table
:data:`~antialias.layers.upsample.UPSAMPLE_KEYWORDS` that ``Upsample2d`` also reads.

Every down-sampler maps ``H`` to ``H / down`` when ``down`` divides ``H``; every up-sampler
maps ``H`` to exactly ``up H``.

Pairing APS (see :mod:`antialias.layers.aps`)::

    down = create_downsample("aps", 64, pad_mode="circular")
    up = create_upsample("aps", 128, 64, pair=down, pad_mode="circular")
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import torch
from torch import nn

from ._common import check_int, check_pad_mode
from .aps import APSDown2d
from .blurpool import BlurPool2d, ConvBlurPool2d, MaxBlurPool2d
from .factory_nd import DOWNSAMPLERS_ND, UPSAMPLERS_ND, not_available
from .upsample import UPSAMPLE_COMMON, UPSAMPLE_KEYWORDS, Upsample2d

__all__ = [
    "DOWN_COMMON",
    "DOWNSAMPLERS",
    "UPSAMPLERS",
    "create_downsample",
    "create_upsample",
    "list_downsamplers",
    "list_upsamplers",
]

Device = torch.device | str | None


# --- down-samplers: builder(channels, *, down, pad_mode, device, dtype, ...) ------------------


#: Keywords every down-sampler name accepts (checked once by :func:`create_downsample`).
DOWN_COMMON: tuple[str, ...] = ("down", "pad_mode", "device", "dtype")


def _maxpool(channels: int | None, *, down: int = 2) -> nn.Module:
    """``nn.MaxPool2d(down, down)`` (output ``floor(H / down)``; no border, no weights)."""
    return nn.MaxPool2d(check_int("down", down, 1), stride=down)


def _avgpool(channels: int | None, *, down: int = 2) -> nn.Module:
    """``nn.AvgPool2d(down, down)`` (output ``floor(H / down)``): box filter + decimation."""
    return nn.AvgPool2d(check_int("down", down, 1), stride=down)


def _decimate(
    channels: int | None,
    *,
    down: int = 2,
    pad_mode: str = "reflect",
    device: Device = None,
    dtype: torch.dtype | None = None,
) -> nn.Module:
    """``x[..., ::down, ::down]``: :class:`BlurPool2d` with ``taps=1`` (no filter)."""
    return BlurPool2d(channels, 1, down, pad_mode, device=device, dtype=dtype)


def _blurpool(
    channels: int | None,
    *,
    down: int = 2,
    taps=3,
    pad_mode: str = "reflect",
    pad_split: str = "adobe",
    device: Device = None,
    dtype: torch.dtype | None = None,
) -> nn.Module:
    """:class:`BlurPool2d`."""
    return BlurPool2d(channels, taps, down, pad_mode, pad_split, device=device, dtype=dtype)


def _maxblurpool(
    channels: int | None,
    *,
    down: int = 2,
    taps=3,
    pad_mode: str = "reflect",
    max_kernel_size: int = 2,
    pad_split: str = "adobe",
    device: Device = None,
    dtype: torch.dtype | None = None,
) -> nn.Module:
    """:class:`MaxBlurPool2d` (max at stride 1, kernel ``max_kernel_size``, then blur-pool)."""
    return MaxBlurPool2d(
        channels,
        taps,
        down,
        pad_mode,
        max_kernel_size,
        pad_split=pad_split,
        device=device,
        dtype=dtype,
    )


def _conv(
    channels: int | None,
    *,
    down: int = 2,
    out_channels: int | None = None,
    kernel_size: int = 3,
    pad_mode: str = "zeros",
    bias: bool = True,
    device: Device = None,
    dtype: torch.dtype | None = None,
) -> nn.Module:
    """Strided ``nn.Conv2d(kernel_size, stride=down, padding=(kernel_size-1)//2)``."""
    channels = check_int("channels", channels, 1)
    check_int("kernel_size", kernel_size, 1)
    check_int("down", down, 1)
    return nn.Conv2d(
        channels,
        channels if out_channels is None else check_int("out_channels", out_channels, 1),
        kernel_size,
        stride=down,
        padding=(kernel_size - 1) // 2,
        bias=bias,
        padding_mode=check_pad_mode(pad_mode),
        device=device,
        dtype=dtype,
    )


def _convblurpool(
    channels: int | None,
    *,
    down: int = 2,
    out_channels: int | None = None,
    kernel_size: int = 3,
    taps=3,
    pad_mode: str = "reflect",
    bias: bool = True,
    pad_split: str = "adobe",
    device: Device = None,
    dtype: torch.dtype | None = None,
) -> nn.Module:
    """:class:`ConvBlurPool2d` (conv at stride 1, then blur-pool)."""
    channels = check_int("channels", channels, 1)
    return ConvBlurPool2d(
        channels,
        out_channels,
        kernel_size,
        taps,
        down,
        pad_mode,
        bias=bias,
        pad_split=pad_split,
        device=device,
        dtype=dtype,
    )


def _aps(
    channels: int | None,
    *,
    down: int = 2,
    norm: str = "l2",
    taps=1,
    pad_mode: str = "circular",
    device: Device = None,
    dtype: torch.dtype | None = None,
) -> nn.Module:
    """:class:`APSDown2d` (keeps the chosen phase for a paired ``create_upsample("aps")``)."""
    return APSDown2d(channels, down, norm, taps, pad_mode, device=device, dtype=dtype)


DOWNSAMPLERS: dict[str, Callable[..., nn.Module]] = {
    "maxpool": _maxpool,
    "avgpool": _avgpool,
    "decimate": _decimate,
    "blurpool": _blurpool,
    "maxblurpool": _maxblurpool,
    "conv": _conv,
    "convblurpool": _convblurpool,
    "aps": _aps,
}


# --- up-samplers: Upsample2d(in, out, method=name, ...), keywords from its table -------------


def _upsampler(method: str) -> Callable[..., nn.Module]:
    def build(in_channels: int | None, out_channels: int | None, **kw: object) -> nn.Module:
        return Upsample2d(in_channels, out_channels, method=method, **kw)

    build.__doc__ = f":class:`Upsample2d` with ``method={method!r}``."
    build.keywords = UPSAMPLE_COMMON + UPSAMPLE_KEYWORDS[method]  # type: ignore[attr-defined]
    return build


UPSAMPLERS: dict[str, Callable[..., nn.Module]] = {m: _upsampler(m) for m in UPSAMPLE_KEYWORDS}


def list_downsamplers(spatial_dims: int = 2) -> list[str]:
    """Names accepted by :func:`create_downsample` for ``spatial_dims``, in registry order."""
    if _dims(spatial_dims) == 2:
        return list(DOWNSAMPLERS)
    return list(DOWNSAMPLERS_ND)


def list_upsamplers(spatial_dims: int = 2) -> list[str]:
    """Names accepted by :func:`create_upsample` for ``spatial_dims``, in registry order."""
    dims = _dims(spatial_dims)
    if dims == 2:
        return list(UPSAMPLERS)
    return [n for n, (_, _, where) in UPSAMPLERS_ND.items() if dims in where]


def _dims(spatial_dims: object) -> int:
    if isinstance(spatial_dims, bool) or spatial_dims not in (1, 2, 3):
        raise ValueError(f"expected spatial_dims to be 1, 2 or 3, got {spatial_dims!r}")
    return int(spatial_dims)  # type: ignore[arg-type]


def _lookup_nd(func: str, name: object, dims: int, valid: list[str], known: list[str]) -> None:
    if name in valid:
        return
    if isinstance(name, str) and name in known:
        raise not_available(func, name, dims, valid)
    raise ValueError(f"expected a {func} name, one of {valid}, got {name!r}")


def _lookup(kind: str, name: object, registry: dict[str, Callable[..., nn.Module]]):
    if not isinstance(name, str) or name not in registry:
        raise ValueError(f"expected a {kind} name, one of {list(registry)}, got {name!r}")
    return registry[name]


def _check_keywords(func: str, name: str, given: dict, accepted: tuple[str, ...]) -> None:
    unknown = sorted(set(given) - set(accepted))
    if unknown:
        raise TypeError(
            f"{func}({name!r}): expected keywords among {sorted(accepted)}, got unexpected "
            f"{unknown}"
        )


def create_downsample(
    name: str, channels: int | None, *, spatial_dims: int = 2, **kw: object
) -> nn.Module:
    """Build the down-sampler ``name`` for ``channels`` channels (signals, images, volumes).

    Args:
        name: one of :func:`list_downsamplers`: ``maxpool``, ``avgpool``, ``decimate``,
            ``blurpool``, ``maxblurpool``, ``conv`` (strided conv), ``convblurpool``, ``aps``.
        channels: input channels (``None`` allowed where the layer has no weights).
        spatial_dims: 1, 2 (default) or 3: ``BlurPool1d`` / ``BlurPool2d`` / ``BlurPool3d``
            and so on (:mod:`antialias.layers.factory_nd`; ``aps``: ``APSDown1d`` /
            ``APSDown3d``).
        **kw: ``down`` (default 2; 1-D/3-D blur-pools: also one per axis), ``pad_mode``,
            ``device``, ``dtype`` for every name;
            ``taps``, ``pad_split``, ``max_kernel_size``, ``out_channels``, ``kernel_size``,
            ``bias``, ``norm`` where the layer has them.

    Returns:
        The module; ``H -> H / down`` for ``H`` divisible by ``down``.

    Raises:
        ValueError: unknown name (the message lists the valid ones) or a bad value.
        TypeError: a keyword this name does not take.

    Example:
        >>> create_downsample("maxblurpool", 16, taps=4).taps.tolist()
        [0.125, 0.375, 0.375, 0.125]
        >>> create_downsample("conv", 8)(torch.randn(1, 8, 6, 6)).shape
        torch.Size([1, 8, 3, 3])
        >>> type(create_downsample("blurpool", 8, spatial_dims=3)).__name__
        'BlurPool3d'
    """
    dims = _dims(spatial_dims)
    if dims != 2:
        _lookup_nd("create_downsample", name, dims, list(DOWNSAMPLERS_ND), list(DOWNSAMPLERS))
        nd = DOWNSAMPLERS_ND[name]
        takes = tuple(p for p in inspect.signature(nd).parameters if p not in ("dims", "channels"))
        _check_keywords("create_downsample", name, kw, tuple(dict.fromkeys(DOWN_COMMON + takes)))
        if "pad_mode" in kw:
            check_pad_mode(kw["pad_mode"])
        return nd(dims, channels, **{k: v for k, v in kw.items() if k in takes})
    builder = _lookup("down-sampler", name, DOWNSAMPLERS)
    takes = tuple(p for p in inspect.signature(builder).parameters if p != "channels")
    _check_keywords("create_downsample", name, kw, tuple(dict.fromkeys(DOWN_COMMON + takes)))
    if "pad_mode" in kw:
        check_pad_mode(kw["pad_mode"])  # once, for every name (the builders trust it)
    return builder(channels, **{k: v for k, v in kw.items() if k in takes})


def create_upsample(
    name: str,
    in_channels: int | None,
    out_channels: int | None,
    *,
    spatial_dims: int = 2,
    **kw: object,
) -> nn.Module:
    """Build the up-sampler ``name`` (in 2-D an :class:`Upsample2d` with ``method=name``).

    Args:
        name: one of :func:`list_upsamplers`: ``nearest``, ``bilinear``, ``bicubic``, ``blur``,
            ``transposed``, ``transposed_blur``, ``pixel_shuffle``, ``aps``.
        in_channels: input channels.
        out_channels: output channels.
        spatial_dims: 1, 2 (default) or 3. In 1-D/3-D: ``nearest`` (``nn.Upsample``),
            ``linear`` / ``trilinear`` (zeros + triangle FIR = torch's interpolation),
            ``blur`` (``BlurUpsample{n}d``), each + a "same" conv when the channels differ;
            ``transposed`` (``nn.ConvTranspose{n}d``), ``transposed_blur``,
            ``pixel_shuffle`` (3-D: ``PixelShuffleUpsample3d``). Others raise ValueError.
        **kw: ``up`` (default 2), ``pad_mode``, ``device``, ``dtype`` for every name;
            ``taps``, ``kernel_size``, ``init``, ``conv``, ``bias``, ``pair`` where the method
            has them (see :class:`Upsample2d`).

    Returns:
        The module; ``H -> up H`` exactly.

    Raises:
        ValueError: unknown name (the message lists the valid ones) or a bad value.
        TypeError: a keyword this method does not take.

    Example:
        >>> up = create_upsample("transposed", 16, 8, kernel_size=4, init="icnr")
        >>> up(torch.randn(1, 16, 5, 5)).shape
        torch.Size([1, 8, 10, 10])
        >>> create_upsample("trilinear", 4, 2, spatial_dims=3)(torch.randn(1, 4, 2, 3, 3)).shape
        torch.Size([1, 2, 4, 6, 6])
    """
    dims = _dims(spatial_dims)
    if dims != 2:
        valid = list_upsamplers(dims)
        known = list(UPSAMPLERS) + list(UPSAMPLERS_ND)
        _lookup_nd("create_upsample", name, dims, valid, known)
        nd, keywords, _ = UPSAMPLERS_ND[name]
        _check_keywords("create_upsample", name, kw, keywords)
        if "pad_mode" in kw:
            check_pad_mode(kw["pad_mode"])
        return nd(dims, in_channels, out_channels, **kw)
    if isinstance(name, str) and name in UPSAMPLERS_ND and name not in UPSAMPLERS:
        raise not_available("create_upsample", name, 2, list(UPSAMPLERS))
    builder = _lookup("up-sampler", name, UPSAMPLERS)
    _check_keywords("create_upsample", name, kw, builder.keywords)  # type: ignore[attr-defined]
    return builder(in_channels, out_channels, **kw)
