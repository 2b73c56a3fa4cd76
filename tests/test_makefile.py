"""``make install`` is idempotent: with its stamp newer than the sources it runs no pip."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")


def make(*args: str, venv) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", *args, f"VENV={venv}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture()
def venv(tmp_path):
    """A stand-in venv: make only looks at the interpreter's path and the stamp's age."""
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "venv" / "bin" / "python").touch()
    return tmp_path / "venv"


def test_install__fresh_stamp_means_nothing_to_do(venv):
    (venv / ".jepa-core-installed").touch()
    dry = make("-n", "install", venv=venv)
    assert dry.returncode == 0 and "pip" not in dry.stdout, dry.stdout
    check = make("check-install", venv=venv)
    assert check.returncode == 0 and "up to date" in check.stdout


def test_install__sources_newer_than_the_stamp_rebuild_quietly(venv):
    stamp = venv / ".jepa-core-installed"
    stamp.touch()
    os.utime(stamp, (0, 0))  # older than setup.py, pyproject.toml and csrc/
    dry = make("-n", "install", venv=venv)
    assert "pip --disable-pip-version-check install -v --no-build-isolation -e" in dry.stdout
    assert "install.log" in dry.stdout  # pip's output goes to the log, the CUDA line is echoed
    assert make("check-install", venv=venv).returncode != 0


def test_install__torch_index_url_is_passed_to_pip(venv):
    dry = subprocess.run(["make", "-n", "install", f"VENV={venv}",
                          "TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "--index-url https://download.pytorch.org/whl/cpu \"torch==" in dry.stdout
