"""Tests for antialias.transposed: shapes, the three views, the initialisers, bad input.

Every equivalence is checked in float64 at tolerance 1e-10 against torch itself
(``F.conv_transpose2d``, ``F.interpolate``, autograd) or a naive loop written here.
"""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

from antialias import transposed as T

TOL = 1e-10


def _close(actual: Tensor, expected: Tensor, what: str) -> None:
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    err = (actual - expected).abs().max().item() if actual.numel() else 0.0
    assert err <= TOL, f"{what}: max abs error {err:.3e}"


# ---------------------------------------------------------------------------------------------
# shape arithmetic
# ---------------------------------------------------------------------------------------------

SHAPE_SWEEP = [
    (size, kernel, stride, padding, dilation)
    for size, kernel, stride, padding, dilation in itertools.product(
        (1, 2, 3, 5, 8), (1, 2, 3, 4, 5), (1, 2, 3), (0, 1, 2, 3), (1, 2)
    )
]


def test_conv_output_size_matches_torch() -> None:
    checked = 0
    for size, kernel, stride, padding, dilation in SHAPE_SWEEP:
        x = torch.zeros(1, 1, size, size + 1)
        w = torch.zeros(1, 1, kernel, kernel)
        try:
            y = F.conv2d(x, w, stride=stride, padding=padding, dilation=dilation)
        except RuntimeError:
            with pytest.raises(ValueError, match="expected"):
                T.conv_output_size(size, kernel, stride, padding, dilation)
            continue
        assert y.shape[2] == T.conv_output_size(size, kernel, stride, padding, dilation)
        assert y.shape[3] == T.conv_output_size(size + 1, kernel, stride, padding, dilation)
        checked += 1
    assert checked > 300


def test_conv_transpose_output_size_matches_torch() -> None:
    checked = 0
    for size, kernel, stride, padding, dilation in SHAPE_SWEEP:
        for output_padding in range(max(stride, dilation)):
            x = torch.zeros(1, 1, size, size)
            w = torch.zeros(1, 1, kernel, kernel)
            args = (size, kernel, stride, padding, output_padding, dilation)
            try:
                y = F.conv_transpose2d(
                    x,
                    w,
                    stride=stride,
                    padding=padding,
                    output_padding=output_padding,
                    dilation=dilation,
                )
            except RuntimeError:
                with pytest.raises(ValueError, match="expected"):
                    T.conv_transpose_output_size(*args)
                continue
            if y.shape[2] < 1:  # torch may return an empty tensor; we refuse it
                with pytest.raises(ValueError, match="expected"):
                    T.conv_transpose_output_size(*args)
                continue
            assert y.shape[2] == T.conv_transpose_output_size(*args), args
            checked += 1
    assert checked > 500


@pytest.mark.parametrize("dilation", [1, 2, 3])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("kernel", [1, 2, 3, 4, 5])
def test_transpose_padding_for_reaches_every_reachable_size(
    kernel: int, stride: int, dilation: int
) -> None:
    for size_in in (1, 2, 5, 16):
        base = (size_in - 1) * stride + dilation * (kernel - 1) + 1
        for size_out in range(1, base + max(stride, dilation) + 3):
            if stride == dilation == 1 and size_out <= base and (base - size_out) % 2:
                with pytest.raises(ValueError, match="parity"):
                    T.transpose_padding_for(size_in, size_out, kernel, stride, dilation)
                continue
            if size_out > base + max(stride, dilation) - 1:
                with pytest.raises(ValueError, match="expected size_out <="):
                    T.transpose_padding_for(size_in, size_out, kernel, stride, dilation)
                continue
            padding, output_padding = T.transpose_padding_for(
                size_in, size_out, kernel, stride, dilation
            )
            y = F.conv_transpose2d(
                torch.zeros(1, 1, size_in, size_in),
                torch.zeros(1, 1, kernel, kernel),
                stride=stride,
                padding=padding,
                output_padding=output_padding,
                dilation=dilation,
            )
            assert y.shape[-1] == size_out, (size_in, size_out, padding, output_padding)


