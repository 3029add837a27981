"""APS (adaptive polyphase sampling) in 1-D and 3-D: antialias.layers.aps_nd.

References written here: a loop over every polyphase component (``itertools.product`` of the
phases) for the selection, an index assignment for the write-back; the 2-D layers
(``aps.py``) for a volume of depth 1 with ``down=(1, 2, 2)``; the property APS exists for,
exact circular shift equivariance of a circular APS U-Net at *any* integer shift, against a
blur-pool U-Net that is not (so the check can fail).
"""

from __future__ import annotations

import copy
import itertools

import pytest
import torch
from torch import nn

from antialias.exact import exact_tolerance, is_exact, max_relative_error
from antialias.layers import (
    APSDown1d,
    APSDown2d,
    APSDown3d,
    APSUp1d,
    APSUp2d,
    APSUp3d,
    BlurPool3d,
    aps_down2d,
    aps_down_nd,
    aps_up_nd,
    create_downsample,
    create_upsample,
)


def assert_exact(a: torch.Tensor, b: torch.Tensor) -> None:
    assert a.shape == b.shape, (a.shape, b.shape)
    err = max_relative_error(a, b)
    assert is_exact(a, b), f"max relative error {err:.3e} > {exact_tolerance(b.dtype):.3e}"


def rand(*shape: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, dtype=torch.float64, generator=g)


def component(x: torch.Tensor, phase: tuple[int, ...], downs: tuple[int, ...]) -> torch.Tensor:
    return x[(..., *(slice(p, None, d) for p, d in zip(phase, downs)))]


def naive_aps_down(x: torch.Tensor, downs: tuple[int, ...], norm: str):
    """Every component in row-major order, norm over (C, space), first of the largest wins."""
    ys, phases = [], []
    for b in range(x.shape[0]):
        best, best_p = None, None
        for p in itertools.product(*(range(d) for d in downs)):
            c = component(x[b : b + 1], p, downs)
            v = {"l2": c.pow(2).sum(), "l1": c.abs().sum(), "linf": c.abs().max()}[norm]
            if best is None or v > best:
                best, best_p = v, p
        ys.append(component(x[b : b + 1], best_p, downs))
        phases.append(best_p)
    return torch.cat(ys), torch.tensor(phases)


@pytest.mark.parametrize("norm", ["l2", "l1", "linf"])
@pytest.mark.parametrize(
    "shape, downs",
    [((3, 2, 12), (2,)), ((3, 2, 12), (3,)), ((2, 3, 4, 6, 8), (2, 2, 2))]
    + [((2, 3, 3, 6, 8), (1, 2, 2)), ((2, 1, 6, 3, 4), (3, 1, 2))],
)
def test_aps_down_nd_matches_the_component_loop(shape: tuple, downs: tuple, norm: str) -> None:
    x = rand(*shape)
    y, phase = aps_down_nd(x, downs, norm)
    want_y, want_phase = naive_aps_down(x, downs, norm)
    assert torch.equal(phase, want_phase), (phase, want_phase)
    assert_exact(y, want_y)  # a copy of samples: equal to rounding (bit for bit, in fact)


def test_aps_up_nd_is_an_index_assignment_and_the_adjoint_of_selection() -> None:
    y = rand(2, 3, 2, 3, 4, seed=1)
    ups = (1, 2, 3)
    phase = torch.tensor([[0, 1, 2], [0, 0, 1]])
    out = aps_up_nd(y, phase, ups)
    want = torch.zeros(2, 3, 2, 6, 12, dtype=torch.float64)
    for b in range(2):
        want[(b, slice(None), *(slice(int(p), None, u) for p, u in zip(phase[b], ups)))] = y[b]
    assert_exact(out, want)
    # <up(y), x> == <y, down_at_phase(x)>: the adjoint
    x = rand(2, 3, 2, 6, 12, seed=2)
    picked = torch.stack([component(x[b], tuple(phase[b].tolist()), ups) for b in range(2)])
    lhs, rhs = float((out * x).sum()), float((y * picked).sum())
    assert abs(lhs - rhs) <= 1e-12 * max(1.0, abs(rhs)), (lhs, rhs)


def test_2d_input_to_the_nd_functions_is_the_2d_function() -> None:
    x = rand(3, 2, 8, 6)
    y, phase = aps_down_nd(x, 2)
    y2, phase2 = aps_down2d(x, 2)
    assert torch.equal(phase, phase2) and torch.equal(y, y2)


