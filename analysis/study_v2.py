"""Study v2 (issue 12): the declared plan of training runs, run resumably piece by piece.

Usage::

    python -m analysis.study_v2 --plan             # the plan, what is done, the cost estimate
    python -m analysis.study_v2 --run headline_w8  # train the missing runs of one piece
    python -m analysis.study_v2 --run baselines    # no-learning baselines on the same test units
    python -m analysis.study_v2 --time             # time the first headline run (cost model)
    python -m analysis.study_v2 --analyse          # verdicts (antialias.stats) from the files
    python -m analysis.study_v2 --designs          # parameters and MACs of every design

Two workers on the 2 cores (each run 1 thread; they share a piece through a per-run lock, so
neither trains a run the other holds; both resume interrupted runs)::

    for i in 1 2; do OMP_NUM_THREADS=1 nohup nice -n 19 python -m analysis.study_v2 \
        --run headline_w8 >> study_v2_worker$i.log 2>&1 & done

Seed 0 of every design at width <= 16 also ships its best-on-val checkpoint under
``results/study_v2/checkpoints/<task>/<run>.safetensors`` (< 100 MB in all).

One finished training run = one result file ``results/study_v2/runs/<task>/<run>.json``
(written atomically through :func:`antialias.files.write_result_set`): config, design row,
parameters and MACs, training settings, the learning curve (one record per epoch), best epoch,
measured seconds, and per-image test metrics (:func:`antialias.baselines.per_image_metrics`,
the function the baselines use too). A run whose file exists is skipped, so a piece can be
interrupted and started again; the run's working directory (``results/study_v2/.work/``, not
committed) lets an interrupted run resume after its last finished epoch.

The plan (:func:`plan`; compute spent where the verdicts need it):

- ``headline_w8``, ``headline_w16``, ``headline_w32``: {tconv2, bilinear_1x1 (MONAI
  nontrainable), bilinear (resize-conv 3x3), bilinear_only (Pytorch-UNet bilinear)} on
  ``nuclei_sim`` at depth 4: the headline comparison at three widths (the width sweep on one
  task), 5 seeds at widths 8 and 16, 3 at width 32 (the measured cost: see ``--plan``).
- ``headline_denoise``: the same four designs x 5 seeds on ``denoise_photos``, width 8.
- ``designs``: every other design of :data:`antialias.variants.DESIGNS` x 3 seeds on
  ``nuclei_sim``, width 8, depth 4. Each is compared with the design it changes in one
  respect (:data:`REFERENCE`); the max-blur-pool up paths also with the max-blur-pool 2x2
  transposed conv (:data:`CROSSED`), so encoder x up path is crossed both ways.
- ``twins``: the width-matched twin of every design whose parameter count differs by more
  than 10% from its reference's (:data:`REFERENCE`) at width 8, 3 seeds.

Training budget (:func:`_settings`): ``antialias.train``'s reduce-on-plateau schedule
(``schedule="plateau"``): peak rate 3e-3 after warm-up, times 0.3 after 3 epochs without a
new best, 3 reductions, then stop 4 epochs after the last new best (converged by the rule),
at most 40 epochs of 50 steps (the budget). A new best must beat the old by a tenth of the
equivalence margin (0.0005 Dice, 0.01 dB PSNR): smaller gains cannot change a verdict. Why
not the cosine with a plateau check: the cosine decays over the whole budget, so a short
patience stops a run at a high rate (pilot: patience 5 stopped at epoch 9, best 4, test Dice
0.949 against 0.965 for 12 fixed epochs) and a long one runs every run to the budget (pilot:
patience 10 ran all 24 epochs). Stated in the plan output and in every result file
(``budget``, ``stop_reason``, ``converged``).

What does not live here: the models, data, metrics, statistics (``antialias.*``).
"""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import torch

