"""Issue 16, items 1-3: no command writes over a recording, an input, or (without --force) any
existing file; temporaries are unpredictable, exclusive, owner-only and never left behind;
everything coreg writes is 0600 whatever the umask."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from coreg.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "recordings" / "examples"
DYAD = EXAMPLES / "sim-coupled-300s.jsonl"
SOLO = EXAMPLES / "real-pyhrv-5min.jsonl"


@pytest.fixture()
def rec(tmp_path: Path) -> Path:
    p = tmp_path / "r.jsonl"
    shutil.copyfile(DYAD, p)
    return p


@pytest.fixture()
def other(tmp_path: Path) -> Path:
    p = tmp_path / "other.jsonl"
    shutil.copyfile(SOLO, p)
    return p


@pytest.fixture()
def umask0() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    err = capsys.readouterr().err
    return code, err


def _one_line_error(code: int, err: str) -> str:
    assert code == 2, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".partial"))


# -- 1. never over a recording, an input, or an existing file without --force --------------


def test_report_refuses_to_overwrite_its_own_input(capsys, rec: Path) -> None:
    before = rec.read_bytes()
    line = _one_line_error(*_run(capsys, "report", str(rec), "-o", str(rec), "--quiet",
                                 "--no-neurokit"))
    assert "input" in line or "recording" in line
    assert rec.read_bytes() == before


def test_report_refuses_another_recording_even_with_force(capsys, rec: Path, tmp_path: Path
                                                          ) -> None:
    # detected by content: a recording named like a report is still a recording
    disguised = tmp_path / "looks-like-a-report.html"
    shutil.copyfile(SOLO, disguised)
    before = disguised.read_bytes()
    line = _one_line_error(*_run(capsys, "report", str(rec), "-o", str(disguised), "--force",
                                 "--quiet", "--no-neurokit"))
    assert "recording" in line
    assert disguised.read_bytes() == before


def test_export_rr_txt_refuses_the_input_and_other_recordings(capsys, tmp_path: Path) -> None:
    solo = tmp_path / "solo.jsonl"
    shutil.copyfile(SOLO, solo)
    before = solo.read_bytes()
    _one_line_error(*_run(capsys, "export", str(solo), "--format", "rr-txt", "-o", str(solo)))
    _one_line_error(*_run(capsys, "export", str(solo), "--format", "rr-txt", "-o", str(solo),
                          "--force"))
    assert solo.read_bytes() == before
    # a csv export whose derived name is a recording
    victim = tmp_path / "x-beats.csv"
    shutil.copyfile(DYAD, victim)
    vb = victim.read_bytes()
    _one_line_error(*_run(capsys, "export", str(solo), "--format", "csv", "-o",
                          str(tmp_path / "x.csv"), "--force"))
    assert victim.read_bytes() == vb
    assert not (tmp_path / "x-metrics.csv").exists()  # all or nothing


def test_export_refuses_an_existing_file_without_force(capsys, rec: Path, tmp_path: Path
                                                       ) -> None:
    out = tmp_path / "rr.txt"
    out.write_text("keep me\n")
    solo = tmp_path / "solo.jsonl"
    shutil.copyfile(SOLO, solo)
    line = _one_line_error(*_run(capsys, "export", str(solo), "--format", "rr-txt", "-o",
                                 str(out)))
    assert "--force" in line
    assert out.read_text() == "keep me\n"
    assert main(["export", str(solo), "--format", "rr-txt", "-o", str(out), "--force"]) == 0
    assert out.read_text() != "keep me\n"


def test_simulate_and_import_never_write_over_a_recording(capsys, other: Path, tmp_path: Path
                                                          ) -> None:
    before = other.read_bytes()
    _one_line_error(*_run(capsys, "simulate", "--scenario", "rest", "--duration", "30",
                          "-o", str(other), "--force"))
    rr = tmp_path / "rr.txt"
    rr.write_text("".join(f"{800 + 10 * (i % 5)}\n" for i in range(120)))
    _one_line_error(*_run(capsys, "import", "--client", str(rr), "-o", str(other), "--force"))
    assert other.read_bytes() == before
    # nor over the import's own input, even with --force
    rb = rr.read_bytes()
    _one_line_error(*_run(capsys, "import", "--client", str(rr), "-o", str(rr), "--force"))
    assert rr.read_bytes() == rb


def test_simulate_existing_file_needs_force(capsys, tmp_path: Path) -> None:
    out = tmp_path / "notes.jsonl"
    out.write_text("my notes\n")
    line = _one_line_error(*_run(capsys, "simulate", "--scenario", "rest", "--duration", "20",
                                 "-o", str(out)))
    assert "--force" in line
    assert out.read_text() == "my notes\n"
    assert main(["simulate", "--scenario", "rest", "--duration", "20", "-o", str(out),
                 "--force"]) == 0
    assert out.read_text().startswith('{"type":"header"')


@pytest.mark.parametrize("argv", [
    ["simulate", "--scenario", "rest", "--duration", "10", "-o", "{missing}/x.jsonl"],
    ["report", "{rec}", "-o", "{missing}/x.html", "--quiet", "--no-neurokit"],
    ["export", "{rec}", "--format", "rr-txt", "-o", "{missing}/x.txt"],
    ["export", "{rec}", "--format", "csv", "-o", "{missing}/x.csv"],
    ["import", "--client", "{rr}", "-o", "{missing}/x.jsonl"],
])
def test_missing_output_folder_is_an_error_and_is_not_created(capsys, rec: Path, tmp_path: Path,
                                                              argv: list[str]) -> None:
    missing = tmp_path / "nonexistent" / "deeper"
    rr = tmp_path / "rr.txt"
    rr.write_text("800\n810\n790\n" * 20)
    args = [a.format(missing=missing, rec=rec, rr=rr) for a in argv]
    line = _one_line_error(*_run(capsys, *args))
    assert "no such folder" in line
    assert not (tmp_path / "nonexistent").exists()


# -- 2. temporaries: unpredictable, exclusive, no symlink followed, never left behind -------


def test_a_planted_symlink_at_the_old_temp_name_is_not_followed(capsys, rec: Path,
                                                                tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    out = tmp_path / "report.html"
    for name in (f".{out.name}.{os.getpid()}.partial", f".{out.name}.partial"):
        (tmp_path / name).symlink_to(victim)
    assert main(["report", str(rec), "-o", str(out), "--quiet", "--no-neurokit"]) == 0
    assert victim.read_text() == "precious\n"
    assert out.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")
    rr_out = tmp_path / "rr.txt"
    solo = tmp_path / "solo.jsonl"
    shutil.copyfile(SOLO, solo)
    (tmp_path / f".{rr_out.name}.{os.getpid()}.partial").symlink_to(victim)
    assert main(["export", str(solo), "--format", "rr-txt", "-o", str(rr_out)]) == 0
    assert victim.read_text() == "precious\n"


def test_output_through_a_symlink_replaces_the_link_not_its_target(tmp_path: Path) -> None:
    from coreg.recording.output import write_output

    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    link = tmp_path / "out.txt"
    link.symlink_to(victim)
    write_output(link, "new\n", force=True)
    assert victim.read_text() == "precious\n"
    assert not link.is_symlink() and link.read_text() == "new\n"


def test_failed_export_leaves_no_temporary_and_no_output(monkeypatch, capsys, rec: Path,
                                                        tmp_path: Path) -> None:
    import coreg.recording.output as output

    calls = {"n": 0}
    real = output._write_fd

    def failing(fd: int, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device")
        real(fd, data)

    monkeypatch.setattr(output, "_write_fd", failing)
    _one_line_error(*_run(capsys, "export", str(rec), "--format", "csv", "-o",
                          str(tmp_path / "t.csv")))
    assert _temps(tmp_path) == []
    assert not (tmp_path / "t-beats.csv").exists()


@pytest.mark.parametrize("signum, exc", [(signal.SIGTERM, SystemExit),
                                         (signal.SIGHUP, SystemExit),
                                         (signal.SIGINT, KeyboardInterrupt)])
def test_a_signal_removes_the_temporary(tmp_path: Path, signum: int, exc: type) -> None:
    from coreg.recording.output import create_temp

    # A signal inherited as ignored (the suite run under nohup) is respected by coreg, as it
    # should be; this test needs the default disposition, and puts the inherited one back.
    inherited = signal.signal(signum, signal.SIG_DFL)
    try:
        fd, tmp = create_temp(tmp_path / "out.html")
        os.close(fd)
        assert tmp.exists()
        with pytest.raises(exc):
            os.kill(os.getpid(), signum)
            time.sleep(1.0)  # the handler runs at the next bytecode
        assert _temps(tmp_path) == []
        assert signal.getsignal(signum) is signal.SIG_DFL  # handlers restored
    finally:
        signal.signal(signum, inherited)


def _wait_for_temp(folder: Path, proc: subprocess.Popen[bytes], timeout_s: float) -> bool:
    t_end = time.monotonic() + timeout_s
    while time.monotonic() < t_end and proc.poll() is None:
        if _temps(folder):
            return True
        time.sleep(0.02)
    return False


_SLOW_DISK = """
import os, signal, sys, time
signal.signal(signal.SIGHUP, signal.SIG_DFL)  # as if not started under nohup
real = os.fsync
def slow(fd):
    real(fd)
    time.sleep(120)  # a very slow disk: the temporary exists, the rename has not happened
