"""Publishing a session on the Lab Streaming Layer (``coreg stream``, ``--lsl``).

Two publishers, both :class:`~coreg.session.runner.Session` publishers (see its ``publishers``):

:class:`StrapPublisher`
    ``coreg stream``: every message of the one strap goes out as it is recorded, on the RR and
    events outlets of :class:`devices.lsl.StrapOutlets`.
:class:`FiguresPublisher`
    ``coreg live --lsl`` / ``coreg breathe --lsl``: what coreg computes, for LabRecorder to
    record beside a lab's other devices. Streams (all irregular rate, ``double64``, NaN for a
    figure not known yet, each sample stamped with the analysis time on the LSL clock):

    ``coreg-<role>-figures`` (type ``coreg-figures``)
        ``hr`` (bpm, the engine's HR over its window), ``rmssd`` (ms, 60-s window),
        ``coherence`` (HeartMath-style ratio, 64-s window); one sample per analysis update
        (every second).
    ``coreg-synchrony`` (type ``coreg-synchrony``; ``coreg live`` only)
        ``r`` (live synchrony: the mean peak cross-correlation of the last windows, the
        panel's "r now"), ``chance_r``
        (its chance threshold: the 95th percentile of the same value over surrogate pairs),
        ``state`` (0 not enough data, 1 apart, 2 in sync), ``lag_s`` (signed: > 0 the client
        leads, < 0 the therapist leads, NaN no leader); one sample per synchrony update (5 s).
    ``coreg-markers`` (type ``Markers``, one ``string`` channel)
        JSON objects: ``{"marker": NOTE, "role": ...}`` for the session's markers, ``{"event":
        KIND, "role": ...}`` for device events, ``{"sync_state": STATE}`` when the synchrony
        state changes.

Nothing is published unless asked: these objects exist only with ``coreg stream`` or
``--lsl``.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from coreg import __version__
from coreg.engine.resonance import BreatheRun
from coreg.session.figures import LiveAnalysis
from devices.lsl import EVENTS_TYPE, StrapOutlets, load_pylsl
from devices.types import DeviceEvent, Message

if TYPE_CHECKING:
    from coreg.session.results import SyncFigures
    from coreg.session.runner import SessionMarker

log = logging.getLogger(__name__)

FIGURES_TYPE = "coreg-figures"
SYNC_TYPE = "coreg-synchrony"
PERSON_CHANNELS: tuple[tuple[str, str], ...] = (("hr", "bpm"), ("rmssd", "ms"),
                                                ("coherence", "ratio"))
SYNC_CHANNELS: tuple[tuple[str, str], ...] = (("r", "r"), ("chance_r", "r"), ("state", "code"),
                                              ("lag_s", "s"))
SYNC_STATE_CODE = {"not enough data": 0.0, "apart": 1.0, "in sync": 2.0}


class StrapPublisher:
    """Publish one strap's messages (``on_message``) on its LSL outlets."""

    def __init__(self, outlets: StrapOutlets) -> None:
        self.outlets = outlets

    def on_message(self, message: Message) -> None:
        """Push the message (source thread)."""
        self.outlets.push(message)

    def close(self) -> None:
        """Withdraw the streams."""
        self.outlets.close()


class _Outlet(Protocol):
    """The part of a ``pylsl.StreamOutlet`` used here (pylsl itself is not annotated)."""

    def push_sample(self, x: Sequence[float] | Sequence[str], timestamp: float = 0.0) -> None:
        ...


class _Polled(Protocol):
    """What :meth:`FiguresPublisher.on_poll` reads of a :class:`~coreg.session.runner.Session`
    (a dyad's or a breathing session's)."""

    @property
    def start_s(self) -> float: ...

    @property
    def analysis(self) -> object: ...

    def now_s(self) -> float: ...


def _value(x: float | None) -> float:
    return float(x) if x is not None and math.isfinite(x) else math.nan


