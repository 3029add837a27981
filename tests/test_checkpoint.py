"""Tests of antialias.checkpoint: round trip, sidecar, atomicity, every way a file can be bad."""

from __future__ import annotations

import json
import os
import pickle
import resource
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from antialias import variants
from antialias.checkpoint import (
    META_KEY,
    CheckpointError,
    check_state_dict,
    checkpoint_path,
    load_checkpoint,
    load_state_dict_safely,
    read_metadata,
    save_checkpoint,
)
from antialias.files import read_result_set
from antialias.models import VARIANTS, UNet, build_variant

REPO = Path(__file__).resolve().parents[1]


def _net(width: int = 4, **kw) -> UNet:
    kw = {"depth": 2, "width": width, "down": "maxpool", "up": "transposed", **kw}
    net = UNet(1, 2, **kw)
    # non-trivial BN statistics, so the round trip covers buffers too
    net.train()
    net(torch.randn(2, 1, 16, 16))
    return net.eval()


def _meta() -> dict:
    return {"task": "nuclei", "variant": "tconv2", "seed": 3, "metrics": {"test": {"dice": 0.5}}}


def test_round_trip_rebuilds_the_model_from_the_file_alone(tmp_path: Path) -> None:
    net = _net()
    path = save_checkpoint(tmp_path / "a" / "tconv2_s3.safetensors", net, _meta())
    loaded, meta = load_checkpoint(path)
    assert isinstance(loaded, UNet) and not loaded.training
    assert loaded.config == net.config
    for (k, a), (k2, b) in zip(net.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and torch.equal(a, b), k
    x = torch.randn(1, 1, 24, 24)
    assert torch.equal(net(x), loaded(x))
    assert meta["task"] == "nuclei" and meta["seed"] == 3 and meta["config"] == net.config
    assert {"versions", "git_commit", "time_utc"} <= set(meta["provenance"])
    # sidecar mirrors the header, and nothing temporary is left behind
    assert json.loads(path.with_suffix(".json").read_text()) == meta
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "tconv2_s3.json",
        "tconv2_s3.safetensors",
    ]


def test_checkpoint_path_layout() -> None:
    assert checkpoint_path("checkpoints", "nuclei", "aps", 2) == Path(
        "checkpoints/nuclei/aps_s2.safetensors"
    )
    with pytest.raises(ValueError, match="expected seed"):
        checkpoint_path("c", "nuclei", "aps", -1)


def test_save_rejects_bad_input(tmp_path: Path) -> None:
    net = _net()
    with pytest.raises(ValueError, match=r"expected a path ending in \.safetensors"):
        save_checkpoint(tmp_path / "x.pt", net, {})
    with pytest.raises(TypeError, match="expected JSON-serialisable metadata"):
        save_checkpoint(tmp_path / "x.safetensors", net, {"bad": object()})
    with pytest.raises(TypeError, match="expected a model with a dict `config`"):
        save_checkpoint(tmp_path / "x.safetensors", torch.nn.Linear(2, 2), {})
    assert list(tmp_path.iterdir()) == [], "a refused save must not leave files"


def test_truncated_file_fails_clearly(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "m.safetensors", _net(), _meta())
    data = path.read_bytes()
    for cut in (len(data) // 2, 20, 3):
        path.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match="truncated or corrupt"):
            load_checkpoint(path)
        with pytest.raises(CheckpointError, match="truncated or corrupt"):
            load_state_dict_safely(path)


def test_config_that_does_not_match_the_weights_names_the_keys(tmp_path: Path) -> None:
    small, big = _net(width=4), _net(width=8)
    path = tmp_path / "m.safetensors"
    header = {META_KEY: json.dumps({"config": big.config})}
    save_file({k: v.contiguous() for k, v in small.state_dict().items()}, str(path), header)
    with pytest.raises(CheckpointError, match=r"shape mismatches .*encoders\.0\.0\.weight"):
        load_checkpoint(path)
    state = {k: v.contiguous() for k, v in small.state_dict().items() if k != "head.bias"}
    state["extra.weight"] = torch.zeros(1)
    save_file(state, str(path), {META_KEY: json.dumps({"config": small.config})})
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    assert "missing keys ['head.bias']" in str(info.value)
    assert "unexpected keys ['extra.weight']" in str(info.value)


