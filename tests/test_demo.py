"""The main job (analysis/demo.py) writes only to its git-ignored output folder.

Issue 10: ``make demo`` rewrote 52 tracked files (the committed full-study results and every
figure). Checked here: the default output folder is ignored and untracked; every step is
pointed under ``--out``; a real (quick) run leaves ``results/`` and ``figures/`` byte for byte
as they were.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from analysis import demo

REPO = Path(__file__).resolve().parents[1]


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=60)


def _snapshot(*folders: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file under ``folders`` (bytecode caches aside)."""
    found = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            # git-ignored work folders (results/study_v2/.work: a study running beside the
            # tests) are not committed results
            hidden = any(part.startswith(".") for part in path.relative_to(folder).parts[:-1])
            if path.is_file() and "__pycache__" not in path.parts and not hidden:
                found[str(path.relative_to(REPO))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def test_default_output_folder_is_ignored_and_untracked() -> None:
    assert demo.DEFAULT_OUT == REPO / "out"
    rel = demo.DEFAULT_OUT.relative_to(REPO)
    for probe in (f"{rel}/", f"{rel}/results/study/study.json", f"{rel}/figures/fig1.png"):
        check = _git("check-ignore", "-q", probe)
        assert check.returncode == 0, f"{probe} is not git-ignored: {check.stderr}"
    tracked = _git("ls-files", "--", str(rel))
    assert tracked.returncode == 0 and tracked.stdout == "", tracked.stdout


def test_every_step_writes_under_out(tmp_path: Path, monkeypatch, capsys) -> None:
    """The full job's wiring, with each step replaced by a recorder (the steps take minutes)."""
    from analysis import learned_kernels, spectra, study
    from figures import make_all

    calls: list[tuple[str, list[str]]] = []
    for name, module in (
        ("spectra", spectra),
        ("learned_kernels", learned_kernels),
        ("study", study),
        ("make_all", make_all),
    ):
        monkeypatch.setattr(
            module, "main", lambda argv, name=name: calls.append((name, list(argv))) or 0
        )
    out = tmp_path / "o"
    assert demo.main(["--out", str(out), "--threads", "1"]) == 0
    assert [c[0] for c in calls][:4] == ["spectra", "learned_kernels", "study", "make_all"]

    def value(argv: list[str], flag: str) -> Path:
        return Path(argv[argv.index(flag) + 1])

    for name, argv in calls:
        target = value(argv, "--out")
        assert target.is_relative_to(out.resolve()), (name, argv)
    assert value(calls[0][1], "--out") == out.resolve() / "results" / "spectra"
    assert value(calls[2][1], "--out") == out.resolve() / "results" / "study"
    assert value(calls[3][1], "--results") == out.resolve() / "results"
    assert value(calls[3][1], "--out") == out.resolve() / "figures"
    # the tutorial diagrams read the committed tutorial results, and only read them
    for name, argv in calls[4:]:
        assert name == "make_all" and "--only" in argv
        assert value(argv, "--results") == REPO / "results"
    printed = capsys.readouterr().out
    assert f"writing everything under {out.resolve()}" in printed
    assert f"wrote: {out.resolve() / 'results'}" in printed


def test_quick_run_leaves_committed_results_and_figures_alone(tmp_path: Path, capsys) -> None:
    before = _snapshot(REPO / "results", REPO / "figures")
    out = tmp_path / "demo"
    assert demo.main(["--quick", "--out", str(out)]) == 0
    assert _snapshot(REPO / "results", REPO / "figures") == before
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == ["results/spectra/spectra.json", "results/spectra/spectra.npz"]
    assert f"writing everything under {out.resolve()}" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv,needle",
    [(["--threads", "0"], "expected --threads >= 1"), (["--bogus"], "unrecognized arguments")],
)
def test_bad_arguments_are_one_line(argv: list[str], needle: str, tmp_path: Path, capsys) -> None:
    assert demo.main([*argv, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err, err
    assert not (tmp_path / "o").exists()


def test_out_must_be_a_folder(tmp_path: Path, capsys) -> None:
    file = tmp_path / "f"
    file.write_text("x")
    assert demo.main(["--quick", "--out", str(file)]) == 2
    assert "expected --out to be a folder" in capsys.readouterr().err
    assert file.read_text() == "x"
