"""``coreg stream``: one strap published on the Lab Streaming Layer, and recorded locally.

The strap runs on the ordinary :class:`~coreg.session.runner.Session` (its own recording, the
one-person live figures for the terminal); a :class:`~coreg.session.lsl.StrapPublisher` pushes
each message onto the RR and events outlets the moment it is recorded. The recording header
gains ``lsl``: the streams' names, types, source ids and uids, and the host name, so the
recording and an XDF file of the same session can be matched.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from coreg import __version__
from coreg.errors import InputError
from coreg.recording.paths import new_recording_path, recordings_dir
from coreg.session.figures import LiveAnalysis
from coreg.session.lsl import StrapPublisher
from coreg.session.runner import Session
from coreg.sources import ResolvedSources, parse_src, resolve

ROLES = ("client", "therapist")


def default_stream_name(role: str) -> str:
    """The RR stream name when ``--name`` is not given."""
    return f"coreg-{role}"


def open_stream_session(
    device: str,
    role: str,
    *,
    name: str | None = None,
    duration_s: float | None = None,
    seed: int = 1,
    folder: str | os.PathLike[str] | None = None,
) -> tuple[Session[LiveAnalysis], ResolvedSources, StrapPublisher]:
    """Resolve the strap and build a (not started) recorded session that publishes it.

    Parameters
    ----------
    device
        ``SRC`` of the strap: a BLE address or name, ``ble-sim[:SCENARIO]`` or
        ``sim[:SCENARIO]`` (real time).
    role
        ``"client"`` or ``"therapist"``.
    name
        RR stream name (default ``coreg-ROLE``).
    duration_s
        End after this many seconds (None: until stopped).
    seed
        Seed of a simulated strap.
    folder
        Recordings folder.

    Raises
    ------
    InputError
        A bad role, an ``lsl:`` or ``none`` device.
    DeviceError
        pylsl missing, or the strap cannot be opened.
    """
    from devices.lsl import StrapOutlets, load_pylsl

    load_pylsl()  # a missing extra is said before a strap is connected or simulated
    if role not in ROLES:
        raise InputError(f"--role must be client or therapist, not {role!r}")
    spec = parse_src(device)
    if spec.kind == "none":
        raise InputError("coreg stream needs a strap: --device sim, ble-sim or a BLE address")
    if spec.kind == "lsl":
        raise InputError("coreg stream publishes a strap; an lsl: stream is already on LSL")
    stream_name = (name or default_stream_name(role)).strip()
    if not stream_name:
        raise InputError("--name must not be empty")
    # A simulated strap starts at a known moment, published with the stream, so a receiver
    # simulating the other person of the same scenario and seed plays the same dyad.
    sim_origin_s = time.monotonic() + 0.5 if spec.kind == "sim" else None
    resolved = resolve({role: spec}, duration_s=duration_s, seed=seed, realtime=True,
                       sim_origin_s=sim_origin_s)
    info = resolved.info[role]
    simulation = None
    if spec.kind == "sim" and resolved.simulation is not None:
        simulation = {"scenario": resolved.simulation["scenario"],
                      "seed": resolved.simulation["seed"], "origin_host_s": sim_origin_s}
    device_key = info.address or spec.text
    outlets = StrapOutlets(stream_name, role, info, device_key, __version__,
                           simulation=simulation)
    publisher = StrapPublisher(outlets)
    from coreg.recording import RecordingWriter, new_header

    target = new_recording_path("dyad", recordings_dir(folder))
    settings: dict[str, object] = {"sources": {role: spec.text}, "realtime": True,
                                "command": "stream"}
    if duration_s:
        settings["duration_s"] = duration_s
    start_s = time.monotonic()
    header = new_header("dyad", resolved.header_roles(), start_monotonic_s=start_s,
                        settings=settings, simulation=resolved.simulation,
                        lsl={role: outlets.identity})
    writer = RecordingWriter(Path(target), header)
    analysis = LiveAnalysis((role,), names={role: info.name},
                            simulated={role: spec.simulated})
    session = Session(resolved.sources, writer=writer, realtime=True, start_s=start_s,
                      analysis=analysis, duration_s=duration_s, publishers=(publisher,))
    return session, resolved, publisher
