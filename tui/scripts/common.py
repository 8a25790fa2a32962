"""What `list` and `watch` share: opening the store the way the app does, and
saying in one line why it cannot be read.

A script is told the real reason ("tasks.db: not an SQLite database", "…:
permission denied"), never the dashboard's "(see below)", which points at a
status line a script does not have.
"""

from __future__ import annotations

import argparse

from ..tau.store import Store
from ..tau.errors import StoreError, denied
from ..tau.paths import default_data_dir, default_runtime_dir, find_socket

#: The exit statuses: done; the store cannot be read (or a task asked for is
#: not there); a usage mistake.
OK, FAILED, USAGE = 0, 1, 2


def locate(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """(data dir, runtime dir, socket) found as the app finds them."""
    data_dir = args.data_dir or default_data_dir()
    runtime_dir = args.runtime_dir or default_runtime_dir()
    socket = None if runtime_dir is not None else (lambda: find_socket(None))
    return data_dir, runtime_dir, socket


class Unreadable(Exception):
    """The store cannot be read: one line for stderr (exit status 1)."""


async def open_store(args: argparse.Namespace) -> Store:
    data_dir, runtime_dir, socket = locate(args)
    refused = denied(data_dir)
    if refused is not None:
        raise Unreadable(refused)
    if not data_dir.exists():
        raise Unreadable(f"{data_dir} does not exist (tau has not run here; "
                         f"--data-dir names tau's data directory)")
    if not data_dir.is_dir():
        raise Unreadable(f"{data_dir} is not a directory")
    store = Store(data_dir, runtime_dir, socket=socket)
    # The side scan for sessions on no task is not needed here (every line is
    # about a task's sessions), and a scan cut off at exit by a short run
    # leaves aiosqlite's thread answering a closed loop.
    store._loose.start = lambda: None  # type: ignore[method-assign]  # noqa: SLF001
    await store.open()
    return store


def unreadable(store: Store) -> str | None:
    """Why the store cannot be read, in one line; None if it can.

    tasks.db broken or missing, or tau.db broken (a task's sessions would be
    bare ids): each is the file's own problem, worded by `tui.tau.errors`."""
    db = store._db  # noqa: SLF001 - the facade's own bookkeeping
    if {"tasks", "tau"} <= db.missing:
        return (f"no tau store in {store.data_dir} yet: tasks.db and tau.db not found "
                f"(tau creates them when its server first starts)")
    if db.tasks.conn is None:
        return db.problems.get("tasks") or db.busy.get("tasks") or "tasks.db: not found"
    if db.tau.conn is None and "tau" in db.problems and "tau" not in db.missing:
        return db.problems["tau"]
    return None


def check_readable(store: Store) -> None:
    """Raise Unreadable if the store cannot be read (see `unreadable`)."""
    problem = unreadable(store)
    if problem is not None:
        raise Unreadable(problem)


def one_line(exc: BaseException, store: Store | None = None) -> str:
    """The reason for ``exc`` in one line: the store's own, if it has one."""
    if isinstance(exc, (Unreadable, StoreError)):
        text = str(exc)
        if store is not None and not isinstance(exc, Unreadable):
            text = unreadable(store) or text
    else:
        text = f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())