class FiguresPublisher:
    """Publish a session's computed figures (``--lsl``).

    Parameters
    ----------
    roles
        The session's roles.
    synchrony
        Publish the synchrony stream (a dyad).
    prefix
        Stream name prefix (default ``"coreg"``).
    """

    def __init__(self, roles: Sequence[str], *, synchrony: bool = True,
                 prefix: str = "coreg") -> None:
        self._pylsl = pylsl = load_pylsl()
        from devices.lsl import host_minus_lsl_s

        self._offset_s = host_minus_lsl_s(pylsl)
        self.roles = tuple(roles)
        self._person: dict[str, _Outlet] = {}
        for role in self.roles:
            self._person[role] = self._outlet(f"{prefix}-{role}-figures", FIGURES_TYPE,
                                              PERSON_CHANNELS, f"{prefix}-figures-{role}", role)
        self._sync = (self._outlet(f"{prefix}-synchrony", SYNC_TYPE, SYNC_CHANNELS,
                                   f"{prefix}-synchrony", "dyad") if synchrony else None)
        info = pylsl.StreamInfo(f"{prefix}-markers", EVENTS_TYPE, 1, pylsl.IRREGULAR_RATE,
                                "string", f"{prefix}-markers")
        info.desc().append_child("coreg").append_child_value("app_version", __version__)
        self._markers: _Outlet | None = pylsl.StreamOutlet(info)
        self._start_s = 0.0
        self._last_version = -1
        self._last_person_s: dict[str, float] = {}  # role -> last key pushed
        self._last_sync_n = 0
        self._last_state = ""
        self.samples_pushed = 0
        self.names = {"markers": f"{prefix}-markers",
                      "synchrony": f"{prefix}-synchrony" if synchrony else None,
                      "persons": {role: f"{prefix}-{role}-figures" for role in self.roles}}

    def _outlet(self, name: str, stream_type: str, channels: Sequence[tuple[str, str]],
                source_id: str, role: str) -> _Outlet:
        pylsl = self._pylsl
        info = pylsl.StreamInfo(name, stream_type, len(channels), pylsl.IRREGULAR_RATE,
                                "double64", source_id)
        info.set_channel_labels([c for c, _ in channels])
        info.set_channel_units([u for _, u in channels])
        coreg = info.desc().append_child("coreg")
        coreg.append_child_value("role", role)
        coreg.append_child_value("app_version", __version__)
        return pylsl.StreamOutlet(info)

    def _lsl_s(self, host_s: float) -> float:
        return host_s - self._offset_s

    # -- session hooks ----------------------------------------------------------------------
    def on_message(self, message: Message) -> None:
        """Device events go out as markers (source thread)."""
        if isinstance(message, DeviceEvent):
            payload: dict[str, object] = {"event": str(message.kind),
                                          "role": message.source_id}
            if message.value is not None:
                payload["value"] = message.value
            self._push_marker(payload, message.arrival_s)

    def on_marker(self, marker: SessionMarker) -> None:
        """A session marker (consumer thread); ``t_s`` is relative to the session start."""
        payload: dict[str, object] = {"marker": marker.note}
        if marker.role is not None:
            payload["role"] = marker.role
        self._push_marker(payload, self._start_s + marker.t_s)

    def on_poll(self, session: _Polled) -> None:
        """Push the figures that changed since the last poll (consumer thread)."""
        self._start_s = session.start_s
        analysis = session.analysis
        run = getattr(analysis, "run", None)
        if isinstance(run, BreatheRun):  # a breathing session
            self._push_breathe(run, session.start_s)
            return
        if not isinstance(analysis, LiveAnalysis):
            return
        view = analysis.figures(session.now_s())  # what ``session.view`` is
        if view.version == self._last_version:
            return
        self._last_version = view.version
        now_host_s = session.start_s + view.elapsed_s
        for role, person in view.persons.items():
            outlet = self._person.get(role)
            if outlet is None:
                continue
            key = float(hash((person.hr.value, person.rmssd.value, person.coherence.value)))
            if self._last_person_s.get(role) == key:
                continue
            self._last_person_s[role] = key
            outlet.push_sample([_value(person.hr.value), _value(person.rmssd.value),
                                _value(person.coherence.value)], self._lsl_s(now_host_s))
            self.samples_pushed += 1
        sync = view.sync
        if self._sync is not None and sync is not None:
            self._push_sync(sync, session.start_s, now_host_s)

    def _push_sync(self, sync: SyncFigures, start_s: float, now_host_s: float) -> None:
        """One sample per new synchrony update (a slow poll may bring several)."""
        n = len(sync.mean_t_s)
        outlet = self._sync
        if n == self._last_sync_n or outlet is None:
            return
        lag = math.nan
        if sync.lag_s is not None and sync.leader in ("client", "therapist"):
            lag = sync.lag_s if sync.leader == "client" else -sync.lag_s
        for i in range(self._last_sync_n, n):
            r, chance = float(sync.mean_r[i]), float(sync.chance_hi[i])
            if i == n - 1:
                state = SYNC_STATE_CODE.get(sync.state, math.nan)
            elif math.isfinite(r) and math.isfinite(chance):
                state = SYNC_STATE_CODE["in sync"] if r > chance else SYNC_STATE_CODE["apart"]
            else:
                state = SYNC_STATE_CODE["not enough data"]
            outlet.push_sample([_value(r), _value(chance), state, lag],
                                   self._lsl_s(start_s + float(sync.mean_t_s[i])))
            self.samples_pushed += 1
        self._last_sync_n = n
        if sync.state != self._last_state:
            self._last_state = sync.state
            self._push_marker({"sync_state": sync.state}, now_host_s)

    def _push_breathe(self, run: BreatheRun, start_s: float) -> None:
        snap = run.snapshot()
        t_s = float(run.now_s)
        second = float(math.floor(t_s))  # the figures update once a second
        if self._last_person_s.get(run.role) == second:
            return
        self._last_person_s[run.role] = second
        outlet = self._person.get(run.role)
        if outlet is None:
            return
        outlet.push_sample([_value(snap.hr_bpm.value), _value(snap.rmssd_ms.value),
                            _value(snap.coherence.value)], self._lsl_s(start_s + t_s))
        self.samples_pushed += 1

    def _push_marker(self, payload: dict[str, object], host_s: float) -> None:
        if self._markers is None:  # closed
            return
        self._markers.push_sample([json.dumps(payload)], self._lsl_s(host_s))

    def close(self) -> None:
        """Withdraw every stream."""
        self._person.clear()
        self._sync = None
        self._markers = None