from antialias import variants
from antialias._cli import ArgumentParser, UsageError
from antialias._cli import run as run_cli
from antialias.files import read_json, write_result_set

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "study_v2"
BENCH = ROOT / "benchmarks" / "results"  # the real-design speed benchmark (bench_designs.py)
HEADLINE = ("tconv2", "bilinear_1x1", "bilinear", "bilinear_only")
DEPTH = 4
WIDTHS = (8, 16, 32)
HEADLINE_SEEDS = (0, 1, 2, 3, 4)
HEADLINE_SEEDS_BY_WIDTH = {8: HEADLINE_SEEDS, 16: HEADLINE_SEEDS, 32: (0, 1, 2)}
"""5 seeds at widths 8 and 16, 3 at width 32: a width-32 step costs about 9x a width-8 one
(measured in interleaved rounds, ``timing.json``); 5 seeds there too would leave no room in
the 8 h budget for a longer, converging budget (``--plan`` prints the estimate)."""
OTHER_SEEDS = (0, 1, 2)
OTHER_WIDTH = 8
TWIN_THRESHOLD = 0.10
BUDGET_HOURS = 8.0
WORKERS = 2  # two single-thread runs side by side on the 2 cores
BUDGET_NOTE = (
    "reduce-on-plateau (antialias.train, schedule 'plateau'): rate {lr} x {lr_factor} after "
    "{lr_patience} epochs without a new best (> {min_delta} better), {lr_reductions} "
    "reductions, then stop {patience} epochs after the last new best (converged), at most "
    "{epochs} epochs x {steps_per_epoch} steps (budget); best-on-val weights kept"
)
MIN_DELTA = {"segmentation": 0.0005, "regression": 0.01}
"""Smallest validation gain that counts as a new best: a tenth of the equivalence margin
(:data:`antialias.stats.MARGINS`: 0.005 Dice, 0.1 dB PSNR)."""


def _settings(task: str = "nuclei_sim"):
    from antialias.data import TASK_KINDS
    from antialias.train import TrainSettings

    # reduce-on-plateau (module docstring): the stop is decided at the lowest rate only; the
    # cosine + plateau pilots (results/study_v2/pilot/) either stopped at a high rate
    # (patience 5) or ran every run to the budget (patience 10)
    return TrainSettings(
        epochs=40,
        steps_per_epoch=50,
        batch_size=8,
        crop=64,
        lr=3e-3,
        warmup_steps=25,
        threads=1,
        patience=4,
        min_delta=MIN_DELTA[TASK_KINDS[task]],
        schedule="plateau",
        lr_patience=3,
        lr_factor=0.3,
        lr_reductions=3,
    )


@dataclass(frozen=True)
class Run:
    """One training run of the plan."""

    piece: str
    task: str
    design: str
    width: int
    depth: int
    seed: int

    @property
    def name(self) -> str:
        return f"{self.design}_w{self.width}_d{self.depth}_s{self.seed}"

    @property
    def path(self) -> Path:
        return OUT / "runs" / self.task / f"{self.name}.json"


REFERENCE: dict[str, str] = {
    # the comparison each design is made for (its family of the analysis): the headline and
    # the shipped up paths against the original up-conv; every crossed or ablated design
    # against the design it changes in one respect
    **{d: "tconv2" for d in variants.DESIGNS if variants.DESIGNS[d].shipped},
    **{d: "tconv2" for d in HEADLINE},
    "blurpool_tconv4": "tconv4",
    "blurpool_bilinear": "bilinear",
    "blurpool_blur": "blurpool_bilinear",
    "blurpool_blur5": "blurpool_blur",
    "blurpool_tconv2": "tconv2",
    "blurpool_bilinear_1x1": "bilinear_1x1",
    "blurpool_bilinear_only": "bilinear_only",
    "subpixel_blur": "pixelshuffle",
    "tconv4_bilinear": "tconv4",
    "aps": "tconv2",
    "aps_zeros": "aps",
}
"""Design -> the reference it is compared with (the crossed / ablated pairs differ in one
respect, so they need no twin when their sizes match)."""

