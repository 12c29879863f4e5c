"""Ending a live or breathing session from outside, and a strap that cannot start (issue 16).

Each test runs ``coreg`` in a subprocess as a user would, sends it a signal once the session has
started, and reads the recording it leaves: the ``end`` line says "interrupted" (like the
window's), and the process is gone within a few seconds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from coreg.recording import read_recording

#: A session must be gone this soon after the signal (stopping the straps is bounded by 5 s).
PROMPT_S = 8.0


def start(args: list[str], tmp_path: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, COREG_RECORDINGS=str(tmp_path), PYTHONUNBUFFERED="1")
    env.pop("COREG_DEBUG", None)
    return subprocess.Popen([sys.executable, "-m", "coreg", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def wait_for_line(proc: subprocess.Popen[str], text: str, timeout_s: float = 30.0) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if text in line:
            return
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"never printed {text!r}: {proc.communicate()}")


def the_recording(tmp_path: Path) -> Path:
    files = sorted(tmp_path.glob("*.jsonl"))
    assert len(files) == 1, files
    return files[0]


def wait_for_beats(tmp_path: Path, timeout_s: float = 20.0) -> None:
    """Wait until the recording holds a few RR lines (the straps are up and streaming)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        files = list(tmp_path.glob("*.jsonl"))
        if files and files[0].read_text(encoding="utf-8").count('"rr"') >= 3:
            return
        time.sleep(0.1)
    raise AssertionError("no beats recorded")


def end_line(path: Path) -> dict[str, object] | None:
    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    ends = [x for x in lines if x.get("type") == "end"]
    return ends[-1] if ends else None


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
@pytest.mark.parametrize("command", [
    ["live", "--headless", "--client", "sim:coupled", "--duration", "600"],
    ["breathe", "--headless", "--duration", "600"],
])
def test_a_signal_ends_a_headless_session_with_an_end_line(
        command: list[str], signum: int, tmp_path: Path) -> None:
    proc = start(command, tmp_path)
    wait_for_line(proc, "recording to")
    wait_for_beats(tmp_path)
    sent_s = time.monotonic()
    proc.send_signal(signum)
    try:
        out, err = proc.communicate(timeout=PROMPT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(
            f"still running {PROMPT_S} s after {signal.Signals(signum).name}") from None
    took_s = time.monotonic() - sent_s
    assert proc.returncode == 128 + signum, (proc.returncode, err)
    assert "Traceback" not in err
    end = end_line(the_recording(tmp_path))
    assert end is not None and end["reason"] == "interrupted", end
    assert "interrupted" in out
    assert took_s < PROMPT_S
    rec = read_recording(the_recording(tmp_path))
    assert rec.samples  # what came before the signal is all there


def test_a_second_signal_while_stopping_still_leaves_an_end_line(tmp_path: Path) -> None:
    proc = start(["live", "--headless", "--client", "sim:coupled", "--duration", "600"],
                 tmp_path)
    wait_for_line(proc, "recording to")
    wait_for_beats(tmp_path)
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.05)  # (pending signals are handled lowest number first)
    proc.send_signal(signal.SIGTERM)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=PROMPT_S)
    # 143 from coreg; -15 when the last signal came in the interpreter's own shutdown
    assert proc.returncode in (128 + signal.SIGTERM, -signal.SIGTERM)
    end = end_line(the_recording(tmp_path))
    assert end is not None and end["reason"] == "interrupted"


def test_session_signals_raise_once_then_only_remember() -> None:
    from coreg.session.signals import ENDING_SIGNALS, Interrupted, SessionSignals, exit_code

    before = {sig: signal.getsignal(sig) for sig in ENDING_SIGNALS}
    try:
        with SessionSignals():  # no signal: the previous handlers come back
            pass
        assert {sig: signal.getsignal(sig) for sig in ENDING_SIGNALS} == before
        with pytest.raises(Interrupted) as caught, SessionSignals() as guard:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1.0)  # the handler raises here
        assert exit_code(caught.value) == 143 and guard.received == signal.SIGTERM
        os.kill(os.getpid(), signal.SIGHUP)  # after a stop request: ignored, not fatal
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        assert exit_code(KeyboardInterrupt()) == 130
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


# -- a strap that cannot start --------------------------------------------------------------
def _no_adapter_here() -> bool:
    """True when this machine has no usable Bluetooth adapter (as in CI)."""
    from devices.ble.backends import PLATFORM, _adapter_error

    async def probe() -> bool:
        from bleak import BleakScanner

        try:
            await BleakScanner.discover(timeout=0.2, backend=PLATFORM.scanner)
        except Exception as exc:
            return _adapter_error(exc) is not None
        return False

    import asyncio

    return asyncio.run(probe())


NO_ADAPTER = pytest.mark.skipif(not _no_adapter_here(),
                                reason="this machine has a Bluetooth adapter")


@NO_ADAPTER
@pytest.mark.parametrize("command", [
    ["live", "--headless", "--client", "AA:BB:CC:DD:EE:FF", "--duration", "30"],
    ["live", "--headless", "--client", "AA:BB:CC:DD:EE:FF"],
    ["live", "--headless", "--client", "sim:coupled", "--therapist", "AA:BB:CC:DD:EE:FF",
     "--duration", "30"],
    ["breathe", "--headless", "--device", "AA:BB:CC:DD:EE:FF", "--duration", "30"],
])
def test_a_strap_that_cannot_start_says_why_once_and_fails(command: list[str],
                                                          tmp_path: Path) -> None:
    proc = start(command, tmp_path)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 2, (out, err)  # as for scan: one line, exit 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "no Bluetooth adapter" in lines[0] and lines[0].startswith("coreg ")
    end = end_line(the_recording(tmp_path))
    assert end is not None and end["reason"] == "strap failed", end
