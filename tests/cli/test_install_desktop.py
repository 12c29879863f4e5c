"""``coreg install-desktop``: the packaged desktop entry and icon, installed for the user."""

from __future__ import annotations

import configparser
import stat
from importlib import resources
from pathlib import Path

from coreg.cli import main


def test_package_data_carries_a_valid_desktop_entry_and_icon() -> None:
    data = resources.files("coreg.data")
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read_string(data.joinpath("coreg.desktop").read_text(encoding="utf-8"))
    section = entry["Desktop Entry"]
    assert section["Type"] == "Application" and section["Icon"] == "coreg"
    assert section["Exec"] == "coreg home" and section["Terminal"] == "false"
    assert section["Categories"].endswith(";")
    assert data.joinpath("coreg.svg").read_text(encoding="utf-8").lstrip().startswith("<svg")


def test_install_and_remove_for_the_user(tmp_path: Path, capsys) -> None:
    assert main(["install-desktop", "--data-home", str(tmp_path)]) == 0
    entry = tmp_path / "applications" / "coreg.desktop"
    icon = tmp_path / "icons" / "hicolor" / "scalable" / "apps" / "coreg.svg"
    assert entry.exists() and icon.exists()
    exec_line = next(ln for ln in entry.read_text().splitlines() if ln.startswith("Exec="))
    command = exec_line.removeprefix("Exec=").removesuffix(" home").strip('"')
    assert Path(command).is_absolute() and Path(command).name == "coreg"
    for path in (entry, icon):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert main(["install-desktop", "--data-home", str(tmp_path), "--remove"]) == 0
    assert not entry.exists() and not icon.exists()
