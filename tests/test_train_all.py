"""Tests of analysis.train_all: --quick stays out of checkpoints/, sets publish atomically,
bad arguments and damaged published files are one line (exit 2) before any run starts."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

from analysis import train_all as TA
from antialias.checkpoint import checkpoint_path, load_checkpoint, read_metadata
from antialias.files import read_result_set
from antialias.train import QUICK, TrainSettings, train

REPO = Path(__file__).resolve().parents[1]


def _digest_tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    rc = TA.main(argv)
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


@pytest.mark.parametrize("out", ["checkpoints", "checkpoints/nuclei", "{repo}/checkpoints"])
def test_quick_never_publishes_into_the_shipped_folder(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, out: str
) -> None:
    monkeypatch.chdir(REPO)
    before = _digest_tree(REPO / "checkpoints")
    argv = ["--quick", "--out", out.format(repo=REPO), "--tasks", "textures"]
    rc, stdout, err = _main([*argv, "--variants", "tconv2"], capsys)
    assert rc == 2 and err.count("\n") == 1 and "never publishes into the shipped" in err, err
    assert stdout == ""
    assert _digest_tree(REPO / "checkpoints") == before


def test_quick_defaults_live_in_a_git_ignored_folder() -> None:
    out, work = TA.resolve_paths(None, None, quick=True)
    assert out == TA.QUICK_ROOT / "checkpoints" and work == TA.QUICK_ROOT / "work"
    assert not TA._is_shipped(out)
    assert TA.resolve_paths(None, None, quick=False) == (
        Path("checkpoints"),
        Path("build/train_runs"),
    )
    if shutil.which("git") and (REPO / ".git").exists():
        for path in (out / "nuclei" / "x.safetensors", work / "nuclei" / "state.safetensors"):
            proc = subprocess.run(
                ["git", "check-ignore", "-q", str(path.relative_to(REPO))], cwd=REPO, check=False
            )
            assert proc.returncode == 0, f"{path} is not git-ignored"


@pytest.fixture(scope="module")
def _run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("runs") / "tconv2_s0"
    train("textures", "tconv2", 0, run, QUICK, progress=False)
    return run


def test_publish_writes_one_verifiable_set(tmp_path: Path, _run_dir: Path) -> None:
    dest = checkpoint_path(tmp_path, "textures", "tconv2", 0)
    log = tmp_path / "console.log"
    log.write_text("epoch 1 ...\n")
    TA.publish(_run_dir, log, dest)
    doc, siblings = read_result_set(dest.with_suffix(".json"))
    assert set(siblings) == {".safetensors", ".log.jsonl", ".curves.csv", ".log"}
    assert doc == read_metadata(dest) == read_metadata(_run_dir / "model.safetensors")
    assert TA.is_published(dest, QUICK) and not TA.is_published(dest, TA.settings_for("nuclei"))
    model, _ = load_checkpoint(dest)
    assert torch.equal(
        model.head.weight, load_checkpoint(_run_dir / "model.safetensors")[0].head.weight
    )
    assert sorted(p.name for p in dest.parent.iterdir()) == [
        "tconv2_s0.curves.csv",
        "tconv2_s0.json",
        "tconv2_s0.log",
        "tconv2_s0.log.jsonl",
        "tconv2_s0.safetensors",
    ], "nothing temporary left"


def _other_set(tmp_path: Path, dest: Path, legacy: bool) -> None:
    """An older published set at ``dest``: another seed's run (with digests, or legacy)."""
    run = tmp_path / "older"
    if not run.exists():
        train("textures", "tconv2", 1, run, QUICK, progress=False)
    if legacy:  # how the shipped sets were published: weights + JSON equal to the header
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(run / "model.safetensors", dest)
        shutil.copyfile(run / "model.json", dest.with_suffix(".json"))
    else:
        TA.publish(run, tmp_path / "none.log", dest)


@pytest.mark.parametrize("legacy", [False, True])
def test_a_crash_while_publishing_is_never_taken_for_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _run_dir: Path, legacy: bool
) -> None:
    dest = checkpoint_path(tmp_path / "pub", "textures", "tconv2", 0)
    _other_set(tmp_path, dest, legacy)
    old = read_metadata(dest)
    log = tmp_path / "console.log"
    log.write_text("new run\n")
    real_replace = os.replace
    for k in range(5):  # 4 siblings, then the JSON: crash before each rename
        seen: list[str] = []

        def crashing(src, dst, k=k, seen=seen):  # noqa: ANN001
            if len(seen) == k:
                raise KeyboardInterrupt("killed while publishing")
            seen.append(dst)
            return real_replace(src, dst)

        monkeypatch.setattr(os, "replace", crashing)
        with pytest.raises(KeyboardInterrupt):
            TA.publish(_run_dir, log, dest)
        monkeypatch.setattr(os, "replace", real_replace)
        new_weights_in_place = any(Path(d).suffix == ".safetensors" for d in seen)
        meta = TA.published_meta(dest)
        if k == 0:  # nothing renamed yet: the old set is intact and still counts
            assert meta == old
        else:  # a mixed set: the next run must publish again, not skip
            assert meta is None, f"crash before rename {k} was taken for a published set"
        # whatever is on disk, the weights file is self-consistent (header = its weights)
        loaded, header = load_checkpoint(dest)
        assert header == (
            read_metadata(_run_dir / "model.safetensors") if new_weights_in_place else old
        )
        _other_set(tmp_path, dest, legacy)  # back to the old set for the next crash point
    TA.publish(_run_dir, log, dest)
    assert TA.is_published(dest, QUICK)


