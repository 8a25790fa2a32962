"""``sessiontop feed``: this host's tau, as the wire, on stdout; requests on stdin.

Run by the local side over ssh (or as a plain subprocess). It reads tau with
the dashboard's own data layer: `tui.tau.store.Store` (the same reads, the
same socket subscriptions, the same allowlist: read-only toward tau) woken
by `tui.tau.watcher.watch_store` and by tau's server, and pushes what changed
as it changes; nothing is polled over the link. It needs no terminal, keeps
nothing on disk, opens only tau's store and socket named at its start, and
ends when stdin closes (the link is gone) or on SIGTERM, SIGHUP or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import selectors
import signal
import socket
import sys
import time
from dataclasses import replace
from pathlib import Path

from ..notify.engine import Event
from ..tau.errors import StoreError
from ..tau.paths import default_data_dir, default_runtime_dir, find_socket
from ..tau.store import Store
from ..tau.watcher import watch_store
from .alerts import Alerts
from .answer import Answers
from .lines import LineReader, Overlong
from .outbox import MAX_QUEUED, Closed, Outbox
from .publish import Publisher
from .wire import (
    HEARTBEAT_S, MAX_LINE, MAX_REQUEST, PROTOCOL, SCHEMA, VERSION, Beat, Error, Events, Hello,
    Stalls, Versions, dumps,
)

#: After a file event with no visible commit, look again this much later (s),
#: as the app does (tau's WAL frames land before their commit is visible).
RECHECK_DELAYS = (0.01, 0.04, 0.12, 0.3, 0.6, 1.0)
#: While changes stream in, at most one read per this many seconds (the app's MIN_CYCLE_S).
MIN_CYCLE_S = 0.04
#: Usage sums: a chunk, then this pause (s), as the app counts them.
USAGE_PAUSE = 0.005
#: Events kept while the link has no room (the oldest go first, and are counted).
MAX_HELD_EVENTS = 500


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="sessiontop feed",
                                description="this host's tau for a remote sessiontop, as JSON lines on "
                                            "stdout (run by sessiontop over ssh; ends when stdin closes)")
    p.add_argument("--data-dir", type=Path, default=None, help="tau's data directory (default: tau's)")
    p.add_argument("--runtime-dir", type=Path, default=None, help="tau's runtime directory (tau.sock)")
    p.add_argument("--heartbeat", type=float, default=HEARTBEAT_S, help=argparse.SUPPRESS)
    p.add_argument("--max-queued", type=int, default=MAX_QUEUED, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if not 0.05 <= args.heartbeat <= 600 or not 4096 <= args.max_queued <= 1 << 30:
        p.error("--heartbeat 0.05-600 s, --max-queued 4096 bytes to 1 GiB")
    return args


def main(argv: list[str]) -> int:
    args = parse(argv)
    # The wire gets a descriptor of its own; whatever else prints to fd 1
    # (a library, a warning) goes to stderr and cannot corrupt it.
    wire_fd = os.dup(1)
    os.dup2(2, 1)
    try:
        return asyncio.run(Feed(args, wire_fd).run())
    except KeyboardInterrupt:
        return 0


class Feed:
    """The feed's parts: the store, what wakes it, what it sends, what it answers."""

    def __init__(self, args: argparse.Namespace, wire_fd: int) -> None:
        data_dir = args.data_dir or default_data_dir()
        runtime_dir = args.runtime_dir or default_runtime_dir()
        socket_at = None if runtime_dir is not None else (lambda: find_socket(None))
        self.store = Store(data_dir, runtime_dir, socket=socket_at)
        # A large store's first screen first, the rest in the background
        # (`_count_usage`, to the end): the rows of the first screen go out
        # before the long-finished tasks' links are read, and those rows
        # follow once they are (`Publisher.held`).
        self.store.first_screen_first()
        self.heartbeat = args.heartbeat
        self.out = Outbox(wire_fd, args.max_queued)
        self.publisher = Publisher()
        self.alerts = Alerts(self.store)
        self.answers = Answers(self.store, resync=self._resync)
        self.stop = asyncio.Event()
        self.wake = asyncio.Event()
        self._force = True
        self._event = False
        self._key: object = None
        self._held: list[Event] = []
        self._lost = 0
        self._counting: asyncio.Task[None] | None = None
        self._rechecks: list[asyncio.TimerHandle] = []
        self.status = 0  # the exit status

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.stop.set)
        await self.out.open()
        store = self.store
        store.live.add_listener(self.wake.set)
        tasks: list[asyncio.Task[None]] = []
        try:
            await store.open()
            self._send(Hello(protocol=PROTOCOL, version=VERSION, schema=SCHEMA, host=socket.gethostname(),
                             data_dir=str(store.data_dir), runtime_dir=_text(store.runtime_dir),
                             server=store.live.view(), heartbeat_s=self.heartbeat, max_line=MAX_LINE,
                             at=time.time()))
            tasks = [asyncio.create_task(self._files()), asyncio.create_task(self._requests()),
                     asyncio.create_task(self._publish())]
            for task in tasks:
                task.add_done_callback(self._ended)
            await self.stop.wait()
        except Closed:
            pass
        finally:
            for task in tasks + [t for t in (self._counting,) if t is not None]:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(BaseException):
                    await task
            for handle in self._rechecks:
                handle.cancel()
            await self.alerts.close()
            await store.close()
            await self.out.close()
        return self.status

    def _ended(self, task: asyncio.Task[None]) -> None:
        """A part of the feed ended: the feed ends (said on stderr if it failed)."""
        if not task.cancelled() and task.exception() is not None:
            print(f"sessiontop feed: {task.exception()!r}", file=sys.stderr, flush=True)
            self.status = 1
        self.stop.set()

    def _send(self, msg: object) -> None:
        line = dumps(msg)
        if len(line) > MAX_LINE:  # one row over the line's limit: said, not sent
            line = dumps(Error(None, f"a {type(msg).__name__} of {len(line):,} bytes is over the wire's "
                                     f"{MAX_LINE:,}-byte line: left out"))
        self.out.send(line)

    def _resync(self) -> None:
        self.publisher.reset()
        self._force = True
        self.wake.set()

    # --- what wakes the feed ---------------------------------------------------------

    async def _files(self) -> None:
        store = self.store
        async for batch in watch_store(store.data_dir, self.stop, runtime_dir=store.runtime_dir):
            if "tau.sock" in batch or "tau.pid" in batch:
                store.live.poke()
            self._force = self._force or "<attached>" in batch
            self._event = self._event or bool(batch)
            self.wake.set()

    async def _requests(self) -> None:
        """Answer each request line in turn; the end of stdin ends the feed."""
        loop = asyncio.get_running_loop()
        stream = asyncio.StreamReader(limit=MAX_REQUEST * 2)
        transport: asyncio.BaseTransport | None = None
        if _pollable(0):
            transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream),
                                                        os.fdopen(0, "rb", buffering=0, closefd=False))
        else:
            # stdin is a file or /dev/null, which the event loop cannot wait on
            # (epoll refuses them): read it in a thread; its end ends the feed.
            loop.run_in_executor(None, _pump_stdin, loop, stream)
        reader = LineReader(stream, MAX_REQUEST)
        try:
            while True:
                line = await reader.next()
                if line is None:
                    break
                if isinstance(line, Overlong):
                    answer = dumps(Error(None, f"a request over {MAX_REQUEST:,} bytes: skipped"))
                elif not line.strip():
                    continue
                else:
                    answer = await self.answers.answer(line)
                await self.out.wait_room()
                self.out.send(answer)
        except Closed:
            pass
        finally:
            if transport is not None:
                transport.close()
            self.stop.set()

    # --- pushing what changed ----------------------------------------------------------

    async def _publish(self) -> None:
        last = 0.0
        try:
            while not self.stop.is_set():
                await self._sleep()
                if self.stop.is_set():
                    return
                pause = last + MIN_CYCLE_S - time.monotonic()
                if pause > 0:
                    await asyncio.sleep(pause)
                self.wake.clear()
                # Coalescing: while the link is full nothing is read; the next
                # delta is against what was sent, so each task's newest row wins.
                await self.out.wait_room()
                try:
                    if await self._look():
                        last = time.monotonic()
                except Closed:
                    raise
                except Exception as exc:  # noqa: BLE001 - said on the wire; the feed goes on
                    self._send(Error(None, f"unexpected error while reading: {exc!r}"[:300]))
                    last = time.monotonic()
                if time.monotonic() - self.out.last_sent >= self.heartbeat:
                    self.out.send(dumps(Beat(time.time())))
        except Closed:
            self.stop.set()

    async def _sleep(self) -> None:
        """Until woken, a heartbeat is due, or a session's stall threshold passes."""
        wait = max(0.0, self.heartbeat - (time.monotonic() - self.out.last_sent))
        due = self.alerts.next_due
        if due is not None:
            wait = min(wait, max(0.0, due - time.time()) + 0.05)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.wake.wait(), wait)

    async def _look(self) -> bool:
        """Read and send if the store or the server moved; True if it had."""
        store = self.store
        force, self._force = self._force, False
        event, self._event = self._event, False
        try:
            dv = await store.data_versions()
            key: Versions = (dv[0], dv[1], store.live.version)
            due = self.alerts.next_due
            if key == self._key and not force and (due is None or time.time() <= due):
                if event:
                    self._look_again()
                return False
            self._key = key
            snap = await store.read_task_list()
        except StoreError as exc:
            # The rows sent stay the last good ones; the status says why (stale).
            status = replace(store.status(), error=str(exc))
            for msg in self.publisher.failed(status, (None, None, store.live.version), time.time()):
                self._send(msg)
            return True
        publisher = self.publisher
        for msg in publisher.messages(snap, key, store.usage_pending(), hold=store.first_screen_pending()):
            self._send(msg)
        if publisher.held is not None:
            self._force = True  # the rest of the list goes at the next look it may
            if not store.first_screen_pending():
                self.wake.set()
        await self._tell()
        if store.usage_pending() and self._counting is None:
            self._counting = asyncio.create_task(self._count_usage())
        return True

    async def _tell(self) -> None:
        """The engine's events and stalls since the last look (held while the link is full)."""
        try:
            events, stalled = await self.alerts.step()
        except StoreError:
            return
        self._held.extend(events)
        if len(self._held) > MAX_HELD_EVENTS:
            self._lost += len(self._held) - MAX_HELD_EVENTS
            del self._held[:-MAX_HELD_EVENTS]
        if self._held and self.out.room():
            self._send(Events(tuple(self._held), lost=self._lost))
            self._held, self._lost = [], 0
        if stalled is not None:
            self._send(Stalls(stalled))

    def _look_again(self) -> None:
        for handle in self._rechecks:
            handle.cancel()
        loop = asyncio.get_running_loop()
        self._rechecks = [loop.call_later(d, self.wake.set) for d in RECHECK_DELAYS]

    async def _count_usage(self) -> None:
        """Long sessions' usage sums, a chunk at a time, as the app counts them."""
        try:
            while not self.stop.is_set() and await self.store.count_usage():
                if self.publisher.held is not None and not self.store.first_screen_pending():
                    self.wake.set()  # the held rows are whole now: they go
                await asyncio.sleep(USAGE_PAUSE)
        except StoreError:
            pass
        finally:
            self._counting = None
        self._force = True
        self.wake.set()


def _text(path: Path | None) -> str | None:
    return None if path is None else str(path)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))


def _pollable(fd: int) -> bool:
    """Whether the event loop can wait on ``fd`` (a pipe, socket or terminal)."""
    try:
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
    except (OSError, ValueError):
        return False
    return True


def _pump_stdin(loop: asyncio.AbstractEventLoop, stream: asyncio.StreamReader) -> None:
    """Blocking reads of stdin handed to ``stream`` on the loop, then its end."""
    try:
        while chunk := os.read(0, 64 * 1024):
            loop.call_soon_threadsafe(stream.feed_data, chunk)
    except OSError:
        pass
    with contextlib.suppress(RuntimeError):  # the loop closed first: nothing to tell
        loop.call_soon_threadsafe(stream.feed_eof)
