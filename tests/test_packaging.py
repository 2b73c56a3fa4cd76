"""The source distribution carries what building the wheel needs, and the wheel its data.

``MANIFEST.in`` is read the way setuptools reads it (its own ``FileList``), so these tests
need no build: a header or CUDA source that the template does not match made the sdist
unbuildable (``fatal error: gather.h: No such file or directory``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import ROOT


def sdist_template_files() -> set[str]:
    """The files ``MANIFEST.in`` adds to the sdist, relative to the repository root."""
    egg_info = pytest.importorskip("setuptools.command.egg_info")
    files = egg_info.FileList()
    files.findall(str(ROOT))
    files.files = []
    for line in (ROOT / "MANIFEST.in").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            files.process_template_line(line)
    return {str(Path(f).relative_to(ROOT)) if Path(f).is_absolute() else f for f in files.files}


def _sources(folder: str, keep) -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / folder).rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and keep(p))


def test_sdist__carries_every_extension_source_and_header():
    listed = sdist_template_files()
    csrc = _sources("csrc", lambda p: True)
    assert csrc and not set(csrc) - listed, sorted(set(csrc) - listed)
    for source in csrc:
        for header in re.findall(r'#include\s+"([^"]+)"', (ROOT / source).read_text()):
            here = (ROOT / source).parent / header
            path = here if here.exists() else ROOT / "csrc" / header
            assert str(path.relative_to(ROOT)) in listed, f"{source} includes {header}"


def test_sdist__carries_the_makefile_and_the_tests():
    listed = sdist_template_files()
    for needed in ("Makefile", "tests/helpers.py", "tests/conftest.py",
                   "examples/jepa-example-plugin/pyproject.toml"):
        assert needed in listed, needed
    assert not [f for f in listed if f.endswith((".so", ".pyc"))]


def test_wheel__package_data_files_are_listed():
    """A non-Python file inside a package reaches the wheel only if MANIFEST.in lists it."""
    listed = sdist_template_files()
    data = [f for package in ("jepa_core", "modalities")
            for f in _sources(package, lambda p: p.suffix not in {".py", ".so", ".pyc"})]
    assert not set(data) - listed, sorted(set(data) - listed)
