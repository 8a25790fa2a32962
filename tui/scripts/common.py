"""What `list` and `watch` share: opening the store the way the app does, and
saying in one line why it cannot be read."""

from __future__ import annotations

import argparse

from ..tau.store import Store
from ..tau.errors import StoreError
from ..tau.paths import default_data_dir, default_runtime_dir, find_socket


def locate(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """(data dir, runtime dir, socket) found as the app finds them."""
    data_dir = args.data_dir or default_data_dir()
    runtime_dir = args.runtime_dir or default_runtime_dir()
    socket = None if runtime_dir is not None else (lambda: find_socket(None))
    return data_dir, runtime_dir, socket


class Unreadable(Exception):
    """The store cannot be read: one line for stderr, exit status 2."""


async def open_store(args: argparse.Namespace) -> Store:
    data_dir, runtime_dir, socket = locate(args)
    if data_dir.exists() and not data_dir.is_dir():
        raise Unreadable(f"{data_dir} is not a directory")
    store = Store(data_dir, runtime_dir, socket=socket)
    # The side scan for sessions on no task is not needed here (every line is
    # about a task's sessions), and a scan cut off at exit by a short run
    # leaves aiosqlite's thread answering a closed loop.
    store._loose.start = lambda: None  # type: ignore[method-assign]  # noqa: SLF001
    await store.open()
    return store


def check_readable(store: Store) -> None:
    """Raise Unreadable if tasks.db could not be opened or read."""
    status = store.status()
    if store._db.tasks.conn is None:  # noqa: SLF001
        problem = store._db.problems.get("tasks")  # noqa: SLF001
        raise Unreadable(f"cannot read the store in {store.data_dir}: {problem or 'tasks.db not found'}")
    if status.error:
        raise Unreadable(status.error)


def one_line(exc: BaseException) -> str:
    text = str(exc) if isinstance(exc, (Unreadable, StoreError)) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())
