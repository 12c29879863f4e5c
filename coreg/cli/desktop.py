"""``coreg install-desktop``: put coreg in the Linux desktop's application menu.

Writes the desktop entry shipped in the package (``coreg/data/coreg.desktop``) to
``$XDG_DATA_HOME/applications`` (default ``~/.local/share/applications``) with ``Exec`` set to
this installation's ``coreg`` (so a ``pipx`` install works from the menu), and the icon to
``$XDG_DATA_HOME/icons/hicolor/scalable/apps/coreg.svg``. Files are owner-only like everything
coreg writes; ``--remove`` takes them away again. (Desktop Entry Specification 1.5,
freedesktop.org.)
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from coreg.errors import InputError

if TYPE_CHECKING:
    from coreg.cli._types import SubParsers


def add_parser(subparsers: SubParsers) -> None:
    """Register ``coreg install-desktop``."""
    p = subparsers.add_parser(
        "install-desktop",
        help="add coreg (desktop entry and icon) to your Linux application menu",
        description=(
            "Install coreg's desktop entry and icon for the current user "
            "(~/.local/share/applications and ~/.local/share/icons), launching this "
            "installation's 'coreg live'. --remove uninstalls them."
        ),
    )
    p.add_argument("--remove", action="store_true", help="remove the entry and the icon")
    p.add_argument("--data-home", metavar="DIR",
                   help="instead of $XDG_DATA_HOME or ~/.local/share")
    p.set_defaults(run=run)


def data_home(override: str | None = None) -> Path:
    """``override``, else ``$XDG_DATA_HOME``, else ``~/.local/share``."""
    return Path(override or os.environ.get("XDG_DATA_HOME") or Path.home() / ".local/share")


def coreg_command() -> str:
    """The absolute path of this installation's ``coreg`` script (quoted for ``Exec``)."""
    here = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    if here is not None and here.name == "coreg" and here.exists():
        path = str(here)
    else:
        beside = Path(sys.executable).with_name("coreg")
        path = str(beside) if beside.exists() else (shutil.which("coreg") or "coreg")
    return f'"{path}"' if " " in path else path


def targets(home: Path) -> tuple[Path, Path]:
    """Where the desktop entry and the icon go."""
    return (home / "applications" / "coreg.desktop",
            home / "icons" / "hicolor" / "scalable" / "apps" / "coreg.svg")


def _write_private(path: Path, data: bytes) -> None:
    for parent in reversed(path.parents):
        if not parent.exists():
            parent.mkdir(mode=0o700)
    from coreg.recording.output import write_private

    write_private(path, data)


def run(args: argparse.Namespace) -> int:
    """Install (or remove) the desktop entry and the icon."""
    if sys.platform != "linux" and not args.data_home:
        raise InputError("install-desktop is for Linux desktops; on Windows and macOS start "
                         "coreg from a terminal (see the README)")
    entry_path, icon_path = targets(data_home(args.data_home))
    if args.remove:
        for path in (entry_path, icon_path):
            path.unlink(missing_ok=True)
            print(f"removed {path}")
        return 0
    data = resources.files("coreg.data")
    entry = data.joinpath("coreg.desktop").read_text(encoding="utf-8")
    entry = entry.replace("Exec=coreg home", f"Exec={coreg_command()} home")
    _write_private(entry_path, entry.encode("utf-8"))
    _write_private(icon_path, data.joinpath("coreg.svg").read_bytes())
    print(f"desktop entry: {entry_path}")
    print(f"icon: {icon_path}")
    return 0
