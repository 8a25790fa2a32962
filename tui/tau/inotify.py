"""Linux inotify on the event loop: a change wakes the app, nothing else does.

watchfiles' `RustNotify` hands changes over from a thread that wakes every
polling step, so a fast step costs wake-ups all day and a slow one costs
latency. inotify itself is a file descriptor that becomes readable when the
kernel has an event: registered with the asyncio loop (`add_reader`), the
loop's own ``epoll`` wait covers it. No thread, no step: an idle dashboard
never wakes for it, and a commit is seen as soon as its first write lands.
A stop is an asyncio event, so it interrupts the wait at once.

Only where inotify exists (Linux) and watchfiles is not told to poll
(``WATCHFILES_FORCE_POLLING``, WSL): `available` says so, and the watcher
falls back to `RustNotify` otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import errno
import os
import struct
import sys
from collections.abc import AsyncIterator
from pathlib import Path

IN_MODIFY = 0x002
IN_ATTRIB = 0x004
IN_CLOSE_WRITE = 0x008
IN_MOVED_FROM = 0x040
IN_MOVED_TO = 0x080
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_DELETE_SELF = 0x400
IN_MOVE_SELF = 0x800
IN_Q_OVERFLOW = 0x4000
IN_IGNORED = 0x8000
IN_ONLYDIR = 0x01000000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC
#: What a commit, a new file, a deletion or a rename in a watched directory makes.
MASK = (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE
        | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF)
#: The watched directory itself went away (or its watch did).
GONE = IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED
_HEADER = struct.Struct("iIII")  # wd, mask, cookie, len


class WatchLost(OSError):
    """A watched directory was deleted or moved: attach anew."""


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        libc.inotify_init1  # noqa: B018 - present?
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _libc()


def available(force_polling: bool) -> bool:
    """Whether changes can come from inotify here (not when polling is asked for)."""
    return _LIBC is not None and not force_polling


class Inotify:
    """One inotify instance: watches on directories, events read without blocking."""

    def __init__(self) -> None:
        assert _LIBC is not None
        fd = _LIBC.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
        self.fd = fd
        self._dirs: dict[int, Path] = {}

    def add_watch(self, path: Path) -> None:
        assert _LIBC is not None
        wd = _LIBC.inotify_add_watch(self.fd, os.fsencode(path), MASK | IN_ONLYDIR)
        if wd < 0:
            err = ctypes.get_errno()
            raise (FileNotFoundError if err == errno.ENOENT else OSError)(err, os.strerror(err), str(path))
        self._dirs[wd] = Path(path)

    def read(self) -> list[tuple[int, str]]:
        """(mask, path) of every event queued now; [] if none."""
        out: list[tuple[int, str]] = []
        while True:
            try:
                buf = os.read(self.fd, 65536)
            except BlockingIOError:
                return out
            if not buf:
                return out
            pos = 0
            while pos + _HEADER.size <= len(buf):
                wd, mask, _, size = _HEADER.unpack_from(buf, pos)
                pos += _HEADER.size
                name = buf[pos:pos + size].rstrip(b"\0")
                pos += size
                base = self._dirs.get(wd)
                if base is None:
                    continue
                out.append((mask, str(base / os.fsdecode(name)) if name else str(base)))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


async def inotify_changes(paths: list[Path], stop: asyncio.Event, *,
                          tick_seconds: float) -> AsyncIterator[set[tuple[int, str]]]:
    """Batches of (mask, path) as `RustNotify.watch` gives them, ``set()`` after
    ``tick_seconds`` without one; ends at ``stop``; raises `WatchLost` when a
    watched directory goes away (its events up to then are yielded first)."""
    ino = Inotify()
    loop = asyncio.get_running_loop()
    pending: list[tuple[int, str]] = []
    wake = asyncio.Event()

    def readable() -> None:
        try:
            pending.extend(ino.read())
        except OSError:
            pending.append((IN_IGNORED, ""))
        wake.set()

    async def stopper() -> None:
        await stop.wait()
        wake.set()

    halt = asyncio.create_task(stopper(), name="inotify-stop")
    try:
        for p in paths:
            ino.add_watch(p)
        loop.add_reader(ino.fd, readable)
        try:
            while not stop.is_set():
                if not pending:
                    wake.clear()
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(wake.wait(), tick_seconds)
                    if stop.is_set():
                        return
                    if not pending:
                        yield set()
                        continue
                batch, lost = set(pending), any(m & (GONE | IN_Q_OVERFLOW) for m, _ in pending)
                pending.clear()
                yield batch
                if lost:
                    raise WatchLost(errno.ENOENT, "a watched directory went away")
        finally:
            loop.remove_reader(ino.fd)
    finally:
        halt.cancel()
        ino.close()