os.fsync = slow
from coreg.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _slow_writer(folder: Path, *argv: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", _SLOW_DISK, *argv],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _commands(folder: Path) -> list[list[str]]:
    rec = folder / "in.jsonl"
    shutil.copyfile(SOLO, rec)
    return [["export", str(rec), "--format", "rr-txt", "-o", str(folder / "out.txt")],
            ["simulate", "--scenario", "rest", "--duration", "60", "-o",
             str(folder / "sim.jsonl")]]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signals_mid_write_leave_nothing(tmp_path: Path, signum: int) -> None:
    for argv in _commands(tmp_path):
        proc = _slow_writer(tmp_path, *argv)
        try:
            assert _wait_for_temp(tmp_path, proc, 60.0), "no temporary file appeared"
            proc.send_signal(signum)
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode != 0
        assert "Traceback" not in err.decode()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"], argv


def test_sigkill_leftover_is_swept_by_the_next_write(tmp_path: Path) -> None:
    argv = _commands(tmp_path)[0]
    proc = _slow_writer(tmp_path, *argv)
    try:
        assert _wait_for_temp(tmp_path, proc, 60.0)
        proc.kill()
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert _temps(tmp_path)  # SIGKILL cannot be caught ...
    assert main(["simulate", "--scenario", "rest", "--duration", "10", "-o",
                 str(tmp_path / "next.jsonl")]) == 0
    assert _temps(tmp_path) == []  # ... but the next write in that folder removes it


# -- 3. owner-only whatever the umask --------------------------------------------------------


def test_every_output_is_owner_only_with_umask_000(umask0, rec: Path, tmp_path: Path) -> None:
    rr = tmp_path / "rr.txt"
    rr.write_text("800\n810\n790\n" * 40)
    assert main(["report", str(rec), "-o", str(tmp_path / "r.html"), "--quiet",
                 "--no-neurokit"]) == 0
    assert main(["export", str(rec), "--format", "rr-txt", "-o", str(tmp_path / "e.txt")]) == 0
    assert main(["export", str(rec), "--format", "csv", "-o", str(tmp_path / "e.csv")]) == 0
    assert main(["simulate", "--scenario", "rest", "--duration", "20", "-o",
                 str(tmp_path / "s.jsonl")]) == 0
    assert main(["import", "--client", str(rr), "-o", str(tmp_path / "i.jsonl")]) == 0
    written = [p for p in tmp_path.iterdir() if p not in (rec, rr)]
    assert len(written) >= 7
    for p in written:
        mode = stat.S_IMODE(p.stat().st_mode)
        assert mode == 0o600, f"{p.name}: {oct(mode)}"
    assert _temps(tmp_path) == []


def test_the_output_module_recognises_the_format_the_writer_writes() -> None:
    from coreg.recording import output
    from coreg.recording.format import FORMAT_NAME

    assert output.FORMAT_NAME == FORMAT_NAME
