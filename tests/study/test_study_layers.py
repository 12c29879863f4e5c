"""The study package sits at the report level and loads its optional dependencies lazily."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import importlib, pkgutil, sys
import coreg.study
for info in pkgutil.iter_modules(coreg.study.__path__, "coreg.study."):
    importlib.import_module(info.name)
import coreg.cli.study
bad = sorted(k for k in ("PySide6", "pyqtgraph", "bleak", "distributed", "dask", "pyarrow",
                         "coreg.session", "coreg.ui", "coreg.report")
             if k in sys.modules)
print(",".join(bad))
"""


def test_study_modules_load_no_qt_no_dask_no_upper_layers() -> None:
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""


def test_coreg_help_does_not_load_dask() -> None:
    code = ("import sys\nfrom coreg.cli import build_parser\nbuild_parser()\n"
            "print('distributed' in sys.modules or 'pyarrow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
