"""Helpers for the fault, hostile-input and load tests (tests/test_faults.py,
tests/test_hostile.py, tests/test_load.py).

- `StoreGuard`: byte digests of the store files taken before the dashboard
  touches them, compared after: the dashboard must change nothing.
- `render_in_subprocess`: run the real app headless in a child process (for
  conditions the test process cannot produce on itself, e.g. a root process
  without the capabilities that let root read any file) and get its screen
  once it shows what the test waits for.
- A writer process (``python -m tests.faultkit write ...``) that plays a busy
  tau server at a fixed commit rate and reports every commit that failed.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.harness import apoll, flat, one_more_read, wait_for  # noqa: F401 - flat, wait_for: for the tests

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
STORE_FILES = ("tasks.db", "tasks.db-wal", "tau.db", "tau.db-wal")
EMPTY = hashlib.sha256(b"").hexdigest()

# --- nothing written -------------------------------------------------------------------


def digests(data_dir: Path) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in STORE_FILES:
        path = Path(data_dir) / name
        try:
            out[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        except (FileNotFoundError, IsADirectoryError):
            out[name] = None
    return out


@dataclass
class StoreGuard:
    """Digests of tasks.db, tau.db and their -wal files, taken while the writer
    is idle, before the dashboard opens the store.

    The one difference allowed: a -wal file that did not exist may exist,
    empty, afterwards. SQLite creates an empty -wal (and the -shm index) when
    it opens a WAL database that has none, even read-only; no data is in it.
    """

    data_dir: Path
    before: dict[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.before = digests(self.data_dir)

    def changes(self) -> dict[str, tuple[str | None, str | None]]:
        after = digests(self.data_dir)
        out = {}
        for name, was in self.before.items():
            now = after[name]
            if now == was or (was is None and now == EMPTY and name.endswith("-wal")):
                continue
            out[name] = (was, now)
        return out

    def check(self) -> None:
        changed = self.changes()
        assert not changed, f"the dashboard changed store files: {changed}"


# --- the screen ------------------------------------------------------------------------------


async def reads_change_nothing(pilot, app, data_dir: Path, rounds: int = 3) -> None:  # type: ignore[no-untyped-def]
    """With the writer idle, make the dashboard read the store ``rounds`` more
    times and check that no byte of tasks.db, tau.db or their -wal changed."""
    guard = StoreGuard(Path(data_dir))
    for _ in range(rounds):
        await one_more_read(pilot, app)
    guard.check()


async def press_fast(app, key: str, took_effect, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    """Send ``key`` the way the terminal driver does and wait until
    ``took_effect()`` holds. (Pilot.press also waits for the app to be idle,
    up to a second at a time, which under a busy writer may never come.)
    How fast the key acts is the benchmark's to measure, not this."""
    from textual import events

    event = events.Key(key, key if len(key) == 1 else None)
    event.set_sender(app)
    app._driver.send_message(event)
    await apoll(took_effect, timeout, f"key {key!r} to take effect", step=0.005)


# --- privilege: root without the right to read any file ----------------------------------

PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE = 1
CAP_DAC_READ_SEARCH = 2


def can_drop_dac() -> bool:
    return os.geteuid() == 0 and sys.platform.startswith("linux")


def _drop_dac() -> None:  # pragma: no cover - runs in the child before exec
    """Drop the capabilities that let root ignore file permissions: after exec,
    this root process is refused files its mode does not grant, like anyone."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def render_in_subprocess(data_dir: Path, runtime_dir: Path | None = None, *,
                         until: Sequence[str], drop_dac: bool = False,
                         timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run the app headless in a child until its screen shows every one of
    ``until`` (wrapping ignored), and return that screen on stdout. If it
    never does, the child fails, its stderr saying what the screen showed."""
    args = [PYTHON, "-m", "tests.faultkit", "render", str(data_dir)]
    for text in until:
        args += ["--until", text]
    if runtime_dir is not None:
        args += ["--runtime-dir", str(runtime_dir)]
    return subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          preexec_fn=_drop_dac if drop_dac else None)


async def _render(data_dir: Path, runtime_dir: Path | None, until: Sequence[str]) -> str:
    from tests.harness import make_app, screen_text, wait_until

    app = make_app(data_dir, runtime_dir)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: all(t in flat(screen_text(app)) for t in until), 30,
                         " and ".join(map(repr, until)))
        return screen_text(app)


# --- a store whose writer can lock readers out ----------------------------------------------


