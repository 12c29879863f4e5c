"""Seeded mutations of real recordings and an in-process harness that runs coreg's readers on
them under a time and a memory bound (issue 16, item 8).

Shared by ``tests/recording/test_mutation_property.py`` (CI: about a thousand mutations) and
``benchmarks/mutation_fuzz.py`` (longer runs). Every mutation is a pure function of a
``random.Random``: a failing case is reproduced from its seed and index.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import random
import re
import resource
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Mutator = Callable[[random.Random, bytes], bytes]

_NUMBER = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_HOSTILE_NUMBERS = [b"1e308", b"-1e308", b"1e9", b"-1e9", b"-500", b"0", b"-0.0", b"NaN",
                    b"Infinity", b"-Infinity", b"1e-320", b"18446744073709551616",
                    b"1" * 400, b"604800", b"3601", b"-1.5", b"65535", b"70000", b"1e300"]
_WRONG_TYPES = [b"null", b"true", b"false", b'"x"', b'""', b"[]", b"{}", b"[1,[2]]",
                b'{"a":1}', b"1.5", b'"1e9"', b"[null]", b'["800"]']
_ODD_ROLES = ["a/b", "x\x00y", "../../etc/passwd", "..", "", " ", "=1+1", "+cmd", "-2", "@x",
              "\tz", "\rq", "é" * 300, "line\nbreak", "C:\\con", "therapist/", "client" * 50]
_KEYS = [b'"t"', b'"rr"', b'"role"', b'"hr"', b'"contact"', b'"raw"', b'"type"', b'"kind"',
         b'"value"', b'"rate_bpm"', b'"inhale_ratio"', b'"version"', b'"roles"', b'"format"']


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def _join(lines: list[bytes]) -> bytes:
    return b"\n".join(lines)


def _body_index(rng: random.Random, lines: list[bytes]) -> int:
    """A random line index, mostly not the header (index 0)."""
    if len(lines) <= 1:
        return 0
    return 0 if rng.random() < 0.05 else rng.randrange(1, len(lines))


def cut(rng: random.Random, data: bytes) -> bytes:
    """Truncate at a random byte (a crash, a full disk, a partial copy)."""
    return data[:rng.randrange(0, len(data) + 1)]


def flip(rng: random.Random, data: bytes) -> bytes:
    """Flip 1-8 random bytes (a random bit, or a random byte value)."""
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if not b:
            break
        i = rng.randrange(len(b))
        b[i] = b[i] ^ (1 << rng.randrange(8)) if rng.random() < 0.5 else rng.randrange(256)
    return bytes(b)


def hostile_number(rng: random.Random, data: bytes) -> bytes:
    """Replace one or several numbers by huge, negative, zero, NaN or infinite ones."""
    lines = _lines(data)
    for _ in range(rng.choice([1, 1, 1, 3, 20])):
        i = _body_index(rng, lines)
        nums = list(_NUMBER.finditer(lines[i]))
        if not nums:
            continue
        m = rng.choice(nums)
        lines[i] = lines[i][:m.start()] + rng.choice(_HOSTILE_NUMBERS) + lines[i][m.end():]
    return _join(lines)


def nudge_number(rng: random.Random, data: bytes) -> bytes:
    """Scale one number by a plausible factor (an edit that keeps the file readable)."""
    lines = _lines(data)
    i = _body_index(rng, lines)
    nums = list(_NUMBER.finditer(lines[i]))
    if not nums:
        return data
    m = rng.choice(nums)
    try:
        v = float(m.group()) * rng.choice([0.0, 0.5, 0.9, 1.1, 2.0, 10.0, -1.0])
    except ValueError:  # pragma: no cover - the regex only matches numbers
        return data
    lines[i] = lines[i][:m.start()] + repr(v).encode() + lines[i][m.end():]
    return _join(lines)


def wrong_type(rng: random.Random, data: bytes) -> bytes:
    """Give a key a value of the wrong type."""
    lines = _lines(data)
    for _ in range(rng.choice([1, 1, 2, 5])):
        i = _body_index(rng, lines)
        key = rng.choice(_KEYS)
        pos = lines[i].find(key + b":")
        if pos < 0:
            continue
        start = pos + len(key) + 1
        end = start
        depth = 0
        in_str = False
        while end < len(lines[i]):
            c = lines[i][end:end + 1]
            if in_str:
                if c == b"\\":
                    end += 1
                elif c == b'"':
                    in_str = False
            elif c == b'"':
                in_str = True
            elif c in b"[{":
                depth += 1
            elif c in b"]}":
                if depth == 0:
                    break
                depth -= 1
            elif c == b"," and depth == 0:
                break
            end += 1
        lines[i] = lines[i][:start] + rng.choice(_WRONG_TYPES) + lines[i][end:]
    return _join(lines)


def reorder(rng: random.Random, data: bytes) -> bytes:
    """Swap two lines, reverse a block, or shuffle a window of lines."""
    lines = _lines(data)
    if len(lines) < 3:
        return data
    how = rng.choice(["swap", "swap_near", "reverse", "shuffle", "rotate"])
    a = rng.randrange(1, len(lines))
    if how == "swap":
        b = rng.randrange(1, len(lines))
        lines[a], lines[b] = lines[b], lines[a]
    elif how == "swap_near":
        b = min(len(lines) - 1, a + 1)
        lines[a], lines[b] = lines[b], lines[a]
    else:
        b = min(len(lines), a + rng.randint(2, 60))
        block = lines[a:b]
        if how == "reverse":
            block.reverse()
        elif how == "shuffle":
            rng.shuffle(block)
        else:
            block = block[1:] + block[:1]
        lines[a:b] = block
    return _join(lines)


def duplicate(rng: random.Random, data: bytes) -> bytes:
    """Duplicate a line or a block, in place or elsewhere (header lines too, sometimes)."""
    lines = _lines(data)
    a = _body_index(rng, lines)
    b = min(len(lines), a + rng.choice([1, 1, 5, 50]))
    block = lines[a:b]
    at = b if rng.random() < 0.6 else rng.randrange(0, len(lines) + 1)
    lines[at:at] = block * rng.choice([1, 1, 2, 10])
    return _join(lines)


def delete(rng: random.Random, data: bytes) -> bytes:
    """Delete one line or a block (the header and the end line too, sometimes)."""
    lines = _lines(data)
    a = _body_index(rng, lines)
    b = min(len(lines), a + rng.choice([1, 1, 10, 200]))
    del lines[a:b]
    return _join(lines)


def odd_role(rng: random.Random, data: bytes) -> bytes:
    """Rename a role (everywhere, or in one line) to something hostile."""
    role = json.dumps(rng.choice(_ODD_ROLES)).encode()
    which = rng.choice([b'"client"', b'"therapist"'])
    if rng.random() < 0.6:
        return data.replace(b'"role":' + which, b'"role":' + role)
    lines = _lines(data)
    i = _body_index(rng, lines)
    lines[i] = lines[i].replace(which, role, 1)
    return _join(lines)


def junk_line(rng: random.Random, data: bytes) -> bytes:
    """Insert a line of junk: binary bytes, deep nesting, a huge number list, other types."""
    lines = _lines(data)
    depth = rng.choice([50, 5000, 200_000])
    junk = rng.choice([
        bytes(rng.randrange(256) for _ in range(rng.randint(1, 200))),
        b"[" * depth + b"]" * depth,
        b'{"type":"rr","t":1.0,"role":"client","rr":[' + b",".join([b"800"] * 50_000) + b"]}",
        b'{"type":"rr","t":1.0,"role":"client","rr":' + b"[" * depth + b"]" * depth + b"}",
        b'{"type":"marker","t":2.0,"note":"' + b"x" * 100_000 + b'"}',
        b'{"type":"pacer","t":2.0,"rate_bpm":1e-9,"inhale_ratio":0.5}',
        b'{"type":"pacer","t":2.0,"rate_bpm":6,"inhale_ratio":0.99}',
        b'{"type":"event","t":1.0,"role":"client","kind":"nonsense"}',
        b'{"type":"header","format":"coreg-recording","version":1}',
        b'{"type":"end","t":1e300}',
        b'{"type":"end","reason":"x","t":"soon"}',
        b'{"type":"assessment","t":5.0,"steps":' + b"[" * 100 + b"]" * 100 + b"}",
        b'{"type":7}', b"[]", b"null", b'"rr"', b"\xef\xbb\xbf{}", b"\x00" * 64,
    ])
    lines.insert(rng.randrange(1, len(lines) + 1) if len(lines) > 1 else 1, junk)
    return _join(lines)


def header_edit(rng: random.Random, data: bytes) -> bytes:
    """Damage the header: wrong version, no format, odd roles, huge fields."""
    lines = _lines(data)
    try:
        head = json.loads(lines[0])
    except ValueError:
        return data
    how = rng.choice(["version", "format", "roles", "start", "drop", "settings", "mode"])
    if how == "version":
        head["version"] = rng.choice([0, 2, -1, 1e300, "1", None, True])
    elif how == "format":
        head.pop("format", None)
    elif how == "roles":
        head["roles"] = rng.choice([[], "client", None, {"a/b": {}}, {"=x": 1},
                                    {str(i): {} for i in range(300)}])
    elif how == "start":
        head["start_monotonic_s"] = rng.choice([1e300, -1e9, "x", None])
    elif how == "settings":
        head["settings"] = rng.choice([None, [], "x", {"duration_s": 1e300}])
    elif how == "mode":
        head["mode"] = rng.choice(["breathe", "solo", "import", "", None, 5])
    else:
        head = {}
    lines[0] = json.dumps(head).encode()
    return _join(lines)


MUTATORS: dict[str, Mutator] = {
    "cut": cut, "flip": flip, "hostile_number": hostile_number, "nudge_number": nudge_number,
    "wrong_type": wrong_type, "reorder": reorder, "duplicate": duplicate, "delete": delete,
    "odd_role": odd_role, "junk_line": junk_line, "header_edit": header_edit,
}


def mutate(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    """Apply one to three random mutations; return their names and the result."""
    names = [rng.choice(list(MUTATORS)) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
    for name in names:
        data = MUTATORS[name](rng, data)
    return "+".join(names), data


def trimmed(data: bytes, t_max_s: float) -> bytes:
    """A recording cut (cleanly, with its end line) at ``t_max_s``: a small, fast base."""
    lines = [ln for ln in data.split(b"\n") if ln.strip()]
    out = [lines[0]]
    end = None
    for ln in lines[1:]:
        obj = json.loads(ln)
        if obj.get("type") == "end":
            end = obj
            continue
        if isinstance(obj.get("t"), int | float) and obj["t"] > t_max_s:
            continue
        out.append(ln)
    end = dict(end or {"type": "end", "reason": "stopped"})
    end["t"] = t_max_s
    out.append(json.dumps(end, separators=(",", ":")).encode())
    return b"\n".join(out) + b"\n"


# -- running readers in-process under bounds -------------------------------------------------


class _TimeBound(BaseException):
    """Raised by SIGALRM when a reader runs past its time bound."""


@dataclass
class Outcome:
    """What one reader did on one mutant."""

    argv: list[str]
    code: int | None
    stderr: str
    stdout: str
    elapsed_s: float
    problem: str = ""


@contextlib.contextmanager
def memory_bound(extra_bytes: int) -> Iterator[None]:
    """Limit the address space to its current size plus ``extra_bytes`` (RLIMIT_AS)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as fh:
        vm_bytes = int(fh.read().split()[0]) * resource.getpagesize()
    limit = vm_bytes + extra_bytes
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _on_alarm(signum: int, frame: Any) -> None:
    raise _TimeBound


