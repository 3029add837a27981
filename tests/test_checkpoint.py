"""Tests of antialias.checkpoint: round trip, sidecar, atomicity, every way a file can be bad."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from antialias.checkpoint import (
    META_KEY,
    CheckpointError,
    checkpoint_path,
    load_checkpoint,
    load_state_dict_safely,
    read_metadata,
    save_checkpoint,
)
from antialias.models import UNet

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
    return sorted((REPO / "checkpoints").glob("*/*_s*.safetensors"))


@pytest.mark.skipif(not _shipped(), reason="no shipped checkpoints in this checkout")
def test_shipped_checkpoints_load_and_meet_the_floors() -> None:
    from antialias.data import load_split
    from antialias.train import evaluate

    paths = _shipped()
    for path in paths:
        model, meta = load_checkpoint(path)
        assert meta == json.loads(path.with_suffix(".json").read_text()), path
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
