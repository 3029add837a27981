"""``antialias <command>``: the table, --help/--version, dispatch, one-line errors (exit 2)."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import antialias
from antialias import __main__ as entry
from antialias.commands import COMMANDS
from tests._report_fixture import write_checkpoints, write_images

ROOT = Path(__file__).resolve().parents[1]


def test_help_lists_every_command_on_one_line(capsys) -> None:
    assert entry.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name, cmd in COMMANDS.items():
        (line,) = [ln for ln in out.splitlines() if ln.split()[:1] == [name]]
        assert line.split(None, 1)[1] == cmd.summary
    assert set(COMMANDS) >= {"shift-consistency", "kernels", "spectra", "explain-transposed"}
    assert {"report", "train"} <= set(COMMANDS)
    assert entry.main([]) == 2 and "usage: antialias" in capsys.readouterr().err


def test_version_is_the_project_version(capsys) -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    version = re.search(r'^version = "([^"]+)"', text, re.M).group(1)
    assert entry.main(["--version"]) == 0
    assert capsys.readouterr().out == f"antialias {version}\n"
    assert antialias.__version__ == version
    assert 'antialias = "antialias.__main__:main"' in text  # the installed entry point


def test_unknown_command_is_one_line(capsys) -> None:
    assert entry.main(["shift_consistency"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "got 'shift_consistency'" in err and "report" in err


def test_missing_module_and_missing_dependency_are_one_line(tmp_path, monkeypatch, capsys):
    (tmp_path / "needs_dep_xyz.py").write_text("import not_installed_pkg_xyz\n")
    (tmp_path / "echo_xyz.py").write_text("def main(argv):\n    return len(argv) + 3\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    table = {
        "gone": entry.COMMANDS["report"]._replace(target="antialias._no_such_module:main"),
        "dep": entry.COMMANDS["report"]._replace(target="needs_dep_xyz:main"),
        "echo": entry.COMMANDS["report"]._replace(target="echo_xyz:main"),
    }
    monkeypatch.setattr(entry, "COMMANDS", table)
    assert entry.main(["gone", "x"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "antialias: error: command 'gone' is not available in this installation "
        "(module antialias._no_such_module is missing)\n"
    )
    assert entry.main(["dep"]) == 2
    assert "needs the package 'not_installed_pkg_xyz'" in capsys.readouterr().err
    assert entry.main(["echo", "a", "b"]) == 5  # argv after the command name, status returned


def test_every_command_resolves() -> None:
    for name in COMMANDS:
        assert callable(entry.resolve(name)), name


@pytest.mark.parametrize("name", ["report", "train"])
def test_own_commands_answer_help(name: str, capsys) -> None:
    assert entry.main([name, "--help"]) == 0
    assert "usage:" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["kernels", "spectra", "explain-transposed"])
def test_moved_tools_answer_help(name: str, capsys) -> None:
    assert entry.main([name, "--help"]) == 0
    assert "usage:" in capsys.readouterr().out


def test_shift_consistency_then_report_through_the_entry_point(tmp_path, capsys) -> None:
    ckpt = write_checkpoints(tmp_path / "ckpt")[0]
    images = write_images(tmp_path / "images")
    argv = ["shift-consistency", str(ckpt), "--data", str(images), "--kind", "segmentation"]
    argv += ["--shifts", "0:0,0:1,1:1", "--n-boot", "10", "--border", "4"]
    argv += ["--out", str(tmp_path / "res"), "--name", "r", "--no-progress", "--quiet"]
    assert entry.main(argv) == 0
    out = tmp_path / "a"
    assert entry.main(["report", str(tmp_path / "res" / "r.json"), "--out", str(out)]) == 0
    assert (out / "report.html").is_file()
    assert entry.main([*argv, "--report"]) == 0  # the analysis calls write_report itself
    page = tmp_path / "res" / "r_report" / "report.html"
    assert 'id="fig-kernels"' in page.read_text(encoding="utf-8")


def test_python_dash_m_antialias_runs(tmp_path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "antialias", "report", str(tmp_path / "none.json")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "missing path" in done.stderr


def test_resolve_imports_lazily() -> None:
    # --help must not import the commands (each is imported only when it runs).
    code = (
        "import sys, antialias.__main__ as m; m.main(['--help']);"
        "print(any(k.startswith(('antialias.report', 'antialias.train')) for k in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    ).stdout
    assert out.strip().splitlines()[-1] == "False"
    assert importlib.import_module("antialias.commands").COMMANDS is COMMANDS