def run_cli(argv: Sequence[str], *, time_limit_s: float, extra_memory_bytes: int) -> Outcome:
    """Call ``coreg.cli.main(argv)`` in this process, under a time and a memory bound.

    ``problem`` is empty when the run kept the rules: exit 0 or 2, no traceback, exit 2 with
    exactly one line (``coreg CMD: ...``) on stderr, within the bounds. (Exit 0 may print
    notes, e.g. about a cut-off last line.)
    """
    from coreg.cli import main

    out, err = io.StringIO(), io.StringIO()
    root = logging.getLogger()
    saved_handlers = root.handlers[:]
    root.handlers.clear()  # main() configures logging afresh onto the captured stderr
    old_alarm = signal.signal(signal.SIGALRM, _on_alarm)
    code: int | None = None
    problem = ""
    t0 = time.perf_counter()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                memory_bound(extra_memory_bytes):
            signal.setitimer(signal.ITIMER_REAL, time_limit_s)
            try:
                code = main(list(argv))
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
    except _TimeBound:
        problem = f"ran past {time_limit_s:g} s"
    except MemoryError:
        problem = f"needed more than {extra_memory_bytes / 2**20:.0f} MiB"
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 2
    except BaseException as exc:
        problem = "raised " + "".join(traceback.format_exception_only(exc)).strip()[:300]
    finally:
        signal.signal(signal.SIGALRM, old_alarm)
        root.handlers[:] = saved_handlers
    elapsed = time.perf_counter() - t0
    text = err.getvalue()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not problem:
        if code not in (0, 2):
            problem = f"exit code {code}"
        elif "Traceback" in text:
            problem = "printed a traceback"
        elif code == 2 and (len(lines) != 1 or not lines[0].startswith("coreg")):
            problem = f"exit 2 with {len(lines)} lines on stderr"
    return Outcome(list(argv), code, text, out.getvalue(), elapsed, problem)


