"""The wheel alone: build it, install it into a fresh virtual environment outside the checkout,
and run the installed ``antialias`` commands from a folder outside the clone.

The new environment gets no heavy downloads: the wheel is installed with ``--no-deps`` and a
``.pth`` file puts this interpreter's site-packages (torch, numpy, ...) after its own. A path
added by a ``.pth`` does not run *that* folder's ``.pth`` files, so an editable install of the
clone there stays inactive: the test checks that ``antialias`` is imported from the new
environment, and it builds from a copy of the project's files, so the checkout gets no
``build/`` folder.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from antialias.commands import COMMANDS
from tests._report_fixture import segmentation_result, write_checkpoints, write_images

ROOT = Path(__file__).resolve().parents[1]


def _sh(cmd: list[str], cwd: Path, env: dict[str, str], ok: bool = True):
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    if ok:
        assert done.returncode == 0, f"{cmd}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done


def _available(module: str) -> bool:
    """Whether this checkout has ``module`` (so the wheel built from it has it too).

    Read from the files, not the import system: in a worktree beside an editable install an
    import can find another checkout's module.
    """
    path = ROOT / module.replace(".", "/")
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict[str, str], Path]:
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(
        ROOT / "antialias", src / "antialias", ignore=shutil.ignore_patterns("__pycache__")
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(OMP_NUM_THREADS="1", MPLBACKEND="Agg", PIP_NO_INDEX="1", PIP_NO_INPUT="1")
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    pip = [sys.executable, "-m", "pip"]
    _sh([*pip, "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp), "."], src, env)
    (wheel,) = tmp.glob("antialias-*.whl")
    venv = tmp / "venv"
    _sh([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp, env)
    python = venv / "bin" / "python"
    _sh([*pip, "--python", str(python), "install", "-q", "--no-deps", str(wheel)], tmp, env)
    purelib = _sh(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp, env
    ).stdout.strip()
    (Path(purelib) / "zz_host_packages.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    work = tmp / "work"  # a folder outside the clone, no antialias/ beside it
    work.mkdir()
    return wheel, env, venv


def test_wheel_has_the_package_data_and_no_clone_folders(installed) -> None:
    wheel, _, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    assert "antialias/report/template.html" in names
    assert "antialias/__main__.py" in names and "antialias/commands.py" in names
    assert not [n for n in names if n.startswith(("analysis/", "figures/", "tests/"))]
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "antialias = antialias.__main__:main" in text


def test_installed_commands_run_outside_the_clone(installed, tmp_path) -> None:
    _, env, venv = installed
    work = venv.parent / "work"
    exe = str(venv / "bin" / "antialias")
    python = str(venv / "bin" / "python")
    where = _sh([python, "-c", "import antialias; print(antialias.__file__)"], work, env).stdout
    assert Path(where.strip()).is_relative_to(venv), where  # not the clone's editable copy
    version = _sh([exe, "--version"], work, env).stdout
    assert version.startswith("antialias ")
    assert _sh([python, "-m", "antialias", "--version"], work, env).stdout == version
    listing = _sh([exe, "--help"], work, env).stdout
    assert all(name in listing for name in COMMANDS)

    for name, cmd in COMMANDS.items():
        module = cmd.target.partition(":")[0]
        done = _sh([exe, name, "--help"], work, env, ok=False)
        if _available(module):  # built in this checkout: must work from the wheel
            assert done.returncode == 0 and "usage:" in done.stdout, (name, done.stderr)
        else:  # not moved into the package yet: the one-line answer
            assert done.returncode == 2 and done.stderr.count("\n") == 1, (name, done.stderr)
            assert f"module {module} is missing" in done.stderr

    # A tiny model, analysed by the installed command when it exists (else by the clone's
    # script), then reported by the installed report command.
    if _available("antialias.consistency.cli"):
        ckpt = write_checkpoints(tmp_path / "ckpt")[0]
        images = write_images(tmp_path / "images")
        argv = [exe, "shift-consistency", str(ckpt), "--data", str(images), "--per-layer"]
        argv += ["--kind", "segmentation", "--shifts", "all", "--n-boot", "10", "--border", "4"]
        _sh([*argv, "--out", "res", "--name", "r", "--no-progress", "--quiet"], work, env)
        result = work / "res" / "r.json"
    else:
        result = segmentation_result(tmp_path)
    done = _sh([exe, "report", str(result), "--out", "report"], work, env)
    page = work / "report" / "report.html"
    assert done.stdout.strip() == f"wrote {Path('report') / 'report.html'}"
    text = page.read_text(encoding="utf-8")
    assert text.count('src="data:image/png;base64,') == 4  # kernels too: read from the ckpt
    if _available("antialias.consistency.cli"):  # the "done when", from the wheel
        kwargs = '{"spatial_dims": 2, "in_channels": 1, "out_channels": 2, '
        kwargs += '"features": [4, 4, 8, 8, 16, 4]}'
        argv = [exe, "shift-consistency", "--model", "monai.networks.nets:BasicUNet"]
        argv += ["--model-kwargs", kwargs, "--levels", "4", "--data", str(images)]
        argv += ["--kind", "segmentation", "--shifts", "0:0,0:1,1:1", "--n-boot", "10"]
        argv += ["--out", "monai", "--name", "m", "--report", "--no-progress", "--quiet"]
        _sh(argv, work, env)
        text = (work / "monai" / "m_report" / "report.html").read_text(encoding="utf-8")
        assert "BasicUNet" in text and "The result has no learned kernels to show." in text
    bad = _sh([exe, "report", str(work / "nope.json")], work, env, ok=False)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
