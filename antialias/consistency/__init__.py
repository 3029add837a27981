"""Shift consistency of trained U-Nets (or any image-to-image model): where equivariance breaks.

The engine of ``analysis/shift_consistency.py`` (and of ``antialias shift-consistency``).

For every image and every requested shift ``s`` the command compares ``f(shift(x, s))`` with
``shift(f(x), s)`` on the pixels where both exist, and (when the data has targets) scores
``f(shift(x, s))`` against ``shift(target, s)``::

    python analysis/shift_consistency.py CKPT [CKPT ...] [--data nuclei|textures|denoise|DIR]
        [--mode circular|crop|fractional] [--shifts all|line|LIST|random:N] [--max-shift S]
        [--batch-size B] [--device cpu|cuda] [--out DIR] [--seed S] [--per-layer] ...
    python analysis/shift_consistency.py --model pkg.module:factory [--weights FILE] --data DIR
    torchrun --nproc_per_node 2 analysis/shift_consistency.py ...   # shards images over ranks

Models: ``.safetensors`` checkpoints written by :func:`antialias.checkpoint.save_checkpoint`
(their own task's test split is the default data); TorchScript archives (``torch.jit.save``;
TorchScript runs the archive's code by design: analyse only files you trust); or
``--model pkg.module:factory`` (runs that module's code by design; called with
``--model-kwargs`` JSON) plus optional ``--weights`` (safetensors or a plain state dict,
read with ``torch.load(weights_only=True)``; mismatching keys are named). Models that are
not an :class:`antialias.models.UNet` need ``--levels L`` (their number of factor-2
down-samplings, period ``2**L``).

Data: a task name (:data:`antialias.data.TASKS`, ``--split``, default test) or a folder (or a
file) of PNG/TIFF/NPY images, integer images scaled by their dtype's maximum
(``--normalize dtype``), by their 1st/99.8th percentiles (``percentile``, as the nuclei task)
or not at all (``none``). Folder images have no targets, so only equivariance is scored;
their kind is ``--kind`` or, by default, regression for 1-channel outputs and segmentation
otherwise. Segmentation outputs are logits (label = argmax over channels; a single channel is
thresholded at 0).

Modes (operators of :mod:`antialias.shifts`, content moves by ``+(dy, dx)``):

- ``circular``: ``torch.roll`` of the image (cropped at the top-left to a multiple of the
  period); every pixel compared. The APS/LPS protocol.
- ``crop``: windows at offsets ``-s`` cut from the full image (a multiple of the period in
  size, placed so that every shifted window fits); compared on the overlap only.
- ``fractional``: band-limited sub-pixel shift (Lanczos-3 as StyleGAN3's EQ-T_frac, or
  ``--fractional-method fourier``) of the input, and the same operator on the output; the
  border band the kernel reaches over is masked. Segmentation references are the shifted
  logits' argmax; targets are shifted as one-hot maps.

Shifts (``--shifts``): ``all`` (default for circular and crop) = every offset of the
``2^L x 2^L`` period; for fractional mode ``all`` = the 16 quarter-pixel offsets in ``[0, 1)^2``.
``line`` = ``(0, 0), (0, 1), ..., (0, S)`` with ``S = --max-shift`` (16): cheap, one axis.
``random:N`` = ``N`` seeded draws uniform in ``[-S, S]^2`` (integers except in fractional mode).
A list: ``DY:DX,DY:DX,...``.

Metrics (:mod:`antialias.metrics`, pooled over images from float64 per-image sums; regions
``all`` = every compared pixel, ``interior`` = at least ``--border`` px (16) from the frame's
edge in both the shifted and the reference frame (fractional: the whole interpolation kernel
of a moved pixel lies in the reference's interior), ``border`` = the rest):

- segmentation: ``agreement`` (label agreement; LPS's mASSC for circular shifts), ``iou`` and
  ``dice`` between the two label maps (mean over foreground classes), ``task_accuracy``,
  ``task_iou``, ``task_dice`` of the shifted input's prediction against the shifted target;
- regression: ``psnr`` (EQ-T PSNR exactly as StyleGAN3, with ``data_range`` of the data, 1.0
  for our tasks) and ``mse``; ``task_psnr``, ``task_mse`` against the target;
- ``--per-layer``: for every level of ``model.levels()`` (encoder blocks, bottleneck,
  decoder blocks; for other models the children of the first module with more than one child
  whose outputs are the frame at a stride ``2**l``, or the modules named by ``--layers``) and
  every shift that is a multiple of the level's stride ``r``, the relative
  RMS error ``sqrt(sum (F_s - shift(F_0, s / r))^2 / sum shift(F_0, s / r)^2)`` of the
  feature maps, on the compared pixels at that resolution.

95% confidence intervals: percentile bootstrap over images (``--n-boot``, seeded by
``--seed``), the same resamples for every metric.

Output schema (``--out DIR``, default ``results/shift_consistency``; file stem ``--name``):

``<name>.json``::

    {"schema": "antialias.shift_consistency/1",
     "config": {...every option...}, "provenance": {versions, git_commit, time_utc, ...},
     "results": [  # one per checkpoint / model, in command-line order
       {"id": "c0", "name": "tconv2_s0", "source": "checkpoints/nuclei/tconv2_s0.safetensors",
        "task": "nuclei", "variant": "tconv2", "seed": 0, "kind": "segmentation",
        "levels": 3, "period": 8, "mode": "crop", "data": "nuclei:test", "n_images": 6,
        "image_sizes": [[256, 256]], "frame_sizes": [[248, 248]], "border": 16,
        "data_range": 1.0, "num_classes": 2, "n_boot": 1000,
        "metrics": ["agreement", "iou", "dice", "task_accuracy", "task_iou", "task_dice"],
        "shifts": [{"dy": 0, "dx": 1, "agreement": 0.99, "agreement_lo": ..,
                    "agreement_hi": .., "agreement_interior": .., "agreement_interior_lo": ..,
                    ..., "agreement_border": .., ..., "iou": .., ..., "task_dice": ..,
                    "n_pixels": .., "n_pixels_interior": .., "n_pixels_border": ..}, ...],
        "summary": {same keys as a shift record, pooled over every non-zero shift},
        "worst": {"agreement": {"value": .., "dy": .., "dx": ..}, ...},
        "period_map": {"agreement": [[...P x P...]], "agreement_interior": ..., ...}
                      (cell [i][j] pools the shifts with dy mod P = i, dx mod P = j;
                       null cells: no such shift; null in fractional mode),
        "per_layer": [{"level": "enc1", "stride": 2, "dy": 0, "dx": 2, "rel_error": ..,
                       "rel_error_interior": .., "rel_error_border": ..}, ...] or null,
        "per_layer_summary": [{"level": .., "stride": .., "rel_error": .., ...}] or null}]}

NaN and infinite values (PSNR of an exact match) are written as JSON ``NaN`` / ``Infinity``
(Python's ``json`` reads them). ``<name>.csv``: one row per (model, shift): identity columns
(``id, name, source, task, variant, seed, mode, dy, dx``) then the shift record's keys.
``<name>_layers.csv`` (with ``--per-layer``): one row per (model, level, shift).
``<name>.npz``: ``<id>__<metric>`` period maps ``(P, P)`` (every region, as in the JSON),
``<id>__shifts`` ``(S, 2)`` (dy, dx), and the raw per-image sums ``<id>__sums__<field>``
``(N, S, 2, ...)`` (axis 2: regions all, interior; border = all - interior) from which every
number can be recomputed: segmentation ``eq_confusion`` ``(..., K, K)`` (moved reference labels
x shifted input's labels) and ``task_confusion`` (prediction x target); regression ``eq_se``
and ``task_se`` ``(..., 2)`` = ``[sse, n]``; ``layer`` ``(..., levels, 3)`` = ``[sse, reference
energy, n]``. The files are one result set (:func:`antialias.files.write_result_set`): the JSON is
written last and records ``files_sha256`` of its siblings, so a set appears whole or not at all.

Importable: :func:`run` ``(config) -> result`` (no printing, no file writes; reads models and
data), :func:`~antialias.consistency.cli.main` ``(argv) -> int``. Under ``torchrun``
(``WORLD_SIZE > 1``) images are sharded over ranks (gloo on CPU, NCCL on CUDA), each rank
fills the per-image sums of its own images and an all-reduce of the (otherwise zero) arrays
gathers them; every image is computed in the same batches as in a single process, so the
result is identical. Rank 0 writes; a rank reads only its own folder images.

Command extras: ``--dry-run`` prints the plan (models, images, shifts, batch size, forward
passes) after loading and checking everything, and computes nothing; the progress bar counts
forward passes over every model, with the time left; ``--report`` also writes the HTML report
(:func:`antialias.report.write_report`, where installed); ``--dist-timeout`` bounds the wait for
``torchrun`` peers (300 s). The batch size is ``--batch-size`` at most, lowered when an estimate
of one shifted copy's memory (the sum of the model's leaf outputs in the probe pass, an upper
bound) times the batch exceeds a quarter of the machine's RAM (half a GPU's memory): a fixed
share of the total, so the batches, and the result, are the same on every run and rank.

Volumes (3-D; 1-D is not supported here). ``--spatial-dims 2|3``, by default from the model
(all its convolutions ``Conv3d`` / ``ConvTranspose3d``: 3) or else the data (NIfTI files or 4-D
arrays: 3). Folders may then hold TIFF/NPY ``(D, H, W)`` or ``(C, D, H, W)`` arrays and NIfTI
``.nii`` / ``.nii.gz`` (nibabel; ``(X, Y, Z)`` or ``(X, Y, Z, 1)``, axes kept in file order, the
header's scaling applied). A shift is ``(dz, dy, dx)`` (records and CSV gain ``dz``; period maps
are ``P x P x P``; the NPZ ``<id>__shifts`` is ``(S, 3)``); ``--axes`` picks the shifted axes
(``D,H,W``, ``H,W``, ...; 2-D: ``H,W``), the others stay 0, and a ``--shifts`` list has one
number per shifted axis (``DZ:DY:DX``). ``all`` is the whole period (``prod 2^L`` offsets along
the shifted axes, 16^3 = 4096 for a 4-level volume U-Net) when it has at most
``--shift-budget`` offsets (default: 4096 for volumes; 2-D images: no sampling), else a
seeded sample of that many distinct offsets (zero included): the record's ``shift_set`` says
which (``{"spec", "budget", "axes", "sampling": "full period" | "sample" | "asked",
"period_offsets", "n_shifts"}``) and a note says so. Fractional
``all`` is the quarter-pixel grid of the shifted axes (64 in 3-D), by the separable N-D
Lanczos (or Fourier) shift of :mod:`antialias.consistency.ndshift`. ``--levels`` may be one
per axis (``2,3,3``: an anisotropic period); a model that declares no ``num_downsamplings``
and is given no ``--levels`` gets ``L`` from its module graph (one forward pass on zeros: the
largest power-of-two stride of any module's output; said in a note). Volumes are not cropped
to the period as images are: each size must be a multiple of it (``--image-size S`` or
``D,H,W`` centre-crops first). Records gain ``spatial_dims`` and ``shift_set`` (2-D too; every
2-D number is unchanged). Per-level attribution and ``torchrun`` sharding work as in 2-D; a
batch of 3-D shifted copies is gathered one copy at a time (memory flat in the number of
shifts, as in 2-D: tested).

Bad input (one line, exit 2, nothing written): non-finite images (named), weights or model
outputs; option values whose implied sizes exceed :data:`~antialias.consistency.config.LIMITS`;
a ``--levels`` that contradicts the model; an unwritable ``--out`` or a hidden ``--name``
(checked before computing); mismatched ``spatial_dims`` (``--spatial-dims`` against the
model's convolutions, or a ``--levels`` / ``--image-size`` with the wrong number of axes); a
2-D model given volumes (NIfTI, 4-D arrays) and a 3-D model given 2-D images or a 2-D task;
images smaller than the period on any axis; volume sizes the (possibly anisotropic) period
does not divide; NIfTI files that are not volumes (2-D, a single slice, or 4-D with more than
one channel / time point); non-finite voxels.

Rooms: :mod:`~antialias.consistency.config` (options, limits), ``inputs`` (models, images),
``geometry`` (shifts, frames, masks), ``sums`` (models run, float64 sums), ``summary``
(bootstrap CIs, pooled metrics), ``engine`` (plan, execute, run), ``parallel`` (torchrun),
``output`` (result set, table, plan text), ``cli`` (the command).
"""

from __future__ import annotations

from antialias.consistency.config import LIMITS, SCHEMA, Config
from antialias.consistency.engine import Plan, execute, plan, run
from antialias.consistency.output import (
    describe_plan,
    format_table,
    result_document,
    result_files,
    write_files,
    write_result,
)

__all__ = [
    "LIMITS",
    "SCHEMA",
    "Config",
    "Plan",
    "describe_plan",
    "execute",
    "format_table",
    "plan",
    "result_document",
    "result_files",
    "run",
    "write_files",
    "write_result",
]
