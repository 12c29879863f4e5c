"""The start-up check of Qt's system libraries: one line naming the Debian/Ubuntu packages."""

from __future__ import annotations

import pytest

from coreg.cli import main
from coreg.ui import system_libs
from coreg.ui.system_libs import (
    QT_GUI_LIBRARIES,
    QT_LIBRARIES,
    MissingSystemLibraries,
    check_gui_libraries,
    missing_libraries,
)


def test_a_library_the_loader_cannot_find_is_reported_by_package() -> None:
    fake = {"libc.so.6": "libc6", "libcoreg-does-not-exist.so.9": "libcoreg-nothing9"}
    assert missing_libraries(fake) == ["libcoreg-does-not-exist.so.9"]  # the real loader
    with pytest.raises(MissingSystemLibraries) as err:
        check_gui_libraries(platform="linux", environ={"DISPLAY": ":0"}, libraries=fake)
    line = str(err.value)
    assert "\n" not in line and "sudo apt install libcoreg-nothing9" in line
    assert "libc6" not in line


def test_only_linux_windowed_platforms_are_checked() -> None:
    def none(_name: str) -> bool:
        return False

    check_gui_libraries(platform="darwin", environ={}, loadable=none)
    check_gui_libraries(platform="linux", environ={"QT_QPA_PLATFORM": "offscreen"}, loadable=none)
    for env in ({"DISPLAY": ":0"}, {"QT_QPA_PLATFORM": "xcb"}):
        with pytest.raises(MissingSystemLibraries, match="libxcb-icccm4 libxcb-keysyms1"):
            check_gui_libraries(platform="linux", environ=env, loadable=none)
    wayland = {"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"}
    with pytest.raises(MissingSystemLibraries) as err:
        check_gui_libraries(platform="linux", environ=wayland, loadable=none)
    assert "libxcb" not in str(err.value) and "libegl1" in str(err.value)
    assert set(QT_GUI_LIBRARIES) < set(QT_LIBRARIES)
    # Every library there, but no X display: one line too, before Qt aborts.
    with pytest.raises(MissingSystemLibraries, match="DISPLAY is not set"):
        check_gui_libraries(platform="linux", environ={}, loadable=lambda _n: True)
    check_gui_libraries(platform="linux", environ={"DISPLAY": ":0"}, loadable=lambda _n: True)


@pytest.mark.parametrize("argv", [["live"], ["breathe"]])
def test_the_gui_commands_print_one_line_and_exit_2(argv: list[str], monkeypatch, capsys,
                                                     tmp_path) -> None:
    # Simulate the bare Debian/Ubuntu of the issue: the two xcb helpers are not installed.
    gone = {"libxcb-icccm.so.4", "libxcb-keysyms.so.1"}
    monkeypatch.setattr(system_libs, "_loadable", lambda name: name not in gone)
    monkeypatch.setattr(system_libs.sys, "platform", "linux")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("XDG_SESSION_TYPE", raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    code = main([*argv, "--recordings-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"coreg {argv[0]}: Qt cannot open a window")
    assert "sudo apt install libxcb-icccm4 libxcb-keysyms1" in err
    assert not list(tmp_path.iterdir())  # nothing recorded
