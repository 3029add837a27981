"""The paper's small functions on constructed results: wording, "exact to rounding", sections.

Every expected string is built here from the constructed numbers (or written out by hand for
a case small enough to check by eye); none is copied from docs/paper.md.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # analysis/ is a top-level folder, not an installed package
    sys.path.insert(0, str(REPO))

from analysis import write_paper as wp  # noqa: E402
from analysis.paper import closing, conclusion, findings, intro, wording  # noqa: E402
from analysis.paper.results import LABEL, PaperError, StudyResults  # noqa: E402
from antialias.exact import exact_tolerance  # noqa: E402

# ----------------------------------------------------------------------------------------------
# wording


def test_cell_and_changes() -> None:
    stat = {"mean": 0.99, "std": 0.001, "lo": 0.98, "hi": 0.995}
    assert wording.cell(stat, 3) == "0.990 ± 0.001 [0.980, 0.995]"
    # agreement -> % changed: the interval flips (hi agreement = fewest changes)
    assert wording.cell(stat, 2, changes=True) == "1.00 ± 0.10 [0.50, 2.00]"
    assert wording.cell({**stat, "std": math.nan}, 3) == "0.990 [0.980, 0.995]"


def test_verdicts() -> None:
    assert wording.excludes_zero({"diff": 1.0, "lo": 0.1, "hi": 2.0}) == 1
    assert wording.excludes_zero({"diff": -1.0, "lo": -2.0, "hi": -0.1}) == -1
    assert wording.excludes_zero({"diff": 0.0, "lo": -1.0, "hi": 1.0}) == 0
    assert wording.excludes_zero({"diff": 0.0, "lo": math.nan, "hi": 1.0}) == 0
    assert wording.excludes_zero(None) == 0
    rec = {"train_step_ratio_q1": 1.1, "train_step_ratio_q3": 1.3}
    assert wording.speed_word(rec) == "slower"
    assert wording.speed_word({"train_step_ratio_q1": 0.7, "train_step_ratio_q3": 0.9}) == "faster"
    assert wording.speed_word({"train_step_ratio_q1": 0.9, "train_step_ratio_q3": 1.1}) == (
        "indistinguishable in speed"
    )
    assert wording.signed(0.00004, 4) == "±0" and wording.signed(-0.0123, 4) == "-0.0123"
    assert wording.pdiff({"diff": 0.5, "lo": 0.25, "hi": 1.0}, 2, scale=-1.0) == (
        "-0.50 [-1.00, -0.25]"
    )


def test_known_never_writes_none() -> None:
    assert wording.known(None) == "not recorded"
    assert wording.known(0) == "0"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_exact_split_uses_the_stated_tolerance(dtype: str) -> None:
    tol = exact_tolerance(dtype)
    errors = {"zero": 0.0, "rounding": tol / 2, "edge": tol, "real": 1e-3, "nothing": math.nan}
    exact, inexact = wording.exact_split(errors, dtype)
    assert exact == {"zero": 0.0, "rounding": tol / 2, "edge": tol}
    assert set(inexact) == {"real", "nothing"}  # NaN: nothing compared, never "exact"
    # a float32 rounding-level error is far from exact in float64
    if dtype == "float64":
        assert wording.exact_split({"f32": 1e-7}, dtype)[0] == {}


def test_exact_to_rounding_states_the_measured_maximum() -> None:
    text = wording.exact_to_rounding([0.0, 3e-7, 1e-7], "float32")
    assert text.startswith("exact to rounding (max relative error 3e-07;")
    assert f"{exact_tolerance('float32'):.3g}" in text
    assert "exactly" not in text and "error 0)" not in text


# ----------------------------------------------------------------------------------------------
# sections on a constructed results object


def _layers(enc_errors: dict[str, float], dtype: str | None = None) -> dict:
    """A layers summary: 2 encoder levels, a coarse decoder level, the output level."""
    variants = {}
    for v, e in enc_errors.items():
        nan = math.nan
        variants[v] = {
            "seeds": [0],
            "interior": [
                [e, e / 2, 0.0],  # enc0
                [nan, e, 0.0],  # enc1
                [0.3, 0.2, 0.1],  # dec1 (stride 2)
                [0.05, 0.02, 0.01],  # dec0, the output level
            ],
        }
    doc = {
        "task": "nuclei",
        "levels": ["enc0", "enc1", "dec1", "dec0"],
        "strides": [1, 2, 2, 1],
        "shift_classes": [1, 2, 4],
        "n_images": 1,
        "border": 8,
        "variants": variants,
    }
    if dtype:
        doc["dtype"] = dtype
    return doc


def _study(**extra) -> dict:
    return {"schema": "antialias.study/1", "tasks": {}, **extra}


def test_encoder_levels_exact_to_rounding_not_equal_to_zero() -> None:
    # 1e-9 is rounding in float32: exact, with the measured max; 0.02 is not
    layers = _layers({"tconv2": 0.0, "nearest": 1e-9, "aps": 0.02})
    text = findings.encoder_levels(layers, layers["variants"])
    want = wording.exact_to_rounding([0.0, 1e-9], "float32")
    assert f"are {want} in {LABEL['tconv2']}, {LABEL['nearest']}:" in text
    assert f"elsewhere: {LABEL['aps']} 0.02." in text
    assert "relative error 0)" not in text and "exactly" not in text


def test_encoder_levels_use_the_recorded_dtype() -> None:
    layers = _layers({"tconv2": 1e-9}, dtype="float64")  # not rounding for float64
    text = findings.encoder_levels(layers, layers["variants"])
    assert "exact to rounding" not in text and f"{LABEL['tconv2']} 1e-09" in text


def test_layers_text_output_and_decoder() -> None:
    c = StudyResults(_study(layers=_layers({"tconv2": 0.0, "bilinear": 0.0})), None)
    (text,) = [line for line in findings.layers_text(c) if line]
    assert "seed(s) [0], interior >= 8 px" in text
    assert "At the output level (dec0) odd shifts leave a relative RMS error from 0.05" in text
    assert f"{LABEL['tconv2']} 0.3 at dec1" in text


def test_reproduce_writes_not_recorded_for_missing_provenance() -> None:
    study = _study(
        timings={"crop_nuclei": 12.0},
        pieces={"crop_nuclei": {"file": "crop_nuclei.json"}},  # no commit, no time
        provenance={},  # no commit, no time
    )
    text = "\n".join(closing.reproduce(StudyResults(study, None)))
    assert "None" not in text and "`not recorded`" not in text
    assert "at git commit(s) not recorded (not recorded); summary written at not recorded" in text
    with_commit = _study(
        timings={},
        pieces={"a": {"git_commit": "abc", "time_utc": "t0"}},
        provenance={"git_commit": "def", "time_utc": "t1"},
    )
    text = "\n".join(closing.reproduce(StudyResults(with_commit, None)))
    assert "at git commit(s) `abc` (t0); summary written at `def` (t1)" in text


def test_setup_training_never_writes_none() -> None:
    rec = {
        "task": "nuclei",
        "seed": 0,
        "n_images": 2,
        "config": {"depth": 3},
        "training": {"epochs": 5, "threads": 1},  # most settings not recorded
    }
    study = _study(tasks={"nuclei": {"accuracy": {"variants": {}}}}, accuracy_records=[rec])
    text = "\n".join(intro.training(StudyResults(study, None)))
    assert "None" not in text
    assert "`nuclei` 5 epochs of not recorded steps" in text and "depth 3 (period" in text


def test_consistency_change_words() -> None:
    assert conclusion.consistency_change({"mean": 0.98}, {"mean": 0.99}, True) == (
        "label changes 2.000% -> 1.000% (2.0x fewer)"
    )
    assert conclusion.consistency_change({"mean": 0.99}, {"mean": 0.98}, True).endswith(
        "(2.0x more)"
    )


def test_speed_table_from_records() -> None:
    rec = {
        "arch": "shipped",
        "threads": 1,
        "variant": "bilinear",
        "num_parameters": 10,
        "gmacs_per_image": 0.5,
        "forward_ms": 2.0,
        "forward_ratio": 1.0,
        "forward_ratio_q1": 1.0,
        "forward_ratio_q3": 1.0,
        "train_step_ms": 6.0,
        "train_step_ratio": 1.0,
        "train_step_ratio_q1": 0.9,
        "train_step_ratio_q3": 1.1,
        "config": {"depth": 3, "width": 8},
        "input_shape": [4, 1, 32, 32],
    }
    speed = {"config": {"archs": ["shipped"], "threads": [1], "repeats": 3}, "results": [rec]}
    lines = findings.speed_section(StudyResults(_study(), speed))
    assert "input (4, 1, 32, 32), 1 CPU thread(s), 3 rounds." in lines[2]
    row = (
        f"| {LABEL['bilinear']} | 10 | 0.500 | 2.0 | 1.00 [1.00, 1.00] | 6.0 | 1.00 [0.90, 1.10] |"
    )
    assert row in lines


def test_results_object_names_what_is_missing() -> None:
    with pytest.raises(PaperError, match="antialias.study/1"):
        StudyResults({"schema": "other"}, None)
    c = StudyResults(_study(), None)
    with pytest.raises(PaperError, match="expected layers in study.json"):
        c.get("layers")
    assert c.get("layers", default=None) is None and c.max_shift() == "?"


def test_render_on_a_minimal_study(tmp_path: Path) -> None:
    text = wp.render(_study(layers=_layers({"tconv2": 0.0})), None, None, tmp_path)
    assert text.startswith("# Fixed or learned up-sampling")
    assert "(The question file under `../shared/seeds/` was not found" in text
    assert "exact to rounding (max relative error 0;" in text
    assert "None" not in text


def test_main_bad_option_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert wp.main(["--bogus"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"{wp.PROG}: error:")


@pytest.mark.parametrize("module", [wording, conclusion], ids=lambda m: m.__name__)
def test_docstring_examples(module) -> None:
    # analysis/ is outside the doctest paths of pytest's configuration: run its examples here
    import doctest

    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0, result


def test_main_refuses_an_incomplete_result_set(tmp_path: Path, capsys) -> None:
    from antialias.files import write_result_set

    write_result_set(tmp_path, "study", _study(), {".npz": b"first"})
    (tmp_path / "study.npz").write_bytes(b"second")  # a sibling from another run
    target = tmp_path / "paper.md"
    assert wp.main(["--results", str(tmp_path), "--out", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "incomplete result set" in err
    assert not target.exists()
