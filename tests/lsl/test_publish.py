"""``--lsl`` figure outlets read back by plain pylsl inlets; nothing published without it."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pylsl
import pytest

from coreg.session import open_session
from coreg.session.lsl import SYNC_STATE_CODE, FiguresPublisher
from tests.lsl.helpers import start, wait_for_line


def _inlet(name: str) -> pylsl.StreamInlet:
    found = pylsl.resolve_byprop("name", name, 1, 45.0)  # a process starting on a busy machine
    assert found, name
    inlet = pylsl.StreamInlet(found[0], max_buflen=360, recover=False)
    inlet.open_stream(timeout=10.0)
    return inlet


def _drain(inlet: pylsl.StreamInlet, wait_s: float = 1.0) -> tuple[list, list]:  # type: ignore[type-arg]
    values: list = []  # type: ignore[type-arg]
    stamps: list = []  # type: ignore[type-arg]
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            v, t = inlet.pull_chunk(timeout=0.1)
        except pylsl.util.LostError:
            break
        values.extend(v)
        stamps.extend(t)
    return values, stamps


def test_figures_publisher_streams_what_the_session_shows() -> None:
    prefix = f"coreg-pub-{os.getpid()}"
    publisher = FiguresPublisher(("client", "therapist"), prefix=prefix)
    inlets = {k: _inlet(f"{prefix}-{k}") for k in ("client-figures", "therapist-figures",
                                                     "synchrony", "markers")}
    for inlet in inlets.values():
        assert inlet.info(5.0).nominal_srate() == pylsl.IRREGULAR_RATE
    assert inlets["client-figures"].info(5.0).get_channel_units() == ["bpm", "ms", "ratio"]
    time.sleep(0.3)
    # 330 s: the live synchrony test gives its first verdict (and chance threshold) after ~4 min.
    session, _ = open_session(None, None, duration_s=330.0, realtime=False, speed=40.0,
                              record=False)
    session.publishers.append(publisher)
    session.start()
    while not session.finished:
        session.poll()
        time.sleep(0.01)
    session.mark("breathing together")
    view = session.view
    client, _ = _drain(inlets["client-figures"])
    sync, _ = _drain(inlets["synchrony"])
    markers, _ = _drain(inlets["markers"])
    session.stop("done")
    assert len(client) >= 60  # about one per analysis second
    person = view.persons["client"]
    assert client[-1][0] == pytest.approx(person.hr.value)
    assert client[-1][1] == pytest.approx(person.rmssd.value)
    assert client[-1][2] == pytest.approx(person.coherence.value)
    assert len(sync) == len(view.sync.mean_t_s) and len(sync) >= 10
    assert [s[0] for s in sync] == pytest.approx(list(view.sync.mean_r), nan_ok=True)
    r, chance, state, lag = sync[-1]
    assert r == pytest.approx(view.sync.current_r)
    assert chance == pytest.approx(float(view.sync.chance_hi[-1])) and math.isfinite(chance)
    assert state == SYNC_STATE_CODE[view.sync.state]
    if view.sync.leader is None:
        assert math.isnan(lag)
    else:
        assert abs(lag) == pytest.approx(view.sync.lag_s)
    payloads = [json.loads(m[0]) for m in markers]
    assert {"marker": "breathing together"} in payloads
    assert any(p.get("event") == "connected" and p.get("role") == "client" for p in payloads)
    assert any("sync_state" in p for p in payloads)


def test_live_lsl_read_back_by_a_plain_inlet(tmp_path: Path, lsl_env: dict[str, str]) -> None:
    proc = start(["live", "--headless", "--lsl", "--duration", "14",
                  "--recordings-dir", str(tmp_path)], lsl_env)
    wait_for_line(proc, "recording to")
    figures = _inlet("coreg-client-figures")
    markers = _inlet("coreg-markers")
    assert _inlet("coreg-synchrony").info(5.0).channel_count() == 4
    values, stamps = _drain(figures, wait_s=9.0)
    marks, _ = _drain(markers, wait_s=0.3)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert len(values) >= 5
    assert all(len(v) == 3 for v in values)
    assert any(math.isfinite(v[0]) and 40 < v[0] < 120 for v in values)  # HR in bpm
    assert all(abs(t - pylsl.local_clock()) < 60 for t in stamps)  # on the LSL clock
    header = json.loads((next(tmp_path.glob("*.jsonl"))).read_text().splitlines()[0])
    assert header["settings"]["lsl_out"]["markers"] == "coreg-markers"
    assert all(isinstance(json.loads(m[0]), dict) for m in marks)


NO_LSL = """
import socket, sys, os
from coreg.session import open_session
session, _ = open_session(None, None, duration_s=20, realtime=False, speed=None,
                          folder=sys.argv[1])
session.start()
while not session.finished:
    session.poll()
session.stop()
inodes = set()
for fd in os.listdir('/proc/self/fd'):
    try:
        link = os.readlink(f'/proc/self/fd/{fd}')
    except OSError:
        continue
    if link.startswith('socket:['):
        inodes.add(link[8:-1])
listening = 0
for table in ('/proc/net/tcp', '/proc/net/tcp6', '/proc/net/udp', '/proc/net/udp6'):
    try:
        rows = open(table).read().splitlines()[1:]
    except OSError:
        continue
    listening += sum(1 for row in rows if row.split()[9] in inodes)
print('pylsl' in sys.modules, listening)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_nothing_is_published_without_lsl(tmp_path: Path, lsl_env: dict[str, str]) -> None:
    out = subprocess.run([sys.executable, "-c", NO_LSL, str(tmp_path)], env=lsl_env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "0"]


BLOCK = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name in ('pylsl', 'pyxdf'):
            raise ImportError(f'No module named {name!r}')
sys.meta_path.insert(0, Block())
from coreg.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("args", [
    ["stream", "--device", "sim", "--role", "client"],
    ["live", "--headless", "--client", "lsl:x", "--therapist", "none", "--duration", "5"],
    ["live", "--headless", "--lsl", "--duration", "5"],
    ["import", "--xdf", "x.xdf", "-o", "y.jsonl"],
])
def test_missing_extra_is_one_line(args: list[str], tmp_path: Path,
                                   lsl_env: dict[str, str]) -> None:
    (tmp_path / "x.xdf").write_bytes(b"XDF:")
    out = subprocess.run([sys.executable, "-c", BLOCK, *args], env=lsl_env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'coreg[lsl]'" in lines[0], out.stderr


def test_breathe_lsl_read_back(tmp_path: Path, lsl_env: dict[str, str]) -> None:
    proc = start(["breathe", "--headless", "--lsl", "--duration", "20",
                  "--recordings-dir", str(tmp_path)], lsl_env)
    figures = _inlet("coreg-client-figures")
    assert figures.info(5.0).get_channel_labels() == ["hr", "rmssd", "coherence"]
    values, _ = _drain(figures, wait_s=8.0)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert len(values) >= 3 and any(40 < v[0] < 120 for v in values)
