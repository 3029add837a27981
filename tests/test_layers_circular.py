"""pad_mode="circular": every factory resampler, and every U-Net variant built from them, commutes
with circular shifts exactly to rounding (float64, :mod:`antialias.exact`: BLAS kernels round
differently by CPU and by output position, so never ``== 0``), checked against naive periodic
references."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from antialias.exact import exact_tolerance, is_exact, max_relative_error
from antialias.layers import (
    MaxBlurPool2d,
    Upsample2d,
    create_downsample,
    create_upsample,
    list_downsamplers,
    list_upsamplers,
)
from antialias.layers.blurpool import ConvBlurPool2d
from antialias.models import VARIANTS, build_variant

F64 = torch.float64


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _err(a: torch.Tensor, b: torch.Tensor) -> float:
    assert a.shape == b.shape, (a.shape, b.shape)
    return (a - b).abs().max().item()


def _exact_report(got: torch.Tensor, want: torch.Tensor) -> str:
    return (
        f"max abs error {_err(got, want):.3g}, max relative error "
        f"{max_relative_error(got, want):.3g} (exact to rounding: <= "
        f"{exact_tolerance(want.dtype):.3g})"
    )


def _roll(x: torch.Tensor, sh: int, sw: int) -> torch.Tensor:
    return torch.roll(x, (sh, sw), (-2, -1))


def _check_equivariant(op, x: torch.Tensor, shifts, num: int, den: int, tol: float | None = None):
    """op(roll(x, s)) == roll(op(x), s * num / den) for every (sh, sw) in shifts.

    Exact to rounding (:func:`antialias.exact.is_exact`) unless ``tol`` states a max abs error.
    """
    y = op(x)
    for sh, sw in shifts:
        assert (sh * num) % den == 0 and (sw * num) % den == 0
        got = op(_roll(x, sh, sw))
        want = _roll(y, sh * num // den, sw * num // den)
        if tol is None:
            assert is_exact(got, want), f"shift {(sh, sw)}: {_exact_report(got, want)}"
        else:
            err = _err(got, want)
            assert err <= tol, f"shift {(sh, sw)}: max abs error {err}"


# (max_kernel_size=3 with max_padding=0 keeps MaxPool2d's size H / 2 - 1, a crop of the periodic
# map; its values are checked against the naive reference below)
DOWN_CASES = [(n, {}) for n in list_downsamplers()] + [
    ("maxblurpool", {"taps": 4, "pad_split": "symmetric"}),
    ("conv", {"kernel_size": 2}),
    ("conv", {"kernel_size": 4}),
    ("convblurpool", {"kernel_size": 2}),
    ("convblurpool", {"kernel_size": 4, "taps": 5}),
]


@pytest.mark.parametrize("down", [2, 3])
@pytest.mark.parametrize("name,kw", DOWN_CASES)
def test_every_downsampler_commutes_with_circular_shifts(name: str, kw: dict, down: int) -> None:
    torch.manual_seed(0)
    op = create_downsample(name, 3, down=down, pad_mode="circular", dtype=F64, **kw)
    for h, w in ((16 // down * down, 16 // down * down), (5 * down, 3 * down)):
        x = torch.randn(2, 3, h, w, dtype=F64)
        shifts = [(down, 0), (0, 2 * down), (3 * down, -down), (h, w)]
        _check_equivariant(op, x, shifts, 1, down)
        # still the size promised for every pad mode
        assert (
            op(x).shape
            == create_downsample(name, 3, down=down, pad_mode="zeros", **kw)(x.float()).shape
        )


# aps: the phase comes from the paired down-sampler; the pair is tested in test_layers_aps.py
UP_CASES = (
    [(n, {}) for n in list_upsamplers() if n != "aps"]
    + [("transposed", {"kernel_size": k}) for k in (1, 3, 4, 5, 7)]
    + [("transposed_blur", {"kernel_size": 4}), ("blur", {"taps": 5}), ("blur", {"taps": 3})]
)


@pytest.mark.parametrize("up", [2, 3])
@pytest.mark.parametrize("name,kw", UP_CASES)
def test_every_upsampler_commutes_with_circular_shifts(name: str, kw: dict, up: int) -> None:
    torch.manual_seed(0)
    op = create_upsample(name, 3, 2, up=up, pad_mode="circular", dtype=F64, **kw)
    # every integer shift, odd sizes too; up = 3 puts 1/3 in torch's interpolation
    # coordinates (rounded), so exact only to rounding there
    tol = None if up == 2 or name not in ("bilinear", "bicubic") else 1e-12
    for h, w in ((8, 8), (5, 7), (1, 2)):
        x = torch.randn(2, 3, h, w, dtype=F64)
        _check_equivariant(op, x, [(1, 0), (0, 3), (-2, 5), (h, w)], up, 1, tol)
        assert op(x).shape == (x.shape[0], 2, up * h, up * w)


def _naive_transposed(x: np.ndarray, w: np.ndarray, b: np.ndarray, s: int, p: int) -> np.ndarray:
    # y[o] = b + sum over all integer i and taps t with o = i s + t - p of x[i mod H] w[t]
    n, c_in, h, wd = x.shape
    _, c_out, k, _ = w.shape
    y = np.zeros((n, c_out, s * h, s * wd)) + b[None, :, None, None]
    for oh in range(s * h):
        for ow in range(s * wd):
            for th in range(k):
                if (oh + p - th) % s:
                    continue
                ih = (oh + p - th) // s
                for tw in range(k):
                    if (ow + p - tw) % s:
                        continue
                    iw = (ow + p - tw) // s
                    y[:, :, oh, ow] += x[:, :, ih % h, iw % wd] @ w[:, :, th, tw]
    return y


@pytest.mark.parametrize("k,up", [(3, 2), (4, 2), (5, 2), (7, 2), (4, 3), (5, 3), (2, 2)])
def test_circular_transposed_conv_equals_a_naive_periodic_sum(k: int, up: int) -> None:
    torch.manual_seed(1)
    op = Upsample2d(3, 2, "transposed", up=up, kernel_size=k, pad_mode="circular", dtype=F64)
    x = torch.randn(2, 3, 4, 5, dtype=F64)
    p = op.body.padding[0] if hasattr(op.body, "padding") else 0
    ref = _naive_transposed(
        x.numpy(), op.body.weight.detach().numpy(), op.body.bias.detach().numpy(), up, p
    )
    err = float(np.abs(op(x).detach().numpy() - ref).max())
    assert err <= 1e-12, f"max abs error {err}"
    # same parameters and keys as the zero-padded layer; its output is unchanged
    zeros = Upsample2d(3, 2, "transposed", up=up, kernel_size=k, pad_mode="zeros", dtype=F64)
    assert list(zeros.state_dict()) == list(op.state_dict())
    zeros.load_state_dict(op.state_dict())
    plain = F.conv_transpose2d(
        x,
        op.body.weight,
        op.body.bias,
        stride=up,
        padding=p,
        output_padding=op.body.output_padding,
    )
    assert torch.equal(zeros(x), plain)


def _naive_bilinear(x: np.ndarray, up: int) -> np.ndarray:
    # separable: output j at input (j + 1/2)/up - 1/2, linear between the two periodic samples
    def axis(a: np.ndarray, ax: int) -> np.ndarray:
        n = a.shape[ax]
        out = []
        for j in range(up * n):
            src = (j + 0.5) / up - 0.5
            i0 = math.floor(src)
            lam = src - i0
            a0 = np.take(a, i0 % n, axis=ax)
            a1 = np.take(a, (i0 + 1) % n, axis=ax)
            out.append((1 - lam) * a0 + lam * a1)
        return np.stack(out, axis=ax)

    return axis(axis(x, 2), 3)


@pytest.mark.parametrize("up", [2, 3])
def test_circular_interpolation_equals_periodic_references(up: int) -> None:
    x = torch.randn(1, 2, 5, 6, dtype=F64)
    bil = Upsample2d(method="bilinear", up=up, pad_mode="circular")(x)
    err = float(np.abs(bil.numpy() - _naive_bilinear(x.numpy(), up)).max())
    assert err <= 1e-12, f"bilinear: max abs error {err}"
    # bicubic: torch's kernel on three periods, the middle one kept
    tiled = F.interpolate(x.repeat(1, 1, 3, 3), scale_factor=float(up), mode="bicubic")
    ref = tiled[..., up * 5 : up * 10, up * 6 : up * 12]
    err = _err(Upsample2d(method="bicubic", up=up, pad_mode="circular")(x), ref)
    assert err <= 1e-12, f"bicubic: max abs error {err}"
    # other modes: exactly F.interpolate, as before
    for mode in ("bilinear", "bicubic"):
        for pad_mode in ("zeros", "reflect", "replicate"):
            got = Upsample2d(method=mode, up=up, pad_mode=pad_mode)(x)
            assert torch.equal(got, F.interpolate(x, scale_factor=float(up), mode=mode))


@pytest.mark.parametrize("k,p", [(2, 0), (3, 0), (3, 1), (2, 1), (4, 1)])
def test_circular_max_blur_pool_equals_a_naive_periodic_max(k: int, p: int) -> None:
    x = torch.randn(1, 2, 8, 10, dtype=F64)
    op = MaxBlurPool2d(taps=1, pad_mode="circular", max_kernel_size=k, max_padding=p)
    xn = x.numpy()
    h, w = xn.shape[-2:]
    m = np.full_like(xn, -np.inf)
    for i in range(h):
        for j in range(w):
            for a in range(k):
                for b in range(k):
                    m[..., i, j] = np.maximum(
                        m[..., i, j], xn[..., (i - p + a) % h, (j - p + b) % w]
                    )
    # taps=1: decimation; sizes as the zero-padded layer's, wrapping on where that is longer
    want = op.__class__(taps=1, pad_mode="zeros", max_kernel_size=k, max_padding=p)(x).shape
    ref = np.take(
        np.take(m[..., ::2, ::2], np.arange(want[-2]) % (h // 2), -2),
        np.arange(want[-1]) % (w // 2),
        -1,
    )
    got, want = op(x), torch.from_numpy(ref)
    assert is_exact(got, want), _exact_report(got, want)


def test_circular_conv_blur_pool_with_even_kernel_is_periodic() -> None:
    torch.manual_seed(2)
    op = ConvBlurPool2d(2, 3, kernel_size=4, taps=1, pad_mode="circular", dtype=F64)
    x = torch.randn(1, 2, 8, 6, dtype=F64)
    # reference: the same conv on three periods (no padding), the middle period, decimated
    y = F.conv2d(x.repeat(1, 1, 3, 3), op.weight, op.bias)
    p = op.padding[0]
    ref = y[..., 8 - p : 16 - p : 2, 6 - p : 12 - p : 2]
    got = op(x)
    assert got.shape == ConvBlurPool2d(2, 3, kernel_size=4, pad_mode="zeros")(x.float()).shape
    assert _err(got, ref) <= 1e-12, f"max abs error {_err(got, ref)}"


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_circular_unet_variant_is_exactly_equivariant(variant: str) -> None:
    torch.manual_seed(3)
    depth = 2
    net = build_variant(variant, 1, 2, depth=depth, width=4, pad_mode="circular")
    net = net.double().eval()
    x = torch.randn(2, 1, 16, 12, dtype=F64)
    period = 2**depth
    with torch.no_grad():
        _check_equivariant(net, x, [(period, 0), (0, 2 * period), (3 * period, -period)], 1, 1)


def test_circular_paths_have_correct_gradients() -> None:
    x = torch.randn(1, 2, 4, 6, dtype=F64, requires_grad=True)
    layers = [
        Upsample2d(2, 3, "transposed", kernel_size=3, pad_mode="circular", dtype=F64),
        Upsample2d(2, 2, "transposed_blur", kernel_size=4, pad_mode="circular", dtype=F64),
        Upsample2d(method="bicubic", up=3, pad_mode="circular"),
        Upsample2d(method="blur", up=2, pad_mode="circular"),
        MaxBlurPool2d(pad_mode="circular"),
        ConvBlurPool2d(2, 2, kernel_size=2, pad_mode="circular", dtype=F64),
    ]
    for layer in layers:
        assert torch.autograd.gradcheck(layer, (x,)), layer
