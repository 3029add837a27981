"""The 3-D task: volumetric U-Nets per up path, the z split, patches, checkpoints, the study CLI.

No real model is trained here: the study's command (its ``main``, in-process) is run on bad input
only (one line, exit 2, nothing written).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from antialias import exact
from antialias.checkpoint import CheckpointError
from antialias.models_nd import (
    VOLUME_DESIGNS,
    PreConvTrilinear3d,
    UNet3d,
    UNet3dProbability,
    build_volume_design,
    count_macs_3d,
    count_parameters,
    load_volume_checkpoint,
    save_volume_checkpoint,
)
from antialias.volumes import (
    GAP,
    SLABS,
    VolumeSplit,
    check_split,
    context_span,
    load_volume_split,
    sample_patches,
    split_slabs,
)

ROOT = Path(__file__).resolve().parents[1]


# --- models -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(VOLUME_DESIGNS))
@pytest.mark.parametrize("size", [(4, 8, 8), (8, 4, 12)])
def test_designs_build_and_keep_the_shape(name: str, size: tuple[int, int, int]) -> None:
    net = build_volume_design(name, width=4).eval()
    x = torch.randn(2, 1, *size)
    y = net(x)
    assert y.shape == (2, 2, *size)
    assert torch.isfinite(y).all()
    # the up path is what the design says
    ups = [type(m).__name__ for m in net.ups]
    want = (
        "ConvTranspose3d"
        if VOLUME_DESIGNS[name].unet["up"] == "transposed"
        else "PreConvTrilinear3d"
    )
    assert ups == [want, want]
    down = type(net.downs[0]).__name__
    assert down == ("MaxPool3d" if VOLUME_DESIGNS[name].encoder == "maxpool" else "MaxBlurPool3d")


def test_transposed_up_path_is_convtranspose3d_2x2x2_halving() -> None:
    net = build_volume_design("tconv2_3d", width=4)
    up = net.ups[1]  # level 2 -> 1: 16 -> 8 channels
    assert isinstance(up, nn.ConvTranspose3d)
    assert (up.in_channels, up.out_channels) == (16, 8)
    assert up.kernel_size == (2, 2, 2) and up.stride == (2, 2, 2)


def test_preconv_trilinear_is_1x1_then_torch_trilinear() -> None:
    layer = PreConvTrilinear3d(6, 3).double()
    x = torch.randn(1, 6, 3, 4, 5, dtype=torch.float64)
    ref = nn.functional.interpolate(
        layer.conv(x), scale_factor=2, mode="trilinear", align_corners=False
    )
    got = layer(x)
    err = float((got - ref).abs().max().detach())
    assert exact.is_exact(got, ref), f"max abs error {err}"
    assert layer.conv.kernel_size == (1, 1, 1)


def test_input_not_a_multiple_of_the_period_is_refused() -> None:
    net = UNet3d(depth=2, width=2)
    with pytest.raises(ValueError, match="multiples of 2\\*\\*depth = 4"):
        net(torch.zeros(1, 1, 6, 8, 8))
    with pytest.raises(ValueError, match="expected input of shape"):
        net(torch.zeros(1, 1, 8, 8))


def test_count_macs_3d_against_a_hand_count() -> None:
    net = nn.Sequential(nn.Conv3d(2, 3, 3, padding=1), nn.ConvTranspose3d(3, 4, 2, stride=2))
    macs = count_macs_3d(net, (1, 2, 4, 4, 4))
    conv = 64 * 3 * 2 * 27  # outputs x out channels x in channels x taps
    tconv = 64 * 3 * 4 * 8  # inputs x in channels x out channels x taps
    assert macs["0"] == conv and macs["1"] == tconv and macs["total"] == conv + tconv
    assert count_parameters(net) == (3 * 2 * 27 + 3) + (3 * 4 * 8 + 4)


@pytest.mark.parametrize("name", list(VOLUME_DESIGNS))
def test_circular_unet3d_is_equivariant_at_multiples_of_the_period(name: str) -> None:
    torch.manual_seed(1)
    net = build_volume_design(name, width=4, pad_mode="circular", norm="none").double().eval()
    x = torch.randn(1, 1, 8, 8, 12, dtype=torch.float64)
    with torch.no_grad():
        y = net(x)
        assert float(y.std()) > 1e-4  # not a constant map (dead ReLUs would prove nothing)
        for shift in [(4, 0, 0), (0, 4, 8), (4, 4, 4), (-4, 8, -4)]:
            moved = net(torch.roll(x, shift, dims=(2, 3, 4)))
            ref = torch.roll(y, shift, dims=(2, 3, 4))
            err = exact.max_relative_error(moved, ref)
            assert exact.is_exact_relative(err, torch.float64), f"{shift}: max rel error {err}"
        # an odd shift is not a multiple of the period: measurably not equivariant
        odd = net(torch.roll(x, (1, 1, 1), dims=(2, 3, 4)))
        err = exact.max_relative_error(odd, torch.roll(y, (1, 1, 1), dims=(2, 3, 4)))
    assert err > 1e-6, f"odd shift gave max relative error {err}"


def test_engine_finds_the_circular_unet3d_exact_on_the_period_only(tmp_path: Path) -> None:
    """The shift-consistency engine on a circular UNet3d: exact at multiples of 2**depth per
    axis, measurably not at an odd shift (the engine's public run, not a copy)."""
    from antialias.consistency import Config, run

    np.save(tmp_path / "v.npy", np.random.default_rng(0).random((8, 8, 8)))
    torch.manual_seed(2)
    kwargs = {"width": 3, "out_channels": 1, "pad_mode": "circular", "norm": "none"}
    for key, down in (("a", "maxpool"), ("b", "maxblurpool")):
        cfg = Config(
            model=UNet3d,
            model_kwargs={**kwargs, "down": down, "up": "preconv_trilinear"},
            data=str(tmp_path / "v.npy"),
            mode="circular",
            shifts="4:0:0,0:4:4,4:4:4,1:0:0",
            normalize="none",
            dtype="float64",
            n_boot=1,
        )
        rec = run(cfg)["results"][0]
        assert rec["period"] == 4 and rec["spatial_dims"] == 3, key
        psnr = {(r["dz"], r["dy"], r["dx"]): r["psnr"] for r in rec["shifts"]}
        for s in [(4, 0, 0), (0, 4, 4), (4, 4, 4)]:
            assert exact.is_exact_psnr(psnr[s], torch.float64), (down, s, psnr[s])
        assert psnr[(1, 0, 0)] < exact.exact_psnr_db(torch.float64) - 20, (down, psnr)


def test_probability_head_shares_the_weights() -> None:
    net = build_volume_design("trilinear_1x1_3d", width=2).eval()
    prob = UNet3dProbability(**net.config).eval()
    prob.load_state_dict(net.state_dict(), strict=True)
    x = torch.randn(1, 1, 4, 8, 8)
    with torch.no_grad():
        logits, p = net(x), prob(x)
    naive = 1.0 / (1.0 + torch.exp(logits[:, 0:1] - logits[:, 1:2]))
    assert torch.allclose(p, naive, atol=1e-6, rtol=0)


# --- checkpoints ------------------------------------------------------------------------------


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    net = build_volume_design("blurpool_trilinear_1x1_3d", width=2).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    path = save_volume_checkpoint(tmp_path / "m_s0.safetensors", net, {"task": "t", "seed": 0})
    back, meta = load_volume_checkpoint(path)
    assert back.config == net.config and meta["task"] == "t"
    x = torch.randn(1, 1, 4, 8, 8)
    with torch.no_grad():
        assert torch.equal(back(x), net(x))
    assert json.loads(path.with_suffix(".json").read_text())["config"] == net.config


def test_checkpoint_of_another_shape_is_refused(tmp_path: Path) -> None:
    net = build_volume_design("tconv2_3d", width=2)
    path = save_volume_checkpoint(tmp_path / "a.safetensors", net, {})
    meta = json.loads(path.with_suffix(".json").read_text())
    other = build_volume_design("tconv2_3d", width=3)
    from antialias.checkpoint import safetensors_bytes

    meta["config"] = other.config | {"width": 2}
    state = {k: v.contiguous() for k, v in other.state_dict().items()}
    bad = tmp_path / "b.safetensors"
    bad.write_bytes(safetensors_bytes(state, {"antialias": json.dumps(meta)}))
    with pytest.raises(CheckpointError, match="shape mismatches"):
        load_volume_checkpoint(bad)
    meta["config"]["in_channels"] = 10**6
    bad.write_bytes(safetensors_bytes(state, {"antialias": json.dumps(meta)}))
    with pytest.raises(CheckpointError, match="in_channels"):
        load_volume_checkpoint(bad)


# --- the split and patches --------------------------------------------------------------------


def test_split_has_the_gap_and_no_overlap() -> None:
    slabs = split_slabs()
    seen: set[int] = set()
    for name, z in slabs.items():
        assert not seen & set(z), f"{name} overlaps another split"
        seen |= set(z)
    spans = sorted(SLABS.values())
    for (_, b1), (a2, _) in zip(spans, spans[1:]):
        assert a2 - b1 >= GAP >= 4
    # a test slice and the nearest train/val slice are at least GAP + 1 apart
    test = set(slabs["test"])
    others = set(slabs["train"]) | set(slabs["val"])
    assert min(abs(a - b) for a in test for b in others) >= GAP + 1


def test_context_is_gap_slices_only() -> None:
    slabs = split_slabs()
    for name in ("val", "test"):
        c0, c1 = context_span(name)
        a, b = SLABS[name]
        assert c0 <= a < b <= c1 and (c1 - c0) % 4 == 0  # a multiple of the period
        others = set().union(*(set(z) for k, z in slabs.items() if k != name))
        assert not others & set(range(c0, c1)), name
    assert context_span("train") == SLABS["train"]


def test_check_split_refuses_overlap_and_small_gaps() -> None:
    with pytest.raises(ValueError, match="gap of at least 4"):
        check_split({"a": (0, 10), "b": (8, 20)}, 20, 4)
    with pytest.raises(ValueError, match="inside"):
        check_split({"a": (0, 30)}, 20, 4)
    check_split({"a": (0, 10), "b": (14, 20)}, 20, 4)


def _toy_split() -> VolumeSplit:
    mask = torch.zeros(8, 16, 16, dtype=torch.int64)
    mask[5:7, 10:13, 2:4] = 1
    image = torch.arange(8 * 16 * 16, dtype=torch.float32).view(8, 16, 16)
    return VolumeSplit("toy", image, mask, (0, 8))


def test_patches_lie_inside_the_slab_and_are_seeded() -> None:
    split = _toy_split()
    x1, y1 = sample_patches(split, 6, np.random.default_rng(3), (4, 8, 8), 0.5)
    x2, y2 = sample_patches(split, 6, np.random.default_rng(3), (4, 8, 8), 0.5)
    assert x1.shape == (6, 1, 4, 8, 8) and y1.shape == (6, 4, 8, 8)
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    values = set(split.image.flatten().tolist())
    assert set(x1.flatten().tolist()) <= values
    # foreground_share=1: every patch holds foreground
    _, y = sample_patches(split, 5, np.random.default_rng(0), (4, 8, 8), 1.0)
    assert all(int(m.sum()) > 0 for m in y)
    with pytest.raises(ValueError, match="within the slab"):
        sample_patches(split, 1, np.random.default_rng(0), (16, 8, 8))


def test_real_slabs_have_the_declared_sizes() -> None:
    pytest.importorskip("tifffile")
    for name, (a, b) in SLABS.items():
        s = load_volume_split(name)
        assert s.image.shape == (b - a, 256, 256) and s.mask.shape == s.image.shape
        assert set(s.mask.unique().tolist()) <= {0, 1}
        c0, c1 = context_span(name)
        assert s.context.shape == (c1 - c0, 256, 256)
        assert torch.equal(s.crop(s.context), s.image)  # the slab is where the offset says
    assert load_volume_split("test").image.shape[0] % 4 == 0


# --- the study command ------------------------------------------------------------------------


def _study():
    """``analysis/volumes_study.py`` as a module (analysis/ scripts import as top-level names)."""
    sys.path.insert(0, str(ROOT / "analysis"))
    try:
        import volumes_study
    finally:
        sys.path.remove(str(ROOT / "analysis"))
    return volumes_study


def _main():
    return _study().main


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--designs", "nope"], "expected --designs among"),
        (["--steps", "0"], "expected --steps in"),
        (["--steps", "x"], "invalid int value"),
        (["--train-only", "--analyse-only"], "not allowed with"),
    ],
)
def test_study_refuses_bad_input_in_one_line(
    tmp_path: Path, args: list[str], needle: str, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "r"
    argv = [*args, "--results", str(out), "--checkpoints", str(tmp_path / "c")]
    try:
        code = _main()(argv)
    except SystemExit as exit_:  # argparse's own errors exit from parse_args
        code = exit_.code
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in err
    assert not out.exists()


def test_study_refuses_a_file_as_results_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code = _main()(["--results", str(blocker / "r"), "--checkpoints", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "a file is in the way" in err and "Traceback" not in err
    assert not (tmp_path / "c").exists()


# --- the shipped results ----------------------------------------------------------------------


def test_docs_table_is_the_results_table() -> None:
    from antialias.files import read_result_set

    doc, _ = read_result_set(ROOT / "results" / "volumes" / "analysis.json")
    table = _study().markdown_table(doc)
    text = (ROOT / "docs" / "volumes.md").read_text(encoding="utf-8")
    assert table in text, "docs/volumes.md is stale: paste markdown_table(analysis.json)"
    assert [r["design"] for r in doc["rows"]] == list(VOLUME_DESIGNS)
    assert "ONE volume" in text and "descriptive" in doc["unit"]


@pytest.mark.parametrize("name", list(VOLUME_DESIGNS))
def test_shipped_checkpoint_reproduces_its_val_dice(name: str) -> None:
    """Each shipped model, reloaded with today's layers: its val Dice is the one its training
    record saved (to a few voxels: BLAS rounding may flip a label at a tie)."""
    from antialias.files import read_result_set

    study = _study()
    ckpt = ROOT / "checkpoints" / "volumes" / f"{name}_s0.safetensors"
    model, meta = load_volume_checkpoint(ckpt)
    record, _ = read_result_set(ROOT / "results" / "volumes" / f"train_{name}_s0.json")
    val = load_volume_split("val")
    dice = study.foreground_dice(study.predict(model, val), val.mask)
    saved = record["record"]["best_val_dice"]
    assert abs(dice - saved) < 1e-3, (dice, saved)
    assert meta["metrics"]["best_val_dice"] == saved


def test_training_is_seeded_and_a_finished_run_is_skipped(tmp_path: Path) -> None:
    """Two steps of a width-2 net (not a real training): same seed, same weights; the written
    run counts as finished for its settings only."""
    study = _study()
    settings = {**study.SETTINGS, "width": 2, "steps": 2, "eval_every": 2}
    m1, rec, curve = study.train_design("tconv2_3d", 3, settings, progress=False)
    m2, _, _ = study.train_design("tconv2_3d", 3, settings, progress=False)
    for (k, a), b in zip(m1.state_dict().items(), m2.state_dict().values()):
        assert torch.equal(a, b), k
    assert [c["step"] for c in curve] == [2] and rec["stop"] == "steps"
    assert rec["best_step"] == 2 and rec["cpu_s"] > 0 and rec["wall_s"] > 0
    results, ckpts = tmp_path / "r", tmp_path / "c"
    assert not study.finished(results, ckpts, "tconv2_3d", 3, settings)
    study.write_run(results, ckpts, m1, rec, curve)
    assert study.finished(results, ckpts, "tconv2_3d", 3, settings)
    assert not study.finished(results, ckpts, "tconv2_3d", 3, {**settings, "steps": 3})
    back, _ = load_volume_checkpoint(ckpts / "tconv2_3d_s3.safetensors")
    assert back.config["width"] == 2
