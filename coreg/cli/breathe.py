"""``coreg breathe``: solo breathing practice with HRV feedback, and ``--assess``, the
resonance-frequency assessment (Lehrer, Vaschillo & Vaschillo 2000, doi:10.1023/A:1009554825745).

This version runs on a simulated client who breathes with the pacer (labelled SIMULATED), in
the terminal (``--headless``). Every session is recorded (mode ``breathe``, pacer changes
included). The rate chosen by an assessment is stored per client (owner-only file
``clients.json`` in the recordings folder) and becomes that client's default pacer rate.
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
                   help="strap; only 'sim' (simulated client) in this version")
    p.add_argument("--client-name", default="client", metavar="NAME",
                   help="whose default rate to use and store (default 'client')")
    p.add_argument("--rate", type=float, metavar="BPM",
                   help="pacer rate 3–10 breaths/min (default: the client's stored rate, else 6)")
    p.add_argument("--ratio", default="1:1", metavar="IN:OUT", help="inhale:exhale (default 1:1)")
    p.add_argument("--pause-in", type=float, default=0.0, metavar="S", help="hold after inhale")
    p.add_argument("--pause-out", type=float, default=0.0, metavar="S", help="hold after exhale")
    p.add_argument("--duration", type=float, metavar="S",
                   help="session length (default 600 s; assessment: the steps' total)")
    p.add_argument("--goal", type=float, metavar="MIN",
                   help="goal: minutes at the high coherence level")
    p.add_argument("--sound", action="store_true", help="soft sound cue at in and out (window)")
    p.add_argument("--assess", action="store_true", help="resonance-frequency assessment")
    p.add_argument("--steps", default="6.5,6.0,5.5,5.0,4.5", metavar="LIST",
                   help="assessment rates in order (default 6.5,6.0,5.5,5.0,4.5)")
    p.add_argument("--step-s", type=float, default=120.0, metavar="S",
                   help="measured seconds per assessment step (default 120)")
    p.add_argument("--settle-s", type=float, default=25.0, metavar="S",
                   help="unmeasured settle before each step (default 25)")
    p.add_argument("--headless", action="store_true", help="no window: terminal lines")
    p.add_argument("--screenshot", metavar="PNG", help="save the window at the end (offscreen)")
    p.add_argument("--speed", metavar="X|max",
                   help="simulated client: X times real time, or max (default real time)")
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


def build_schedule(args: argparse.Namespace, folder: Path) -> tuple[Any, float]:
    """The pacer schedule and the session length from the options."""
    from coreg.engine import pacer

    try:
        ratio = pacer.parse_ratio(args.ratio)
        if args.assess:
            rates = [float(x) for x in args.steps.split(",") if x.strip()]
            if not rates:
                raise ValueError("--steps needs at least one rate")
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
    duration = args.duration if args.duration else 600.0
    if not duration > 0:
        raise InputError("--duration must be positive")
    return sched, duration


def run(args: argparse.Namespace) -> int:
    """Run ``coreg breathe``."""
    if args.device not in ("sim", "sim:breathe"):
        raise InputError("coreg breathe supports only the simulated client (--device sim) so far")
    from coreg.recording.paths import recordings_dir

    folder = recordings_dir(args.recordings_dir)
    schedule, duration_s = build_schedule(args, folder)
    from coreg.cli.live import parse_speed_option

    speed = parse_speed_option(args.speed)
    if args.screenshot and speed is None:
        speed = math.inf
    if not args.headless:
        from coreg.ui.breathe import run_window

        return run_window(args, schedule, duration_s, folder, speed)
    return run_headless(args, schedule, duration_s, folder, speed)


def open_run(args: argparse.Namespace, schedule: Any, duration_s: float, folder: Path) -> Any:
    """Simulate the client, open the recording and the :class:`BreatheRun`."""
    from coreg.engine.resonance import BreatheRun
    from coreg.recording import RecordingWriter, new_header
    from coreg.session.setup import recording_path
    from devices.sim.breathing_client import breathing_client

    pacer_list = [(s.start_s, s.rate_bpm or 0.0) for s in schedule]
    sim = breathing_client(pacer_list, duration_s + 1.0, args.seed,
                           inhale_ratio=schedule[0].inhale_ratio if schedule else 0.5)
    info = sim.info["client"]
    header = new_header(
        "breathe",
        {"client": {"name": info.name, "simulated": True, "model": "simulated strap"}},
        start_monotonic_s=0.0,
        settings={"assess": bool(args.assess), "duration_s": duration_s,
                  "client_name": args.client_name,
                  "settle_s": args.settle_s if args.assess else 0.0,
                  "schedule": [[s.start_s, s.rate_bpm, s.label] for s in schedule]},
        simulation={"scenario": "breathe", "seed": args.seed, "truth": sim.truth},
    )
    writer = RecordingWriter(recording_path(folder, "breathe"), header)
    br = BreatheRun(tuple(schedule), settle_s=args.settle_s if args.assess else 0.0,
                    assess=bool(args.assess))
    return sim, writer, br


class Driver:
    """Feeds the simulated messages into the recording and the run up to an elapsed time."""

    def __init__(self, sim: Any, writer: Any, br: Any, schedule: Any, duration_s: float) -> None:
        self.messages = list(sim.messages())
        self.i = 0
        self.writer = writer
        self.br = br
        self.schedule = schedule
        self.duration_s = duration_s
        self.next_pacer = 0

    def advance(self, elapsed_s: float) -> None:
        """Process everything that arrived up to ``elapsed_s`` (recorder first)."""
        elapsed_s = min(elapsed_s, self.duration_s)
        while self.next_pacer < len(self.schedule) and \
                self.schedule[self.next_pacer].start_s <= elapsed_s:
            st = self.schedule[self.next_pacer]
            self.writer.write_pacer(st.start_s, st.rate_bpm, inhale_ratio=st.inhale_ratio,
                                    pause_in_s=st.pause_in_s, pause_out_s=st.pause_out_s,
                                    label=st.label)
            self.next_pacer += 1
        while self.i < len(self.messages) and self.messages[self.i].arrival_s <= elapsed_s:
            msg = self.messages[self.i]
            self.writer.write(msg)
            self.br.feed(msg)
            self.i += 1
        self.br.advance(elapsed_s)

    @property
    def done(self) -> bool:
        """True when the session length is reached."""
        return self.br.now_s >= self.duration_s


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


def final_lines(args: argparse.Namespace, br: Any, folder: Path) -> list[str]:
    """Summary lines (and the assessment table, storing the chosen rate)."""
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
        if a.chosen_rate_bpm is not None:
            path = save_client_rate(folder, args.client_name, a.chosen_rate_bpm, a.confidence)
            lines.append(f"Stored as {args.client_name}'s default pacer rate ({path}).")
    lines.append("coreg informs; it does not diagnose.")
    return lines


def run_headless(args: argparse.Namespace, schedule: Any, duration_s: float, folder: Path,
                 speed: float | None) -> int:
    """The terminal version: a status line every 30 s of session time, summary at the end."""
    sim, writer, br = open_run(args, schedule, duration_s, folder)
    driver = Driver(sim, writer, br, schedule, duration_s)
    print(f"coreg breathe{' --assess' if args.assess else ''} — SIMULATED client "
          f"(seed {args.seed})", flush=True)
    print(f"recording to {writer.path}", flush=True)
    code = 0
    reason = "duration reached"
    wall0 = time.monotonic()
    elapsed = 0.0
    next_print = 0.0
    try:
        while not driver.done:
            if speed is None or math.isfinite(speed):
                time.sleep(0.05)
                elapsed = (time.monotonic() - wall0) * (speed or 1.0)
            else:
                elapsed += 1.0
            driver.advance(elapsed)
            if br.now_s >= next_print:
                print(status_line(br, duration_s), flush=True)
                next_print += 30.0
    except KeyboardInterrupt:
        reason, code = "interrupted", 130
    finally:
        writer.close(reason, t_s=br.now_s)
    for line in final_lines(args, br, folder):
        print(line)
    sys.stdout.flush()
    return code