CROSSED: dict[str, str] = {
    # declared before any run of the designs piece: the headline comparison (each fixed up path
    # against the learned 2x2) repeated with the max-blur-pool encoder, so encoder x decoder is
    # crossed in both directions (REFERENCE pairs each blur-pool design with its max-pool twin)
    "blurpool_bilinear_1x1": "blurpool_tconv2",
    "blurpool_bilinear": "blurpool_tconv2",
    "blurpool_bilinear_only": "blurpool_tconv2",
}
"""Design -> a second reference (analysis family ``crossed/...``), besides :data:`REFERENCE`."""


@cache
def _parameters(design: str, width: int, depth: int = DEPTH) -> int:
    from antialias.models import build_variant, count_parameters

    return count_parameters(build_variant(design, 1, 2, depth=depth, width=width))


def _matched_width(design: str, reference: str, width: int) -> int:
    # parameters grow about quadratically with width: start there, then look around it
    target = _parameters(reference, width)
    guess = max(1, round(width * (target / _parameters(design, width)) ** 0.5))
    near = range(max(1, guess - 2), guess + 3)
    return min(near, key=lambda w: (abs(_parameters(design, w) - target), w))


@lru_cache(maxsize=1)
def _twins() -> tuple[tuple[str, int], ...]:
    """Designs whose parameter count differs from their reference's by more than 10% at
    :data:`OTHER_WIDTH`, with the width that matches it (a local search around the quadratic
    guess; :func:`antialias.models.matched_width` is the general search)."""
    out = []
    for name, ref in REFERENCE.items():
        if name == ref:
            continue
        if abs(_parameters(name, OTHER_WIDTH) / _parameters(ref, OTHER_WIDTH) - 1) > TWIN_THRESHOLD:
            w = _matched_width(name, ref, OTHER_WIDTH)
            if w != OTHER_WIDTH:  # else no integer width comes closer: nothing to add
                out.append((name, w))
    return tuple(out)


def plan() -> list[Run]:
    """Every run of the study, piece by piece (module docstring)."""
    runs = [
        Run(f"headline_w{w}", "nuclei_sim", d, w, DEPTH, s)
        for w in WIDTHS
        for s in HEADLINE_SEEDS_BY_WIDTH[w]
        for d in HEADLINE
    ]
    runs += [
        Run("headline_denoise", "denoise_photos", d, OTHER_WIDTH, DEPTH, s)
        for s in HEADLINE_SEEDS
        for d in HEADLINE
    ]
    others = [d for d in variants.DESIGNS if d not in HEADLINE]
    runs += [
        Run("designs", "nuclei_sim", d, OTHER_WIDTH, DEPTH, s) for s in OTHER_SEEDS for d in others
    ]
    runs += [Run("twins", "nuclei_sim", d, w, DEPTH, s) for s in OTHER_SEEDS for d, w in _twins()]
    return runs


PIECES = ("headline_w8", "headline_w16", "headline_w32", "headline_denoise", "designs", "twins")


def design_table(width: int = OTHER_WIDTH, depth: int = DEPTH, size: int = 256) -> list[dict]:
    """Parameters and MACs (one 1 x 1 x size x size input) of every design."""
    from antialias.models import build_variant, count_macs, count_parameters

    rows = []
    ref = None
    for name, d in variants.DESIGNS.items():
        net = build_variant(name, 1, 2, depth=depth, width=width)
        params = count_parameters(net)
        macs = count_macs(net, (1, 1, size, size))["total"]
        ref = ref or (params, macs)
        rows.append(
            {
                "design": name,
                "label": d.label,
                "mirrors": d.mirrors,
                "parameters": params,
                "gmacs": macs / 1e9,
                "parameters_vs_tconv2": params / ref[0],
                "macs_vs_tconv2": macs / ref[1],
            }
        )
    return rows


# --- the cost model: measured seconds of one run, scaled by MACs --------------------------


def _macs(run: Run) -> int:
    return _macs_of(run.design, run.width, run.depth)


@cache
def _macs_of(design: str, width: int, depth: int) -> int:
    from antialias.models import build_variant, count_macs

    s = _settings()
    net = build_variant(design, 1, 2, depth=depth, width=width)
    return count_macs(net, (s.batch_size, 1, s.crop, s.crop))["total"]