def _in_process(cmd: list[str], text_log: Path, settings: TrainSettings) -> int:
    """The training command run in this process (a subprocess costs seconds of imports)."""
    from antialias.train import main

    assert cmd[1:3] == ["-m", "antialias.train"], cmd
    with open(text_log, "a", encoding="utf-8") as log, contextlib.redirect_stdout(log):
        return main(cmd[3:])


def test_quick_end_to_end_publishes_then_skips(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(TA, "_spawn", _in_process)
    out, work = tmp_path / "out", tmp_path / "work"
    argv = ["--quick", "--tasks", "textures", "--variants", "tconv2", "--jobs", "1"]
    argv += ["--out", str(out), "--work", str(work)]
    rc, stdout, err = _main(argv, capsys)
    assert rc == 0, stdout + err
    assert "textures/tconv2/s0: trained" in stdout
    dest = checkpoint_path(out, "textures", "tconv2", 0)
    doc, siblings = read_result_set(dest.with_suffix(".json"))
    assert doc["training"]["complete"] and doc["training"]["stop_reason"] == "budget"
    rows = json.loads((out / "metrics.json").read_text())
    assert [(r["task"], r["variant"], r["seed"]) for r in rows] == [("textures", "tconv2", 0)]
    assert "| textures | tconv2 | 0 |" in (out / "METRICS.md").read_text()
    timing = json.loads((out / "training_time.json").read_text())
    assert timing["runs_trained"] == 1 and len(timing["invocations"]) == 1
    assert siblings[".log"].read_text().count("epoch") >= QUICK.epochs
    rc, stdout, _ = _main(argv, capsys)
    assert rc == 0 and "textures/tconv2/s0: skipped" in stdout
    assert json.loads((out / "training_time.json").read_text())["runs_trained"] == 1
    # a half-published set (new weights beside the old JSON) is published again, not skipped
    dest.write_bytes((work / "textures" / "tconv2_s0" / "model.safetensors").read_bytes()[:-1])
    rc, stdout, _ = _main(argv, capsys)
    assert rc == 0 and "textures/tconv2/s0: trained" in stdout, stdout
    assert read_result_set(dest.with_suffix(".json"))[0] == doc


def _bad_cases(tmp: Path) -> dict[str, tuple[list[str], str]]:
    (tmp / "file").write_text("x")
    published = tmp / "pub" / "textures"
    published.mkdir(parents=True)
    (published / "tconv2_s0.json").write_text("{not json")
    (tmp / "pub2").mkdir()
    (tmp / "pub2" / "training_time.json").write_text("{not json")
    (tmp / "pub3").mkdir()
    (tmp / "pub3" / "training_time.json").write_text(json.dumps({"invocations": [{"x": 1}]}))
    w = ["--work", str(tmp / "w")]
    one = ["--tasks", "textures", "--variants", "tconv2"]
    return {
        "out is a file": (["--out", str(tmp / "file"), *w, *one], "--out"),
        "out under a file": (["--out", str(tmp / "file" / "o"), *w, *one], "--out"),
        "work is a file": (["--out", str(tmp / "o"), "--work", str(tmp / "file"), *one], "--work"),
        "out is work": (["--out", str(tmp / "o"), "--work", str(tmp / "o"), *one], "different"),
        "jobs 0": (["--out", str(tmp / "o"), *w, "--jobs", "0"], "expected --jobs"),
        "jobs 1000": (["--out", str(tmp / "o"), *w, "--jobs", "1000"], "expected --jobs"),
        "threads 0": (["--out", str(tmp / "o"), *w, "--threads", "0"], "expected --threads"),
        "jobs x": (["--out", str(tmp / "o"), *w, "--jobs", "x"], "invalid int value"),
        "task": (["--out", str(tmp / "o"), *w, "--tasks", "cells"], "expected --tasks"),
        "variant": (["--out", str(tmp / "o"), *w, "--variants", "unet"], "expected --variants"),
        "corrupt JSON": (["--out", str(tmp / "pub"), *w, *one], "tconv2_s0.json"),
        "corrupt time": (["--out", str(tmp / "pub2"), *w, *one], "training_time.json"),
        "wrong time": (["--out", str(tmp / "pub3"), *w, *one], "training_time.json"),
    }


def test_bad_arguments_and_damaged_files_are_one_line_exit_2_before_any_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = _bad_cases(tmp_path)
    before = _digest_tree(tmp_path)
    for name, (argv, needle) in cases.items():
        rc, stdout, err = _main(["--quick", *argv], capsys)
        assert rc == 2, (name, rc, stdout, err)
        assert err.count("\n") == 1 and needle in err and "Traceback" not in err, (name, err)
        assert stdout == "", (name, stdout)
        assert _digest_tree(tmp_path) == before, f"{name}: something was written"
        assert not (tmp_path / "o").exists() and not (tmp_path / "w").exists(), name


def test_publishing_seed_1_leaves_seed_10s_file_in_flight_alone(
    tmp_path: Path, _run_dir: Path
) -> None:
    # another invocation publishing tconv2_s10 at the same moment has its temporary file here
    dest = checkpoint_path(tmp_path, "textures", "tconv2", 1)
    dest.parent.mkdir(parents=True)
    in_flight = dest.parent / ".tconv2_s10.json.abc123.tmp"
    in_flight.write_text("being written")
    stale = dest.parent / ".tconv2_s1.json.dead00.tmp"  # a killed writer of this very set
    stale.write_text("left by a killed writer")
    TA.publish(_run_dir, tmp_path / "none.log", dest)
    assert in_flight.exists(), "publishing one set deleted another set's file in flight"
    assert not stale.exists(), "the set's own stale temporary file stays forever"