@pytest.mark.parametrize("mode", ["circular", "reflect"])
def test_depth_one_volume_with_stride_122_is_the_2d_layer(mode: str) -> None:
    x = rand(3, 4, 8, 10, seed=3)
    down3, down2 = (
        APSDown3d(4, (1, 2, 2), taps=3, pad_mode=mode),
        APSDown2d(4, 2, taps=3, pad_mode=mode),
    )
    y3, y2 = down3(x[:, :, None].clone()), down2(x)
    assert_exact(y3[:, :, 0], y2)
    assert torch.equal(down3.phase[:, 1:], down2.phase) and not down3.phase[:, 0].any()
    up3 = APSUp3d(4, 4, (1, 2, 2), pair=down3, taps=3, pad_mode=mode)
    up2 = APSUp2d(4, 4, 2, pair=down2, taps=3, pad_mode=mode)
    assert_exact(up3(y3)[:, :, 0], up2(y2))


def test_gradcheck_float64() -> None:
    x = rand(1, 2, 4, 4, 6, seed=4).requires_grad_()
    down = APSDown3d(2, (2, 2, 2), taps=3, dtype=torch.float64)
    up = APSUp3d(2, 3, (2, 2, 2), pair=down, taps=3, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda t: up(down(t)), (x,))
    y = rand(2, 2, 3, seed=5).requires_grad_()
    phase = torch.tensor([[1], [0]])
    assert torch.autograd.gradcheck(lambda t: aps_up_nd(t, phase, 2), (y,))
    s = rand(2, 2, 8, seed=6).requires_grad_()
    assert torch.autograd.gradcheck(lambda t: APSDown1d(None, 2, taps=3)(t), (s,))


# --------------------------------------------------------------------------- the U-Net property


class APSUNet3d(nn.Module):
    """Two levels of down / up, every conv circular; ``aps=False``: blur-pool + nearest zeros."""

    def __init__(self, down=2, taps: int = 1, aps: bool = True) -> None:
        super().__init__()
        pad = {"padding": 1, "padding_mode": "circular", "dtype": torch.float64}
        self.c0, self.c1 = nn.Conv3d(1, 3, 3, **pad), nn.Conv3d(3, 4, 3, **pad)
        self.c2 = nn.Conv3d(4, 4, 3, **pad)
        self.c3, self.c4 = nn.Conv3d(8, 3, 3, **pad), nn.Conv3d(6, 1, 3, **pad)
        if aps:
            self.d1 = APSDown3d(3, down, taps=taps)
            self.d2 = APSDown3d(4, down, taps=taps)
            self.u2 = APSUp3d(4, 4, down, pair=self.d2, taps=taps)
            self.u1 = APSUp3d(3, 3, down, pair=self.d1, taps=taps)
        else:
            self.d1 = BlurPool3d(3, 3, down, "circular")
            self.d2 = BlurPool3d(4, 3, down, "circular")
            self.u2 = self.u1 = nn.Upsample(scale_factor=down)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e0 = torch.tanh(self.c0(x))
        e1 = torch.tanh(self.c1(self.d1(e0)))
        e2 = torch.tanh(self.c2(self.d2(e1)))
        d1 = torch.tanh(self.c3(torch.cat([self.u2(e2), e1], 1)))
        return self.c4(torch.cat([self.u1(d1), e0], 1))


SHIFTS = [(1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 2, 3), (3, 5, 7), (-2, 3, -1), (7, 7, 7)]


@pytest.mark.parametrize("taps", [1, 3], ids=["APS", "APS+LPF"])
def test_circular_aps_unet3d_is_exact_at_any_integer_shift(taps: int) -> None:
    torch.manual_seed(0)
    net = APSUNet3d(2, taps).eval()
    x = rand(2, 1, 8, 8, 8, seed=7)
    with torch.no_grad():
        y = net(x)
        for shift in SHIFTS:
            got = net(torch.roll(x, shift, dims=(2, 3, 4)))
            want = torch.roll(y, shift, dims=(2, 3, 4))
            assert is_exact(got, want), (shift, max_relative_error(got, want))


def test_anisotropic_aps_unet3d_is_exact_at_any_integer_shift() -> None:
    torch.manual_seed(1)
    net = APSUNet3d((1, 2, 2), 3).eval()
    x = rand(1, 1, 5, 8, 12, seed=8)
    with torch.no_grad():
        y = net(x)
        for shift in SHIFTS:
            got = net(torch.roll(x, shift, dims=(2, 3, 4)))
            assert_exact(got, torch.roll(y, shift, dims=(2, 3, 4)))


