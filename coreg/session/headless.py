"""The one terminal runner of ``coreg live``, ``coreg breathe`` and ``coreg replay --headless``.

:func:`run_headless` drives any :class:`~coreg.session.playback.Driven` session — a live
:class:`~coreg.session.runner.Session` (dyad or breathing) or a
:class:`~coreg.session.replay.ReplaySession` — the way the windows drive it on their timer:
start it, then poll, sync the recording, let the view print what is due and say whether the
session is over, rest until the next step (:class:`Pacing`); SIGINT, SIGTERM and SIGHUP end it
with the reason ``"interrupted"`` and the exit code 128 + the signal
(:class:`~coreg.session.signals.SessionSignals`); whatever happens it is stopped with its reason,
so a recording always gets its ``end`` line. What each command prints — the lines on each step,
the final summary, its exit code — is its :class:`HeadlessView`, kept in the command's module.

Nothing here imports Qt.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TextIO

from coreg.session.display import session_lines, show_final, show_lines
from coreg.session.playback import Driven, Playback
from coreg.session.results import SessionFigures
from coreg.session.signals import SessionSignals, exit_code

#: Exit code of a session whose strap failed (as for any bad input: one line, exit 2).
STRAP_FAILED_CODE = 2
#: Exit code of a session that saw an unhandled error below it (a bug, never a clean exit).
BUG_CODE = 1


@dataclass(frozen=True, slots=True)
class Ending:
    """Why a session ended (the recording's ``end`` reason) and the exit code it gives."""

    reason: str
    code: int = 0


@dataclass(frozen=True, slots=True)
class Pacing:
    """How the runner steps.

    Attributes
    ----------
    rest_s
        Sleep after each step (0: none; a replay at max speed, a fast session's busy steps).
    max_messages
        Messages per poll (None: all that are due); a fast breathing session takes a few at a
        time so its status lines keep their 30 s cadence.
    rest_when_busy
        Also sleep after a step that consumed messages (False: only when idle).
    """

    rest_s: float
    max_messages: int | None = None
    rest_when_busy: bool = True


class HeadlessView(Protocol):
    """What a command prints while its session runs, and at the end."""

    def begin(self) -> Ending | None:
        """Once, right after the session started (before the first poll): print, seek, …;
        an :class:`Ending` ends the session at once."""
        ...

    def tick(self) -> Ending | None:
        """After each poll: print what is due; an :class:`Ending` once the session is over."""
        ...

    def finish(self, ending: Ending) -> int:
        """After the session stopped: print the final lines; return the exit code."""
        ...


def run_headless(playback: Driven, view: HeadlessView, pacing: Pacing) -> int:
    """Run ``playback`` in the terminal until ``view`` says it is over or a signal stops it.

    Parameters
    ----------
    playback
        The session (not started yet).
    view
        The command's terminal view.
    pacing
        How fast to step.

    Returns
    -------
    int
        ``view.finish``'s exit code (given the ending: 128 + signal when interrupted).
    """
    ending = Ending("stopped")
    with SessionSignals() as guard:
        try:
            playback.start()
            found = view.begin()
            while found is None:
                consumed = playback.poll(max_messages=pacing.max_messages)
                playback.sync_recording()
                found = view.tick()
                if found is None and pacing.rest_s > 0 and (pacing.rest_when_busy
                                                            or not consumed):
                    time.sleep(pacing.rest_s)
            ending = found
        except KeyboardInterrupt as exc:
            ending = Ending("interrupted", exit_code(exc))
        finally:
            guard.disarm()  # a second Ctrl+C must not cut the end line off
            playback.stop(ending.reason)
    return view.finish(ending)


@dataclass(slots=True)
class Cadence:
    """When the next terminal line is due, on a session or replay clock.

    Parameters
    ----------
    every_s
        Seconds between lines.
    next_s
        When the first is due.
    on_grid
        True: lines fall on a fixed grid (``next_s``, ``next_s + every_s``, …, as the breathing
        status lines); False: ``every_s`` after the last line shown.
    """

    every_s: float
    next_s: float = 0.0
    on_grid: bool = False

    def due(self, t_s: float) -> bool:
        """True (and the next one scheduled) when a line is due at ``t_s``."""
        if t_s < self.next_s:
            return False
        self.next_s = (self.next_s if self.on_grid else t_s) + self.every_s
        return True


def failure_lines(command: str, source_errors: Mapping[str, str],
                  loop_errors: Sequence[str] = (), *,
                  name_roles: bool = True) -> tuple[list[str], int]:
    """What a session's end says on stderr about straps that failed, and the exit code.

    Parameters
    ----------
    command
        ``coreg live`` / ``coreg breathe`` (the lines start with it).
    source_errors
        Role → why its strap failed (:attr:`~coreg.session.runner.Session.source_errors`).
    loop_errors
        Exceptions nobody handled on the sources' loop (a bug below the session).
    name_roles
        Name each strap's role (a dyad); False says "the strap" (one person's session).

    Returns
    -------
    tuple of (list of str, int)
        One line per failed strap and one for the unhandled errors, and the exit code they
        call for: 2 for a failed strap, else 1 for a bug, else 0.
    """
    lines: list[str] = []
    code = 0
    for role, error in source_errors.items():
        strap = f"the {role} strap" if name_roles else "the strap"
        lines.append(f"{command}: {strap} failed: {error}")
        code = code or STRAP_FAILED_CODE
        if not name_roles:
            break  # one person, one strap: said once
    if loop_errors:  # a bug below us: never pass it off as a clean session
        lines.append(f"{command}: {len(loop_errors)} unhandled error(s) in the strap code; "
                     f"first: {loop_errors[0]}")
        code = code or BUG_CODE
    return lines, code


class DyadScreen:
    """The dyad's terminal view (``coreg live`` and a dyad's ``coreg replay``): the figures
    every ``every_s`` of session time, redrawn in place on a terminal, appended otherwise.

    Parameters
    ----------
    title
        The first words of each frame (:func:`~coreg.session.setup.live_title`, a replay's).
    out
        Where to write (a terminal gets ANSI redraws).
    every_s
        Session seconds between frames.
    """

    def __init__(self, title: str, out: TextIO, every_s: float) -> None:
        self.title = title
        self.out = out
        self.tty = out.isatty()
        self.cadence = Cadence(every_s)
        self._shown = 0

    def show(self, t_s: float, playback: Playback) -> None:
        """Write a frame of ``playback``'s figures when one is due at ``t_s``."""
        if self.cadence.due(t_s):
            self._shown = show_lines(self.out, session_lines(playback.view, self.title),
                                     self._shown, tty=self.tty)

    def final(self, figures: SessionFigures) -> None:
        """The last frame (in place of the live one on a terminal)."""
        show_final(self.out, session_lines(figures, self.title), self._shown, tty=self.tty)