def test_missing_or_bad_metadata(tmp_path: Path) -> None:
    path = tmp_path / "bare.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(CheckpointError, match="no 'antialias' metadata"):
        load_checkpoint(path)
    assert torch.equal(load_state_dict_safely(path)["w"], torch.zeros(2))
    save_file({"w": torch.zeros(2)}, str(path), {META_KEY: "{not json"})
    with pytest.raises(CheckpointError, match="not valid JSON"):
        read_metadata(path)
    save_file({"w": torch.zeros(2)}, str(path), {META_KEY: json.dumps({"config": {"depth": 2}})})
    with pytest.raises(CheckpointError, match="cannot build a UNet"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.safetensors")


class _Evil:
    """Unpickling this would create a file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.makedirs, (str(self.marker),))


@pytest.mark.parametrize("writer", ["torch.save", "pickle"])
def test_crafted_pickle_is_refused_and_never_runs(tmp_path: Path, writer: str) -> None:
    marker = tmp_path / "code_ran"
    path = tmp_path / "evil.pt"
    payload = {"weight": torch.zeros(2), "trap": _Evil(marker)}
    if writer == "torch.save":
        torch.save(payload, path)
    else:
        path.write_bytes(pickle.dumps(payload, protocol=2))
    with pytest.raises(CheckpointError, match="refused to unpickle"):
        load_state_dict_safely(path)
    assert not marker.exists(), "loading a checkpoint executed code from it"


def test_plain_state_dicts_load_through_weights_only(tmp_path: Path) -> None:
    net = _net()
    torch.save(net.state_dict(), tmp_path / "a.pth")
    torch.save({"state_dict": net.state_dict(), "epoch": 3}, tmp_path / "b.pt")
    for name in ("a.pth", "b.pt"):
        state = load_state_dict_safely(tmp_path / name)
        assert state.keys() == net.state_dict().keys()
        assert all(torch.equal(state[k], v) for k, v in net.state_dict().items())
    torch.save({"lr": 0.1}, tmp_path / "c.pt")
    with pytest.raises(CheckpointError, match="expected a mapping str -> Tensor"):
        load_state_dict_safely(tmp_path / "c.pt")
    (tmp_path / "d.pt").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_state_dict_safely(tmp_path / "d.pt")
    (tmp_path / "e.ckpt").write_bytes(b"")
    with pytest.raises(CheckpointError, match="expected a .safetensors or .pt/.pth/.bin file"):
        load_state_dict_safely(tmp_path / "e.ckpt")
    # a .pt state dict plus a JSON sidecar with the config is a full checkpoint too
    (tmp_path / "a.json").write_text(json.dumps({"config": net.config}))
    loaded, _ = load_checkpoint(tmp_path / "a.pth")
    assert torch.equal(loaded.head.weight, net.head.weight)


def _shipped() -> list[Path]:
    from antialias.data import TASKS

    # the 2-D tasks' folders (checkpoints/volumes/ holds 3-D U-Nets, read by models_nd)
    return sorted(
        p for p in (REPO / "checkpoints").glob("*/*_s*.safetensors") if p.parent.name in TASKS
    )


@pytest.mark.skipif(not _shipped(), reason="no shipped checkpoints in this checkout")
def test_shipped_checkpoints_load_and_meet_the_floors() -> None:
    from antialias.data import load_split
    from antialias.train import evaluate

    paths = _shipped()
    for path in paths:
        model, meta = load_checkpoint(path)
        # the sidecar mirrors the header (a set published with digests also verifies them)
        assert meta == read_result_set(path.with_suffix(".json"))[0], path
        assert meta["training"]["complete"], path
        test = meta["metrics"]["test"]
        if meta["task"] == "nuclei":
            assert test["dice"] >= 0.80, (path, test)
        if meta["task"] == "denoise":
            assert test["psnr_gain"] >= 4.0, (path, test)
    # stored metrics are reproduced by today's layer code (blur-pool + blur-up, and APS)
    test = load_split("nuclei", "test")
    for name in ("blurpool_blur_s0", "aps_s0"):
        path = REPO / "checkpoints" / "nuclei" / f"{name}.safetensors"
        if path.is_file():
            model, meta = load_checkpoint(path)
            dice = evaluate(model, test)["dice"]
            stored = meta["metrics"]["test"]["dice"]
            assert abs(dice - stored) < 1e-6, f"{name}: re-evaluated {dice}, stored {stored}"


# --- files that describe more than they hold, or hold the wrong kind of numbers ---------------


def _bomb(path: Path, **config) -> Path:
    """A tiny safetensors file whose metadata describes another (possibly giant) network."""
    full = {**_net().config, **config}
    save_file({"w": torch.zeros(4)}, str(path), {META_KEY: json.dumps({"config": full})})
    return path


def _max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


@pytest.mark.parametrize(
    ("config", "message"),
    [
        # the probe's case: 64 * 2**24 channels at the bottom (overflows any allocator)
        ({"depth": 24, "width": 64}, "cannot build a UNet from its config"),
        # buildable on paper, 2.4 TB of float32 weights: must be refused from the header
        ({"depth": 4, "width": 4096}, "weights do not match the model config"),
        # 2**depth would need gigabytes of Python ints just to list the channel counts
        ({"depth": 10**6, "width": 1}, "expected config depth to be an integer <= 32"),
    ],
)
def test_allocation_bomb_is_refused_from_the_header(
    tmp_path: Path, config: dict, message: str
) -> None:
    path = _bomb(tmp_path / "bomb.safetensors", **config)
    assert path.stat().st_size < 2048
    rss_before, start = _max_rss_mib(), time.perf_counter()
    with pytest.raises(CheckpointError, match=message) as info:
        load_checkpoint(path)
    seconds, grown = time.perf_counter() - start, _max_rss_mib() - rss_before
    assert seconds < 2.0, f"took {seconds:.1f} s"
    assert grown < 100, f"peak memory grew by {grown:.0f} MiB before refusing"
    text = str(info.value)
    assert str(path) in text and "\n" not in text and len(text) < 600, text


def test_bomb_config_in_a_pt_sidecar_is_refused_before_loading(tmp_path: Path) -> None:
    torch.save({"w": torch.zeros(4)}, tmp_path / "m.pt")
    (tmp_path / "m.json").write_text(json.dumps({"config": {**_net().config, "width": 4096}}))
    with pytest.raises(CheckpointError, match="weights do not match the model config"):
        load_checkpoint(tmp_path / "m.pt")


@pytest.mark.parametrize("dtype", [torch.int32, torch.bool, torch.int64, torch.uint8])
def test_non_float_weights_are_refused(tmp_path: Path, dtype: torch.dtype) -> None:
    net = _net()
    state = {k: v.contiguous() for k, v in net.state_dict().items()}
    state["head.weight"] = torch.ones_like(state["head.weight"]).to(dtype)
    path = tmp_path / "m.safetensors"
    save_file(state, str(path), {META_KEY: json.dumps({"config": net.config})})
    with pytest.raises(CheckpointError, match=r"wrong dtypes .*head\.weight") as info:
        load_checkpoint(path)
    assert str(dtype).removeprefix("torch.") in str(info.value)
    # the plain-state-dict path (shift_consistency --weights) applies the same rule
    with pytest.raises(CheckpointError, match="wrong dtypes"):
        check_state_dict(net, state, str(path))


def test_integer_buffers_stay_integers_and_float64_weights_load(tmp_path: Path) -> None:
    net = _net()
    state = {k: v.contiguous() for k, v in net.state_dict().items()}
    assert state["encoders.0.1.num_batches_tracked"].dtype == torch.int64  # an int buffer
    state = {k: (v.double() if v.is_floating_point() else v) for k, v in state.items()}
    path = tmp_path / "m.safetensors"
    save_file(state, str(path), {META_KEY: json.dumps({"config": net.config})})
    loaded, _ = load_checkpoint(path)
    assert torch.equal(loaded.head.weight, net.head.weight)  # float32 values survive float64


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_weights_are_refused_on_load_and_on_save(tmp_path: Path, bad: float) -> None:
    net = _net()
    state = {k: v.contiguous().clone() for k, v in net.state_dict().items()}
    state["encoders.0.0.weight"][0, 0, 1, 1] = bad
    path = tmp_path / "m.safetensors"
    save_file(state, str(path), {META_KEY: json.dumps({"config": net.config})})
    with pytest.raises(CheckpointError, match=r"expected finite weights.*encoders\.0\.0\.weight"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="expected finite weights"):
        check_state_dict(net, state)
    with torch.no_grad():
        net.head.bias[0] = bad
    with pytest.raises(CheckpointError, match=r"expected finite weights.*head\.bias"):
        save_checkpoint(tmp_path / "out" / "n.safetensors", net, _meta())
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_errors_are_one_line_and_never_dump_the_metadata(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    huge = {"config": "not a dict", "notes": "x" * 5000}
    save_file({"w": torch.zeros(2)}, str(path), {META_KEY: json.dumps(huge)})
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    text = str(info.value)
    assert "expected metadata with a 'config' object, got str" in text
    assert "xxxxxxxxxx" not in text and len(text) < 300, text
    save_file({"w": torch.zeros(2)}, str(path), {META_KEY: json.dumps([1, 2])})
    with pytest.raises(
        CheckpointError, match="expected the metadata to be a JSON object, got list"
    ):
        load_checkpoint(path)
    # a depth-24 config names a handful of its ~700 missing keys, not all of them
    _bomb(path, depth=20, width=1)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    assert "more)" in str(info.value) and len(str(info.value)) < 1000, str(info.value)


def test_files_follow_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = save_checkpoint(tmp_path / "m.safetensors", _net(), _meta())
    finally:
        os.umask(old)
    for p in (path, path.with_suffix(".json")):
        assert p.stat().st_mode & 0o777 == 0o644, (p, oct(p.stat().st_mode))


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_variant_round_trips_through_the_shapes_only_build(
    tmp_path: Path, variant: str
) -> None:
    # the header check builds the model with its parameters on the meta device: every design
    # (blur taps, bilinear and ICNR initialisations) must survive that
    net = build_variant(variant, 1, 2, depth=2, width=4)
    path = save_checkpoint(tmp_path / f"{variant}.safetensors", net, _meta())
    loaded, _ = load_checkpoint(path)
    for key, value in net.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key


@pytest.mark.parametrize("design", sorted(variants.DESIGNS))
def test_every_design_round_trips(design: str, tmp_path: Path) -> None:
    # the loader builds a shapes-only skeleton first (no allocation); every initialiser must
    # survive that build (tconv4_bilinear's taps once met a meta tensor and failed the study)
    net = build_variant(design, 1, 2, depth=2, width=4).eval()
    path = save_checkpoint(tmp_path / f"{design}.safetensors", net, {"variant": design})
    loaded, _ = load_checkpoint(path)
    x = torch.randn(1, 1, 16, 16)
    torch.testing.assert_close(loaded(x), net(x), rtol=0, atol=1e-6)  # same weights, same op
