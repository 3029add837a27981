"""APS down / up: phase choice against a naive loop, per-sample phases, any factor, the
U-Net pairing, and exact equivariance of a down + up pair under every circular shift."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from antialias.layers import (
    APSDown2d,
    APSUp2d,
    Upsample2d,
    aps_down2d,
    aps_up2d,
    create_downsample,
    create_upsample,
)


def naive_aps(x: torch.Tensor, down: int, norm: str) -> tuple[torch.Tensor, torch.Tensor]:
    ys, phases = [], []
    for sample in x:
        best, best_norm = None, None
        for i in range(down):
            for j in range(down):
                comp = sample[:, i::down, j::down]
                value = {
                    "l2": float(comp.double().pow(2).sum().sqrt()),
                    "l1": float(comp.double().abs().sum()),
                    "linf": float(comp.double().abs().max()),
                }[norm]
                if best_norm is None or value > best_norm:  # first maximum wins ties
                    best, best_norm = (i, j), value
        ys.append(sample[:, best[0] :: down, best[1] :: down])
        phases.append(best)
    return torch.stack(ys), torch.tensor(phases)


@pytest.mark.parametrize("norm", ["l2", "l1", "linf"])
@pytest.mark.parametrize("down", [2, 3, 4])
def test_phase_choice_matches_naive_loop(norm: str, down: int) -> None:
    x = torch.randn(6, 3, 4 * down, 3 * down)
    y, phase = aps_down2d(x, down, norm)
    y_ref, phase_ref = naive_aps(x, down, norm)
    assert torch.equal(phase, phase_ref) and torch.equal(y, y_ref)
    assert phase.dtype == torch.long and phase.shape == (6, 2)


def test_phases_are_chosen_per_sample() -> None:
    x = torch.zeros(2, 1, 4, 4)
    x[0, 0, 0, 1] = 1.0  # phase (0, 1)
    x[1, 0, 3, 2] = 1.0  # phase (1, 0)
    down = APSDown2d(1)
    y = down(x)
    assert down.phase.tolist() == [[0, 1], [1, 0]]
    assert y[0, 0, 0, 0] == 1.0 and y[1, 0, 1, 1] == 1.0


def test_up_is_the_adjoint_placement() -> None:
    x = torch.randn(3, 2, 9, 6)
    y, phase = aps_down2d(x, 3)
    z = aps_up2d(y, phase, 3)
    for b in range(3):
        i, j = phase[b].tolist()
        assert torch.equal(z[b, :, i::3, j::3], y[b])
        mask = torch.ones_like(z[b], dtype=torch.bool)
        mask[:, i::3, j::3] = False
        assert bool((z[b][mask] == 0).all())


def test_up_keeps_non_finite_values_and_traces_at_any_size() -> None:
    """The placement selects (no product with a mask: inf and nan stay where they were, the
    zeros stay +0.0), and a trace of it holds at other sizes and batch phases."""
    import warnings

    y = torch.randn(2, 3, 4, 5)
    y[0, 1, 2, 3], y[1, 0, 0, 0] = float("inf"), float("nan")
    phase = torch.tensor([[1, 0], [2, 2]])
    z = aps_up2d(y, phase, 3)
    for b in range(2):
        i, j = phase[b].tolist()
        assert torch.equal(z[b, :, i::3, j::3].isnan(), y[b].isnan())
        kept = ~y[b].isnan()
        assert torch.equal(z[b, :, i::3, j::3][kept], y[b][kept])
        rest = torch.ones_like(z[b], dtype=torch.bool)
        rest[:, i::3, j::3] = False
        assert bool((z[b][rest] == 0).all()) and not bool(z[b][rest].signbit().any())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        traced = torch.jit.trace(lambda t, p: aps_up2d(t, p, 3), (y, phase))
    y2, phase2 = torch.randn(2, 3, 7, 2), torch.tensor([[0, 2], [1, 1]])
    assert torch.equal(traced(y2, phase2), aps_up2d(y2, phase2, 3))


def _pair(down: int, taps: int, c_in: int, c_out: int) -> tuple[nn.Module, nn.Module]:
    d = create_downsample("aps", c_in, down=down, taps=taps, pad_mode="circular")
    u = create_upsample("aps", c_in, c_out, pair=d, up=down, taps=taps, pad_mode="circular")
    return d.double(), u.double()


@pytest.mark.parametrize(
    ("down", "taps", "c_out"), [(2, 1, 3), (2, 3, 3), (2, 1, 5), (3, 1, 3), (3, 4, 2)]
)
def test_down_up_pair_is_exactly_equivariant_under_every_circular_shift(
    down: int, taps: int, c_out: int
) -> None:
    # float64, bit-exact, every integer shift of the period (odd ones included); with
    # c_out != c_in the pair includes a circular-padded conv after the up-sampler
    h, w = 4 * down, 2 * down + down
    d, u = _pair(down, taps, 3, c_out)
    x = torch.randn(1, 3, h, w, dtype=torch.float64)
    shifts = [(sy, sx) for sy in range(h) for sx in range(w)]
    # one batch holding every shift: APS chooses the phase per sample
    out = u(d(torch.cat([torch.roll(x, s, dims=(2, 3)) for s in shifts])))
    ref = out[:1]  # shift (0, 0)
    for n, s in enumerate(shifts):
        assert torch.equal(out[n : n + 1], torch.roll(ref, s, dims=(2, 3))), s
    assert len({tuple(p) for p in d.phase.tolist()}) == down * down  # every phase was used


def test_plain_decimation_is_not_equivariant_under_odd_shifts() -> None:
    # the control: a fixed phase (plain decimation, placed back at phase 0) fails odd shifts
    x = torch.randn(1, 3, 8, 8, dtype=torch.float64)
    phase = torch.zeros(1, 2, dtype=torch.long)

    def fixed(t: torch.Tensor) -> torch.Tensor:
        return aps_up2d(t[:, :, ::2, ::2], phase, 2)

    assert not torch.equal(fixed(torch.roll(x, 1, dims=3)), torch.roll(fixed(x), 1, dims=3))
    assert torch.equal(fixed(torch.roll(x, 2, dims=3)), torch.roll(fixed(x), 2, dims=3))


def test_pairing_through_models_and_copies() -> None:
    d, u = _pair(2, 1, 3, 3)
    model = nn.ModuleDict({"d": d, "u": u})
    clone = copy.deepcopy(model)
    assert clone["u"].pair is clone["d"]  # the link follows the copy
    assert sum(isinstance(m, APSDown2d) for m in model.modules()) == 1
    assert model.state_dict() == {} or all("pair" not in k for k in model.state_dict())
    u.pair = None
    with pytest.raises(ValueError, match="expected a phase, got none"):
        u(torch.randn(1, 3, 4, 4, dtype=torch.float64))
    u.pair = d
    fresh = APSDown2d(3)
    with pytest.raises(ValueError, match="to have run first"):
        APSUp2d(3, 3, pair=fresh)(torch.randn(1, 3, 4, 4))


def test_explicit_phase_and_batch_mismatch() -> None:
    d, u = APSDown2d(2), APSUp2d(2, pair=None)
    y = d(torch.randn(4, 2, 8, 8))
    assert torch.equal(u(y, d.phase), aps_up2d(y, d.phase, 2))
    u.pair = d
    with pytest.raises(ValueError, match="expected a phase for each of the 3 samples, got 4"):
        u(y[:3])


def test_upsampler_restores_dc_with_blur_and_matches_composition() -> None:
    x = torch.full((1, 1, 8, 8), 2.0, dtype=torch.float64)
    x[0, 0, 0, 0] = 2.5  # break the tie: phase (0, 0)
    d = APSDown2d(1, taps=1).double()
    u = APSUp2d(1, pair=d, taps=2).double()  # box [1, 1] * 2: nearest into the phase
    z = u(d(x))
    assert torch.allclose(z[0, 0, 2:6, 2:6], torch.full((4, 4), 2.0).double())


def test_compile_and_devices() -> None:
    d = APSDown2d(3)
    u = Upsample2d(3, 3, "aps", pair=d)
    x = torch.randn(2, 3, 8, 8)
    cd = torch.compile(d, backend="aot_eager", fullgraph=True)
    cu = torch.compile(u, backend="aot_eager", fullgraph=True)
    assert torch.equal(cu(cd(x)), u(d(x)))
    # no device is hard-coded: everything follows the input (meta tensors stand in for CUDA)
    y, phase = aps_down2d(torch.randn(2, 3, 8, 8, device="meta"), 2)
    assert y.device.type == "meta" and phase.device.type == "meta"


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision(dtype: torch.dtype) -> None:
    d = APSDown2d(3)
    u = APSUp2d(3, 5, pair=d).to(dtype)
    z = u(d(torch.randn(2, 3, 8, 8, dtype=dtype)))
    assert z.dtype == dtype and z.shape == (2, 5, 8, 8)


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="expected H and W divisible by down=2, got 7x8"):
        aps_down2d(torch.randn(1, 1, 7, 8))
    with pytest.raises(ValueError, match="expected down to be an integer >= 2, got 1"):
        APSDown2d(down=1)
    with pytest.raises(ValueError, match=r"expected norm to be one of 'l2', 'l1', 'linf', got"):
        APSDown2d(norm="l3")
    with pytest.raises(ValueError, match="expected input with 3 channels"):
        APSDown2d(3)(torch.randn(1, 2, 4, 4))
    with pytest.raises(ValueError, match=r"expected phase of shape \(1, 2\)"):
        aps_up2d(torch.randn(1, 1, 2, 2), torch.zeros(2, 2, dtype=torch.long))
    with pytest.raises(ValueError, match=r"expected phase values in \[0, 2\)"):
        aps_up2d(torch.randn(1, 1, 2, 2), torch.tensor([[0, 2]]))
    with pytest.raises(TypeError, match="expected an integer phase tensor"):
        aps_up2d(torch.randn(1, 1, 2, 2), torch.zeros(1, 2))
    with pytest.raises(ValueError, match=r"expected the pair's down \(3\) to equal up \(2\)"):
        APSUp2d(2, pair=APSDown2d(down=3))
    with pytest.raises(TypeError, match="expected pair to be an APSDown2d"):
        APSUp2d(2, pair=nn.Identity())  # type: ignore[arg-type]
