"""LSL tests stay on this machine: a liblsl configuration for loopback only (LSLAPICFG).

``ResolveScope = machine`` keeps discovery multicast on the host, ``ListenAddress`` binds the
data sockets to loopback, ``KnownPeers`` lets unicast discovery find 127.0.0.1, and a
``SessionID`` unique to this run keeps parallel test runs from seeing each other's streams.
It must be set before liblsl reads its configuration (on first use in the process); the
subprocesses the tests start inherit it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

_DIR = Path(tempfile.mkdtemp(prefix="coreg-lsl-test-"))
CONFIG = _DIR / "lsl_api.cfg"
CONFIG.write_text(
    "[ports]\nIPv6 = disable\n"
    "[multicast]\nResolveScope = machine\nListenAddress = 127.0.0.1\n"
    f"[lab]\nKnownPeers = {{127.0.0.1}}\nSessionID = coreg-test-{os.getpid()}\n"
    "[log]\nlevel = -3\n", encoding="utf-8")
os.environ["LSLAPICFG"] = str(CONFIG)


@pytest.fixture()
def lsl_env(tmp_path: Path) -> dict[str, str]:
    """Environment for coreg subprocesses: this LSL configuration, recordings under tmp."""
    env = dict(os.environ)
    env["LSLAPICFG"] = str(CONFIG)
    env["COREG_RECORDINGS"] = str(tmp_path / "recordings")
    env.pop("COREG_DEBUG", None)
    return env