def step_seconds(
    cells: list[tuple[str, int]], rounds: int = 4, warmup: int = 2
) -> dict[str, float]:
    """Median seconds of one training step of each ``(design, width)`` (batch, crop and threads
    of :func:`_settings`), measured in interleaved rounds (one step of every cell per round),
    so that load from other jobs falls on all cells alike."""
    from antialias.models import build_variant
    from antialias.train import loss_fn

    s = _settings()
    threads = torch.get_num_threads()
    torch.set_num_threads(s.threads)
    try:
        torch.manual_seed(0)
        x = torch.rand(s.batch_size, 1, s.crop, s.crop)
        y = (torch.rand(s.batch_size, s.crop, s.crop) > 0.5).long()
        nets = {c: build_variant(c[0], 1, 2, depth=DEPTH, width=c[1]) for c in cells}
        opts = {c: torch.optim.Adam(net.parameters(), lr=s.lr) for c, net in nets.items()}
        times: dict[tuple[str, int], list[float]] = {c: [] for c in cells}
        for i in range(warmup + rounds):
            for c in cells:
                t0 = time.perf_counter()
                loss = loss_fn(nets[c](x), y, "segmentation")
                opts[c].zero_grad(set_to_none=True)
                loss.backward()
                opts[c].step()
                if i >= warmup:
                    times[c].append(time.perf_counter() - t0)
    finally:
        torch.set_num_threads(threads)
    return {f"{d}_w{w}": sorted(t)[len(t) // 2] for (d, w), t in times.items()}


def _run_seconds(run: Run, timing: dict[str, Any]) -> float:
    # the measured run's seconds, scaled by the measured step time of (design, width) where
    # there is one, else by the MACs relative to tconv2's measured step at that width
    steps = timing["step_seconds"]
    base = steps[f"{timing['run']['design']}_w{timing['run']['width']}"]
    key = f"{run.design}_w{run.width}"
    if key in steps:
        ratio = steps[key] / base
    else:
        ref = f"tconv2_w{min(WIDTHS, key=lambda w: abs(w - run.width))}"
        ref_run = replace(run, design="tconv2", width=int(ref.rsplit("w", 1)[1]))
        ratio = steps[ref] / base * _macs(run) / _macs(ref_run)
    return timing["seconds"] * ratio


def estimate(runs: list[Run], timing: dict[str, Any] | None) -> dict[str, Any]:
    """Seconds per piece: the measured run's seconds times each run's measured step time over
    the measured run's (MAC-scaled where a design was not stepped; eval included)."""
    if not timing:
        return {"measured": None}
    per_piece: dict[str, float] = {}
    for r in runs:
        per_piece[r.piece] = per_piece.get(r.piece, 0.0) + _run_seconds(r, timing)
    total = sum(per_piece.values())
    # the plateau stops runs at different epochs: the bound lets every run use the whole budget
    upper = total * _settings().epochs / timing.get("epochs_done", _settings().epochs)
    return {
        "measured": timing,
        "seconds_per_piece": per_piece,
        "total_core_seconds": total,
        "wall_hours_on_2_cores": total / WORKERS / 3600,
        "wall_hours_upper_bound": upper / WORKERS / 3600,
        "fits_budget": total / WORKERS / 3600 <= BUDGET_HOURS,
    }


# --- one run ----------------------------------------------------------------------------------


def _train(run: Run, work: Path) -> dict[str, Any]:
    """Train through ``antialias.train.train`` (resumes an interrupted run from its last
    finished epoch: ``resume=True`` starts a new run where the directory is empty)."""
    from antialias.train import train

    size = {"depth": run.depth, "width": run.width}
    return train(
        run.task,
        run.design,
        run.seed,
        work,
        _settings(run.task),
        resume=True,
        progress=False,
        model_overrides=size,
    )


def _evaluate(run: Run, work: Path) -> dict[str, Any]:
    from antialias.baselines import per_image_metrics
    from antialias.checkpoint import load_checkpoint
    from antialias.data import load_split

    model, _ = load_checkpoint(work / "model.safetensors")
    test = load_split(run.task, "test")
    with torch.no_grad():
        out = torch.cat([model(test.images[i : i + 4]) for i in range(0, len(test), 4)])
    pred = out.argmax(1) if test.kind == "segmentation" else out
    per_image = per_image_metrics(test.kind, pred, test.targets, test.data_range)
    return {
        "unit": test.unit,
        "sources": list(test.sources),
        **{k: v.tolist() for k, v in per_image.items()},
    }


def run_one(run: Run) -> dict[str, Any]:
    """Train, evaluate and write one run's result file; returns its document."""
    from antialias.models import count_macs, count_parameters
    from antialias.provenance import provenance
    from antialias.train import model_for_task

    work = OUT / ".work" / run.task / run.name
    start = time.perf_counter()
    meta = _train(run, work)
    curve = [json.loads(line) for line in (work / "log.jsonl").read_text().splitlines()]
    stop = meta["training"].get("stop_reason")
    settings = _settings(run.task)
    s_b = settings.batch_size
    net = model_for_task(run.task, run.design, depth=run.depth, width=run.width)
    doc = {
        "run": asdict(run),
        "design": asdict(variants.design(run.design)),
        "config": meta["config"],
        "parameters": count_parameters(net),
        "macs_per_step_forward": count_macs(net, (s_b, 1, settings.crop, settings.crop))["total"],
        "training": asdict(settings),
        "budget": BUDGET_NOTE.format(**asdict(settings)),
        "curve": curve,
        "best_epoch": meta["training"]["best_epoch"],
        "epochs_done": meta["training"]["epochs_done"],
        "stop_reason": stop,
        "converged": stop == "plateau",
        "lr_reductions_done": meta["training"].get("lr_reductions_done"),
        "train_seconds": meta["training"]["train_seconds"],
        "wall_seconds": round(time.perf_counter() - start, 2),
        "val": meta["metrics"]["val"],
        "test": _evaluate(run, work),
        "provenance": provenance(),
    }
    if ships(run):
        import shutil

        dest = OUT / "checkpoints" / run.task / f"{run.name}.safetensors"
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.tmp")
        shutil.copyfile(work / "model.safetensors", tmp)
        tmp.replace(dest)  # before the result file: a listed run always has its checkpoint
        doc["checkpoint"] = str(dest.relative_to(OUT))
    write_result_set(run.path.parent, run.path.stem, doc)
    return doc


def ships(run: Run) -> bool:
    """Seed 0 of every design at widths <= 16 ships its best checkpoint (width-32 models are
    about 31 MB each; the shipped set stays under 100 MB, see :func:`shipped_megabytes`)."""
    return run.seed == 0 and run.width <= 16


def shipped_megabytes(runs: list[Run] | None = None) -> float:
    """Size of the shipped checkpoints of the plan (float32 weights + BN buffers)."""
    from antialias.models import build_variant

    total = 0
    for r in runs if runs is not None else plan():
        if ships(r):
            net = build_variant(r.design, 1, 2, depth=r.depth, width=r.width)
            total += sum(t.numel() * t.element_size() for t in net.state_dict().values())
    return total / 1e6


def run_piece(piece: str, progress: bool = True) -> list[Path]:
    """Every missing run of ``piece`` (files already there are skipped)."""
    from tqdm import tqdm

    if piece == "baselines":
        return run_baselines()
    if piece not in PIECES:
        raise UsageError(f"expected PIECE to be one of {[*PIECES, 'baselines']}, got {piece!r}")
    todo = [r for r in plan() if r.piece == piece and not r.path.exists()]
    done = []
    for r in tqdm(todo, desc=piece, disable=not progress):
        with _claim(r) as mine:
            if mine and not r.path.exists():  # another worker may have finished it meanwhile
                run_one(r)
                done.append(r.path)
    return done


@contextmanager
def _claim(run: Run):
    """Hold an exclusive lock on ``run`` (``True``) or yield ``False`` if another worker holds
    it, so that two ``--run`` processes side by side share a piece without doubling a run.
    ``flock`` is released by the kernel when a process dies: a killed worker leaves no lock."""
    import fcntl

    lock = OUT / ".work" / run.task / f"{run.name}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_baselines() -> list[Path]:
    from antialias.baselines import evaluate_baselines
    from antialias.provenance import provenance

    paths = []
    for task in ("nuclei_sim", "denoise_photos", "nuclei", "denoise"):
        path = OUT / "baselines" / f"{task}.json"
        if path.exists():
            continue
        doc = {**evaluate_baselines(task), "provenance": provenance()}
        write_result_set(path.parent, path.stem, doc)
        paths.append(path)
    return paths


# --- the statistics: verdicts from the result files --------------------------------------------


def load_results(root: Path | None = None) -> list[dict[str, Any]]:
    """Every run result under ``root / "runs"`` (default :data:`OUT`)."""
    from analysis.study_v2_analysis import load_results as load

    return load(root or OUT)


def analyse(
    docs: list[dict[str, Any]],
    baselines: dict[str, dict] | None = None,
    bench: list[dict[str, Any]] | None = None,
) -> dict:
    """The verdicts of :mod:`analysis.study_v2_analysis` for this plan's headline and
    references (design families, U-Net vs baselines per image, speed, convergence counts)."""
    from analysis.study_v2_analysis import analyse as run

    twins = {(d, w): OTHER_WIDTH for d, w in _twins()}
    return run(docs, baselines, HEADLINE, REFERENCE, bench, twins, CROSSED)


def plan_progress(docs: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """``piece -> {"planned", "done"}``: how much of the declared plan the results hold."""
    have = {
        (d["run"]["task"], d["run"]["design"], d["run"]["width"], d["run"]["seed"]) for d in docs
    }
    out: dict[str, dict[str, int]] = {}
    for r in plan():
        p = out.setdefault(r.piece, {"planned": 0, "done": 0})
        p["planned"] += 1
        p["done"] += (r.task, r.design, r.width, r.seed) in have
    return out


def run_analysis() -> Path:
    """``analyse`` the committed result files into ``results/study_v2/analysis.json``."""
    baselines = {p.stem: read_json(p) for p in sorted((OUT / "baselines").glob("*.json"))}
    bench = [read_json(p) for p in sorted(BENCH.glob("bench_designs_*.json"))]
    docs = load_results()
    doc = analyse(docs, baselines, bench)
    doc["plan"] = plan_progress(docs)
    write_result_set(OUT, "analysis", doc)
    return OUT / "analysis.json"


def time_first_run() -> dict[str, Any]:
    """Train the plan's first run (headline tconv2, width 8, seed 0) and record its seconds."""
    first = plan()[0]
    doc = read_json(first.path) if first.path.exists() else run_one(first)
    steps = step_seconds([(d, w) for w in WIDTHS for d in HEADLINE])
    timing = {
        "run": asdict(first),
        "seconds": doc["wall_seconds"],
        "train_seconds": doc["train_seconds"],
        "epochs_done": doc["epochs_done"],
        "best_epoch": doc["best_epoch"],
        "macs": _macs(first),
        "step_seconds": steps,
        "threads": _settings().threads,
        "step_rounds": 4,
        "note": "measured with nice 19 while other jobs shared the 2 cores (an upper bound); "
        "step times in interleaved rounds",
    }
    write_result_set(OUT, "timing", {**timing, "provenance": doc["provenance"]})
    return timing


def plan_report() -> str:
    runs = plan()
    timing_path = OUT / "timing.json"
    timing = read_json(timing_path) if timing_path.exists() else None
    est = estimate(runs, timing)
    s = _settings()
    lines = [
        "study v2 plan (issue 12)",
        f"budget: {BUDGET_NOTE.format(**asdict(s))}; batch {s.batch_size}, crop {s.crop}, "
        f"{s.threads} thread per run, {WORKERS} runs side by side",
        f"{'piece':18s} {'runs':>5s} {'done':>5s} {'est. core-h':>11s}",
    ]
    for piece in PIECES:
        mine = [r for r in runs if r.piece == piece]
        done = sum(r.path.exists() for r in mine)
        sec = est.get("seconds_per_piece", {}).get(piece)
        cost = f"{sec / 3600:11.2f}" if sec is not None else f"{'?':>11s}"
        lines.append(f"{piece:18s} {len(mine):5d} {done:5d} {cost}")
    if est["measured"]:
        m = est["measured"]
        lines.append(
            f"measured: {m['run']['design']} w{m['run']['width']} on {m['run']['task']}: "
            f"{m['seconds']:.1f} s ({m['train_seconds']:.1f} s training); estimate = that x "
            "measured step time (x MACs for designs not stepped)"
        )
        verdict = "fits" if est["fits_budget"] else "DOES NOT fit"
        lines.append(
            f"total {est['total_core_seconds'] / 3600:.2f} core-h = "
            f"{est['wall_hours_on_2_cores']:.2f} h on 2 cores: {verdict} the {BUDGET_HOURS:.0f} h "
            "budget (every run stopping where the measured one did, epoch "
            f"{m.get('epochs_done', '?')}; upper bound, every run to {s.epochs} epochs: "
            f"{est['wall_hours_upper_bound']:.2f} h)"
        )
        finished = [read_json(r.path) for r in runs if r.path.exists()]
        if finished:
            epochs = sum(d["epochs_done"] for d in finished) / len(finished)
            per_epoch = sum(d["wall_seconds"] / d["epochs_done"] for d in finished) / len(finished)
            scaled = est["wall_hours_on_2_cores"] * epochs / m.get("epochs_done", s.epochs)
            lines.append(
                f"finished runs ({len(finished)}): mean {epochs:.1f} epochs, "
                f"{per_epoch:.1f} s per epoch (wall, as loaded); at that length the plan takes "
                f"{scaled:.2f} h on 2 cores at the measured run's speed"
            )
    else:
        lines.append("no timing yet: run `python -m analysis.study_v2 --time`")
    lines.append("twins (design, matched width): " + ", ".join(f"{d} w{w}" for d, w in _twins()))
    return "\n".join(lines)


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="python -m analysis.study_v2", description=__doc__.split("\n")[0])
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--plan", action="store_true", help="print the plan and the cost estimate")
    g.add_argument("--run", metavar="PIECE", help=f"one of {', '.join(PIECES)}, baselines")
    g.add_argument("--time", action="store_true", help="time the first headline run")
    g.add_argument("--designs", action="store_true", help="parameters and MACs of every design")
    g.add_argument("--analyse", action="store_true", help="verdicts from the result files")
    return p


def main(argv: list[str] | None = None) -> int:
    def body(args) -> int:
        if args.plan:
            print(plan_report())
        elif args.time:
            print(json.dumps(time_first_run(), indent=1))
        elif args.analyse:
            from analysis.study_v2_analysis import report

            path = run_analysis()
            print(report(read_json(path)))
            print(path.relative_to(ROOT))
        elif args.designs:
            tables = {f"w{w}": design_table(w) for w in WIDTHS}
            doc = {"depth": DEPTH, "input": [1, 1, 256, 256], "widths": tables}
            write_result_set(OUT, "designs", doc)
            for r in tables[f"w{OTHER_WIDTH}"]:
                print(
                    f"{r['design']:24s} {r['parameters']:9d} params "
                    f"({r['parameters_vs_tconv2']:.2f}x) {r['gmacs']:.3f} GMAC "
                    f"({r['macs_vs_tconv2']:.2f}x)"
                )
        else:
            for path in run_piece(args.run):
                print(path.relative_to(ROOT))
        return 0

    return run_cli("study_v2", lambda: body(build_parser().parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = [
    "PIECES",
    "Run",
    "analyse",
    "design_table",
    "estimate",
    "main",
    "plan",
    "plan_report",
    "run_one",
    "run_piece",
    "shipped_megabytes",
]
