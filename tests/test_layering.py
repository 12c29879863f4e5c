"""DESIGN.md §2: the engine, recordings and devices never pull in Qt or bleak."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import importlib, sys
for m in ("coreg.engine", "coreg.recording", "devices", "devices.hrm", "devices.types"):
    importlib.import_module(m)
for m in ("coreg.engine.beats",):
    importlib.import_module(m)
import pkgutil, coreg.engine
for info in pkgutil.iter_modules(coreg.engine.__path__, "coreg.engine."):
    importlib.import_module(info.name)
import coreg.recording
for info in pkgutil.iter_modules(coreg.recording.__path__, "coreg.recording."):
    importlib.import_module(info.name)
bad = sorted(k for k in ("PySide6", "pyqtgraph", "bleak", "neurokit2", "asyncio.tasks_x")
             if k in sys.modules)
print(",".join(bad))
"""


def test_engine_recording_devices_load_no_qt_no_bleak() -> None:
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""


def test_devices_never_imports_coreg() -> None:
    code = ("import sys, importlib, pkgutil, devices\n"
            "for i in pkgutil.walk_packages(devices.__path__, 'devices.'):\n"
            "    if i.name in ('devices.ble', 'devices.peripheral') or 'bumble' in i.name:\n"
            "        continue\n"
            "    importlib.import_module(i.name)\n"
            "print(','.join(sorted(k for k in sys.modules if k == 'coreg' "
            "or k.startswith('coreg.'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_engine_does_not_import_asyncio_or_wall_clock_users() -> None:
    code = ("import sys, importlib, pkgutil, coreg.engine\n"
            "before = set(sys.modules)\n"
            "for i in pkgutil.iter_modules(coreg.engine.__path__, 'coreg.engine.'):\n"
            "    importlib.import_module(i.name)\n"
            "print('asyncio' in set(sys.modules) - before)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
