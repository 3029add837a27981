"""analysis/transposed_tutorial.py: the computation, its result set, and the page's sections.

One small run (1 trial, a small camera crop) feeds every test; the expected strings are made
here from the run's own numbers.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # analysis/ is a top-level folder, not an installed package
    sys.path.insert(0, str(REPO))

from analysis import transposed_tutorial as tut  # noqa: E402
from analysis.tutorial import compute, page  # noqa: E402
from antialias.files import read_result_set  # noqa: E402


@pytest.fixture(scope="module")
def small():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return compute.run(compute.TutorialConfig(trials=1, crop=64))
    finally:
        torch.set_num_threads(before)


def test_save_writes_one_result_set(small, tmp_path: Path) -> None:
    js, npz = compute.save(small, tmp_path)
    meta, siblings = read_result_set(js)  # digests checked: the set belongs together
    assert siblings == {".npz": npz}
    assert meta["config"]["trials"] == 1 and meta["walk"]["size_out"] == 8
    with np.load(npz) as arrays:
        assert arrays["walk_output"].shape == (8, 8)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tutorial.json", "tutorial.npz"]


def test_sections_in_order_and_numbers_read(small, tmp_path: Path) -> None:
    js, _ = compute.save(small, tmp_path)
    meta, _ = read_result_set(js)
    text = page.render_markdown(small, meta)
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == [
        "## The short answer",
        "## 0. The layer a U-Net actually uses: `ConvTranspose2d(C, C/2, kernel_size=2, stride=2)`",
        "## 1. Shapes",
        "## 2. A worked example with small integers",
        "## 3. Three equivalent views",
        "## 4. Where checkerboards come from",
        "## 5. Initialisation, and why it matters",
        "## 6. Why a fixed interpolation followed by a conv is a sound choice",
        "## 7. The question, answered",
        "## Reproduce",
    ]
    sweep = small["sweep"]
    assert f"on {sweep['configs']} argument combinations" in text
    assert f"max error {sweep['max_error']['zero insertion']:.1e}" in text
    assert f"git commit `{meta['provenance']['git_commit']}`" in text
    assert "None" not in text


def test_each_section_renders_alone(small) -> None:
    f = page._facts(small, {"provenance": {}})
    for section in (page._short_answer, page._shapes, page._views, page._fits, page._reproduce):
        lines = section(small, f)
        assert lines and all(isinstance(line, str) for line in lines), section.__name__
    assert (
        "(git commit not recorded, torch not recorded)" in page._short_answer(small, f)[4]
    )  # said, not "None"


def test_bad_arguments_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert tut.main(["--bogus"]) == 2
    assert tut.main(["--trials", "0", "--no-figures"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(line.startswith(f"{tut.PROG}: error:") for line in err)
    assert "expected --trials >= 1, got 0" in err[1]


def test_unet_section_and_corrected_statements_read_from_the_run(small) -> None:
    from analysis.tutorial import page_unet

    text = page.render_markdown(small, {"provenance": {}})
    u = small["unet_layer"]
    assert f"{u['layer']['params']['up']:,}" in text  # parameter count of the up-conv
    assert f"max relative error {u['shuffle']['max_relative_error']:.1e}" in text
    b = u["baseline"]
    assert f"= {b['sqrt_phases_minus_1']:.2f} in expectation, median {b['median']:.2f}" in text
    # the refit is stated per input family, each from its own fit
    for name, fit in small["fit_by_input"].items():
        rows = {r["family"]: r["psnr_db"] for r in fit["rows"]}
        best_t = max(
            v for k, v in rows.items() if k.startswith("transposed") and k != "transposed 6x6"
        )
        assert fit["bilinear_3x3_beats_tconv_up_to_4x4"] == (rows["bilinear + conv 3x3"] > best_t)
        assert f"| {name} | {rows['bilinear + conv 3x3']:.2f} |" in text
    # the phrase follows the booleans
    fake = {
        "fit_by_input": {
            "a": {"bilinear_3x3_beats_tconv_up_to_4x4": True},
            "b": {"bilinear_3x3_beats_tconv_up_to_4x4": False},
        }
    }
    assert page_unet.beats_phrase(fake) == (
        "beats every transposed conv up to 4x4 on the a input, but not on the b input"
    )
    assert "1.58-1.80x the mean output level" not in text
