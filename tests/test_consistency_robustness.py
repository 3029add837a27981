"""antialias.consistency / analysis/shift_consistency.py: bad input is one line, exit 2, no files.

Each case is one the bad-input probe of issue 10 found passing as a result, or ending in a
traceback / MemoryError; every one must now be refused before anything is written.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from antialias.checkpoint import save_checkpoint
from antialias.consistency import cli
from antialias.models import UNet

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "analysis" / "shift_consistency.py"

FACTORIES = """
import torch
from torch import nn
from antialias.models import UNet

def net():
    torch.manual_seed(0)
    return UNet(1, 2, depth=2, width=4, down="maxpool", up="nearest")

class NaNOut(nn.Module):
    num_downsamplings = 2
    def forward(self, x):
        return torch.cat([x, x * float("nan")], 1)

def nan_out():
    return NaNOut()

class Plain(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, padding=1)
    def forward(self, x):
        return self.conv(x)

def plain():
    return Plain()

def nan_init():
    m = net()
    with torch.no_grad():
        m.head.bias.fill_(float("inf"))
    return m
"""


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture()
def world(tmp_path: Path, monkeypatch):
    """A folder of images, a checkpoint and a module of factories; cwd = tmp_path."""
    rng = np.random.default_rng(0)
    (tmp_path / "im").mkdir()
    for i in range(2):
        np.save(tmp_path / "im" / f"im{i}.npy", rng.random((16, 16)).astype(np.float32))
    (tmp_path / "robust_models.py").write_text(FACTORIES)
    ckpt = tmp_path / "net.safetensors"
    torch.manual_seed(0)
    save_checkpoint(
        ckpt,
        UNet(1, 2, depth=2, width=4, down="maxpool", up="nearest"),
        {"task": "nuclei", "variant": "nearest", "seed": 0},
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "robust_models", raising=False)  # this test's copy
    return tmp_path


def _refused(world: Path, argv: list[str], capsys, match: str) -> None:
    out = world / "out"
    code = cli.main(["--n-boot", "10", *argv, "--out", str(out), "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and match in err, err
    assert "Traceback" not in err
    assert not out.exists() or not any(out.iterdir()), list(out.iterdir())


def _nan_image(folder: Path, all_nan: bool) -> Path:
    folder.mkdir()
    x = np.random.default_rng(1).random((16, 16)).astype(np.float32)
    if all_nan:
        x[:] = np.nan
    else:
        x[3, 4] = np.nan
    np.save(folder / "bad.npy", x)
    return folder


@pytest.mark.parametrize("all_nan", [False, True])
def test_non_finite_image_is_refused_naming_the_file(world, capsys, all_nan: bool) -> None:
    bad = _nan_image(world / "nan", all_nan)
    _refused(world, ["net.safetensors", "--data", str(bad)], capsys, "bad.npy")
    _refused(world, ["net.safetensors", "--data", str(bad)], capsys, "non-finite")


def test_non_finite_weights_are_refused(world, capsys) -> None:
    from safetensors.torch import save_file

    torch.manual_seed(0)
    state = UNet(1, 2, depth=2, width=4, down="maxpool", up="nearest").state_dict()
    state["head.weight"] = state["head.weight"].clone().fill_(float("nan"))
    save_file({k: v.contiguous() for k, v in state.items()}, str(world / "nan.safetensors"))
    argv = ["--model", "robust_models:net", "--weights", "nan.safetensors", "--data", "im"]
    _refused(world, argv, capsys, "non-finite")  # the checkpoint reader refuses them first
    # weights a factory makes itself (no file): refused by the analysis
    _refused(world, ["--model", "robust_models:nan_init", "--data", "im"], capsys, "'head.bias'")


def test_non_finite_outputs_are_refused(world, capsys) -> None:
    # before: agreement = IoU = Dice = 1.000 and exit 0 (argmax of NaN is 0 everywhere)
    _refused(world, ["--model", "robust_models:nan_out", "--data", "im"], capsys, "non-finite")


@pytest.mark.parametrize(
    "argv,match",
    [
        (["--n-boot", "10000000000"], "n_boot"),
        (["--n-boot", "1e10"], "invalid int value"),
        (["--max-shift", "1000000000000"], "max_shift"),
        (["--shifts", "line", "--max-shift", "60000"], "smaller than the shift"),
        (["--levels", "20"], "levels"),
        (["--levels", "3"], "expected --levels 2"),  # contradicts the UNet
        (["--levels", "0"], "levels"),
        (["--shifts", "random:10000000000"], "at most 65536 shifts"),
        (["--shifts", "random:1e10"], "random:N with N >= 1"),
        (["--lanczos-a", "100000", "--mode", "fractional"], "lanczos_a"),
        (["--threads", "100000"], "--threads"),
        (["--threads", "0"], "--threads"),
        (["--batch-size", "0"], "batch_size"),
        (["--image-size", "64"], "at least --image-size 64"),
        (["--name", ""], "--name"),
        (["--name", ".hidden"], "--name"),
        (["--name", "a/b"], "--name"),
        (["--layers", "enc0"], "--layers together with --per-layer"),
        (["--per-layer", "--layers", "nope"], "expected --layers among"),
        (["--shifts", "0:100000"], "at most 65535 px"),
        (["--data-range", "nan"], "data_range"),
        (["--model-kwargs", "{"], "--model-kwargs"),
        (["--seed", "-1"], "seed"),
    ],
)
def test_sizes_and_options_are_checked_before_allocating(world, capsys, argv, match) -> None:
    _refused(world, ["net.safetensors", "--data", "im", *argv], capsys, match)


def test_levels_of_a_model_without_num_downsamplings_are_bounded(world, capsys) -> None:
    base = ["--model", "robust_models:plain", "--data", "im"]
    _refused(world, [*base, "--levels", "20"], capsys, "levels")  # before: 4**20 shifts
    _refused(world, [*base, "--levels", "12"], capsys, "at least the period 4096")
    _refused(world, [*base, "--levels", "0"], capsys, "levels")


def test_out_is_checked_before_computing(world, capsys) -> None:
    (world / "a_file").write_text("x")
    code = cli.main(["net.safetensors", "--data", "im", "--out", "a_file/sub", "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "not a writable folder" in err, err
    code = cli.main(["net.safetensors", "--data", "im", "--out", "a_file", "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "expected --out to be a folder" in err, err


def test_a_bad_task_in_the_checkpoint_is_not_blamed_on_data(world, capsys) -> None:
    torch.manual_seed(0)
    net = UNet(1, 2, depth=2, width=4, down="maxpool", up="nearest")
    save_checkpoint(world / "odd.safetensors", net, {"task": "bogus", "variant": "x", "seed": 0})
    _refused(world, ["odd.safetensors"], capsys, "odd.safetensors names the task 'bogus'")
    big = {"task": {"nested": list(range(500))}, "variant": "x", "seed": 0}
    save_checkpoint(world / "big.safetensors", net, big)
    _refused(world, ["big.safetensors"], capsys, "has a task of type dict, not a task name")
    err_free = "--data to be one of"
    code = cli.main(["odd.safetensors", "--no-progress", "--out", "o"])
    assert code == 2 and err_free not in capsys.readouterr().err


def test_report_without_the_report_module_is_one_line(world, capsys, monkeypatch) -> None:
    real = cli.importlib.util.find_spec
    monkeypatch.setattr(
        cli.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "antialias.report" else real(name, *a),
    )
    _refused(world, ["net.safetensors", "--data", "im", "--report"], capsys, "--report needs")


def test_help_says_factories_and_torchscript_run_code(capsys) -> None:
    assert cli.main(["--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "run their own code by design" in text


def test_stale_temporary_files_are_removed_and_the_set_is_whole(world, capsys) -> None:
    from antialias.files import read_result_set

    out = world / "out"
    out.mkdir()
    stale = out / ".shift_consistency.csv.killed.tmp"
    stale.write_text("half a file of a killed writer")
    argv = ["net.safetensors", "--data", "im", "--out", str(out), "--no-progress", "--quiet"]
    assert cli.main([*argv, "--n-boot", "10"]) == 0
    assert not list(out.glob(".*tmp"))
    doc, siblings = read_result_set(out / "shift_consistency.json")
    assert set(siblings) == {".csv", ".npz"} and doc["schema"] == "antialias.shift_consistency/1"


def test_result_files_follow_the_umask(world) -> None:
    # before: tempfile.mkstemp made every result file 0600 whatever the umask
    out = world / "out"
    old = os.umask(0o022)
    try:
        argv = ["net.safetensors", "--data", "im", "--out", str(out), "--no-progress", "--quiet"]
        assert cli.main([*argv, "--n-boot", "10"]) == 0
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in out.iterdir()}
    assert set(modes.values()) == {0o644}, modes


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}


def test_a_peer_that_never_joins_times_out_with_one_line(world) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **_env(),
        "WORLD_SIZE": "2",
        "RANK": "0",
        "LOCAL_RANK": "0",
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(port),
    }
    start = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "net.safetensors",
            "--data",
            "im",
            "--dist-timeout",
            "3",
            "--no-progress",
            "--out",
            "out",
        ],
        cwd=world,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    seconds = time.monotonic() - start
    err = proc.stderr.strip()
    assert proc.returncode == 2, err
    assert len(err.splitlines()) == 1 and "did not all join within --dist-timeout 3" in err, err
    assert "(rank 0 of 2)" in err and seconds < 60, (seconds, err)
    assert not (world / "out").exists()


def test_torchrun_prints_the_error_of_the_rank_that_found_it(world) -> None:
    import socket

    bad = world / "mixed"
    bad.mkdir()
    x = np.random.default_rng(0).random((16, 16)).astype(np.float32)
    np.save(bad / "a_good.npy", x)
    x[0, 0] = np.inf
    np.save(bad / "b_bad.npy", x)  # image 1: read by rank 1 only
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "--master_addr",
            "127.0.0.1",
            "--master_port",
            str(port),
            str(SCRIPT),
            "net.safetensors",
            "--data",
            str(bad),
            "--no-progress",
            "--out",
            "out",
            "--threads",
            "1",
        ],
        cwd=world,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode != 0
    # rank 1 found the bad image and says so; rank 0 stops with "rank 1 failed" unless
    # torchrun's agent has already terminated it (it does so when a rank exits)
    ours = [line for line in proc.stderr.splitlines() if "shift_consistency (rank" in line]
    mine = "shift_consistency (rank 1 of 2): error: expected finite pixels in"
    assert any(mine in line and "b_bad.npy" in line for line in ours), proc.stderr
    assert all("error" in line for line in ours), ours
    assert not (world / "out").exists()
