"""Ctrl+C and ``kill`` end the windowed app at once, also after its session has ended (issue 16).

Qt's event loop runs in C++: Python only runs a signal handler when Python code next runs. While
a session runs, the frame timer gives it that chance; once the session has ended (``--duration``
reached) nothing does, unless the app wakes Python on a signal.
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

PROMPT_S = 3.0


def ended(tmp_path: Path) -> dict[str, object] | None:
    for path in tmp_path.glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if '"end"' in line:
                end: dict[str, object] = json.loads(line)
                return end
    return None


def running_window(args: list[str], tmp_path: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, COREG_RECORDINGS=str(tmp_path), QT_QPA_PLATFORM="offscreen")
    return subprocess.Popen([sys.executable, "-m", "coreg", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def wait_for(condition: object, timeout_s: float, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        if proc.poll() is not None:
            raise AssertionError(f"exited early: {proc.communicate()}")
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"timed out: {proc.communicate()}")


def assert_gone_promptly(proc: subprocess.Popen[str], signum: int) -> tuple[str, str]:
    sent_s = time.monotonic()
    proc.send_signal(signum)
    try:
        out, err = proc.communicate(timeout=PROMPT_S + 5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError(f"still running after {signal.Signals(signum).name}") from None
    took_s = time.monotonic() - sent_s
    assert took_s < PROMPT_S, f"took {took_s:.1f} s to end after {signal.Signals(signum).name}"
    assert "Traceback" not in err
    assert proc.returncode == 128 + signum, (proc.returncode, err)
    return out, err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_ends_the_window_after_its_session_ended(signum: int, tmp_path: Path) -> None:
    proc = running_window(["live", "--client", "sim:coupled", "--duration", "20",
                           "--speed", "20"], tmp_path)
    wait_for(lambda: ended(tmp_path) is not None, 60.0, proc)
    end = ended(tmp_path)
    assert end is not None and end["reason"] == "duration reached"
    time.sleep(1.0)  # the window idles on its last figures: no frame timer runs
    out, _ = assert_gone_promptly(proc, signum)
    assert "recording:" in out


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_mid_session_ends_it_interrupted(signum: int, tmp_path: Path) -> None:
    # (--duration: a timed window records from the start; without it, it opens in a preview)
    proc = running_window(["live", "--client", "sim:coupled", "--duration", "600"], tmp_path)
    wait_for(lambda: any(p.read_text(encoding="utf-8").count('"rr"') >= 3
                         for p in tmp_path.glob("*.jsonl")), 60.0, proc)
    assert_gone_promptly(proc, signum)
    end = ended(tmp_path)
    assert end is not None and end["reason"] == "interrupted"


def test_a_signal_ends_the_idle_breathing_window_at_once(tmp_path: Path) -> None:
    """The interactive breathing window waits for Start: no timer runs, nothing recorded."""
    proc = running_window(["-v", "breathe", "--duration", "20"], tmp_path)
    assert proc.stderr is not None
    deadline = time.monotonic() + 60.0
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if "end the app" in line:
            break
        if not line and proc.poll() is not None:
            raise AssertionError(f"exited early: {proc.communicate()}")
    else:
        proc.kill()
        raise AssertionError("the window never came up")
    time.sleep(1.0)  # idle
    assert_gone_promptly(proc, signal.SIGTERM)


def test_a_strap_that_cannot_start_fails_the_window_run(
        qapp, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 16 item 11, the window: the reason once on stderr and a non-zero exit, as headless.

    Relies on this machine having no Bluetooth adapter (CI has none); with one, the address is
    simply looked for until the session ends and there is nothing to check.
    """
    from PySide6 import QtCore, QtWidgets

    from coreg.cli import main
    from coreg.ui.main_window import LiveWindow

    before = list(QtWidgets.QApplication.topLevelWidgets())  # other tests' windows, kept alive
    started = time.monotonic()

    def close_when_ended() -> None:
        for widget in QtWidgets.QApplication.topLevelWidgets():
            new = isinstance(widget, LiveWindow) and not any(widget is w for w in before)
            if new and (widget.ended or time.monotonic() - started > 60.0):  # never hang
                widget.close()
                return
        QtCore.QTimer.singleShot(100, close_when_ended)

    QtCore.QTimer.singleShot(100, close_when_ended)
    code = main(["live", "--client", "AA:BB:CC:DD:EE:01", "--therapist", "sim",
                 "--duration", "3", "--recordings-dir", str(tmp_path)])
    err = capsys.readouterr().err
    if "strap failed" not in err:
        pytest.skip("a Bluetooth adapter is present: the strap is looked for, not failed")
    assert code == 2
    assert err.count("the client strap failed") == 1
    assert "Traceback" not in err
