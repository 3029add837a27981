"""The README's Python example runs as written (so the API it shows cannot drift)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_readme_python_blocks_run(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "expected at least one python block in README.md"
    monkeypatch.chdir(ROOT)  # the example loads a shipped checkpoint by relative path
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
    out = capsys.readouterr().out
    assert "MaxBlurPool2d" in out and "nuclei bilinear" in out
