"""The home window driven as a therapist would: a client, sessions started from it, history,
report, trends; ``coreg home --screenshot``."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from coreg.recording import read_recording
from coreg.report.samples import write_sample_recording
from coreg.ui.home import COLUMNS, HomeOptions, HomeWindow

COL = {name.split("\n")[0]: i for i, (name, _) in enumerate(COLUMNS)}


def _cell(win: HomeWindow, row: int, name: str) -> str:
    item = win.table.item(row, COL[name])
    assert item is not None
    return item.text()


@pytest.fixture
def home(qtbot, tmp_path: Path):
    opened: list[Path] = []
    options = HomeOptions(speed=30.0, duration_s=None, practice_s=120.0, seed=3)
    win = HomeWindow(tmp_path, options, open_url=opened.append,
                     ask_text=lambda title, label: "Ana")
    qtbot.addWidget(win)
    win.opened = opened  # type: ignore[attr-defined]
    yield win
    win.close()


def _run_dyad(qtbot, win: HomeWindow, stop_after_s: float) -> Path:
    live = win.start_dyad()
    assert live is not None
    qtbot.waitUntil(lambda: live.session.elapsed_s() >= stop_after_s, timeout=60_000)
    qtbot.mouseClick(live.stop_button, _left())
    assert live.ended
    path = Path(live.session.recording_path)
    live.close()
    return path


def _left():
    from PySide6 import QtCore

    return QtCore.Qt.MouseButton.LeftButton


def test_a_course_of_sessions_from_the_home_window(qtbot, home: HomeWindow) -> None:
    win = home
    assert win.client_list.count() == 0 and not win.dyad_button.isEnabled()
    # New client (the button asks for a pseudonym).
    qtbot.mouseClick(win.new_button, _left())
    assert win.current_client_name() == "Ana" and win.dyad_button.isEnabled()
    # A simulated dyad session started from the client, stopped by hand.
    first = _run_dyad(qtbot, win, 90.0)
    rec = read_recording(first)
    assert rec.header["client"] == {"name": "Ana"} and rec.end["reason"] == "stopped by user"
    assert win.table.rowCount() == 1
    assert _cell(win, 0, "file") == first.name
    assert _cell(win, 0, "mode").startswith("dyad")
    hr = float(_cell(win, 0, "mean HR"))
    assert 40 < hr < 120 and float(_cell(win, 0, "RMSSD")) > 0
    assert _cell(win, 0, "windows above") != "—"
    assert "HR" in win.headline_label.text() and "bpm" in win.headline_label.text()
    # Its report, written off the GUI thread and opened.
    worker = win.report_selected(with_neurokit=False)
    qtbot.waitUntil(lambda: not worker.running, timeout=120_000)
    assert win.opened == [first.with_suffix(".html")]
    page = first.with_suffix(".html").read_text(encoding="utf-8")
    assert "coreg session report" in page
    assert stat.S_IMODE(first.with_suffix(".html").stat().st_mode) == 0o600
    # A breathing practice for the same client.
    assert win.practice_minutes.value() == 2
    breathe = win.start_practice()
    assert breathe is not None
    qtbot.waitUntil(lambda: breathe.finished, timeout=120_000)
    breathe.close()
    assert breathe.duration_s == 120.0
    assert win.table.rowCount() == 2
    modes = {_cell(win, r, "mode").split()[0] for r in range(2)}
    assert modes == {"dyad", "practice"}
    practice_row = next(r for r in range(2) if _cell(win, r, "mode").startswith("practice"))
    assert _cell(win, practice_row, "rate") == "6.0"
    # A third session: the trend plots hold three sessions, oldest first.
    _run_dyad(qtbot, win, 60.0)
    assert win.table.rowCount() == 3
    xs, ys = win.trend_data("hr")
    assert len(xs) == 3 and xs == sorted(xs) and all(40 < y < 120 for y in ys)
    newest_hr = float(_cell(win, 0, "mean HR"))
    assert round(ys[-1]) == newest_hr
    assert len(win.trend_data("rate")[0]) == 1
    # Export the selected session.
    out = win.export_selected(Path(win.folder) / "export.csv")
    assert out and all(p.exists() for p in out)
    # The client list shows the count; a search that matches nobody empties it.
    assert "3 sessions" in win.client_list.item(0).text()
    win.search.setText("zzz")
    assert win.client_list.count() == 0 and win.table.rowCount() == 0
    win.search.setText("an")
    assert win.current_client_name() == "Ana"


def test_new_client_refuses_a_taken_or_empty_name(qtbot, home: HomeWindow) -> None:
    assert home.new_client("Ben", "evening sessions") is not None
    assert home.new_client("ben") is None and "already exists" in home.status.text()
    assert home.new_client("   ") is None
    home.notes.setPlainText("prefers mornings")
    home.save_notes()
    assert home.index.client("Ben").notes == "prefers mornings"
    home.search.setText("mornings")
    assert [c.name for c in home.clients_shown] == ["Ben"]


def test_files_added_by_hand_show_up_on_refresh(qtbot, home: HomeWindow) -> None:
    write_sample_recording(home.folder / "home-practice.jsonl", "paced", 120.0, seed=2,
                           header_extra={"client": {"name": "Cleo"}})
    write_sample_recording(home.folder / "dyad.jsonl", "coupled", 90.0, seed=3,
                           markers=[(65.0, "talked about sleep")],
                           header_extra={"client": {"name": "Cleo"}})
    home.refresh()
    home.select_client("cleo")
    assert home.table.rowCount() == 2
    home.select_session("home-practice.jsonl")
    assert "Markers" not in home.headline_label.text()
    home.select_session("dyad.jsonl")
    assert "Markers: 01:05 talked about sleep" in home.headline_label.text()


def test_sessions_without_a_client_are_listed_too(qtbot, home: HomeWindow) -> None:
    # `coreg live` without --client-name: the session must still be found from the home window.
    write_sample_recording(home.folder / "nameless.jsonl", "coupled", 90.0, seed=3)
    write_sample_recording(home.folder / "named.jsonl", "coupled", 90.0, seed=4,
                           header_extra={"client": {"name": "Cleo"}})
    home.refresh()
    rows = [home.client_list.item(i).text() for i in range(home.client_list.count())]
    assert rows == ["Cleo  ·  1 session", "(no client)  ·  1 session"]
    home.client_list.setCurrentRow(1)
    assert home.client_title.text() == "Sessions without a client"
    assert [e["file"] for e in home.entries] == ["nameless.jsonl"]
    assert not home.dyad_button.isEnabled()  # a new session needs a client
    home.select_session("nameless.jsonl")  # replay / report / export work on it
    # Searching lists only matching clients.
    home.search.setText("cle")
    assert home.client_list.count() == 1
    # A trend without points says so, with no made-up axes.
    home.search.setText("")
    home.client_list.setCurrentRow(0)
    assert home.client_title.text() == "Cleo"
    assert not home.trend_plots["rate"].getAxis("left").isVisible()  # a dyad has no rate
    assert home.trend_plots["hr"].getAxis("left").isVisible()


def test_home_screenshot_offscreen(tmp_path: Path) -> None:
    for i, scenario in enumerate(["coupled", "weak", "coupled"]):
        write_sample_recording(tmp_path / f"s{i}.jsonl", scenario, 60.0, seed=i,
                               header_extra={"client": {"name": "Ana"}})
    png = tmp_path / "home.png"
    out = subprocess.run(
        [sys.executable, "-m", "coreg", "home", "--recordings-dir", str(tmp_path),
         "--client-name", "Ana", "--screenshot", str(png), "--size", "1280x800"],
        capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert png.stat().st_size > 20_000
    from PySide6 import QtGui

    image = QtGui.QImage(str(png))
    assert (image.width(), image.height()) == (1280, 800)
    bad = subprocess.run([sys.executable, "-m", "coreg", "home", "--recordings-dir",
                          str(tmp_path), "--client-name", "Nobody", "--screenshot",
                          str(png)], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_a_breathing_window_closed_mid_session_is_in_the_history(qtbot, home: HomeWindow
                                                                   ) -> None:
    home.new_client("Dara")
    breathe = home.start_practice()
    assert breathe is not None
    qtbot.waitUntil(lambda: breathe.br.now_s > 30.0, timeout=60_000)
    breathe.close()
    qtbot.waitUntil(lambda: home.table.rowCount() == 1, timeout=10_000)
    rec = read_recording(home.folder / _cell(home, 0, "file"))
    assert rec.end["reason"] == "window closed" and rec.header["client"] == {"name": "Dara"}


def test_plain_coreg_without_a_display_is_one_line(tmp_path: Path) -> None:
    import os

    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    if not sys.platform.startswith("linux"):
        pytest.skip("the display check is for Linux")
    out = subprocess.run([sys.executable, "-m", "coreg"], capture_output=True, text=True,
                         timeout=60, env=env, cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "coreg home: no display for the home window (DISPLAY is not set): see 'coreg --help' "
        "for the terminal commands, or use --screenshot PNG"]