def test_exactly_double() -> None:
    assert T.transpose_padding_for(7, 14, kernel=2, stride=2) == (0, 0)
    assert T.transpose_padding_for(7, 14, kernel=3, stride=2) == (1, 1)
    assert T.transpose_padding_for(7, 14, kernel=4, stride=2) == (1, 0)
    # kernel 1 at stride 2: 2*(7-1)+1 = 13 rows, + at most 1 output padding row
    assert T.transpose_padding_for(7, 14, kernel=1, stride=2) == (0, 1)
    with pytest.raises(ValueError, match="expected size_out <= 14"):
        T.transpose_padding_for(7, 15, kernel=1, stride=2)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: T.conv_output_size(-1, 3), "expected size >= 1"),
        (lambda: T.conv_output_size(0, 3), "expected size >= 1"),
        (lambda: T.conv_output_size(4, 0), "expected kernel >= 1"),
        (lambda: T.conv_output_size(2, 5), "at least as long"),
        (lambda: T.conv_output_size(4, 3, padding=-1), "expected padding >= 0"),
        (lambda: T.conv_transpose_output_size(4, 3, stride=2, output_padding=2), "smaller than"),
        (lambda: T.conv_transpose_output_size(4, 3, stride=1, output_padding=1), "smaller than"),
        (lambda: T.conv_transpose_output_size(1, 1, stride=1, padding=1), "leave an output"),
        (lambda: T.conv_transpose_output_size(-3, 3), "expected size >= 1"),
        (lambda: T.transpose_padding_for(4, 0, 3, 2), "expected size_out >= 1"),
        (lambda: T.transpose_padding_for(4, 100, 3, 2), "expected size_out <= 10"),
    ],
)
def test_bad_sizes_raise_value_error(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_bad_types_raise_type_error() -> None:
    with pytest.raises(TypeError, match="expected size to be an int"):
        T.conv_output_size(4.0, 3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expected kernel to be an int"):
        T.conv_transpose_output_size(4, True)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# initialisers
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("up", [1, 2, 3, 4, 5])
def test_init_bilinear_reproduces_interpolate_in_the_interior(up: int) -> None:
    channels, n = 3, 9
    k = T.bilinear_kernel_size(up)
    padding = (k - up) // 2
    w = T.init_bilinear_(torch.empty(channels, channels, k, k, dtype=torch.float64))
    x = torch.randn(2, channels, n, n + 2, dtype=torch.float64)
    y = F.conv_transpose2d(x, w, stride=up, padding=padding)
    ref = F.interpolate(x, scale_factor=up, mode="bilinear", align_corners=False)
    assert y.shape == ref.shape == (2, channels, up * n, up * (n + 2))
    b = up // 2  # the documented border where edge replication and zero padding differ
    _close(
        y[..., b : y.shape[-2] - b, b : y.shape[-1] - b],
        ref[..., b : -b or None, b : -b or None],
        f"bilinear interior up={up}",
    )
    if b:  # and the border really does differ (the docstring's claim is tight)
        assert (y[..., 0, :] - ref[..., 0, :]).abs().max() > 1e-3


def test_init_bilinear_depthwise_and_infers_up() -> None:
    w = T.init_bilinear_(torch.empty(4, 1, 6, 6, dtype=torch.float64))  # up inferred: 3
    x = torch.randn(1, 4, 5, 5, dtype=torch.float64)
    # kernel 6 with up 3 is not FCN's size (5); compare against a naive triangle instead
    taps = torch.tensor([max(0.0, 1 - abs(t - 2.5) / 3) for t in range(6)], dtype=torch.float64)
    _close(w[2, 0], taps[:, None] * taps[None, :], "depthwise kernel")
    y = F.conv_transpose2d(x, w, stride=3, groups=4)
    y_ref = torch.cat(
        [F.conv_transpose2d(x[:, c : c + 1], w[c : c + 1], stride=3) for c in range(4)], dim=1
    )
    _close(y, y_ref, "depthwise = per-channel")


def test_init_bilinear_off_diagonal_zero_and_dc_gain() -> None:
    w = T.init_bilinear_(torch.empty(3, 3, 4, 4, dtype=torch.float64))
    off = w.clone()
    off[range(3), range(3)] = 0
    assert off.abs().max() == 0
    # DC gain up per axis: taps sum to up, so a constant stays constant in the interior
    assert abs(w[1, 1].sum().item() - 4.0) < TOL


def test_init_bilinear_rejects_non_square_channels() -> None:
    with pytest.raises(ValueError, match="C_in == C_out"):
        T.init_bilinear_(torch.empty(3, 2, 4, 4))
    with pytest.raises(ValueError, match=">= 3 dims"):
        T.init_bilinear_(torch.empty(3, 4))


@pytest.mark.parametrize("up, kernel, padding", [(2, 3, 1), (3, 3, 1), (2, 1, 0), (2, 5, 2)])
def test_init_icnr_is_conv_then_nearest(up: int, kernel: int, padding: int) -> None:
    c_in, c_out = 3, 2
    w = torch.empty(c_out * up * up, c_in, kernel, kernel, dtype=torch.float64)
    bias = torch.randn(c_out * up * up, dtype=torch.float64)
    T.init_icnr_(w, up, bias=bias)
    w0, b0 = w[:: up * up], bias[:: up * up]
    x = torch.randn(2, c_in, 6, 7, dtype=torch.float64)
    shuffled = F.pixel_shuffle(F.conv2d(x, w, bias, padding=padding), up)
    conv_then_nearest = F.interpolate(F.conv2d(x, w0, b0, padding=padding), scale_factor=up)
    nearest_then_dilated = F.conv2d(
        F.interpolate(x, scale_factor=up), w0, b0, padding=up * padding, dilation=up
    )
    _close(shuffled, conv_then_nearest, "ICNR = conv then nearest")
    _close(shuffled, nearest_then_dilated, "ICNR = nearest then dilated conv")
    if kernel > 1:  # and it is not nearest then an ordinary conv with the same sub-kernel
        plain = F.conv2d(F.interpolate(x, scale_factor=up), w0, b0, padding=padding)
        assert (plain - shuffled).abs().max() > 1e-3


def test_init_icnr_uses_initializer_and_checks_shape() -> None:
    w = T.init_icnr_(torch.empty(8, 2, 3, 3), 2, initializer=torch.nn.init.ones_)
    assert bool((w == 1).all())
    w = T.init_icnr_(torch.empty(8, 2, 3, 3), 2)
    assert len({tuple(w[i].flatten().tolist()) for i in range(8)}) == 2
    with pytest.raises(ValueError, match="divisible by up"):
        T.init_icnr_(torch.empty(6, 2, 3, 3), 2)
    with pytest.raises(ValueError, match="expected bias of shape"):
        T.init_icnr_(torch.empty(8, 2, 3, 3), 2, bias=torch.zeros(4))
