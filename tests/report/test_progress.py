"""The progress report of a client: trends, home-practice log, headlines, one-line errors."""

from __future__ import annotations

import json
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from coreg.cli import main
from coreg.report.progress import TRENDS, headline, slope_per_30_days, trend_points
from coreg.report.samples import write_sample_recording


def test_theil_sen_slope_is_exact_on_a_line_and_robust_to_one_outlier() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    xs = [t0 + timedelta(days=7 * k) for k in range(6)]
    ys = [60.0 - 0.5 * 7 * k for k in range(6)]  # −0.5 bpm a day
    slope, lo, hi = slope_per_30_days(xs, ys)  # type: ignore[misc]
    assert slope == pytest.approx(-15.0) and lo == pytest.approx(-15.0)
    assert hi == pytest.approx(-15.0)
    ys[2] += 40.0  # one wild session moves the median of pairwise slopes little
    assert slope_per_30_days(xs, ys)[0] == pytest.approx(-15.0)  # type: ignore[index]
    assert slope_per_30_days(xs[:2], ys[:2]) is None  # fewer than three sessions
    same_day = [t0 + timedelta(hours=h) for h in range(4)]
    assert slope_per_30_days(same_day, [1.0, 2.0, 3.0, 4.0]) is None


def _entry(day: int, **extra: object) -> dict:
    base = {"file": f"{day}.jsonl", "status": "ok", "mode": "dyad",
            "created": f"2026-01-{day:02d}T10:00:00+01:00", "duration_s": 600.0,
            "roles": {"client": {"mean_hr_bpm": 70.0 + day, "rmssd_ms": 30.0,
                                 "coherence": 1.5}}}
    base.update(extra)
    return base


def test_trend_points_are_oldest_first_and_skip_missing_values() -> None:
    entries = [_entry(5), _entry(1), _entry(3, status="damaged"),
               _entry(4, roles={"client": {"mean_hr_bpm": None}})]
    hr = next(t for t in TRENDS if t.key == "hr")
    xs, ys, modes = trend_points(entries, hr)
    assert ys == [71.0, 75.0] and xs == sorted(xs) and modes == ["dyad", "dyad"]


def test_headline_has_a_unit_on_every_number() -> None:
    text = headline(_entry(2, synchrony={"effect_size": 2.34, "time_in_sync_pct": 31.0,
                                         "significant": True}))
    assert text == ("dyad 10 min; client HR 72 bpm, RMSSD 30 ms, coherence 1.5; synchrony "
                    "above chance (d 2.3, 31 % of windows above chance)")
    practice = headline(_entry(3, mode="breathe", kind="practice", resonance_rate_bpm=5.5))
    assert practice.endswith("paced at 5.5 breaths/min")


def test_progress_report_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for i, scenario in enumerate(["independent", "coupled", "paced"]):
        p = write_sample_recording(tmp_path / f"s{i}.jsonl", scenario, 120.0, seed=i,
                                   header_extra={"client": {"name": "Ana"}})
        first, rest = p.read_bytes().split(b"\n", 1)
        header = json.loads(first)
        header["created"] = f"2026-01-{1 + 7 * i:02d}T10:00:00+01:00"
        p.write_bytes(json.dumps(header).encode() + b"\n" + rest)
    out = tmp_path / "ana.html"
    assert main(["report", "--client", "ana", "--recordings-dir", str(tmp_path), "-o", str(out),
                 "--quiet"]) == 0
    page = out.read_text(encoding="utf-8")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "coreg progress report — Ana" in page and "Home practice" in page
    assert page.count("data:image/png;base64,") == 1  # the trends, inline
    assert "http://" not in page and "https://" not in page  # self-contained
    assert "per 30 days" in page and "3 sessions" in page
    assert "paced at" in page and "bpm" in page
    capsys.readouterr()
    again = ["report", "--client", "Ana", "--recordings-dir", str(tmp_path), "-o", str(out),
             "--quiet"]
    assert main(again) == 2 and "already exists" in capsys.readouterr().err
    assert main([*again, "--force"]) == 0
    capsys.readouterr()
    assert main(["report", "--client", "Nobody", "--recordings-dir", str(tmp_path),
                 "-o", str(tmp_path / "nobody.html")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"coreg report: no client called 'Nobody' in {tmp_path} "
                   "(coreg sessions --clients lists them)"]
