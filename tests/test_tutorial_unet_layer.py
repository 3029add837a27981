"""The claims of the tutorial's U-Net up-step and initialisation sections, each recomputed here
with a naive reference written in the test (analysis/tutorial/unet_layer.py)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from analysis.tutorial import unet_layer as U  # noqa: E402
from antialias.exact import exact_tolerance  # noqa: E402


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_hand_example_is_block_sums_and_the_convs_after_it():
    h = U.hand_example(1)
    x, w, up = h["x"], h["weight"], h["up"]
    assert x.shape == (1, 2, 2, 2) and w.shape == (2, 1, 2, 2) and up.shape == (1, 1, 4, 4)
    for i in range(2):
        for j in range(2):
            for a in range(2):
                for b in range(
                    2
                ):  # output (2i+a, 2j+b) = x[0,i,j] w[0,0,a,b] + x[1,i,j] w[1,0,a,b]
                    want = x[0, 0, i, j] * w[0, 0, a, b] + x[0, 1, i, j] * w[1, 0, a, b]
                    assert up[0, 0, 2 * i + a, 2 * j + b] == want  # small integers: exact
    assert h["cat"].shape == (1, 2, 4, 4) and torch.equal(h["cat"][:, :1], h["skip"])
    # h1[0, 0] by hand: zero padding, so only taps (1..2, 1..2) of k1 meet the image
    terms = sum(a * b for a, b in h["h1_00_terms"])
    assert h["h1"][0, 0, 0, 0] == max(terms, 0)
    want2 = F.relu(F.conv2d(h["h1"], h["k2"], padding=1))
    assert torch.equal(h["h2"], want2)


def test_tconv_2x2_is_1x1_conv_to_4c_channels_plus_pixel_shuffle():
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(2, 6, 5, 7, generator=gen, dtype=torch.float64)
    w = torch.randn(6, 3, 2, 2, generator=gen, dtype=torch.float64)
    w1 = U.tconv_as_1x1_weight(w)
    assert w1.shape == (12, 6, 1, 1)
    for c in range(3):  # pixel shuffle's channel order (c, a, b), written out
        for a in range(2):
            for b in range(2):
                assert torch.equal(w1[c * 4 + a * 2 + b, :, 0, 0], w[:, c, a, b])
    got = F.pixel_shuffle(F.conv2d(x, w1), 2)
    ref = F.conv_transpose2d(x, w, stride=2)
    err = float((got - ref).abs().max())
    assert err <= exact_tolerance(torch.float64) * float(ref.abs().max()), err
    r = U.pixel_shuffle_check(c=16, size=4)
    assert r["shape"] == [1, 8, 8, 8] and r["max_relative_error"] < 1e-12


def test_unet_layer_parameter_counts_match_torch():
    r = U.unet_layer(c=64)
    assert r["params"]["up"] == 64 * 32 * 4 + 32 == r["formula"]["up"]
    assert r["params"]["conv1"] == sum(p.numel() for p in nn.Conv2d(64, 32, 3).parameters())
    assert r["weight_shape"] == [64, 32, 2, 2] and r["weight_1x1_shape"] == [128, 64, 1, 1]


def test_default_init_fan_in_is_the_second_axis():
    r = U.default_init(c_in=8, c_out=4, k=2, seed=5)
    # torch's helper: fan_in = size(1) * k * k = C_out k^2 for a transposed weight
    assert (r["fan_in"], r["fan_out"]) == (4 * 4, 8 * 4)
    assert r["bound"] == pytest.approx(1 / math.sqrt(4 * 2 * 2))
    assert r["weight_error"] == 0.0 and r["bias_error"] == 0.0  # same draws, from the formula
    assert r["max_abs_weight"] <= r["bound"]
    # and not the conv reading C_in k^2: the drawn weights exceed that bound
    torch.manual_seed(5)
    w = nn.ConvTranspose2d(8, 4, 2, stride=2).weight.detach()
    assert float(w.abs().max()) > 1 / math.sqrt(8 * 2 * 2)
    # output scale of the U-Net up-conv (C_in = 2 C_out, k = s = 2, no overlap)
    assert r["unet_output_std"] == pytest.approx(r["unet_output_std_formula"], rel=0.03)


def test_bilinear_halving_starts_as_bilinear_of_pair_means():
    r = U.bilinear_halving(c_out=2, up=2, size=6, seed=1)
    assert r["c_in"] == 2 * r["c_out"] and r["kernel"] == 4 and r["padding"] == 1
    assert r["interior_error"] < 1e-12 and r["flat_spread"] < 1e-12


def test_icnr_unet_starts_as_nearest_after_1x1():
    assert U.icnr_unet(c=6, seed=2)["error"] < 1e-12


def test_checkerboard_baseline_is_sqrt_s2_minus_1():
    r = U.checkerboard_baseline(channels=16, stride=2, draws=4000, seed=1)
    assert r["sqrt_phases_minus_1"] == pytest.approx(math.sqrt(3))
    assert r["q05"] < r["median"] < r["q95"]
    assert abs(r["median"] - math.sqrt(3)) < 0.1  # median of the ratio near sqrt(E/E)
    # the statistic on per-phase means equals the flat-input version on a tiled tensor
    gen = torch.Generator().manual_seed(0)
    means = torch.randn(3, 2, 2, generator=gen, dtype=torch.float64)
    tiled = means.repeat(1, 6, 6)[None]  # (1, C, 12, 12): phase (a, b) at rows a::2
    assert U.phase_spread(tiled, 2, 2) == pytest.approx(float(U.phase_spread_of_means(means)))
    # a flat pattern has index 0; equal gains plus a checkerboard as large as the level: 1
    assert float(U.phase_spread_of_means(torch.ones(1, 2, 2))) == 0.0
    board = torch.tensor([[[2.0, 0.0], [0.0, 2.0]]])
    assert float(U.phase_spread_of_means(board)) == pytest.approx(1.0)