def digest(path: Path) -> str:
    """SHA-256 of a file (to prove a reader did not modify its input)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Tally:
    """Counts of a fuzz run."""

    mutations: int = 0
    runs: int = 0
    by_reader: dict[str, int] = field(default_factory=dict)
    exits: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    slowest_s: float = 0.0

    def add(self, reader: str, outcome: Outcome, label: str) -> None:
        self.runs += 1
        self.by_reader[reader] = self.by_reader.get(reader, 0) + 1
        key = f"{reader}:{outcome.code}"
        self.exits[key] = self.exits.get(key, 0) + 1
        self.slowest_s = max(self.slowest_s, outcome.elapsed_s)
        if outcome.problem:
            self.failures.append(f"{label}: coreg {' '.join(outcome.argv[:1])}: "
                                 f"{outcome.problem}: {outcome.stderr.strip()[-300:]}")

    def summary(self) -> str:
        readers = ", ".join(f"{k} {v}" for k, v in sorted(self.by_reader.items()))
        return (f"mutations tried: {self.mutations}; reader runs: {self.runs} ({readers}); "
                f"failed: {len(self.failures)}; slowest run {self.slowest_s:.2f} s")


def readers_for(index: int, mutant: Path, out_dir: Path, *, full: bool) -> list[list[str]]:
    """The reader command lines run on mutant number ``index``.

    Cheap readers (``analyze``, ``export rr-txt``) run on every mutant; the costlier ones
    (``export csv``, ``replay --headless --speed max``, ``report``) on every one when
    ``full``, else in rotation. ``sessions`` runs once per folder of mutants (see
    :func:`fuzz`).
    """
    o = out_dir / f"m{index}"
    cmds = [["analyze", str(mutant)],
            ["export", str(mutant), "--format", "rr-txt", "-o", f"{o}.txt"]]
    costly = [["export", str(mutant), "--format", "csv", "-o", f"{o}.csv"],
              ["replay", str(mutant), "--headless", "--speed", "max"],
              ["report", str(mutant), "--quiet", "--no-neurokit", "-o", f"{o}.html"]]
    if full:
        return cmds + costly
    if index % 10 == 0:
        cmds.append(costly[0])
    if index % 20 == 3:
        cmds.append(costly[1])
    if index % 250 == 7:
        cmds.append(costly[2])
    return cmds


def fuzz(bases: Sequence[bytes], n: int, seed: int, work: Path, *, full: bool = False,
         time_limit_s: float = 30.0, extra_memory_bytes: int = 1 << 30,
         sessions_every: int = 100, budget_s: float | None = None) -> Tally:
    """Mutate ``bases`` ``n`` times (seeded) and run every reader on the mutants.

    Each mutant is written to ``work/batch-K/`` (a folder that ``coreg sessions`` then lists);
    its SHA-256 is compared after every reader. Stops early when ``budget_s`` is spent.
    """
    rng = random.Random(seed)
    tally = Tally()
    out_dir = work / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    batch: list[Path] = []
    batch_dir = work / "batch-0"
    batch_dir.mkdir(exist_ok=True)
    for i in range(n):
        if budget_s is not None and time.perf_counter() - t_start > budget_s:
            break
        base = bases[i % len(bases)]
        names, data = mutate(rng, base)
        mutant = batch_dir / f"mutant-{i:05d}.jsonl"
        mutant.write_bytes(data)
        before = digest(mutant)
        tally.mutations += 1
        label = f"seed {seed} #{i} ({names})"
        for argv in readers_for(i, mutant, out_dir, full=full):
            outcome = run_cli(argv, time_limit_s=time_limit_s,
                              extra_memory_bytes=extra_memory_bytes)
            tally.add(argv[0] if argv[0] != "export" else f"export {argv[3]}", outcome, label)
            if digest(mutant) != before:
                tally.failures.append(f"{label}: coreg {argv[0]} modified its input")
        batch.append(mutant)
        if len(batch) >= sessions_every or i == n - 1:
            _sessions(batch_dir, batch, tally, time_limit_s * 4, extra_memory_bytes, seed)
            batch = []
            batch_dir = work / f"batch-{i + 1}"
            batch_dir.mkdir(exist_ok=True)
        for p in out_dir.iterdir():
            p.unlink()
    if batch:
        _sessions(batch_dir, batch, tally, time_limit_s * 4, extra_memory_bytes, seed)
    return tally


def _sessions(folder: Path, batch: list[Path], tally: Tally, time_limit_s: float,
              extra_memory_bytes: int, seed: int) -> None:
    digests = {p: digest(p) for p in batch}
    outcome = run_cli(["sessions", "--recordings-dir", str(folder), "--json", "--no-cache"],
                      time_limit_s=time_limit_s, extra_memory_bytes=extra_memory_bytes)
    label = f"seed {seed} sessions over {folder.name}"
    tally.add("sessions", outcome, label)
    if not outcome.problem:
        if outcome.code != 0:
            tally.failures.append(f"{label}: exit {outcome.code}: {outcome.stderr.strip()}")
        else:
            listed = {e.get("file") for e in json.loads(outcome.stdout or "[]")}
            missing = {p.name for p in batch} - listed
            if missing:
                tally.failures.append(f"{label}: {len(missing)} files not listed")
    for p, d in digests.items():
        if digest(p) != d:
            tally.failures.append(f"{label}: modified {p.name}")


def default_bases(root: Path, work: Path, *, t_max_s: float = 90.0) -> list[bytes]:
    """The recordings mutated: every file of ``recordings/examples`` trimmed to ``t_max_s``,
    and two made by ``coreg simulate`` (a solo ``rest`` and a ``dropout`` dyad)."""
    from coreg.cli import main

    bases = [trimmed(p.read_bytes(), t_max_s)
             for p in sorted((root / "recordings" / "examples").glob("*.jsonl"))]
    for scenario in ("rest", "dropout"):
        out = work / f"sim-{scenario}.jsonl"
        with contextlib.redirect_stdout(io.StringIO()):
            code = main(["simulate", "--scenario", scenario, "--duration", f"{t_max_s:g}",
                         "--seed", "3", "-o", str(out)])
        if code != 0:
            raise RuntimeError(f"coreg simulate {scenario} failed")
        bases.append(out.read_bytes())
    return bases


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use benchmarks/mutation_fuzz.py")
