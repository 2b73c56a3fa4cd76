"""Import direction between packages: maskers call ops, ops know nothing of maskers, and
only ``jepa_core/ops`` and ``jepa_core/kernels`` import Triton."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "jepa_core"


def _imports(path: Path) -> set[str]:
    """Absolute module names ``path`` imports (relative imports resolved)."""
    module = path.relative_to(PACKAGE.parent).with_suffix("").parts
    package = module[:-1]  # a module's package; for __init__, the package itself
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = list(package[:len(package) - node.level + 1]) if node.level else []
            names.add(".".join(base + ([node.module] if node.module else [])))
    return names


def _files(*under: str) -> list[Path]:
    return sorted(p for u in under for p in (PACKAGE / u).rglob("*.py"))


@pytest.mark.parametrize("path", _files("ops", "kernels"), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_ops__never_import_the_maskers(path):
    assert not any(n == "jepa_core.masking" or n.startswith("jepa_core.masking.") for n in _imports(path))


def test_triton__imported_only_by_ops_and_kernels():
    outside = [p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] not in ("ops", "kernels")]
    offenders = [str(p.relative_to(PACKAGE)) for p in outside
                 if any(n.split(".")[0] == "triton" for n in _imports(p))]
    assert offenders == []
