"""Building a live session from ``SRC`` strings: sources, recording header and file, analysis."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from coreg.recording.paths import new_recording_path, recordings_dir
from coreg.session.clock import ScaledClock
from coreg.session.display import sources_text
from coreg.session.figures import LiveAnalysis
from coreg.session.runner import Session
from coreg.sources import ResolvedSources, default_specs, resolve

if TYPE_CHECKING:
    from coreg.recording import RecordingWriter
    from coreg.session.lsl import FiguresPublisher

log = logging.getLogger(__name__)


def live_title(resolved: ResolvedSources) -> str:
    """``coreg live — SIMULATED (coupled, seed 1)``: the live window's and terminal's title.

    The sources are named by :func:`coreg.session.display.sources_text` (the session actually
    running: a new session from the window renews it); one simulated dyad played through
    emulated straps adds ``on emulated BLE straps``.
    """
    specs = dict(resolved.specs)
    sim = resolved.simulation
    one_run = sim is not None and isinstance(sim.get("scenario"), str)
    note = (" on emulated BLE straps"
            if one_run and specs and all(s.kind == "ble-sim" for s in specs.values()) else "")
    sim_word = "SIMULATED " if resolved.simulated else ""
    return f"coreg live — {sim_word}({sources_text(resolved)}){note}"


def open_session(
    client: str | None = None,
    therapist: str | None = None,
    *,
    duration_s: float | None = None,
    seed: int = 1,
    realtime: bool = True,
    speed: float | None = None,
    record: bool = True,
    folder: str | os.PathLike[str] | None = None,
    path: str | os.PathLike[str] | None = None,
    settings: Mapping[str, object] | None = None,
    ble_speed: float | None = None,
    preview: bool = False,
    lsl: bool = False,
    header_extra: Mapping[str, object] | None = None,
) -> tuple[Session[LiveAnalysis], ResolvedSources]:
    """Resolve the sources of a dyad and build a (not yet started) recording session.

    Parameters
    ----------
    client, therapist
        ``SRC`` strings (see :mod:`coreg.sources`); both None gives the simulated dyad.
    duration_s
        Planned length in seconds (sets the length of simulated runs).
    seed
        Seed of simulated runs.
    realtime
        False runs simulated sources on a virtual clock (fast mode).
    speed
        Fast mode: multiple of real time (None: as fast as possible).
    record
        Write a recording (always on in the app; tests may switch it off).
    folder, path
        Where the recording goes (default
        :func:`coreg.recording.paths.recordings_dir`, created owner-only; ``path`` names the
        file).
    settings
        Extra settings for the header.
    ble_speed
        Emulated straps (``ble-sim``) only: a finite multiple of real time. The emulated
        peripherals play their notifications that much faster and the straps and the session
        read one :class:`~coreg.session.clock.ScaledClock` (the real BLE code path, faster).
    preview
        Real time only: open the straps without recording — no file is created until
        :meth:`~coreg.session.runner.Session.begin_recording` (the window's *Start recording*).
    lsl
        Publish the computed figures on LSL (:class:`coreg.session.lsl.FiguresPublisher`);
        real time only. Off by default: nothing is published unless asked.
    header_extra
        Extra top-level header fields (the ``client`` / ``therapist`` of
        :func:`coreg.recording.index.person_header`).
    """
    from coreg.errors import InputError
    from coreg.recording import RecordingWriter, new_header

    if lsl and not realtime:
        raise InputError("--lsl publishes in real time: drop --speed")
    specs = default_specs(client, therapist)
    publishers: tuple[FiguresPublisher, ...] = ()
    if lsl:
        from coreg.session.lsl import FiguresPublisher

        active = [role for role, spec in specs.items() if spec.kind != "none"]
        publishers = (FiguresPublisher(active, synchrony=len(active) == 2),)
    clock: Callable[[], float] = time.monotonic
    if ble_speed is not None and ble_speed != 1.0:
        clock = ScaledClock(ble_speed)
    scaled = clock is not time.monotonic
    resolved = resolve(specs, duration_s=duration_s, seed=seed, realtime=realtime,
                       ble_clock=clock if scaled else None, ble_speed=ble_speed or 1.0)
    names = {role: info.name for role, info in resolved.info.items()}
    simulated = {role: spec.simulated for role, spec in resolved.specs.items()}

    def make_analysis() -> LiveAnalysis:
        return LiveAnalysis(tuple(resolved.sources), names=names, simulated=simulated)

    # The analysis first: it imports the engines (scipy, seconds on a cold start), which must
    # not count as session time, least of all on a clock --speed times faster.
    analysis = make_analysis()
    start_s = clock() if realtime else resolved.start_s
    if preview and not realtime:
        raise ValueError("a preview runs in real time")

    def make_writer(header_start_s: float) -> RecordingWriter:
        target = Path(path) if path else new_recording_path("dyad", recordings_dir(folder))
        all_settings: dict[str, object] = {
            "sources": {role: spec.text for role, spec in resolved.specs.items()},
            "realtime": realtime,
        }
        if duration_s:
            all_settings["duration_s"] = duration_s
        if scaled:
            all_settings["speed"] = ble_speed
        if preview:  # the straps ran this long before the recording began
            all_settings["preview_s"] = round(max(0.0, header_start_s - start_s), 3)
        if lsl:
            all_settings["lsl_out"] = publishers[0].names
        all_settings.update(settings or {})
        header = new_header("dyad", resolved.header_roles(), start_monotonic_s=header_start_s,
                            settings=all_settings, simulation=resolved.simulation,
                            **(header_extra or {}))
        return RecordingWriter(target, header)

    writer = make_writer(start_s) if record and not preview else None
    session = Session(resolved.sources, writer=writer, realtime=realtime, speed=speed,
                      start_s=None if preview else start_s, analysis=analysis,
                      duration_s=duration_s, clock=clock, publishers=publishers)
    if preview and record:
        session.arm_recording(make_writer, make_analysis)
    return session, resolved
