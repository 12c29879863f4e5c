"""Emulation of a chest strap: from true beats to what a host receives (docs/science.md §1, §6).

A real strap (e.g. Polar H10) detects R peaks on its own clock, counts RR intervals in 1/1024 s
units and sends a Heart Rate Measurement notification (0x2A37) about once a second holding the
intervals that ended since the previous one (0–3 values), together with its own smoothed heart
rate and a skin-contact flag. The host stamps each notification with its own monotonic clock at
arrival, tens of milliseconds after it was sent; an RR value can be more than a second old by then.

On request the emulation adds what goes wrong in practice: ectopic beats (a premature beat and
its compensatory pause), missed beats (the strap fails to detect one: two intervals merged),
extra beats (a spurious detection splits an interval), lost notifications, contact loss (flag
false, RR absent or garbage) and disconnects (no notifications, host-side connection events).
The artifact model follows the classes of Lipponen & Tarvainen 2019
(doi:10.1080/03091902.2019.1640306).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from devices.hrm import encode, rr_raw_to_ms
from devices.sim.physiology import BeatTruth
from devices.types import DeviceEvent, EventKind, Message, RRSample

#: Artifact kinds reported in the ground truth, and the internal tags of intervals.
ARTIFACT_KINDS = ("ectopic", "missed", "extra")
_NORMAL = "normal"
_PAUSE = "ectopic_pause"  # the compensatory interval after an ectopic one
_EXTRA2 = "extra_second"  # the second half of a split interval
_GARBAGE = "no_contact"

#: Minimum number of beats between two injected artifacts, so each can be told apart.
ARTIFACT_SPACING = 8


@dataclass(frozen=True, slots=True)
class StrapParams:
    """How one simulated strap behaves.

    Parameters
    ----------
    notify_period_s
        Nominal interval between notifications in seconds.
    clock_drift_ppm
        Strap clock error in parts per million (the notification period is off by this much).
    latency_s
        Smallest delay from sending to host arrival in seconds.
    jitter_s
        Mean of the random extra arrival delay in seconds (gamma distributed).
    detect_delay_s
        Time from a beat to its RR being ready to send, in seconds.
    max_rr_per_notification
        RR values per notification at most; more wait for the next one.
    connect_s
        Time a connection attempt takes, in seconds.
    battery_pct
        Battery level reported after each connection, in percent.
    contact_supported
        Whether the strap reports skin contact (False: the contact flag is None).
    ectopic_rate, missed_rate, extra_rate
        Fraction of beats turned into each artifact kind (0–0.1).
    lost_notification_rate
        Fraction of notifications that never arrive.
    contact_loss
        ``((t0_s, t1_s), ...)``: windows with no skin contact (flag false, RR absent or garbage).
    disconnects
        ``((t0_s, t1_s), ...)``: the link drops at ``t0_s`` and the strap is reachable again from
        ``t1_s``; the host retries with back-off, so it reconnects a little after ``t1_s``.
    """

    notify_period_s: float = 1.0
    clock_drift_ppm: float = 0.0
    latency_s: float = 0.015
    jitter_s: float = 0.025
    detect_delay_s: float = 1.0
    max_rr_per_notification: int = 3
    connect_s: float = 1.2
    battery_pct: int = 90
    contact_supported: bool = True
    ectopic_rate: float = 0.0
    missed_rate: float = 0.0
    extra_rate: float = 0.0
    lost_notification_rate: float = 0.0
    contact_loss: tuple[tuple[float, float], ...] = ()
    disconnects: tuple[tuple[float, float], ...] = ()

    def __post_init__(self) -> None:
        if not 0.2 <= self.notify_period_s <= 5.0:
            raise ValueError(f"notify_period_s out of range: {self.notify_period_s}")
        for name in ("ectopic_rate", "missed_rate", "extra_rate", "lost_notification_rate"):
            if not 0.0 <= getattr(self, name) <= 0.1:
                raise ValueError(f"{name} must be in [0, 0.1]")
        if self.max_rr_per_notification < 1:
            raise ValueError("max_rr_per_notification must be >= 1")


@dataclass(frozen=True, slots=True)
class StrapOutput:
    """What one simulated strap produced.

    Parameters
    ----------
    messages
        Samples and events in arrival order, times on the simulation clock.
    artifacts
        Kind → 0-based indices into the RR values as emitted (concatenated in arrival order).
        ``ectopic``: the premature (short) interval, the next one is its compensatory pause;
        ``missed``: the merged interval; ``extra``: the first of the two split parts;
        ``no_contact``: garbage values sent without skin contact.
    contact_loss, disconnects
        ``[[t0_s, t1_s], ...]`` windows; a disconnect ends when the host is connected again.
    lost_notifications
        Send times (s) of notifications that never arrived.
    """

    messages: tuple[Message, ...]
    artifacts: dict[str, list[int]]
    contact_loss: list[list[float]]
    disconnects: list[list[float]]
    lost_notifications: list[float] = field(default_factory=list)


def _in_windows(t: float, windows: list[tuple[float, float]]) -> bool:
    return any(a <= t <= b for a, b in windows)


def _plan_artifacts(
    rng: np.random.Generator, beats_s: NDArray[np.float64], params: StrapParams,
    avoid: list[tuple[float, float]],
) -> dict[int, str]:
    """Choose which beat indices become which artifact (spaced, outside ``avoid`` windows)."""
    n = len(beats_s)
    wanted = [(kind, round(getattr(params, f"{kind}_rate") * (n - 1))) for kind in ARTIFACT_KINDS]
    if n < 4 * ARTIFACT_SPACING or not any(k for _, k in wanted):
        return {}
    free = np.ones(n, dtype=bool)
    free[:ARTIFACT_SPACING] = False
    free[-ARTIFACT_SPACING:] = False
    for a, b in avoid:
        free[(beats_s >= a - 5.0) & (beats_s <= b + 5.0)] = False
    plan: dict[int, str] = {}
    order = rng.permutation(n)
    pos = 0
    for kind, count in wanted:
        got = 0
        while got < count and pos < n:
            j = int(order[pos])
            pos += 1
            if not free[j]:
                continue
            plan[j] = kind
            free[max(0, j - ARTIFACT_SPACING): j + ARTIFACT_SPACING + 1] = False
            got += 1
    return plan


def _detected_beats(
    rng: np.random.Generator, beats_s: NDArray[np.float64], plan: dict[int, str]
) -> tuple[NDArray[np.float64], list[str]]:
    """Beat times as the strap detects them, with the tag of the interval ending at each."""
    out_t: list[float] = [float(beats_s[0])]
    tags: list[str] = [_NORMAL]
    carry = _NORMAL
    for j in range(1, len(beats_s)):
        kind = plan.get(j)
        prev, cur = float(beats_s[j - 1]), float(beats_s[j])
        if kind == "missed":
            carry = "missed"
            continue
        if kind == "extra":
            out_t.append(prev + rng.uniform(0.35, 0.65) * (cur - prev))
            tags.append("extra")
            out_t.append(cur)
            tags.append(_EXTRA2)
            continue
        if kind == "ectopic":
            out_t.append(prev + rng.uniform(0.6, 0.78) * (cur - prev))
            tags.append("ectopic")
            carry = _PAUSE
            continue
        out_t.append(cur)
        tags.append(carry)
        carry = _NORMAL
    return np.asarray(out_t), tags


def _connection_timeline(
    params: StrapParams, duration_s: float, source_id: str, name: str,
) -> tuple[list[tuple[float, DeviceEvent]], list[tuple[float, float]], list[list[float]]]:
    """Host-side events, connected periods and realised disconnect windows."""
    events: list[tuple[float, DeviceEvent]] = []

    def ev(t: float, kind: EventKind, value: float | None = None, detail: str = "") -> None:
        events.append((t, DeviceEvent(source_id, t, kind, value, detail)))

    ev(0.0, EventKind.CONNECTING, detail=name)
    t_conn = params.connect_s
    ev(t_conn, EventKind.CONNECTED, detail=name)
    ev(t_conn + 0.05, EventKind.BATTERY, float(params.battery_pct))
    periods: list[tuple[float, float]] = []
    realised: list[list[float]] = []
    start = t_conn
    for d0, d1 in sorted(params.disconnects):
        if d0 <= start or d0 >= duration_s:
            continue
        periods.append((start, d0))
        ev(d0, EventKind.DISCONNECTED, detail="link lost")
        backoff = 1.0
        t = d0
        ev(t, EventKind.RECONNECTING, backoff)
        attempt = t + backoff
        while attempt < d1:
            ev(attempt, EventKind.CONNECTING, detail=name)
            backoff = min(backoff * 2.0, 8.0)
            ev(attempt + 2.0, EventKind.RECONNECTING, backoff, detail="device not found")
            attempt = attempt + 2.0 + backoff
        ev(attempt, EventKind.CONNECTING, detail=name)
        start = attempt + params.connect_s
        ev(start, EventKind.CONNECTED, detail=name)
        ev(start + 0.05, EventKind.BATTERY, float(params.battery_pct))
        realised.append([float(d0), float(min(start, duration_s))])
    periods.append((start, math.inf))
    events = [(t, e) for t, e in events if t <= duration_s]
    return events, periods, realised


def emulate_strap(
    rng: np.random.Generator,
    beats: BeatTruth,
    params: StrapParams,
    duration_s: float,
    source_id: str,
    name: str = "",
) -> StrapOutput:
    """Turn true beats into the notifications and events a host would receive.

    Parameters
    ----------
    rng
        Random generator.
    beats
        True beats (the first interval's start is ``t_s[0] - rr_ms[0]/1000``).
    params
        Strap behaviour and injected faults.
    duration_s
        End of the session; nothing arrives after it and a STOPPED event closes the stream.
    source_id
        Role written into every message.
    name
        Device name put in connection events.

    Returns
    -------
    StrapOutput
    """
    if len(beats) == 0:
        all_beats = np.zeros(0)
    else:
        all_beats = np.concatenate(([beats.t_s[0] - beats.rr_ms[0] / 1000.0], beats.t_s))
    events, periods, disconnects = _connection_timeline(params, duration_s, source_id, name)
    contact_windows = [(float(a), float(b)) for a, b in params.contact_loss]
    avoid = contact_windows + [(a, b + 30.0) for a, b in params.disconnects]
    plan = _plan_artifacts(rng, all_beats, params, avoid) if len(all_beats) else {}
    det_t, tags = _detected_beats(rng, all_beats, plan) if len(all_beats) else (np.zeros(0), [])
    # R peaks are time-stamped in 1/1024 s ticks: RR = tick differences, so their sum never drifts.
    ticks = np.round(det_t * 1024.0).astype(np.int64)
    raw_rr = np.diff(ticks)
    rr_end = det_t[1:]
    rr_tag = tags[1:]
    if contact_windows:
        keep = np.array([not _in_windows(float(t), contact_windows) for t in rr_end], dtype=bool)
    else:
        keep = np.ones(len(rr_end), dtype=bool)
    ready = rr_end + params.detect_delay_s

    period_s = params.notify_period_s * (1.0 + params.clock_drift_ppm * 1e-6)
    hr_ema = 60000.0 / float(beats.rr_ms[0]) if len(beats) else 0.0
    items: list[tuple[float, int, Message]] = [(t, i, e) for i, (t, e) in enumerate(events)]
    seq = len(items)
    emitted_tags: list[str] = []
    lost: list[float] = []
    last_arrival = 0.0
    contact_state = True
    for p0, p1 in periods:
        s = p0 + float(rng.uniform(0.2, period_s))
        queue: list[int] = []
        nxt = int(np.searchsorted(ready, p0, side="right"))
        while s < p1 and s <= duration_s:
            hi = int(np.searchsorted(ready, s, side="right"))
            queue.extend(k for k in range(nxt, hi) if keep[k])
            nxt = hi
            no_contact = _in_windows(s, contact_windows)
            take = queue[: params.max_rr_per_notification]
            del queue[: len(take)]
            raws = [int(raw_rr[k]) for k in take]
            these_tags = [rr_tag[k] for k in take]
            if no_contact and rng.uniform() < 0.5:
                garbage = rng.uniform(250.0, 2000.0, int(rng.integers(1, 3)))
                raws += [round(g * 1.024) for g in garbage]
                these_tags += [_GARBAGE] * len(garbage)
            arrival = s + params.latency_s + float(rng.gamma(2.0, params.jitter_s / 2.0))
            arrival = max(arrival, last_arrival + 0.001)
            s += period_s
            if params.lost_notification_rate and rng.uniform() < params.lost_notification_rate:
                lost.append(s - period_s)
                continue
            if arrival > duration_s or arrival >= p1:
                break  # session over, or the link dropped before it arrived
            last_arrival = arrival
            rr_ms = tuple(rr_raw_to_ms(r) for r in raws)
            if no_contact:
                hr = 0
            else:
                for v in rr_ms:
                    hr_ema += 0.3 * (60000.0 / v - hr_ema)
                hr = min(255, max(0, round(hr_ema)))
            contact: bool | None = (not no_contact) if params.contact_supported else None
            if params.contact_supported and contact != contact_state:
                kind = EventKind.CONTACT_LOST if no_contact else EventKind.CONTACT_REGAINED
                items.append((arrival, seq, DeviceEvent(source_id, arrival, kind)))
                seq += 1
                contact_state = bool(contact)
            payload = encode(hr, rr_ms, contact)
            items.append((arrival, seq, RRSample(source_id, arrival, rr_ms, hr, contact, payload)))
            seq += 1
            emitted_tags.extend(these_tags)
    items.sort(key=lambda x: (x[0], x[1]))
    items.append((duration_s, seq, DeviceEvent(source_id, duration_s, EventKind.STOPPED)))
    artifacts: dict[str, list[int]] = {k: [] for k in (*ARTIFACT_KINDS, _GARBAGE)}
    for i, tag in enumerate(emitted_tags):
        if tag in artifacts:
            artifacts[tag].append(i)
    return StrapOutput(
        messages=tuple(m for _, _, m in items),
        artifacts=artifacts,
        contact_loss=[[a, b] for a, b in contact_windows if a < duration_s],
        disconnects=disconnects,
        lost_notifications=lost,
    )