def test_the_same_unet_with_blur_pool_is_not_equivariant_at_odd_shifts() -> None:
    """The control: without adaptive selection the check above fails (it can fail)."""
    torch.manual_seed(0)
    net = APSUNet3d(2, aps=False).eval()
    x = rand(2, 1, 8, 8, 8, seed=7)
    with torch.no_grad():
        y = net(x)
        got = net(torch.roll(x, 1, dims=2))
        assert max_relative_error(got, torch.roll(y, 1, dims=2)) > 1e-3
        got = net(torch.roll(x, 4, dims=2))  # a multiple of 2^2: exact again
        assert_exact(got, torch.roll(y, 4, dims=2))


def test_deepcopy_keeps_the_pairing_and_the_state_dict_has_no_duplicate() -> None:
    net = APSUNet3d(2, 3)
    other = copy.deepcopy(net)
    assert other.u1.pair is other.d1 and other.u2.pair is other.d2
    assert [n for n, _ in net.named_modules()].count("d1") == 1
    assert not any(k.startswith("u1.pair") for k in net.state_dict())


# --------------------------------------------------------------------------- factory, errors


def test_factory_builds_the_aps_pair_in_1d_and_3d() -> None:
    down = create_downsample("aps", 4, spatial_dims=3, down=(1, 2, 2), taps=3)
    up = create_upsample("aps", 4, 2, spatial_dims=3, up=(1, 2, 2), pair=down)
    assert isinstance(down, APSDown3d) and isinstance(up, APSUp3d) and up.pair is down
    assert up(down(torch.randn(1, 4, 3, 4, 6))).shape == (1, 2, 3, 4, 6)
    d1 = create_downsample("aps", 2, spatial_dims=1)
    u1 = create_upsample("aps", 2, 2, spatial_dims=1, pair=d1)
    assert isinstance(d1, APSDown1d) and isinstance(u1, APSUp1d)
    assert u1(d1(torch.randn(2, 2, 6))).shape == (2, 2, 6)
    with pytest.raises(TypeError, match="unexpected"):
        create_upsample("aps", 2, 2, spatial_dims=3, init="icnr")


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: aps_down_nd(torch.randn(1, 1, 5, 4, 4)), ValueError, "divisible by its factor"),
        (lambda: aps_down_nd(torch.randn(1, 1, 4, 4), (2, 2, 2)), ValueError, "2 integers"),
        (lambda: aps_down_nd(torch.randn(4, 4)), ValueError, "expected input"),
        (lambda: aps_down_nd(torch.randn(1, 1, 4), norm="l3"), ValueError, "norm"),
        (lambda: APSDown3d(down=1), ValueError, "at least one axis"),
        (lambda: APSDown3d(3)(torch.randn(1, 2, 2, 2, 2)), ValueError, "3 channels"),
        (lambda: APSUp3d(pair=APSDown1d()), TypeError, "APSDown3d"),
        (lambda: APSUp3d(up=(1, 2, 2), pair=APSDown3d()), ValueError, "to equal up"),
        (lambda: APSUp3d(2, 3, conv=False), ValueError, "conv=True"),
        (lambda: APSUp3d()(torch.randn(1, 1, 2, 2, 2)), ValueError, "expected a phase"),
        (lambda: APSUp3d(pair=APSDown3d())(torch.randn(1, 1, 2, 2, 2)), ValueError, "run first"),
        (
            lambda: aps_up_nd(torch.randn(1, 1, 2), torch.tensor([[0, 1]])),
            ValueError,
            r"shape \(1, 1\)",
        ),
        (lambda: aps_up_nd(torch.randn(1, 1, 2), torch.tensor([[2]])), ValueError, r"\[0, "),
        (lambda: aps_up_nd(torch.randn(1, 1, 2), torch.tensor([[0.0]])), TypeError, "integer"),
    ],
)
def test_bad_input_fails_with_one_clear_message(call, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call()


def test_module_equals_function_and_phase_per_sample() -> None:
    x = rand(3, 2, 4, 6, 8, seed=9)
    down = APSDown3d(2, (2, 3, 2), norm="l1")
    y, phase = aps_down_nd(x, (2, 3, 2), "l1")
    assert torch.equal(down(x), y) and torch.equal(down.phase, phase)
    assert phase.shape == (3, 3) and phase.dtype == torch.long
    # a non-contiguous view gives the same as its contiguous copy
    xt = rand(3, 2, 8, 6, 4, seed=10).permute(0, 1, 4, 3, 2)
    assert torch.equal(aps_down_nd(xt)[0], aps_down_nd(xt.contiguous())[0])