def rollback_store(data_dir: Path) -> sqlite3.Connection:
    """A store in rollback-journal mode (a copy, an old tool): there a writer's
    lock does block readers."""
    from tests.storekit import StoreKit, fixed_fleet

    k = StoreKit(data_dir)
    fixed_fleet(k)
    k.close()
    for name in ("tasks.db", "tau.db"):
        c = sqlite3.connect(data_dir / name, isolation_level=None)
        c.execute("PRAGMA journal_mode=DELETE")
        c.close()
    # check_same_thread=False: an in-app test takes the lock from a thread, so the
    # event loop (and the dashboard's half-done read) can go on while it waits.
    w = sqlite3.connect(data_dir / "tasks.db", isolation_level=None, timeout=30, check_same_thread=False)
    w.execute("PRAGMA busy_timeout=30000")
    return w


# --- a busy tau server -------------------------------------------------------------------------


def write_load(data_dir: Path, *, seconds: float, rate: float, task_id: int,
               sessions: list[str], seed: int = 1) -> dict[str, object]:
    """Commit ``rate`` times a second for ``seconds`` on the sessions of one task,
    each commit one short transaction the way tau writes: a message, a phase
    change, now and then a task update. Returns what was written and every
    commit that failed (there must be none)."""
    from tests.storekit import BASE_MS, assistant, tool_result, user
    from tui.tau.ddl import connect_writer

    rng = random.Random(seed)
    tau = connect_writer(Path(data_dir) / "tau.db")
    tasks = connect_writer(Path(data_dir) / "tasks.db")
    # What tau persists while sessions run (TAU.md §5.1): the real phases are the server's.
    phases = ("sending request", "waiting", "preparing", "compacting", "rate limited")
    commits = 0
    errors: list[str] = []
    start = time.monotonic()
    n = 0
    while True:
        now = time.monotonic()
        if now - start >= seconds:
            break
        due = start + n / rate
        if due > now:
            time.sleep(due - now)
        n += 1
        sid = sessions[n % len(sessions)]
        kind = n % 10
        try:
            if kind < 7:
                msg = (user(f"step {n}"), assistant(f"reply {n}", tokens=100, cost=0.001),
                       tool_result("bash", f"output {n}"))[n % 3]
                tau.execute("INSERT INTO messages (session_id, message_json, created_at) "
                            "VALUES (?,?,?)", (sid, json.dumps(msg), BASE_MS + n))
            elif kind < 9:
                tau.execute("UPDATE sessions SET last_phase=? WHERE id=?",
                            (rng.choice(phases), sid))
            else:
                tasks.execute("UPDATE tasks SET updated_at=? WHERE id=?", (BASE_MS + n, task_id))
            commits += 1
        except sqlite3.Error as exc:
            errors.append(repr(exc))
    elapsed = time.monotonic() - start
    # A final, known state: every session of the task at rest, with its last word.
    try:
        for i, sid in enumerate(sessions):
            tau.execute("UPDATE sessions SET last_phase=?, last_exit_status=? WHERE id=?",
                        ("idle", "completed" if i % 2 == 0 else "cancelled", sid))
            commits += 1
    except sqlite3.Error as exc:
        errors.append(repr(exc))
    tau.close()
    tasks.close()
    return {"commits": commits, "errors": errors, "elapsed": elapsed,
            "rate": commits / elapsed if elapsed else 0.0}


def start_writer(data_dir: Path, *, seconds: float, rate: float, task_id: int,
                 sessions: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [PYTHON, "-m", "tests.faultkit", "write", str(data_dir), "--seconds", str(seconds),
         "--rate", str(rate), "--task", str(task_id), "--sessions", ",".join(sessions)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


# --- command line for the child processes ----------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tests.faultkit")
    sub = parser.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("render")
    r.add_argument("data_dir", type=Path)
    r.add_argument("--runtime-dir", type=Path, default=None)
    r.add_argument("--until", action="append", default=[])
    w = sub.add_parser("write")
    w.add_argument("data_dir", type=Path)
    w.add_argument("--seconds", type=float, required=True)
    w.add_argument("--rate", type=float, required=True)
    w.add_argument("--task", type=int, required=True)
    w.add_argument("--sessions", required=True)
    args = parser.parse_args(argv)
    if args.cmd == "render":
        print(asyncio.run(_render(args.data_dir, args.runtime_dir, args.until)))
        return 0
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    result = write_load(args.data_dir, seconds=args.seconds, rate=args.rate, task_id=args.task,
                        sessions=args.sessions.split(","))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
