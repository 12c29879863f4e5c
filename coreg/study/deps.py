"""The optional dependencies of ``coreg study``: dask.distributed and pyarrow."""

from __future__ import annotations

import importlib.util

from coreg.errors import InputError

MISSING = "coreg study needs dask and pyarrow: pip install 'coreg[study]'"


def require() -> None:
    """Raise one clear :class:`~coreg.errors.InputError` line when dask or pyarrow is missing."""
    for name in ("distributed", "pyarrow"):
        if importlib.util.find_spec(name) is None:
            raise InputError(MISSING)
