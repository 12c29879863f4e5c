"""Shared pytest configuration."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--ble-address",
        default=None,
        metavar="ADDR_OR_NAME",
        help="Bluetooth address (UUID on macOS) or name of a real heart-rate strap; "
        "enables tests/hardware/",
    )


@pytest.fixture(autouse=True)
def _user_settings(tmp_path_factory: pytest.TempPathFactory,
                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test reads and writes its own user settings file, never the developer's."""
    folder = tmp_path_factory.mktemp("settings")
    monkeypatch.setenv("COREG_SETTINGS", str(folder / "settings.json"))


class TestHungError(BaseException):
    """Raised in a test that ran past its ``hang_guard`` limit (BaseException: not swallowed)."""


@pytest.fixture
def hang_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that runs longer than 60 s (``COREG_TEST_HANG_S``) instead of blocking the suite.

    A SIGALRM handler raises :class:`TestHungError` in the main thread, so even a test stuck in
    a synchronous call or an event loop whose cancellation is swallowed is interrupted (the
    alarm repeats each second until the test unwinds). POSIX main thread only; elsewhere a
    no-op. Use with ``pytestmark = pytest.mark.usefixtures("hang_guard")``.
    """
    main_thread = threading.current_thread() is threading.main_thread()
    if not hasattr(signal, "setitimer") or not main_thread:
        yield
        return

    limit_s = float(os.environ.get("COREG_TEST_HANG_S", "60"))

    def on_alarm(_signum: int, _frame: FrameType | None) -> None:
        raise TestHungError(f"{request.node.nodeid} still running after {limit_s:g} s: hung?")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, limit_s, 1.0)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0.0)
        signal.signal(signal.SIGALRM, previous)
