"""``coreg breathe``: solo breathing practice with HRV feedback, and ``--assess``, the
resonance-frequency assessment (Lehrer, Vaschillo & Vaschillo 2000, doi:10.1023/A:1009554825745).

``--device SRC`` takes the same strap kinds as ``coreg live``: ``sim`` (a simulated client who
breathes with the pacer, labelled SIMULATED), ``ble-sim`` (the same simulated client served by
the emulated Bluetooth LE strap through the real BLE code) or a real strap's address or name.
The session runs on the live session runner (:mod:`coreg.session.breathe`): the strap on the
asyncio thread, every message recorded before it is computed, device events, reconnects and a
clean stop. Every session is recorded (mode ``breathe``, pacer changes included) and replays
with the pacer shown (``coreg replay``). The rate chosen by an assessment is stored per client
(owner-only file ``clients.json`` in the recordings folder) and becomes that client's default
pacer rate.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

from coreg.cli import non_negative_type, number_list_type, positive_type
from coreg.errors import InputError

CLIENTS_FILE = "clients.json"
DEFAULT_RATE_BPM = 6.0


def add_parser(subparsers: Any) -> None:
    """Register ``coreg breathe``."""
    p = subparsers.add_parser(
        "breathe",
        help="solo breathing practice with a pacer; --assess finds the resonance rate",
        description=(
            "Breathe with the pacer and watch your heart follow it: coherence, resonance power, "
            "heart-rate swing per breath (RSA) and the breathing rate the heart shows. "
            "--assess paces 6.5, 6.0, 5.5, 5.0 and 4.5 breaths/min and ranks them. "
            "Default source: a simulated client (SIMULATED). coreg informs; it does not diagnose."
        ),
    )
    p.add_argument("--device", metavar="SRC", default="sim",
                   help="strap: a BLE address or name, ble-sim (the emulated BLE strap serving "
                        "a simulated client) or sim (simulated client; default)")
    p.add_argument("--client-name", default="client", metavar="NAME",
                   help="whose default rate to use and store (default 'client')")
    p.add_argument("--rate", type=float, metavar="BPM",
                   help="pacer rate 3–10 breaths/min (default: the client's stored rate, else 6)")
    p.add_argument("--ratio", default="1:1", metavar="IN:OUT", help="inhale:exhale (default 1:1)")
    p.add_argument("--pause-in", type=non_negative_type("seconds"), default=0.0, metavar="S",
                   help="hold after inhale")
    p.add_argument("--pause-out", type=non_negative_type("seconds"), default=0.0, metavar="S",
                   help="hold after exhale")
    p.add_argument("--duration", type=positive_type("seconds"), metavar="S",
                   help="session length (default 600 s; assessment: the steps' total)")
    p.add_argument("--goal", type=positive_type("minutes"), metavar="MIN",
                   help="goal: minutes at the high coherence level")
    p.add_argument("--sound", action="store_true", help="soft sound cue at in and out (window)")
    p.add_argument("--assess", action="store_true", help="resonance-frequency assessment")
    p.add_argument("--steps", type=number_list_type("rates in breaths/min"),
                   default="6.5,6.0,5.5,5.0,4.5", metavar="LIST",
                   help="assessment rates in order (default 6.5,6.0,5.5,5.0,4.5)")
    p.add_argument("--step-s", type=float, default=120.0, metavar="S",
                   help="measured seconds per assessment step (default 120)")
    p.add_argument("--settle-s", type=non_negative_type("seconds"), default=25.0, metavar="S",
                   help="unmeasured settle before each step (default 25)")
    p.add_argument("--headless", action="store_true", help="no window: terminal lines")
    p.add_argument("--screenshot", metavar="PNG", help="save the window at the end (offscreen)")
    p.add_argument("--speed", metavar="X|max",
                   help="sim: X times real time, or max; ble-sim: X times real time on a "
                        "scaled clock (no max); default real time (max with --screenshot "
                        "and sim)")
    p.add_argument("--seed", type=int, default=1, help="seed of the simulated client")
    p.add_argument("--recordings-dir", metavar="DIR",
                   help="folder for recordings and clients.json (default $COREG_RECORDINGS "
                        "or ./recordings)")
    p.set_defaults(run=run)


# --- per-client settings ---------------------------------------------------------------------
def clients_path(folder: Path) -> Path:
    """The per-client settings file in the recordings folder."""
    return folder / CLIENTS_FILE


def load_clients(folder: Path) -> dict[str, Any]:
    """Read the per-client settings (empty when missing or unreadable)."""
    path = clients_path(folder)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_client_rate(folder: Path, client: str, rate_bpm: float, confidence: str) -> Path:
    """Store ``rate_bpm`` as the client's default pacer rate (file mode 0600, atomic)."""
    data = load_clients(folder)
    entry = data.get(client) if isinstance(data.get(client), dict) else {}
    entry.update({"rate_bpm": rate_bpm, "confidence": confidence,
                  "assessed": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
    data[client] = entry
    path = clients_path(folder)
    tmp = path.with_suffix(".json.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def client_rate(folder: Path, client: str) -> float | None:
    """The client's stored default rate, if any."""
    entry = load_clients(folder).get(client)
    rate = entry.get("rate_bpm") if isinstance(entry, dict) else None
    return float(rate) if isinstance(rate, (int, float)) else None


# --- setup -------------------------------------------------------------------------------------


def _steps(steps: str | list[float]) -> list[float]:
    """The assessment rates of ``--steps`` (already parsed by argparse, or a string)."""
    if not isinstance(steps, str):
        return [float(x) for x in steps]
    try:
        return number_list_type("rates in breaths/min")(steps)
    except argparse.ArgumentTypeError as exc:
        raise ValueError(f"--steps: {exc}") from None


def build_schedule(args: argparse.Namespace, folder: Path) -> tuple[Any, float]:
    """The pacer schedule and the session length from the options."""
    from coreg.engine import pacer

    try:
        ratio = pacer.parse_ratio(args.ratio)
        if args.assess:
            rates = _steps(args.steps)
            if args.step_s < 60:
                raise ValueError("--step-s must be at least 60 s (a shorter step says nothing)")
            sched = pacer.assessment_schedule(rates, step_s=args.step_s,
                                              settle_s=args.settle_s, inhale_ratio=ratio)
            return sched, sched[-1].start_s
        rate = args.rate if args.rate is not None else (
            client_rate(folder, args.client_name) or DEFAULT_RATE_BPM)
        sched = pacer.practice_schedule(rate, inhale_ratio=ratio, pause_in_s=args.pause_in,
                                        pause_out_s=args.pause_out)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    duration = args.duration if args.duration is not None else 600.0
    if not duration > 0:
        raise InputError("--duration must be positive")
    return sched, duration


def run(args: argparse.Namespace) -> int:
    """Run ``coreg breathe``."""
    from coreg.cli.live import parse_speed_option
    from coreg.recording.paths import recordings_dir
    from coreg.session.breathe import _breathe_spec

    spec = _breathe_spec(args.device)  # a bad SRC fails before anything is created
    speed = parse_speed_option(args.speed)
    if args.screenshot and speed is None and spec.kind == "sim":
        speed = math.inf
    folder = recordings_dir(args.recordings_dir)
    schedule, duration_s = build_schedule(args, folder)
    bs = open_session(args, schedule, duration_s, folder, speed)
    if not args.headless:
        from coreg.ui.breathe import run_window

        return run_window(args, bs, folder)
    return run_headless(args, bs, folder)


def open_session(args: argparse.Namespace, schedule: Any, duration_s: float, folder: Path,
                 speed: float | None) -> Any:
    """The recorded breathing session of these options (not started)."""
    from coreg.session.breathe import open_breathe_session

    return open_breathe_session(
        args.device, schedule, duration_s, folder, seed=args.seed, speed=speed,
        assess=bool(args.assess), settle_s=args.settle_s if args.assess else 0.0,
        settings={"client_name": args.client_name})


def source_text(args: argparse.Namespace, bs: Any) -> str:
    """Which strap feeds the session, in words (SIMULATED when it is simulated)."""
    kind = bs.resolved.specs["client"].kind
    if kind == "sim":
        return f"SIMULATED client (seed {args.seed})"
    if kind == "ble-sim":
        return (f"SIMULATED client (seed {args.seed}) on the emulated BLE strap"
                + (f"; {bs.note}" if bs.note else ""))
    return f"strap {args.device}"


def status_line(br: Any, duration_s: float) -> str:
    """One terminal line: time, pacer, HR, coherence (level), resonance, RSA, breathing."""
    from coreg.engine.resonance import coherence_level

    snap = br.snapshot()
    rate, stage, _ = br.pacer()

    def val(metric: Any, fmt: str) -> str:
        return "collecting…" if metric.value is None else format(metric.value, fmt)

    level = coherence_level(snap.coherence.value)
    pacer_txt = f"{rate:.1f}/min {stage:<8}" if rate else "off"
    t = br.now_s
    return (f"{int(t // 60):02d}:{int(t % 60):02d}/{int(duration_s // 60):02d}:"
            f"{int(duration_s % 60):02d}  pacer {pacer_txt}  HR {val(snap.hr_bpm, '.0f')}  "
            f"coherence {val(snap.coherence, '.1f')}{f' ({level})' if level else ''}  "
            f"resonance {val(snap.resonance, '.0%')}  RSA {val(snap.rsa_bpm, '.1f')} bpm  "
            f"breathing {val(snap.breathing_rate_bpm, '.1f')}/min")


def final_lines(args: argparse.Namespace, br: Any, folder: Path | None) -> list[str]:
    """Summary lines (and the assessment table, storing the chosen rate in ``folder``; None
    stores nothing, as in a replay)."""
    lines = br.summary().lines()
    if args.goal:
        high = br.summary().level_s.get("high", 0.0) / 60.0
        lines.append(f"Goal {args.goal:g} min at high coherence: {high:.1f} min"
                     + (" — reached, well done." if high >= args.goal else " — keep going."))
    if args.assess:
        a = br.assessment()
        lines.append("rank  rate/min  LF power ms²  LF peak  HR swing bpm  phase°  one peak  score")
        for row in a.ranking:
            m = row.measure
            lines.append(f"{row.rank:>4}  {m.rate_bpm:8.1f}  {m.lf_power_ms2:12.0f}  "
                         f"{m.lf_peak_ms2_hz:7.0f}  {m.amplitude_bpm:12.1f}  {m.phase_deg:6.0f}  "
                         f"{m.smooth:8.2f}  {row.total:5.2f}")
        lines.append(a.statement)
        if a.chosen_rate_bpm is not None and folder is not None:
            path = save_client_rate(folder, args.client_name, a.chosen_rate_bpm, a.confidence)
            lines.append(f"Stored as {args.client_name}'s default pacer rate ({path}).")
    lines.append("coreg informs; it does not diagnose.")
    return lines


def run_headless(args: argparse.Namespace, bs: Any, folder: Path) -> int:
    """The terminal version: a status line every 30 s of session time, summary at the end."""
    from coreg.cli.signals import SessionSignals, exit_code

    session, br, duration_s = bs.session, bs.run, bs.duration_s
    fast = not session.realtime and session.speed is None
    print(f"coreg breathe{' --assess' if args.assess else ''} — {source_text(args, bs)}",
          flush=True)
    print(f"recording to {session.recording_path}", flush=True)
    code = 0
    reason = "duration reached"
    next_print = 0.0
    state = ""
    with SessionSignals() as guard:
        try:
            session.start()
            while True:
                if br.now_s >= next_print:
                    print(status_line(br, duration_s), flush=True)
                    next_print += 30.0
                if bs.analysis.device_state != state:
                    state = bs.analysis.device_state
                    if state:
                        print(f"  {state}", flush=True)
                if session.source_errors:
                    reason = "strap failed"
                    break
                if session.finished or session.elapsed_s() >= duration_s:
                    if not session.reached_duration and session.elapsed_s() < duration_s:
                        reason = "strap stopped"
                    break
                # Fast: a few messages per step so the status lines keep their 30 s cadence.
                consumed = session.poll(max_messages=10 if fast else None)
                session.sync_recording()
                if not fast or not consumed:
                    time.sleep(0.001 if fast else 1 / 30)
        except KeyboardInterrupt as exc:
            reason, code = "interrupted", exit_code(exc)
        finally:
            guard.disarm()  # a second Ctrl+C must not cut the end line off
            session.stop(reason)
    error = bs.analysis.error or next(iter(session.source_errors.values()), "")
    if error:
        print(f"coreg breathe: the strap failed: {error}", file=sys.stderr, flush=True)
        code = code or 2
    if session.loop_errors:  # a bug below us: never pass it off as a clean session
        print(f"coreg breathe: {len(session.loop_errors)} unhandled error(s) in the strap code; "
              f"first: {session.loop_errors[0]}", file=sys.stderr, flush=True)
        code = code or 1
    for line in final_lines(args, br, folder):
        print(line)
    if reason in ("interrupted", "strap failed"):
        print(f"session ended ({reason})")
    print(f"recording: {session.recording_path}")
    sys.stdout.flush()
    return code
