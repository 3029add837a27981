"""antialias.provenance: what decides a float result, and the commit of the checkout run."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import torch

from antialias import provenance as P

REPO = Path(__file__).resolve().parents[1]


def _git(cwd: Path, *args: str) -> str:
    cmd = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args]
    return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A one-commit git repository of its own (not this project's)."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    repo = tmp_path / "other"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "a.txt").write_text("one\n")
    _git(repo, "add", "a.txt")
    _git(repo, "commit", "-q", "-m", "first")
    return repo


def test_git_state_of_a_checkout(checkout: Path) -> None:
    head = _git(checkout, "rev-parse", "HEAD").strip()
    assert P.git_state(checkout) == (head, False)
    assert P.git_commit(checkout) == head
    # an untracked file does not make a result "dirty"; a changed tracked file does
    (checkout / "new.txt").write_text("x")
    assert P.git_state(checkout) == (head, False)
    (checkout / "a.txt").write_text("two\n")
    assert P.git_state(checkout) == (head, True)
    assert P.git_commit(checkout) == head + "-dirty"
    # a file inside the checkout names it too
    assert P.git_state(checkout / "a.txt")[0] == head


def test_outside_git_is_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    plain = tmp_path / "plain"
    plain.mkdir()
    assert P.git_state(plain) == (None, None)
    assert P.git_commit(plain) is None
    assert P.git_state(tmp_path / "missing") == (None, None)


def test_the_commit_is_the_working_directorys_not_the_packages(
    checkout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = _git(checkout, "rev-parse", "HEAD").strip()
    assert head != P.git_state(REPO)[0]  # a different repository from the imported package's
    monkeypatch.chdir(checkout)
    prov = P.provenance()
    assert prov["git_commit"] == head and prov["git_dirty"] is False
    # or the checkout named by a path
    monkeypatch.chdir(REPO)
    assert P.provenance(checkout)["git_commit"] == head


def test_cpu_isa_and_capability() -> None:
    cpu = P.cpu_info()
    assert cpu["logical_cores"] >= 1 and cpu["machine"]
    assert cpu["aten_capability"] == torch.backends.cpu.get_cpu_capability()
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        assert cpu["isa"] is None
        return
    # naive reference: every flag named on the first processor's flags line
    line = next(
        (x for x in text.splitlines() if x.split(":")[0].strip() in ("flags", "Features")), ""
    )
    flags = set(line.partition(":")[2].split())
    assert cpu["isa"] == [f for f in P.ISA_FLAGS if f in flags]
    model = next((x for x in text.splitlines() if x.startswith("model name")), None)
    if model is not None:
        assert cpu["model"] == model.partition(":")[2].strip()


def test_numerics_record_blas_onednn_threads_and_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MKL_CBWR", "COMPATIBLE")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        num = P.numerics_info()
    finally:
        torch.set_num_threads(before)
    assert num["env"]["MKL_CBWR"] == "COMPATIBLE" and num["env"]["OMP_NUM_THREADS"] is None
    assert set(num["env"]) == set(P.NUMERIC_ENV)
    assert num["torch_threads"] == 1
    assert num["torch_interop_threads"] == torch.get_num_interop_threads()
    assert num["mkl"] == torch.backends.mkl.is_available()
    assert num["onednn_available"] == torch.backends.mkldnn.is_available()
    config = torch.__config__.show()
    for key in ("mkl_version", "onednn_version", "openmp"):
        assert num[key] is None or num[key] in config, (key, num[key])
    if "BLAS_INFO=" in config:
        assert f"BLAS_INFO={num['blas']}" in config
    if torch.backends.mkldnn.is_available() and "MKL-DNN v" in config:
        assert num["onednn_version"].startswith("v")


def test_provenance_is_json_and_keeps_its_keys() -> None:
    prov = P.provenance()
    again = json.loads(json.dumps(prov))
    assert again == prov
    for key in ("versions", "git_commit", "time_utc", "platform", "cpu", "numerics"):
        assert key in prov, key
    assert prov["versions"]["torch"] == torch.__version__
