"""Tests of antialias.spectral_nd: polyphase gains and checkerboard index of N-D deconvs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from antialias.spectral import checkerboard_index, polyphase_components
from antialias.spectral_nd import (
    checkerboard_index_nd,
    phase_gains_nd,
    polyphase_components_nd,
    score_transposed_convs,
)

RNG = np.random.default_rng(0)


def constant_output_block(weight: np.ndarray, stride, dilation=1, c=None) -> np.ndarray:
    """One period of the interior of ConvTranspose{1,2,3}d(weight) applied to a constant input
    (per input channel ``c``), phase r at index r: the naive twin of the phase gains."""
    w = torch.from_numpy(weight)
    dims = w.dim() - 2
    c_in = w.shape[0]
    c = np.ones(c_in) if c is None else c
    size = 12
    x = torch.from_numpy(c).view(1, c_in, *([1] * dims)).expand(1, c_in, *([size] * dims))
    conv = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[dims - 1]
    y = conv(x.contiguous(), w, stride=stride, dilation=dilation)[0]
    strides = stride if isinstance(stride, tuple) else (stride,) * dims
    start = [s * 6 for s in strides]  # far from both borders, at phase 0
    return y[(slice(None), *(slice(a, a + s) for a, s in zip(start, strides)))].numpy()


@pytest.mark.parametrize(
    "shape, stride, dilation",
    [
        ((2, 3, 3, 3, 3), 2, 1),
        ((1, 2, 3, 4, 4), (1, 2, 2), 1),
        ((2, 2, 4, 3, 5), (2, 3, 2), 1),
        ((1, 1, 2, 3, 2), 2, (2, 1, 2)),
        ((3, 2, 5), 3, 1),
        ((2, 2, 3, 3), (2, 3), 1),
    ],
)
def test_phase_gains_match_a_constant_input_through_torch(shape, stride, dilation) -> None:
    w = RNG.standard_normal(shape)
    c = RNG.standard_normal(shape[0])
    gains = phase_gains_nd(w, stride, dilation)
    block = constant_output_block(w, stride, dilation, c)  # (C_out, *s)
    expected = np.einsum("i,...io->o...", c, gains)
    np.testing.assert_allclose(block, expected, rtol=1e-12, atol=1e-12)


def test_polyphase_components_equal_the_2d_function() -> None:
    w = RNG.standard_normal((2, 3, 5, 4))
    for s in (1, 2, 3):
        np.testing.assert_array_equal(polyphase_components_nd(w, s), polyphase_components(w, s))


@pytest.mark.parametrize("stride", [2, 3, 4])
def test_checkerboard_index_equals_the_2d_function(stride: int) -> None:
    for shape in ((1, 1, 4, 4), (3, 2, 5, 3)):
        w = RNG.standard_normal(shape)
        a, b = checkerboard_index_nd(w, stride), checkerboard_index(w, stride)
        assert abs(a - b) <= 1e-12 * max(1.0, b), (a, b)


@pytest.mark.parametrize(
    "shape, stride",
    [((1, 1, 3, 3, 3), 2), ((1, 1, 3, 4, 4), (1, 2, 2)), ((1, 1, 4, 5, 3), 3), ((1, 1, 5), 2)],
)
def test_single_channel_index_is_the_dft_of_the_constant_output(shape, stride) -> None:
    w = RNG.standard_normal(shape)
    block = constant_output_block(w, stride)[0]
    spectrum = np.abs(np.fft.fftn(block))
    flat = spectrum.ravel()
    expected = flat[1:].max() / flat[0] if flat.size > 1 else 0.0
    assert abs(checkerboard_index_nd(w, stride) - expected) <= 1e-12 * max(1.0, expected)


def test_equal_phases_give_zero_and_uneven_overlap_does_not() -> None:
    nearest = np.ones((2, 2, 2, 2, 2))
    assert checkerboard_index_nd(nearest, 2) == 0.0
    tri = np.array([1.0, 3.0, 3.0, 1.0]) / 4  # linear taps: every phase sums to 1
    kernel = tri[:, None, None] * tri[None, :, None] * tri[None, None, :]
    assert checkerboard_index_nd(kernel[None, None], 2) <= 1e-15
    assert checkerboard_index_nd(np.ones((1, 1, 3, 3, 3)), 2) == pytest.approx(1 / 3)
    assert checkerboard_index_nd(np.ones((1, 1, 3, 3, 3)), 1) == 0.0


def test_groups_equal_the_dense_block_diagonal_weight() -> None:
    groups, per_in, per_out = 3, 2, 2
    w = RNG.standard_normal((groups * per_in, per_out, 3, 2, 3))
    dense = np.zeros((groups * per_in, groups * per_out, 3, 2, 3))
    for g in range(groups):
        rows, cols = slice(g * per_in, (g + 1) * per_in), slice(g * per_out, (g + 1) * per_out)
        dense[rows, cols] = w[rows]
    a = checkerboard_index_nd(w, (2, 2, 3), groups=groups)
    b = checkerboard_index_nd(dense, (2, 2, 3))
    assert abs(a - b) <= 1e-12 * b
    with pytest.raises(ValueError, match="divisible by groups"):
        checkerboard_index_nd(w, 2, groups=4)


def test_bad_input() -> None:
    with pytest.raises(ValueError, match=r"expected weight of shape \(C_in, C_out, \*kernel\)"):
        phase_gains_nd(np.ones((3, 3)), 2)
    with pytest.raises(ValueError, match="expected stride to be an integer or 3 integers"):
        phase_gains_nd(np.ones((1, 1, 2, 2, 2)), (2, 2))
    with pytest.raises(ValueError, match="expected stride to be an integer >= 1, got 0"):
        checkerboard_index_nd(np.ones((1, 1, 2, 2, 2)), 0)
    with pytest.raises(ValueError, match="finite"):
        phase_gains_nd(np.full((1, 1, 2), np.nan), 2)
    with pytest.raises(TypeError, match="expected model to be a torch.nn.Module"):
        score_transposed_convs("UNet")


# --------------------------------------------------------------------------- MONAI, 3-D


def test_monai_unet_3d_deconvs_found_and_scored() -> None:
    nets = pytest.importorskip("monai.networks.nets")
    torch.manual_seed(0)
    unet = nets.UNet(
        spatial_dims=3, in_channels=1, out_channels=2, channels=(8, 16, 32), strides=(2, 2)
    )
    deconvs = [n for n, m in unet.named_modules() if isinstance(m, nn.ConvTranspose3d)]
    scores = score_transposed_convs(unet)
    assert [s.name for s in scores] == deconvs and len(deconvs) == 2
    for s in scores:
        assert s.spatial_dims == 3 and s.stride == (2, 2, 2) and s.kernel_size == (3, 3, 3)
        assert 0.0 < s.checkerboard_index < np.inf and 0.0 < s.phase_gain_spread
    # a deconv set to nearest (all phases equal) scores 0
    basic = nets.BasicUNet(
        spatial_dims=3, in_channels=1, out_channels=2, features=(4, 4, 8, 16, 32, 4)
    )
    with torch.no_grad():
        for m in basic.modules():
            if isinstance(m, nn.ConvTranspose3d):
                m.weight.fill_(1.0)
    scores = score_transposed_convs(basic)
    assert len(scores) == 4 and all(s.kernel_size == (2, 2, 2) for s in scores)
    assert all(s.checkerboard_index == 0.0 and s.phase_gain_spread == 0.0 for s in scores)


def test_no_transposed_conv_warns() -> None:
    with pytest.warns(UserWarning, match="found no transposed conv in Sequential"):
        assert score_transposed_convs(nn.Sequential(nn.Upsample(scale_factor=2))) == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        score_transposed_convs(nn.ConvTranspose1d(1, 1, 2, 2))
