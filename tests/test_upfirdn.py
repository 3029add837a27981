"""Tests of antialias.upfirdn: the N-D primitive against scipy, a naive loop and upfirdn2d."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.signal
import torch
import torch.nn.functional as F

from antialias.exact import exact_tolerance, is_exact, max_relative_error
from antialias.filters import linear_taps
from antialias.resample import upfirdn2d
from antialias.upfirdn import (
    MAX_FACTOR,
    downsample_nd,
    filter_nd,
    upfirdn,
    upfirdn_reference,
    upsample_nd,
)

MODES = ("zeros", "reflect", "replicate", "circular")
NP_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}
IMPLS = ("separable", "reference", "auto")


def assert_exact(a: torch.Tensor, b: torch.Tensor) -> None:
    err = max_relative_error(a, b)
    assert is_exact(a, b), f"max relative error {err:.3e} > {exact_tolerance(b.dtype):.3e}"


# --------------------------------------------------------------------------- scipy per axis


def scipy_axis(
    x: np.ndarray, f: np.ndarray, up: int, down: int, p0: int, p1: int, mode: str, axis: int
) -> np.ndarray:
    """The definition along one axis from numpy.pad + scipy.signal.upfirdn (full convolution)."""
    n, L = x.shape[axis], len(f)
    out = (n * up + p0 + p1 - L) // down + 1
    margin = 2 * (L + n) + 4  # more input samples than any output reads, on both sides
    widths = [(0, 0)] * x.ndim
    widths[axis] = (margin, margin)
    xe = np.pad(x, widths, mode=NP_MODES[mode])
    full = scipy.signal.upfirdn(f, xe, up=up, down=1, axis=axis)
    # full[m] = sum_k f[k] ze[m - k] with x[0] at fine index margin*up; output j is the
    # definition's sum at fine index j*down + L - 1 - p0 of the unextended signal.
    idx = np.arange(out) * down + (L - 1 - p0) + margin * up
    return np.take(full, idx, axis=axis)


CASES_1D = [  # (n, up, down, L, padding)
    (7, 1, 2, 3, None),
    (8, 1, 2, 4, None),
    (9, 2, 1, 4, None),
    (6, 3, 1, 5, None),
    (10, 1, 3, 5, None),
    (7, 3, 2, 4, None),
    (8, 2, 3, 6, (2, 1)),
    (5, 1, 1, 7, None),
    (4, 2, 2, 3, (-1, 4)),
    (3, 1, 2, 9, None),  # padding longer than the input: numpy.pad's continued reflection
    (1, 2, 1, 4, None),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", CASES_1D)
@pytest.mark.parametrize("impl", IMPLS)
def test_1d_matches_scipy(mode: str, case: tuple, impl: str) -> None:
    n, up, down, L, padding = case
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, n))
    f = rng.standard_normal(L)
    y = upfirdn(torch.from_numpy(x), torch.from_numpy(f), up, down, padding, mode, impl=impl)
    p0 = (L + up - 2) // 2 if padding is None else padding[0]
    p1 = L - 1 - p0 if padding is None else padding[1]
    expected = torch.from_numpy(scipy_axis(x, f, up, down, p0, p1, mode, axis=2))
    assert y.shape == expected.shape
    assert_exact(y, expected)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("impl", IMPLS)
def test_3d_matches_scipy_axis_by_axis(mode: str, impl: str) -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 2, 5, 6, 7))  # odd and even sizes
    taps = [rng.standard_normal(3), rng.standard_normal(4), rng.standard_normal(2)]
    ups, downs = (1, 2, 3), (2, 1, 2)
    y = upfirdn(
        torch.from_numpy(x),
        [torch.from_numpy(t) for t in taps],
        ups,
        downs,
        pad_mode=mode,
        impl=impl,
    )
    expected = x
    for d, (f, u, dn) in enumerate(zip(taps, ups, downs)):
        p0 = (len(f) + u - 2) // 2
        expected = scipy_axis(expected, f, u, dn, p0, len(f) - 1 - p0, mode, axis=2 + d)
    assert y.shape == expected.shape
    assert_exact(y, torch.from_numpy(expected))


# --------------------------------------------------------------------------- naive N-D loop


def naive_source(i: int, n: int, mode: str) -> int | None:
    """Which input sample virtual position i reads (None: zero), by walking, not by formula."""
    if mode == "zeros":
        return i if 0 <= i < n else None
    if mode == "replicate":
        return min(max(i, 0), n - 1)
    if mode == "circular":
        while i < 0:
            i += n
        while i >= n:
            i -= n
        return i
    while not 0 <= i < n:  # reflect: mirror at the outer samples until inside
        i = -i if i < 0 else 2 * (n - 1) - i
        if n == 1:
            return 0
    return i


def naive_upfirdn(x: np.ndarray, taps, ups, downs, pads, mode: str, flip: bool = False):
    """Every output of the N-D definition as an explicit sum over the N-D kernel."""
    dims = x.ndim - 2
    sizes = x.shape[2:]
    lens = [len(t) for t in taps]
    outs = [
        (n * u + p0 + p1 - L) // d + 1
        for n, u, d, L, (p0, p1) in zip(sizes, ups, downs, lens, pads)
    ]
    y = np.zeros(x.shape[:2] + tuple(outs))
    for j in itertools.product(*(range(o) for o in outs)):
        total = np.zeros(x.shape[:2])
        for k in itertools.product(*(range(L) for L in lens)):
            weight, index = 1.0, []
            for d in range(dims):
                kk = lens[d] - 1 - k[d] if flip else k[d]
                m = j[d] * downs[d] + (lens[d] - 1 - pads[d][0]) - kk  # fine-grid position
                if m % ups[d]:
                    break  # an inserted zero
                s = naive_source(m // ups[d], sizes[d], mode)
                if s is None:
                    break
                weight *= taps[d][k[d]]
                index.append(s)
            else:
                total += weight * x[(slice(None), slice(None), *index)]
        y[(slice(None), slice(None), *j)] = total
    return y


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("flip", [False, True])
def test_3d_matches_naive_loop(mode: str, flip: bool) -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 2, 3, 4, 5))
    taps = [rng.standard_normal(2), rng.standard_normal(3), rng.standard_normal(4)]
    ups, downs = (2, 1, 1), (1, 2, 3)
    pads = [(1, 0), (1, 2), (2, 1)]
    expected = torch.from_numpy(naive_upfirdn(x, taps, ups, downs, pads, mode, flip))
    for impl in IMPLS:
        y = upfirdn(
            torch.from_numpy(x),
            [torch.from_numpy(t) for t in taps],
            ups,
            downs,
            pads,
            mode,
            flip_filter=flip,
            impl=impl,
        )
        assert_exact(y, expected)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("flip", [False, True])
def test_2d_matches_naive_loop_with_gain(mode: str, flip: bool) -> None:
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 1, 5, 4))
    taps = [rng.standard_normal(3), rng.standard_normal(4)]
    pads = [(2, 2), (0, 1)]
    expected = 1.5 * naive_upfirdn(x, taps, (2, 2), (1, 1), pads, mode, flip)
    for impl in IMPLS:
        y = upfirdn(
            torch.from_numpy(x),
            [torch.from_numpy(t) for t in taps],
            2,
            1,
            pads,
            mode,
            gain=1.5,
            flip_filter=flip,
            impl=impl,
        )
        assert_exact(y, torch.from_numpy(expected))


# --------------------------------------------------------------------------- 2-D: upfirdn2d


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "up, down, taps, padding",
    [
        (1, 2, 3, None),
        (2, 1, [1.0, 3.0, 3.0, 1.0], None),
        (1, 1, 4, (1, 2)),
        (3, 2, 5, None),
        (2, 1, [0.25, 0.75, 0.75, 0.25], (1, 2, 2, 1)),
    ],
)
def test_2d_equals_upfirdn2d(mode: str, up: int, down: int, taps, padding) -> None:
    x = torch.randn(2, 3, 9, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    expected = upfirdn2d(x, taps, up, down, padding, mode, gain=2.0)
    for impl in IMPLS:
        y = upfirdn(x, taps, up, down, padding, mode, gain=2.0, impl=impl)
        assert y.shape == expected.shape
        assert_exact(y, expected)
    # float32: "auto" delegates, so it is upfirdn2d itself (its fast paths included)
    x32 = x.float()
    got = upfirdn(x32, taps, up, down, padding, mode, gain=2.0)
    assert torch.equal(got, upfirdn2d(x32, taps, up, down, padding, mode, gain=2.0))


def test_2d_per_axis_taps_equal_upfirdn2d_kernel() -> None:
    x = torch.randn(1, 2, 7, 6, dtype=torch.float64)
    th, tw = torch.tensor([1.0, 2.0, 1.0]), torch.tensor([1.0, 3.0, 3.0, 1.0])
    expected = upfirdn2d(x, torch.outer(th, tw).double(), 1, 2, pad_mode="reflect")
    for impl in IMPLS:
        assert_exact(upfirdn(x, [th, tw], 1, 2, pad_mode="reflect", impl=impl), expected)


# --------------------------------------------------------------------------- properties


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("impl", IMPLS)
def test_circular_equivariance_at_multiples_of_the_factor(dims: int, impl: str) -> None:
    g = torch.Generator().manual_seed(6)
    sizes = (12, 8, 6)[:dims]
    downs, ups = (2, 2, 3)[:dims], (1, 2, 1)[:dims]
    x = torch.randn(1, 2, *sizes, dtype=torch.float64, generator=g)
    axes = tuple(range(2, 2 + dims))
    shift = (1, 2, 1)[:dims]
    down = upfirdn(x, 5, 1, downs, pad_mode="circular", impl=impl)
    shifted = upfirdn(
        x.roll([s * d for s, d in zip(shift, downs)], axes),
        5,
        1,
        downs,
        pad_mode="circular",
        impl=impl,
    )
    assert_exact(shifted, down.roll(shift, axes))
    up = upfirdn(x, [1.0, 3.0, 3.0, 1.0], ups, 1, pad_mode="circular", impl=impl)
    shifted = upfirdn(
        x.roll(shift, axes), [1.0, 3.0, 3.0, 1.0], ups, 1, pad_mode="circular", impl=impl
    )
    assert_exact(shifted, up.roll([s * u for s, u in zip(shift, ups)], axes))
    # and not equivariant off the factor (the test can fail)
    off = upfirdn(x.roll(1, 2), 5, 1, downs, pad_mode="circular", impl=impl)
    assert max_relative_error(off, down.roll(1, 2)) > 1e-3


@pytest.mark.parametrize("dims", [1, 3])
def test_linear_taps_are_torch_interpolate(dims: int) -> None:
    x = torch.randn(2, 3, *(5, 4, 6)[:dims], dtype=torch.float64)
    mode = ("linear", "bilinear", "trilinear")[dims - 1]
    for up in (2, 3):
        expected = F.interpolate(x, scale_factor=up, mode=mode, align_corners=False)
        for impl in IMPLS:
            y = upsample_nd(x, linear_taps(up), up, pad_mode="replicate", impl=impl)
            assert_exact(y, expected)


def test_anisotropic_trilinear() -> None:
    x = torch.randn(1, 2, 3, 5, 4, dtype=torch.float64)
    expected = F.interpolate(x, scale_factor=(1, 2, 2), mode="trilinear", align_corners=False)
    y = upsample_nd(x, [[1.0], linear_taps(2), linear_taps(2)], (1, 2, 2), pad_mode="replicate")
    assert_exact(y, expected)


@pytest.mark.parametrize("impl", ["separable", "auto"])
def test_non_contiguous_input(impl: str) -> None:
    base = torch.randn(2, 7, 3, 9, 8, dtype=torch.float64)
    x = base.permute(0, 2, 1, 4, 3)[..., ::2, :]  # (2, 3, 7, 4, 9), strided and permuted
    assert not x.is_contiguous()
    for mode in MODES:
        for up, down in (((1, 2, 1), (2, 1, 3)), (2, 1)):
            y = upfirdn(x, 4, up, down, pad_mode=mode, impl=impl)
            assert_exact(y, upfirdn(x.contiguous(), 4, up, down, pad_mode=mode, impl=impl))
    x2 = base[:, :, 0, ::2, :].transpose(-1, -2)
    assert_exact(
        upfirdn(x2, 3, 2, 1, pad_mode="reflect", impl=impl),
        upfirdn_reference(x2.contiguous(), 3, 2, 1, pad_mode="reflect"),
    )


def test_float32_close_to_float64() -> None:
    x = torch.randn(1, 2, 6, 7, 8, dtype=torch.float64)
    a = upfirdn(x.float(), 3, (1, 2, 2), (2, 1, 1), pad_mode="reflect")
    b = upfirdn(x, 3, (1, 2, 2), (2, 1, 1), pad_mode="reflect")
    assert a.dtype == torch.float32
    assert max_relative_error(a, b) < 1e-6


def test_wrappers_normalise_per_axis() -> None:
    x = torch.full((1, 1, 4, 5, 6), 3.0, dtype=torch.float64)
    # constants survive zero-stuffing where every phase of the taps sums to 1 after scaling
    up = upsample_nd(x, [[1.0], [1, 2, 1], [1, 1, 1]], (1, 2, 3), pad_mode="replicate")
    assert up.shape == (1, 1, 4, 10, 18)
    assert_exact(up, torch.full_like(up, 3.0))
    down = downsample_nd(x, [[1.0], [1.0, 1.0], [1, 4, 6, 4, 1]], (1, 2, 3), pad_mode="reflect")
    assert down.shape == (1, 1, 4, 3, 2)
    assert_exact(down, torch.full_like(down, 3.0))
    same = filter_nd(x, 4, pad_mode="circular")
    assert_exact(same, x)
    # normalize=False uses the taps as given: DC gain sum(taps) per axis
    raw = filter_nd(x[..., 0, 0, :], [1.0, 2.0], pad_mode="replicate", normalize=False)
    assert_exact(raw, torch.full_like(raw, 9.0))


def test_doc_example_zero_stuffing() -> None:
    y = upfirdn(torch.arange(1.0, 4.0).view(1, 1, 3), [1.0], up=2, padding=0)
    assert y.tolist() == [[[1.0, 0.0, 2.0, 0.0, 3.0, 0.0]]]


# --------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("mode", MODES)
def test_gradcheck_separable(mode: str) -> None:
    x = torch.randn(1, 2, 4, 5, 3, dtype=torch.float64, requires_grad=True)
    taps = [[1.0, 2.0, 0.5], [1.0, 3.0, 3.0, 1.0], [0.5, 1.5]]

    def f(x: torch.Tensor) -> torch.Tensor:
        return upfirdn(x, taps, (1, 2, 1), (2, 1, 3), pad_mode=mode, impl="separable")

    assert torch.autograd.gradcheck(f, (x,))
    assert torch.autograd.gradgradcheck(f, (x,))


@pytest.mark.parametrize("mode", MODES)
def test_gradcheck_1d_and_2d(mode: str) -> None:
    x1 = torch.randn(2, 1, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: upfirdn(x, 4, 3, 2, pad_mode=mode), (x1,))
    x2 = torch.randn(1, 2, 5, 4, dtype=torch.float64, requires_grad=True)
    for impl in IMPLS:
        fn = lambda x, impl=impl: upfirdn(x, 3, (2, 2), 1, pad_mode=mode, impl=impl)  # noqa: E731
        assert torch.autograd.gradcheck(fn, (x2,))


def test_gradient_with_respect_to_taps() -> None:
    x = torch.randn(1, 1, 4, 3, 5, dtype=torch.float64)
    taps = torch.tensor([0.25, 0.5, 0.25], dtype=torch.float64, requires_grad=True)
    fn = lambda t: upfirdn(x, t, 1, 2, pad_mode="reflect")  # noqa: E731
    assert torch.autograd.gradcheck(fn, (taps,))


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"x": [1.0]}, TypeError, "expected x to be a torch.Tensor, got list"),
        ({"x": torch.zeros(2, 3)}, ValueError, r"expected x of shape \(N, C, L\)"),
        ({"x": torch.zeros(1, 1, 4, dtype=torch.int64)}, TypeError, "floating-point"),
        ({"x": torch.zeros(1, 1, 0, 3)}, ValueError, "non-empty spatial axes"),
        ({"spatial_dims": 2}, ValueError, "with 2 spatial dims"),
        ({"spatial_dims": 4}, ValueError, r"expected spatial_dims to be an integer in \[1, 3\]"),
        ({"up": 0}, ValueError, r"expected up to be an integer in \[1, 256\], got 0"),
        ({"down": 2.0}, TypeError, "expected down to be an integer"),
        ({"up": True}, TypeError, "expected up to be an integer"),
        ({"up": (1, 2)}, ValueError, "expected up to be an integer or 3 integers"),
        ({"down": MAX_FACTOR + 1}, ValueError, "expected down to be an integer in"),
        ({"pad_mode": "mirror"}, ValueError, "expected pad_mode to be one of 'zeros'"),
        ({"impl": "fast"}, ValueError, "expected impl to be one of 'auto'"),
        ({"gain": float("nan")}, ValueError, "expected gain to be a finite real number"),
        ({"flip_filter": 1}, TypeError, "expected flip_filter to be a bool"),
        ({"taps": torch.ones(3, 3)}, ValueError, "expected 1-D taps"),
        ({"taps": []}, ValueError, "expected at least one tap"),
        ({"taps": [1.0, float("inf")]}, ValueError, "expected finite taps"),
        ({"taps": [[1.0], [1.0]]}, ValueError, "per-axis taps for 3 spatial axes, got 2"),
        ({"taps": [1.0] * 2000}, ValueError, "at most 1024 taps"),
        ({"padding": "same"}, TypeError, "expected padding to be None, an int"),
        ({"padding": (1, 2, 3)}, TypeError, "expected padding"),
        ({"padding": -9}, ValueError, "non-empty output along spatial axis 0"),
    ],
)
def test_bad_input(kwargs: dict, error: type, match: str) -> None:
    args = {"x": torch.zeros(1, 1, 4, 5, 6), "taps": 3} | kwargs
    with pytest.raises(error, match=match):
        upfirdn(**args)


def test_huge_allocations_are_refused_before_allocating() -> None:
    # An expanded view: 32 GiB of float32 that is never allocated.
    x = torch.zeros(()).expand(8, 64, 256, 256, 256)
    with pytest.raises(ValueError, match=r"expected the output of at most 2 GiB"):
        upfirdn(x, 3, up=2)
    small = torch.zeros(1, 1, 64, 64, 64)
    with pytest.raises(ValueError, match=r"expected the reference's zero-stuffed input"):
        upfirdn(small, 1, up=(1, 256, 256), down=(1, 128, 128), padding=0, impl="reference")
    with pytest.raises(ValueError, match="multiply-adds, got .*; use impl='auto'"):
        upfirdn(torch.zeros(4, 8, 64, 64, 64), 100, impl="reference")
    learned = torch.ones(100, requires_grad=True)
    with pytest.raises(ValueError, match="taps that require grad take it"):
        upfirdn(torch.zeros(4, 8, 64, 64, 64), learned)


def test_wrapper_errors() -> None:
    x = torch.zeros(1, 1, 5)
    with pytest.raises(ValueError, match="non-zero sum to normalise"):
        upsample_nd(x, [1.0, -1.0])
    with pytest.raises(ValueError, match="expected up to be an integer in"):
        upsample_nd(x, 3, up=0)
    with pytest.raises(ValueError, match=r"expected x of shape \(N, C, \*spatial\) with 2"):
        downsample_nd(x, 3, spatial_dims=2)


# --------------------------------------------------------------------------- float32 volumes


PAIR_CASES = [  # (up, down, taps, padding): D and/or H as one channels_last conv (white-box)
    (1, 2, 3, None),
    (2, 1, [1.0, 3.0, 3.0, 1.0], None),
    ((2, 3, 1), 1, 4, None),
    (1, (2, 3, 2), [[1.0, 2.0, 1.5], [1.0, 2.0, 3.0], [1.0, 1.0]], None),
    (1, (2, 4, 3), 3, None),
    (1, 1, 5, [(2, 2), (3, 1), None]),
    ((1, 2, 2), 1, [[1.0], [1.0, 3.0, 3.0, 1.0], [1.0, 3.0, 3.0, 1.0]], None),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", PAIR_CASES)
def test_float32_volumes_one_conv_for_d_and_h(mode: str, case: tuple) -> None:
    import antialias._passes as engine
    import antialias.upfirdn as module

    up, down, taps, padding = case
    x = torch.randn(2, 3, 7, 8, 5, generator=torch.Generator().manual_seed(7))
    expected = upfirdn_reference(x.double(), taps, up, down, padding, mode)
    y = upfirdn(x, taps, up, down, padding, mode)
    assert y.dtype == torch.float32 and y.is_contiguous()
    assert is_exact(y, expected, torch.float32), max_relative_error(y, expected)
    # the case does take the one-conv path (else this test would test the slices again)
    _, t, axes, m, gain = module._prepare(x, taps, up, down, padding, mode, 1.0, False, None)
    passes = engine.plan_passes(x, t, axes, m, gain)
    pairs = [engine.pairable(x, a, b) for a, b in zip(passes, passes[1:])]
    assert any(pairs) or any(engine.pairable(x, a, None) for a in passes), passes
    # backward (the adjoint passes) against autograd through the float64 reference
    xg, x64 = x.clone().requires_grad_(), x.double().requires_grad_()
    g = torch.randn(expected.shape, generator=torch.Generator().manual_seed(8))
    upfirdn(xg, taps, up, down, padding, mode).backward(g)
    upfirdn_reference(x64, taps, up, down, padding, mode).backward(g.double())
    assert is_exact(xg.grad, x64.grad, torch.float32), max_relative_error(xg.grad, x64.grad)


@pytest.mark.parametrize("mode", ["reflect", "circular"])
@pytest.mark.parametrize("impl_case", ["conv", "slices"])
def test_border_slabs_larger_than_torch_grain(mode: str, impl_case: str) -> None:
    # Border ops run in chunks of channels below torch's grain size: sizes where they do.
    g = torch.Generator().manual_seed(9)
    x = torch.randn(1, 48, 4, 28, 26, generator=g)  # D-slab: 48 * 28 * 26 > 32768
    if impl_case == "slices":
        x = x.transpose(-1, -2).contiguous().transpose(-1, -2)  # not contiguous: no conv
    for up, down in ((1, 2), ((1, 2, 2), 1)):
        expected = upfirdn_reference(x.double(), 3, up, down, pad_mode=mode)
        xg = x.clone().requires_grad_()
        y = upfirdn(xg, 3, up, down, pad_mode=mode)
        assert is_exact(y, expected, torch.float32), max_relative_error(y, expected)
        grad = torch.randn(y.shape, generator=g)
        y.backward(grad)
        x64 = x.double().requires_grad_()
        upfirdn_reference(x64, 3, up, down, pad_mode=mode).backward(grad.double())
        assert is_exact(xg.grad, x64.grad, torch.float32), max_relative_error(xg.grad, x64.grad)


@pytest.mark.parametrize("dtype, tol", [(torch.float16, 4e-3), (torch.bfloat16, 3e-2)])
def test_half_precision_and_empty_batch(dtype: torch.dtype, tol: float) -> None:
    x = torch.randn(1, 2, 6, 7, 8, generator=torch.Generator().manual_seed(10))
    for mode in ("zeros", "reflect", "circular"):
        y = upfirdn(x.to(dtype), 3, (1, 2, 2), (2, 1, 1), pad_mode=mode)
        expected = upfirdn_reference(x.double(), 3, (1, 2, 2), (2, 1, 1), pad_mode=mode)
        assert y.dtype == dtype
        assert max_relative_error(y, expected) < tol
    empty = torch.zeros(0, 3, 4, 5, 6, dtype=dtype)
    assert upfirdn(empty, 3, 2, 1, pad_mode="reflect").shape == (0, 3, 8, 10, 12)


@pytest.mark.parametrize(
    "taps",
    [[0.1, 0.2, 0.3, 0.4], [-0.125, 0.625, 0.625, -0.125], [0.5, -0.5, 1.0], [0.25, 0.5, 0.25]],
)
def test_taps_summing_to_one(taps: list[float]) -> None:
    # Passes whose weights sum to 1 run as a chain of lerps (others as multiply-adds; the
    # third set has a zero partial sum, so it cannot): same results either way.
    x = torch.randn(2, 3, 9, 8, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(11))
    for up, down in ((1, 2), (2, 1), (1, 1), (3, 2)):
        for mode in MODES:
            expected = upfirdn_reference(x, taps, up, down, pad_mode=mode)
            assert_exact(upfirdn(x, taps, up, down, pad_mode=mode, impl="separable"), expected)
            got = upfirdn(x.float(), taps, up, down, pad_mode=mode)
            assert is_exact(got, expected, torch.float32), max_relative_error(got, expected)
