"""The breathing session's device states: each one entered is kept, so a terminal shows each."""

from __future__ import annotations

from coreg.engine.pacer import PacerStep
from coreg.session.breathe import DEVICE_STATE_TEXT, BreatheAnalysis
from devices.types import DeviceEvent, EventKind


def test_connecting_and_connected_in_one_poll_both_kept() -> None:
    a = BreatheAnalysis([PacerStep(0.0, 6.0)])
    a.start(0.0)
    a.feed_event(DeviceEvent("client", 0.1, EventKind.CONNECTING))
    a.feed_event(DeviceEvent("client", 0.2, EventKind.CONNECTED))
    # The state after the poll is "all well", yet "connecting" was entered and is kept.
    assert a.device_state == ""
    assert a.state_changes == [DEVICE_STATE_TEXT[EventKind.CONNECTING], ""]


def test_an_unchanged_state_is_not_repeated() -> None:
    a = BreatheAnalysis([PacerStep(0.0, 6.0)])
    a.start(0.0)
    a.feed_event(DeviceEvent("client", 0.1, EventKind.DISCONNECTED))
    a.feed_event(DeviceEvent("client", 0.2, EventKind.CONNECTING))  # scanning again
    a.feed_event(DeviceEvent("client", 0.3, EventKind.RECONNECTING, value=1.0))
    a.feed_event(DeviceEvent("client", 0.4, EventKind.RECONNECTING, value=2.0))
    assert a.state_changes == [DEVICE_STATE_TEXT[EventKind.DISCONNECTED],
                               DEVICE_STATE_TEXT[EventKind.RECONNECTING]]
