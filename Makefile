# splamflow: `make demo` sets up .venv and scores the bundled real data; `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
TORCH  := torch==2.13.0

# the images: containers/build.sh keeps its cache (local base, wheelhouse, podman settings) here
SPLAMFLOW_CONTAINER_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/splamflow-containers
export SPLAMFLOW_CONTAINER_CACHE
# the podman settings build.sh wrote where this machine needs them (read when the recipe runs)
PODMAN_CONF = conf="$(SPLAMFLOW_CONTAINER_CACHE)/containers.conf"; \
	if [ -z "$${CONTAINERS_CONF:-}" ] && [ -f "$$conf" ]; then export CONTAINERS_CONF="$$conf"; fi;

.PHONY: demo test lint venv clean containers container-test

# every package at the version the suite last passed with: the runtime ones as the images pin them,
# the test and build tools from tests/constraints.txt; the setuptools that builds splamflow as well
PINS   := -c containers/constraints.txt -c tests/constraints.txt

$(VENV)/.installed: pyproject.toml containers/constraints.txt tests/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet $(PINS) --upgrade pip
	$(PY) -m pip install --quiet $(PINS) $(TORCH)
	$(PY) -m pip install --quiet $(PINS) --build-constraint containers/constraints.txt \
		-e '.[dev]' --config-settings editable_mode=compat
	touch $@

venv: $(VENV)/.installed

demo: venv
	mkdir -p results/demo
	$(VENV)/bin/splam_score.py extract tests/data/chr20_slice.bam -o results/demo/junctions.bed
	$(VENV)/bin/splam_score.py score results/demo/junctions.bed --genome tests/data/chr20_slice.fa.gz \
		-o results/demo/scores.bed --stats results/demo/score_stats.json
	$(VENV)/bin/splam_score.py clean tests/data/chr20_slice.bam --scores results/demo/scores.bed --paired \
		-o results/demo/cleaned.bam --discarded results/demo/discarded.bam --stats results/demo/clean_stats.json \
		--stats-tsv results/demo/clean_stats_mqc.tsv --plot results/demo/clean_scores.png
	@echo "demo outputs are in $(CURDIR)/results/demo/:"
	@echo "  junctions.bed (extract), scores.bed + score_stats.json (score),"
	@echo "  cleaned.bam + discarded.bam (+ .bai), clean_stats.json, clean_stats_mqc.tsv, clean_scores.png (clean)"

lint: venv
	$(VENV)/bin/ruff check splamflow bin tests bench scripts

test: venv lint
	$(VENV)/bin/python -m pytest -q
	@for check in scripts/checks/*.sh; do \
		[ -x "$$check" ] || continue; \
		echo "== $$check"; "$$check" || exit 1; \
	done

# both images, on whatever this machine allows (docs/containers.md): online, or offline on a local
# Debian base with a wheelhouse from PyPI when registry images cannot be pulled
containers:
	containers/build.sh --here

# the CLI and the test pipeline inside the built images against host runs (tests/containers), then
# a Galaxy tool's tests with Galaxy running the jobs through podman (needs .venv-galaxy: make test)
container-test: venv
	$(PODMAN_CONF) SPLAMFLOW_CONTAINER_TESTS=1 $(VENV)/bin/python -m pytest -q tests/containers
	@[ -x .venv-galaxy/bin/python ] || { echo "container-test: no .venv-galaxy: run make test first"; exit 1; }
	$(PODMAN_CONF) .venv-galaxy/bin/python scripts/containers/galaxy_podman.py

clean:
	rm -rf results .pytest_cache
