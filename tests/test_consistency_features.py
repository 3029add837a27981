"""antialias.consistency: dry run, per-layer levels of any model, batch size from memory."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from antialias import consistency
from antialias.consistency import cli, engine
from antialias.models import UNet


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _images(folder: Path, n: int = 2, size: int = 16) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        np.save(folder / f"im{i}.npy", rng.random((size, size)).astype(np.float32))
    return folder


def _unet() -> UNet:
    torch.manual_seed(0)
    return UNet(1, 2, depth=2, width=4, down="maxpool", up="nearest")


def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path: Path, capsys, monkeypatch) -> None:
    data = _images(tmp_path / "im", n=3)
    (tmp_path / "user_net.py").write_text(
        "from antialias.models import UNet\n"
        "def net():\n    return UNet(1, 2, depth=2, width=4, down='maxpool', up='nearest')\n"
    )
    monkeypatch.chdir(tmp_path)
    calls = []
    monkeypatch.setattr(engine, "image_sums", lambda *a, **k: calls.append(a))
    out = tmp_path / "out"
    argv = ["--model", "user_net:net", "--data", str(data), "--batch-size", "4", "--out", str(out)]
    assert cli.main([*argv, "--dry-run"]) == 0
    text = capsys.readouterr().out
    # 16 shifts of the 4 x 4 period, zero shift included: 1 + 15 copies in batches of 4
    passes = 3 * math.ceil(16 / 4)
    assert "16 shifts" in text and f"{passes} forward passes" in text, text
    assert "3 image(s) 16x16" in text and "nothing is computed" in text, text
    assert calls == [] and not out.exists()


def test_per_layer_names_give_the_levels_of_the_unet(tmp_path: Path) -> None:
    data = _images(tmp_path / "im")
    base = {"model": _unet, "data": str(data), "dtype": "float64", "n_boot": 10, "border": 2}
    own = consistency.run({**base, "per_layer": True, "shifts": "0:2,2:2,0:4,1:0"})
    net = _unet()
    path = {id(m): n for n, m in net.named_modules()}
    label = {path[id(m)]: name for name, m, _s in net.levels()}  # module path -> level label
    names = list(label)
    named = consistency.run(
        {**base, "per_layer": True, "shifts": "0:2,2:2,0:4,1:0", "layers": names}
    )
    a, b = own["results"][0], named["results"][0]
    for key in ("per_layer", "per_layer_summary"):
        relabelled = [{**r, "level": label[r["level"]]} for r in b[key]]
        assert a[key] and a[key] == relabelled, key
    assert "layers" not in own["config"] and named["config"]["layers"] == names


def test_per_layer_of_a_monai_model_from_its_module_graph(tmp_path: Path) -> None:
    nets = pytest.importorskip("monai.networks.nets")
    data = _images(tmp_path / "im", size=32)

    def basic() -> torch.nn.Module:
        torch.manual_seed(0)
        return nets.BasicUNet(2, 1, 2, features=(4, 4, 4, 4, 4, 4))

    res = consistency.run(
        {
            "model": basic,
            "data": str(data),
            "levels": 4,
            "per_layer": True,
            "shifts": "0:0,0:16,16:16,0:1",
            "n_boot": 10,
            "dtype": "float64",
            "border": 0,
            "mode": "circular",
        }
    )
    rec = res["results"][0]
    strides = {e["level"]: e["stride"] for e in rec["per_layer_summary"]}
    assert strides["conv_0"] == 1 and strides["down_4"] == 16 and strides["upcat_1"] == 1
    assert strides["down_1"] == 2 and strides["upcat_4"] == 8 and "final_conv" in strides
    # the zero shift is exact at every level; the level at stride 16 sees only multiples of 16
    zero = [r for r in rec["per_layer"] if r["dy"] == 0 and r["dx"] == 0]
    assert zero and all(r["rel_error"] == 0.0 for r in zero)
    assert {(r["dy"], r["dx"]) for r in rec["per_layer"] if r["level"] == "down_4"} == {
        (0, 0),
        (0, 16),
        (16, 16),
    }


def test_batch_size_comes_from_a_memory_estimate(tmp_path: Path, monkeypatch) -> None:
    data = _images(tmp_path / "im")
    cfg = {"model": _unet, "data": str(data), "dtype": "float64", "n_boot": 10, "border": 2}
    full = engine.plan(cfg)
    copy = full.jobs[0].copy_bytes
    # leaf outputs bound the activations: at least the first conv's 4 channels at 16 x 16
    assert copy is not None and copy >= 4 * 16 * 16 * 8
    assert full.jobs[0].batch_size == 16 and not full.notes
    monkeypatch.setattr(engine, "memory_budget", lambda device: 3 * copy)
    small = engine.plan(cfg)
    assert small.jobs[0].batch_size == 3, small.notes
    assert "batch size 16 -> 3" in small.notes[0]
    # the result does not depend on the batch the estimate chose
    a = engine.execute(small)["results"][0]
    monkeypatch.undo()
    b = consistency.run({**cfg, "batch_size": 3})["results"][0]
    assert a == b


def test_sums_larger_than_the_budget_are_refused_before_allocating(tmp_path, monkeypatch):
    data = _images(tmp_path / "im")
    monkeypatch.setattr(engine, "memory_budget", lambda device: 1000)
    with pytest.raises(ValueError, match="per-image sums .* more than the memory budget"):
        engine.plan({"model": _unet, "data": str(data)})


def test_progress_bar_counts_forward_passes(tmp_path: Path, capsys) -> None:
    data = _images(tmp_path / "im", n=2)
    the_plan = engine.plan({"model": _unet, "data": str(data), "batch_size": 5, "n_boot": 5})
    bar = cli._Progress(the_plan)
    try:
        engine.execute(the_plan, progress=bar)
        assert bar.bar.n == bar.bar.total == 2 * math.ceil(16 / 5)
    finally:
        bar.close()
