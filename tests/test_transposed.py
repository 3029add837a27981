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


@pytest.fixture(autouse=True)
def one_thread():
    # thousands of tiny ops: thread hand-off costs more than it saves on a shared 2-core box
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


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
        (lambda: T.conv_output_size(-1, 3), "expected size to be an integer >= 1"),
        (lambda: T.conv_output_size(0, 3), "expected size to be an integer >= 1"),
        (lambda: T.conv_output_size(4, 0), "expected kernel to be an integer >= 1"),
        (lambda: T.conv_output_size(2, 5), "at least as long"),
        (lambda: T.conv_output_size(4, 3, padding=-1), "expected padding to be an integer >= 0"),
        (lambda: T.conv_transpose_output_size(4, 3, stride=2, output_padding=2), "smaller than"),
        (lambda: T.conv_transpose_output_size(4, 3, stride=1, output_padding=1), "smaller than"),
        (lambda: T.conv_transpose_output_size(1, 1, stride=1, padding=1), "leave an output"),
        (lambda: T.conv_transpose_output_size(-3, 3), "expected size to be an integer >= 1"),
        (lambda: T.transpose_padding_for(4, 0, 3, 2), "expected size_out to be an integer >= 1"),
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


# ---------------------------------------------------------------------------------------------
# the three views
# ---------------------------------------------------------------------------------------------


