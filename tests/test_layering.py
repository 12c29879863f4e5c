"""The layers of docs/design.md ("Layers"): the import-linter contracts in pyproject.toml hold,
and loading the engine, recordings and devices really pulls in no Qt, bleak or asyncio.

The contracts are checked statically (every import statement, also inside functions); the
subprocess checks below confirm at run time what a static graph cannot see (imports made by
``importlib`` or by a library on our behalf).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHECK = """
import importlib, pkgutil, sys
import coreg.engine, coreg.recording, devices
for pkg in (coreg.engine, coreg.recording):
    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        importlib.import_module(info.name)
for m in ("devices", "devices.hrm", "devices.types", "devices.sim"):
    importlib.import_module(m)
bad = sorted(k for k in ("PySide6", "pyqtgraph", "bleak", "bumble") if k in sys.modules)
print(",".join(bad))
"""


def test_import_contracts_hold() -> None:
    code = ("import sys\nfrom importlinter.cli import lint_imports\n"
            "sys.exit(lint_imports(no_cache=True, no_logo=True))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "BROKEN" not in out.stdout
    assert "0 broken" in out.stdout


def test_engine_recording_devices_load_no_qt_no_bleak() -> None:
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""


def test_devices_never_imports_coreg() -> None:
    code = ("import sys, importlib, pkgutil, devices\n"
            "for i in pkgutil.walk_packages(devices.__path__, 'devices.'):\n"
            "    importlib.import_module(i.name)\n"
            "print(','.join(sorted(k for k in sys.modules if k == 'coreg' "
            "or k.startswith('coreg.'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_engine_does_not_import_asyncio() -> None:
    code = ("import sys, importlib, pkgutil, coreg.engine\n"
            "for i in pkgutil.walk_packages(coreg.engine.__path__, 'coreg.engine.'):\n"
            "    importlib.import_module(i.name)\n"
            "print('asyncio' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
