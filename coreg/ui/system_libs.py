"""Before any Qt window: are the system libraries Qt needs on Linux there? One line if not.

On a bare Debian/Ubuntu the PySide6 wheel runs, but its xcb platform plugin (``libqxcb.so``)
and QtGui need system libraries that a minimal install lacks; Qt then aborts with a message
naming only the first one it tried (often the wrong one). coreg checks first, with the
dynamic loader itself, and names every missing library's Debian/Ubuntu package in one line.

The list below is what ``ldd`` shows that ``PySide6/Qt/plugins/platforms/libqxcb.so``,
``libQt6XcbQpa.so.6`` and ``libQt6Gui.so.6`` (PySide6 6.x) load from the system, mapped to the
package that ships each library. Nothing here imports Qt (the check runs before Qt loads).
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Iterable, Mapping

from coreg.errors import CoregError

#: Shared library (soname) → the Debian/Ubuntu package that provides it.
QT_XCB_LIBRARIES: dict[str, str] = {
    # the xcb platform plugin (libqxcb.so → libQt6XcbQpa.so.6)
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
}
#: What QtGui itself loads from the system (every windowed platform, Wayland too).
QT_GUI_LIBRARIES: dict[str, str] = {
    "libX11.so.6": "libx11-6",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
}
#: Everything the default (X11) window needs.
QT_LIBRARIES: dict[str, str] = {**QT_XCB_LIBRARIES, **QT_GUI_LIBRARIES}

#: Platforms that need no display server (and none of the libraries above but QtGui's).
HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc")


class MissingSystemLibraries(CoregError):
    """Qt's system libraries are missing (the message names the packages to install)."""


def _loadable(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def missing_libraries(libraries: Iterable[str] = QT_LIBRARIES,
                      loadable: Callable[[str], bool] | None = None) -> list[str]:
    """The sonames among ``libraries`` the dynamic loader cannot find."""
    can_load = loadable or _loadable
    return [name for name in libraries if not can_load(name)]


def missing_line(missing: Iterable[str],
                 packages: Mapping[str, str] = QT_LIBRARIES) -> str:
    """The one line naming what to install for ``missing`` sonames."""
    names = list(dict.fromkeys(packages.get(m, m) for m in missing))
    return ("Qt cannot open a window: system libraries are missing. On Debian/Ubuntu run: "
            f"sudo apt install {' '.join(names)}  (or run without a window: --headless)")


def check_gui_libraries(*, platform: str | None = None, environ: Mapping[str, str] | None = None,
                        libraries: Mapping[str, str] | None = None,
                        loadable: Callable[[str], bool] | None = None) -> None:
    """Raise :class:`MissingSystemLibraries` (one line) when a Qt window cannot start.

    Only on Linux and only for a windowed platform: ``QT_QPA_PLATFORM`` unset or ``xcb``
    (everything), ``wayland`` or an unset platform in a Wayland session (QtGui's libraries);
    ``offscreen`` and the other headless platforms are not checked. ``libraries`` and
    ``loadable`` let tests point the check at a missing library.
    """
    env = os.environ if environ is None else environ
    if (platform or sys.platform) != "linux":
        return
    qpa = env.get("QT_QPA_PLATFORM", "").split(":")[0].strip().lower()
    wayland = qpa == "wayland" or (not qpa and env.get("XDG_SESSION_TYPE") == "wayland"
                                   and bool(env.get("WAYLAND_DISPLAY")))
    if qpa and qpa not in ("xcb", "wayland"):
        return
    if libraries is None:
        libraries = QT_GUI_LIBRARIES if wayland else QT_LIBRARIES
    missing = missing_libraries(libraries, loadable)
    if missing:
        raise MissingSystemLibraries(missing_line(missing, libraries))
    if not wayland and not env.get("DISPLAY"):
        raise MissingSystemLibraries(
            "no display to open a window on (DISPLAY is not set): run it on the desktop, "
            "or without a window: --headless (or --screenshot PNG)")