def _view_sweep() -> list[dict]:
    """Valid F.conv_transpose2d configurations: sizes, kernels, strides, paddings, dilations,
    output paddings, channel counts and groups (non-square ones included)."""
    configs = []
    g = torch.Generator().manual_seed(1)
    for (h, w), (kh, kw), (sh, sw), (ph, pw), (dh, dw), (cin, cout, groups) in itertools.product(
        [(1, 1), (2, 3), (4, 4)],
        [(1, 1), (2, 2), (3, 3), (4, 4), (3, 2), (5, 5)],
        [(1, 1), (2, 2), (3, 3), (2, 3)],
        [(0, 0), (1, 1), (3, 2)],
        [(1, 1), (2, 1)],
        [(1, 1, 1), (2, 3, 1), (4, 2, 2)],
    ):
        ops = [(a, b) for a in range(max(sh, dh)) for b in range(max(sw, dw))]
        op = ops[int(torch.randint(len(ops), (1,), generator=g))]  # one op per geometry
        configs.append(
            dict(
                x_shape=(2, cin, h, w),
                w_shape=(cin, cout // groups, kh, kw),
                stride=(sh, sw),
                padding=(ph, pw),
                output_padding=op,
                dilation=(dh, dw),
                groups=groups,
            )
        )
    return configs


VIEWS = {
    "zero insertion": T.conv_transpose_as_zero_insertion,
    "matrix": T.conv_transpose_as_matrix,
    "polyphase": T.conv_transpose_as_polyphase,
}


@pytest.mark.parametrize("view", list(VIEWS))
def test_views_equal_conv_transpose2d_over_sweep(view: str) -> None:
    fn = VIEWS[view]
    checked = refused = 0
    for cfg in _view_sweep():
        kwargs = {k: cfg[k] for k in ("stride", "padding", "output_padding", "dilation", "groups")}
        x = torch.randn(cfg["x_shape"], dtype=torch.float64)
        w = torch.randn(cfg["w_shape"], dtype=torch.float64)
        try:
            ref = F.conv_transpose2d(x, w, **kwargs)
        except RuntimeError:
            ref = None
        if ref is None or min(ref.shape[-2:]) < 1:
            with pytest.raises(ValueError, match="expected"):
                fn(x, w, **kwargs)
            refused += 1
            continue
        _close(fn(x, w, **kwargs).result, ref, f"{view} {cfg}")
        checked += 1
    assert checked > 900 and refused > 10, (checked, refused)


def test_zero_insertion_intermediates() -> None:
    x = torch.arange(1.0, 7.0, dtype=torch.float64).reshape(1, 1, 2, 3)
    w = torch.arange(1.0, 10.0, dtype=torch.float64).reshape(1, 1, 3, 3)
    v = T.conv_transpose_as_zero_insertion(x, w, stride=2, padding=1, output_padding=1)
    stuffed = torch.zeros(3, 5, dtype=torch.float64)
    stuffed[::2, ::2] = x[0, 0]
    _close(v.stuffed[0, 0], stuffed, "stuffed")
    assert v.pad == (1, 2, 1, 2)  # d(k-1)-p = 1 before, +output_padding after
    _close(v.padded[0, 0], F.pad(stuffed, (1, 2, 1, 2)), "padded")
    _close(v.kernel[0, 0], w[0, 0].flip(0, 1), "flipped kernel")
    # channel swap, per group: weight (C_in=4, C_out/g=3, ...), groups 2 -> (C_out=6, C_in/g=2)
    w = torch.randn(4, 3, 2, 2, dtype=torch.float64)
    v = T.conv_transpose_as_zero_insertion(
        torch.randn(1, 4, 3, 3, dtype=torch.float64), w, stride=2, groups=2
    )
    assert v.kernel.shape == (6, 2, 2, 2)
    _close(v.kernel[4, 1], w[3, 1].flip(0, 1), "group 1, out 1 <- in 1")


def test_matrix_is_the_conv_and_its_transpose_is_the_gradient() -> None:
    for stride, padding, output_padding, dilation, groups in [
        (2, 1, 1, 1, 1),
        (3, 0, 2, 1, 2),
        (1, 1, 1, 2, 1),  # output_padding >= stride (dilation allows it): conv rows dropped
        (2, 2, 0, 2, 2),
    ]:
        x = torch.randn(2, 4, 3, 4, dtype=torch.float64)
        w = torch.randn(4, 3, 3, 3, dtype=torch.float64)
        kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        v = T.conv_transpose_as_matrix(x, w, output_padding=output_padding, **kw)
        z = torch.randn(v.result.shape, dtype=torch.float64, requires_grad=True)
        conv = F.conv2d(z, w, **kw)[..., : x.shape[2], : x.shape[3]]
        # the matrix really is the conv (built from the index formula, checked against torch)
        _close((z.detach().reshape(2, -1) @ v.matrix.T).reshape(conv.shape), conv, "M z")
        # and the transposed conv is the gradient of <conv(z), x> with respect to z
        (grad,) = torch.autograd.grad((conv * x).sum(), z)
        _close(v.result, grad, "M^T x == autograd gradient")
        ref = F.conv_transpose2d(x, w, output_padding=output_padding, **kw)
        _close(grad, ref, "gradient == conv_transpose2d")


def test_polyphase_phases_are_strided_taps() -> None:
    w = torch.randn(2, 3, 4, 4, dtype=torch.float64)
    v = T.conv_transpose_as_polyphase(torch.randn(1, 2, 5, 5, dtype=torch.float64), w, stride=2)
    assert v.kernels.shape == (2, 2, 3, 2, 2, 2)
    for r in range(2):
        for c in range(2):  # phase kernel = flipped, channel-swapped every 2nd tap
            sub = w[:, :, r::2, c::2].transpose(0, 1).flip(-2, -1)
            _close(v.kernels[r, c], sub, f"phase {r},{c}")
    _close(F.pixel_shuffle(v.phases.flatten(1, 3), 2), v.shuffled, "pixel shuffle")


def test_views_non_contiguous_and_gradcheck() -> None:
    x = torch.randn(1, 2, 5, 4, dtype=torch.float64).transpose(-1, -2)
    w = torch.randn(3, 3, 2, 4, dtype=torch.float64)[:2].transpose(-1, -2)
    assert not x.is_contiguous() and not w.is_contiguous()
    ref = F.conv_transpose2d(x, w, stride=2, padding=1)
    for name, fn in VIEWS.items():
        _close(fn(x, w, stride=2, padding=1).result, ref, f"{name} non-contiguous")
    xs = torch.randn(1, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    ws = torch.randn(2, 1, 3, 3, dtype=torch.float64, requires_grad=True)
    for fn in VIEWS.values():
        assert torch.autograd.gradcheck(
            lambda a, b, fn=fn: fn(a, b, stride=2, padding=1, output_padding=1).result, (xs, ws)
        )


def test_views_bad_input() -> None:
    x, w = torch.zeros(1, 2, 4, 4), torch.zeros(2, 1, 3, 3)
    for fn in VIEWS.values():
        with pytest.raises(ValueError, match="smaller than stride or dilation"):
            fn(x, w, stride=2, output_padding=2)
        with pytest.raises(ValueError, match=r"expected x of shape \(N, C_in, H, W\)"):
            fn(x[0], w)
        with pytest.raises(ValueError, match="expected x channels == weight.shape"):
            fn(torch.zeros(1, 3, 4, 4), w)
        with pytest.raises(ValueError, match="expected padding to be an integer >= 0"):
            fn(x, w, padding=-1)
        with pytest.raises(TypeError, match="expected x to be a Tensor"):
            fn(x.numpy(), w)


# ---------------------------------------------------------------------------------------------
# fixed up-samplers, resize-conv, checkerboards
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("up", [2, 3])
def test_nearest_weight_is_interpolate_nearest(up: int) -> None:
    x = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    y = F.conv_transpose2d(x, T.nearest_weight(up, 3), stride=up)
    _close(y, F.interpolate(x, scale_factor=up, mode="nearest"), "nearest")


@pytest.mark.parametrize("k, p", [(3, 1), (3, 0), (1, 0), (4, 2), (5, 2)])
def test_resize_conv_is_one_transposed_conv(k: int, p: int) -> None:
    x = torch.randn(2, 3, 5, 6, dtype=torch.float64)
    conv_w = torch.randn(4, 3, k, k, dtype=torch.float64)
    # nearest + conv: exact everywhere
    g, pad = T.compose_with_conv(T.nearest_weight(2, 3), 0, conv_w, p)
    resize = F.conv2d(F.interpolate(x, scale_factor=2), conv_w, padding=p)
    _close(F.conv_transpose2d(x, g, stride=2, padding=pad), resize, "nearest + conv")
    # its kernel has zeros at the three images of DC, whatever conv_w is
    dc = T.dc_image_response(g, 2)
    assert dc[0, 0].abs().max() > 1e-3
    assert dc[1:].abs().max() < TOL and dc[0, 1].abs().max() < TOL
    # bilinear + conv: the same, away from the borders (bilinear clamps, conv zero-pads)
    bil = T.init_bilinear_(torch.empty(3, 3, 4, 4, dtype=torch.float64))
    g, pad = T.compose_with_conv(bil, 1, conv_w, p)
    resize = F.conv2d(F.interpolate(x, scale_factor=2, mode="bilinear"), conv_w, padding=p)
    composite = F.conv_transpose2d(x, g, stride=2, padding=pad)
    tconv_then_conv = F.conv2d(F.conv_transpose2d(x, bil, stride=2, padding=1), conv_w, padding=p)
    assert composite.shape == resize.shape
    e = p + 1  # conv padding (documented) + bilinear's edge row (up // 2)
    inner = (..., slice(e, composite.shape[-2] - e), slice(e, composite.shape[-1] - e))
    _close(composite[inner], resize[inner], "bilinear + conv interior")
    if p:
        inner = (..., slice(p, -p), slice(p, -p))
    _close(composite[inner], tconv_then_conv[inner], "compose_with_conv, outer p rows removed")
    assert T.dc_image_response(g, 2)[1:].abs().max() < TOL


def test_compose_with_conv_exact_when_unpadded_and_bad_args() -> None:
    t = torch.randn(2, 3, 3, 3, dtype=torch.float64)
    c = torch.randn(4, 3, 3, 3, dtype=torch.float64)
    x = torch.randn(1, 2, 4, 4, dtype=torch.float64)
    g, pad = T.compose_with_conv(t, 0, c, 1)
    ref = F.conv2d(F.conv_transpose2d(x, t, stride=3, output_padding=2), c, padding=1)
    _close(F.conv_transpose2d(x, g, stride=3, padding=pad, output_padding=2), ref, "P=0, op")
    with pytest.raises(ValueError, match=r"expected conv_padding <= t_padding \+ kernel - 1 = 2"):
        T.compose_with_conv(t, 0, c, 3)
    with pytest.raises(ValueError, match="sharing C_mid"):
        T.compose_with_conv(t, 0, c[:, :2], 1)


def test_overlap_counts_and_phase_gains() -> None:
    c3 = T.overlap_counts(6, 3, stride=2, padding=1, output_padding=1)
    c4 = T.overlap_counts(6, 4, stride=2, padding=1)
    assert c3.shape == c4.shape == (12, 12)
    assert set(c3[2:-2, 2:-2].unique().tolist()) == {1, 2, 4}
    assert set(c4[1:-1, 1:-1].unique().tolist()) == {4}
    # phase gains predict a flat input's interior output, for random kernels
    for k, s in [(3, 2), (4, 2), (5, 3)]:
        w = torch.randn(2, 3, k, k, dtype=torch.float64)
        x = torch.ones(1, 2, 8, 8, dtype=torch.float64) * torch.tensor([2.0, -1.0]).view(1, 2, 1, 1)
        y = F.conv_transpose2d(x, w, stride=s)
        gains = T.phase_gains(w, s)
        for r in range(s):
            for q in range(s):
                expected = 2.0 * gains[r, q, 0] - gains[r, q, 1]
                # an interior pixel of phase (r, q): far from both borders
                o_r, o_q = s * 4 + r, s * 4 + q
                _close(y[0, :, o_r, o_q], expected, f"phase gain k={k} s={s}")
        # DC-image response == direct DTFT of the kernel at (a/s, b/s) cycles/pixel
        t = torch.arange(k, dtype=torch.float64)
        for a in range(s):
            for b in range(s):
                e = torch.exp(-2j * torch.pi * (a * t[:, None] + b * t[None, :]) / s)
                direct = (w * e).sum(dim=(-2, -1))
                _close(T.dc_image_response(w, s)[a, b], direct, "DTFT at DC images")


@pytest.mark.parametrize(("up", "kernel"), [(2, 2), (2, 4), (3, 5), (2, 6)])
def test_init_icnr_transposed_is_nearest_then_conv(up: int, kernel: int) -> None:
    """init_icnr_(transposed=True): the transposed conv equals nearest up-sampling followed by
    a conv with the drawn sub-kernel, so every phase of the weight sums alike."""
    torch.manual_seed(0)
    w = T.init_icnr_(torch.empty(3, 2, kernel, kernel, dtype=torch.float64), up, transposed=True)
    gains = T.phase_gains(w, up)
    assert torch.allclose(gains, gains[:1, :1].expand_as(gains), atol=1e-12)
    # the same draw, by hand: w0 with the RNG state of the call, full convolution with box(up)
    torch.manual_seed(0)
    w0 = torch.empty(2, 3, kernel - up + 1, kernel - up + 1, dtype=torch.float64)
    torch.nn.init.kaiming_normal_(w0)
    naive = torch.zeros(2, 3, kernel, kernel, dtype=torch.float64)
    for a in range(up):
        for b in range(up):
            naive[..., a : a + w0.shape[-2], b : b + w0.shape[-1]] += w0
    assert torch.allclose(w, naive.transpose(0, 1) / up, atol=1e-15)
    with pytest.raises(ValueError, match="expected kernel_size >= up"):
        T.init_icnr_(torch.empty(2, 2, 1, 1), 2, transposed=True)


def test_dense_views_refuse_huge_sizes_at_once() -> None:
    import time

    for call in (
        lambda: T.conv_matrix(torch.ones(1, 1, 3, 3), (4096, 4096), (4096, 4096)),
        lambda: T.overlap_counts(10**6, 3, stride=2),
    ):
        t0 = time.perf_counter()
        with pytest.raises(ValueError, match=f"at most {T.MAX_MATRIX_ENTRIES}"):
            call()
        assert time.perf_counter() - t0 < 1.0
