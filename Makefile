# The README's commands. Each creates or reuses .venv, installs torch only when it is
# missing (pinned CPU wheel), then installs this package with its extension built against
# that torch.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_VERSION ?= 2.13.0
TRITON_VERSION ?= 3.6.0
DEMO_RUN ?= runs/demo
DEMO_LABEL ?= species
DEMO_EPOCHS ?= 60
# Small models on a few cores run fastest with one intra-op thread; override at will.
export OMP_NUM_THREADS ?= 1

.PHONY: install demo test bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

install: $(PY)
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install "torch==$(TORCH_VERSION)"
	@$(PY) -c "import setuptools, wheel, ninja" 2>/dev/null || $(PY) -m pip install "setuptools>=69" wheel ninja
	@$(PY) -c "import triton" 2>/dev/null || $(PY) -m pip install "triton==$(TRITON_VERSION)"
	$(PY) -m pip install --no-build-isolation -e ".[test]"

demo: install
	$(VENV)/bin/jepa info
	rm -rf $(DEMO_RUN)
	$(VENV)/bin/jepa pretrain tabular --out $(DEMO_RUN) --ignore-columns $(DEMO_LABEL) --epochs $(DEMO_EPOCHS)
	$(VENV)/bin/jepa probe $(DEMO_RUN) --label $(DEMO_LABEL)

test: install
	$(PY) -m pytest -q

bench: install
	$(VENV)/bin/jepa bench all --out benchmarks/results

clean:
	rm -rf build *.egg-info jepa_core/*.so $(DEMO_RUN)
