"""The core never imports Qt (CONVENTIONS.md): checked by import-linter and at run time."""

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_import_linter_contract_kept():
    exe = Path(sys.executable).with_name("lint-imports")
    cmd = [str(exe)] if exe.exists() else [shutil.which("lint-imports")]
    res = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "2 kept, 0 broken" in res.stdout


def test_core_runtime_loads_no_qt():
    code = (
        "import sys, importlib, pkgutil, n1studio\n"
        "for pkg in ('grid','solve','llm','check','curate','commands'):\n"
        "    m = importlib.import_module('n1studio.'+pkg)\n"
        "    for info in pkgutil.iter_modules(m.__path__):\n"
        "        importlib.import_module(f'n1studio.{pkg}.{info.name}')\n"
        "bad = [k for k in sys.modules if k.startswith(('PySide6','pyqtgraph','n1studio.app'))]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
