"""The house rules that import-linter cannot state: no module reaches into another
package's private (underscore) names, and `make test` runs the layer contracts."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "n1studio"


def _package_of(module: str) -> str:
    """n1studio.grid.model -> n1studio.grid; n1studio.cli -> n1studio.cli."""
    parts = module.split(".")
    return ".".join(parts[:2])


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _private_imports(path: Path, me: str | None = None) -> list[str]:
    """`from other.pkg import _name` and `import other.pkg._mod` across packages (`me`:
    the module's dotted name, from its path by default)."""
    me = me or _module_name(path)
    mine = _package_of(me)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if not node.module.startswith("n1studio") or _package_of(node.module) == mine:
                continue
            private_mod = any(p.startswith("_") and p != "__init__"
                              for p in node.module.split("."))
            names = [a.name for a in node.names if a.name.startswith("_")
                     and not a.name.startswith("__")]
            if private_mod or names:
                found.append(f"{me}:{node.lineno} from {node.module} import "
                             f"{', '.join(a.name for a in node.names)}")
        elif isinstance(node, ast.Import):
            for a in node.names:
                if (a.name.startswith("n1studio") and _package_of(a.name) != mine
                        and any(p.startswith("_") for p in a.name.split("."))):
                    found.append(f"{me}:{node.lineno} import {a.name}")
    return found


def test_no_module_imports_another_packages_private_names():
    offenders = [hit for path in sorted(PKG.rglob("*.py")) for hit in _private_imports(path)]
    assert offenders == []


def test_the_rule_catches_a_private_import(tmp_path):
    # a control: the scanner flags exactly the cross-package private import it is shown
    probe = tmp_path / "probe.py"
    probe.write_text("from n1studio.grid.model import _hidden\nfrom n1studio.curate.x import _ok\n")
    hits = _private_imports(probe, "n1studio.curate.probe")
    assert hits == ["n1studio.curate.probe:1 from n1studio.grid.model import _hidden"]


@pytest.mark.skipif(shutil.which("lint-imports", path=str(Path(sys.executable).parent)) is None,
                    reason="import-linter is installed by make test")
def test_layer_contracts_hold():
    exe = Path(sys.executable).parent / "lint-imports"
    proc = subprocess.run([str(exe)], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "Layers: grid < solve" in proc.stdout
    assert "0 broken" in proc.stdout


def test_core_runtime_loads_no_qt():
    code = (
        "import sys, importlib, pkgutil, n1studio\n"
        "import n1studio.pipeline, n1studio.jobs\n"
        "for pkg in ('grid','solve','llm','check','curate','commands','present'):\n"
        "    m = importlib.import_module('n1studio.'+pkg)\n"
        "    for info in pkgutil.iter_modules(m.__path__):\n"
        "        importlib.import_module(f'n1studio.{pkg}.{info.name}')\n"
        "bad = [k for k in sys.modules if k.startswith(('PySide6','pyqtgraph','n1studio.app'))]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
