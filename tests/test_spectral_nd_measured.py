"""Impulse-response probing of 1-D / 3-D modules: antialias.spectral_nd.impulse_response_nd.

References: closed forms written here (the binomial blur's taps are the outer product of
``[1, 2, 1] / 4``, its response ``prod_d cos^2(pi f_d)``; a transposed conv's taps are its
weight, origin its padding), and the 2-D :func:`antialias.spectral.impulse_response`, which
the N-D function must equal on images.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from antialias.layers.nd import BlurPool3d, BlurUpsample3d
from antialias.spectral import impulse_response
from antialias.spectral_nd import frequency_response_nd, impulse_response_nd

T3 = np.array([1.0, 2.0, 1.0]) / 4


def outer(*taps: np.ndarray) -> np.ndarray:
    out = np.ones(())
    for t in taps:
        out = np.multiply.outer(out, t)
    return out


def assert_close(a: np.ndarray, b: np.ndarray, tol: float = 1e-13) -> None:
    assert a.shape == b.shape, (a.shape, b.shape)
    err = float(np.abs(a - b).max())
    assert err <= tol, f"max abs error {err:.3e}"


@pytest.mark.parametrize(
    "down, kernel, origin",
    [(2, outer(T3, T3, T3), (1, 1, 1)), ((1, 2, 2), outer(np.ones(1), T3, T3), (0, 1, 1))],
)
def test_blur_pool3d_taps_are_the_binomial_outer_product(down, kernel, origin) -> None:
    r = impulse_response_nd(BlurPool3d(taps=3, down=down, pad_mode="zeros"), down=down)
    assert_close(r.kernel, kernel)
    assert r.origin == origin and r.linear and r.shift_invariant and not r.truncated
    assert r.down == ((down,) * 3 if isinstance(down, int) else down) and r.up == (1, 1, 1)


def test_separable_blur_response_is_the_closed_form() -> None:
    """|H(f)| of the binomial-3 blur is prod_d cos^2(pi f_d); binomial 5: cos^4."""
    for k, power in ((3, 2), (5, 4)):
        r = impulse_response_nd(BlurPool3d(taps=k, down=1, pad_mode="zeros"))
        (fz, fy, fx), h = frequency_response_nd(r.kernel, (8, 16, 12))
        c = [np.cos(np.pi * f) ** power for f in (fz, fy, fx)]
        assert_close(np.abs(h), outer(*c), 1e-14)
        # DC gain 1 (taps sum 1) at f = 0, which the grid holds at index n // 2
        assert abs(h[4, 8, 6] - 1.0) < 1e-14


def test_blur_upsample3d_taps_and_origin_equal_the_2d_measure() -> None:
    u = np.array([1.0, 3.0, 3.0, 1.0]) / 4  # sums to 2 per axis: DC gain 8 in all
    r = impulse_response_nd(BlurUpsample3d(taps=4, up=2, pad_mode="zeros"), up=2)
    assert_close(r.kernel, outer(u, u, u))
    assert r.linear and r.shift_invariant
    from antialias.layers.nd import blur_upsample_nd

    r2 = impulse_response(lambda x: blur_upsample_nd(x, 4, 2, "zeros"), up=2)
    assert r.origin == (r2.origin[0],) * 3


@pytest.mark.parametrize(
    "module, up",
    [
        (nn.Upsample(scale_factor=2, mode="bilinear"), 2),
        (nn.ConvTranspose2d(2, 3, 4, stride=2, padding=1), 2),
        (nn.Conv2d(2, 2, 3, stride=3, padding=1), 1),
    ],
)
def test_on_images_it_is_the_2d_impulse_response(module, up: int) -> None:
    torch.manual_seed(0)
    channels = getattr(module, "in_channels", 1)
    down = module.stride[0] if isinstance(module, nn.Conv2d) else 1
    r2 = impulse_response(module, up, down, 24, channels)
    rn = impulse_response_nd(module, up, down, 24, channels, spatial_dims=2)
    assert_close(rn.taps, r2.taps, 1e-15)
    assert rn.origin == r2.origin and rn.linear == r2.linear
    assert rn.shift_invariant == r2.shift_invariant


def test_transposed_conv3d_taps_are_its_weight_and_origin_its_padding() -> None:
    torch.manual_seed(1)
    t = nn.ConvTranspose3d(2, 3, (1, 4, 4), stride=(1, 2, 2), padding=(0, 1, 1), bias=False)
    r = impulse_response_nd(t, up=(1, 2, 2), size=(8, 12, 12), channels=2)
    want = t.weight.detach().double().numpy().transpose(1, 0, 2, 3, 4)  # (C_out, C_in, *k)
    assert_close(r.taps, want)
    assert r.origin == (0, 1, 1) and r.linear and r.shift_invariant


def test_bias_nonlinearity_and_space_variance_are_reported() -> None:
    conv = nn.Conv1d(1, 1, 3, padding=1)
    r = impulse_response_nd(conv, spatial_dims=1, size=32)
    assert r.affine and not r.linear and r.offset > 0
    r = impulse_response_nd(nn.Sequential(nn.Conv3d(1, 1, 3, padding=1), nn.ReLU()))
    assert not r.affine and r.linearity_error > 1e-3
    ramp = torch.linspace(0.5, 2.0, 16, dtype=torch.float64)
    r = impulse_response_nd(lambda x: x * ramp, size=16)  # linear, varies along W
    assert r.linear and not r.shift_invariant and r.shift_error > 1e-3


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"up": 2, "down": 2}, ValueError, "coprime"),
        ({"spatial_dims": 4}, ValueError, "spatial_dims"),
        ({"size": 4}, ValueError, "size to be an integer >= 8"),
        ({"size": (8, 8)}, ValueError, "3 integers"),
        ({"size": 512}, ValueError, "probe batch"),
    ],
)
def test_bad_arguments_fail_with_one_clear_message(kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        impulse_response_nd(nn.Identity(), **kwargs)


def test_module_of_the_wrong_shape_and_a_response_too_large_are_refused() -> None:
    with pytest.raises(ValueError, match="spatial axes"):
        impulse_response_nd(lambda x: x.sum(dim=-1))
    with pytest.raises(ValueError, match="large enough"):
        impulse_response_nd(BlurPool3d(taps=9, down=1, pad_mode="zeros"), size=8)
    with pytest.raises(ValueError, match="finite taps"):
        frequency_response_nd(np.ones((2, 2, 2, 2)))
    f, h = frequency_response_nd(np.array([0.5, 0.5]), 4)
    assert math.isclose(abs(h[2]), 1.0) and abs(h[0]) < 1e-15
