"""One host's link: a feed process (ssh, or a plain subprocess), kept up.

States (`LinkState`): ``connecting`` (started, no hello yet), ``live``,
``lagging`` (no line for LAGGING_BEATS heartbeats), ``reconnecting`` (a live
link ended: why, and the next try), ``unreachable`` (the attempt never got a
hello: ssh's own last line, sessiontop missing there, another protocol, a
password asked, something that is not the wire). Attempts are retried with
backoff (1, 2, 5, 10, 30 s). Everything runs on the event loop without ever
blocking it: the process, its pipes and the waits are asyncio's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..model.hosts import LinkState
from ..model.text import one_line
from .codec import DecodeError
from .lines import LineReader, Overlong
from .ssh import Transport, explain
from .wire import KIND_OF, LAGGING_BEATS, MAX_LINE, PROTOCOL, SCHEMA, VERSION, Hello, loads

BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0)
#: A hello must come this long (s) after the start (ssh's ConnectTimeout is 10).
HELLO_TIMEOUT = 30.0
#: A live feed silent for this many heartbeats is given up and started again.
DEAD_BEATS = 12
#: Lines before the hello that are not the wire (a login banner, a noisy
#: shell rc file) are skipped, up to this many.
PRELUDE_LINES = 50
#: Bytes of requests written and not yet taken by the process, at most.
MAX_QUEUED_REQUESTS = 256 * 1024
#: ssh's stderr lines kept (the last one is the reason).
STDERR_LINES = 8


class LinkDown(Exception):
    """A request while no feed answers, or more queued than the bound."""


class Link:
    def __init__(self, transport: Transport, *, on_message: Callable[[Any], None],
                 on_state: Callable[[LinkState], None] | None = None,
                 on_problem: Callable[[str], None] | None = None,
                 backoff: tuple[float, ...] = BACKOFF, hello_timeout: float = HELLO_TIMEOUT,
                 clock: Callable[[], float] = time.time) -> None:
        self.transport = transport
        self.host = transport.host
        self.on_message = on_message
        self.on_state = on_state
        self.on_problem = on_problem
        self.backoff = backoff
        self.hello_timeout = hello_timeout
        self.clock = clock
        self.state = LinkState(self.host, since=clock())
        self.hello: Hello | None = None
        self._proc: asyncio.subprocess.Process | None = None
        #: A process started before the app (`prestart`), taken by the first attempt.
        self._early: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None
        self._retry = asyncio.Event()
        self._stopping = False
        #: Bytes and lines read from feeds so far (the benchmark's bytes on the wire).
        self.bytes_in = 0
        self.lines_in = 0
        #: Bytes read per kind of message ("hello", "delta", "beat", …).
        self.bytes_by_kind: dict[str, int] = {}
        #: s: the last line from a live feed (kept in the state when it changes).
        self.last_word_at: float | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name=f"link-{self.host}")

    async def prestart(self) -> None:
        """Start the feed's process now, before the app is set up: ssh's
        handshake and the feed's own start overlap the dashboard's (its first
        attempt takes the process; a failure here is left to that attempt)."""
        if self._early is None and self._task is None:
            with contextlib.suppress(OSError):
                self._early = await self._spawn()

    async def stop(self) -> None:
        self._stopping = True
        early, self._early = self._early, None
        if early is not None and early.returncode is None:  # started, never taken
            await self._kill(early)
        self._retry.set()
        # A feed that stopped answering will not see its stdin close either:
        # it gets a moment only (quitting is not held up by a host).
        await self._end_process(grace=2.0 if self.state.state == "live" else 0.2)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
            self._task = None
        self._set(state="stopped", reason="", next_try_at=None)

    @property
    def pid(self) -> int | None:
        """The feed's process here (ssh, or the feed itself), while there is one."""
        return self._proc.pid if self._proc is not None else None

    def retry_now(self) -> None:
        """Skip the rest of a backoff wait (the operator asked to re-read)."""
        self._retry.set()

    def send(self, line: bytes) -> None:
        """One request line to the feed; `LinkDown` when none answers or too much waits."""
        proc = self._proc
        if proc is None or proc.stdin is None or not self.state.connected:
            raise LinkDown(self.state.describe(self.clock()))
        transport = proc.stdin.transport
        if transport.is_closing():
            raise LinkDown(f"{self.host}: the link is closing")
        if transport.get_write_buffer_size() > MAX_QUEUED_REQUESTS:  # type: ignore[attr-defined]
            raise LinkDown(f"{self.host}: the link is not taking requests (slow, or stalled)")
        proc.stdin.write(line)

    def _set(self, **changes: Any) -> None:
        state = self.state
        if "state" in changes and changes["state"] != state.state:
            changes.setdefault("since", self.clock())
            changes.setdefault("last_word_at", self.last_word_at)
        new = replace(state, **changes)
        if new != state:
            self.state = new
            if self.on_state is not None:
                self.on_state(new)

    # --- attempts -----------------------------------------------------------------------------

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            self._set(state="connecting", reason="", next_try_at=None)
            was_live, reason = await self._attempt()
            if self._stopping:
                return
            failures = 0 if was_live else failures + 1
            delay = self.backoff[min(failures, len(self.backoff)) - 1] if failures else self.backoff[0]
            self._set(state="reconnecting" if was_live else "unreachable", reason=reason,
                      next_try_at=self.clock() + delay)
            self._retry.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._retry.wait(), delay)

    async def _attempt(self) -> tuple[bool, str]:
        """One process, from start to end: (whether it was live, why it ended)."""
        self.hello = None
        early, self._early = self._early, None
        try:
            proc = early if early is not None else await self._spawn()
        except OSError as exc:
            what = "ssh" if self.transport.via_ssh else "the feed"
            return False, f"cannot start {what}: {one_line(exc, 200)}"
        self._proc = proc
        stderr: list[str] = []
        why: list[str] = []  # set by the reader or the watchdog when they end the process
        collect = asyncio.create_task(self._stderr(proc, stderr))
        last_word = [time.monotonic()]
        watchdog = asyncio.create_task(self._watchdog(proc, last_word, why))
        try:
            await self._read(proc, last_word, why)
            await self._end_process(grace=5.0)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(collect, 2.0)
        finally:
            watchdog.cancel()
            collect.cancel()
            if self._proc is proc:
                self._proc = None
        was_live = self.hello is not None
        if why:
            return was_live, why[0]
        if was_live:
            last = next((s for s in reversed(stderr) if s.strip()), "")
            return True, "link lost: " + (one_line(last, 200) if last else
                                          f"the feed ended (status {proc.returncode})")
        return False, one_line(explain(self.transport, proc.returncode, stderr), 300)

    async def _spawn(self) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            *self.transport.argv(), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, start_new_session=True)

    async def _read(self, proc: asyncio.subprocess.Process, last_word: list[float], why: list[str]) -> None:
        assert proc.stdout is not None
        reader = LineReader(proc.stdout, MAX_LINE)
        prelude: list[str] = []
        while True:
            before = reader.bytes_read
            item = await reader.next()
            self.bytes_in += reader.bytes_read - before
            if item is None:
                if prelude and self.hello is None:
                    why.append(f"{self.host} did not speak sessiontop's wire: it printed {prelude[0]!r}")
                return
            last_word[0] = time.monotonic()
            self.lines_in += 1
            if isinstance(item, Overlong):
                why.append(f"{self.host} sent a line of over {MAX_LINE:,} bytes (the wire's limit)")
                return await self._kill(proc)
            if self.hello is not None:
                self.last_word_at = self.clock()
                if self.state.state != "live":
                    self._set(state="live", reason="")
            try:
                msg = loads(item)
            except DecodeError as exc:
                if self.hello is not None:
                    if self.on_problem is not None:
                        self.on_problem(f"{self.host} sent a line that is not the wire: {one_line(exc, 160)}")
                    continue
                prelude.append(one_line(item.decode("utf-8", "replace"), 80))
                if len(prelude) > PRELUDE_LINES:
                    why.append(f"{self.host} did not speak sessiontop's wire: it printed {prelude[0]!r}")
                    return await self._kill(proc)
                continue
            kind = KIND_OF.get(type(msg), "?")
            self.bytes_by_kind[kind] = self.bytes_by_kind.get(kind, 0) + len(item) + 1
            if self.hello is None:
                problem = self._greet(msg)
                if problem:
                    why.append(problem)
                    return await self._kill(proc)
                continue
            self.on_message(msg)

    def _greet(self, msg: Any) -> str | None:
        """The first message must be a hello of this protocol; the problem if not."""
        if not isinstance(msg, Hello):
            return f"{self.host} did not start with a hello (it sent {type(msg).__name__})"
        if msg.protocol != PROTOCOL or msg.schema != SCHEMA:
            same = msg.version == VERSION
            return (f"{self.host} runs sessiontop {one_line(msg.version, 40)}, this is {VERSION}"
                    + (f" (wire {msg.protocol}/{one_line(msg.schema, 16)}, here {PROTOCOL}/{SCHEMA})"
                       if same else ""))
        self.hello = msg
        self.last_word_at = self.clock()
        self._set(state="live", reason="", remote_version=msg.version)
        self.on_message(msg)
        return None

    async def _watchdog(self, proc: asyncio.subprocess.Process, last_word: list[float], why: list[str]) -> None:
        """No hello in time, lagging after LAGGING_BEATS quiet heartbeats, given
        up after DEAD_BEATS."""
        started = time.monotonic()
        while True:
            hello = self.hello
            if hello is None:
                left = started + self.hello_timeout - time.monotonic()
                if left <= 0:
                    why.append(f"{self.host} did not answer as sessiontop in {self.hello_timeout:g} s")
                    return await self._kill(proc)
                await asyncio.sleep(min(left, 0.5))
                continue
            beat = hello.heartbeat_s
            quiet = time.monotonic() - last_word[0]
            if quiet >= DEAD_BEATS * beat:
                why.append(f"no word from {self.host} for {quiet:.0f} s: starting again")
                return await self._kill(proc)
            if quiet >= LAGGING_BEATS * beat and self.state.state == "live":
                self._set(state="lagging")
            next_at = (LAGGING_BEATS if quiet < LAGGING_BEATS * beat else DEAD_BEATS) * beat
            await asyncio.sleep(max(0.02, min(next_at - quiet, beat)))

    async def _stderr(self, proc: asyncio.subprocess.Process, keep: list[str]) -> None:
        assert proc.stderr is not None
        reader = LineReader(proc.stderr, 4096)
        while (item := await reader.next()) is not None:
            if isinstance(item, bytes):
                keep.append(item.decode("utf-8", "replace").rstrip("\r"))
                del keep[:-STDERR_LINES]

    async def _kill(self, proc: asyncio.subprocess.Process) -> None:
        """End the process (and anything it started in its session)."""
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
                os.killpg(proc.pid, signal.SIGCONT)  # (a stopped feed ends too)

    async def _end_process(self, grace: float = 2.0) -> None:
        """Close the feed's stdin (it ends on that), then TERM, then KILL."""
        proc = self._proc
        if proc is None:
            return
        if proc.stdin is not None and not proc.stdin.is_closing():
            proc.stdin.close()
        for sig in (None, signal.SIGTERM, signal.SIGKILL):
            if sig is not None and proc.returncode is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, sig)
                    if sig == signal.SIGTERM:  # a stopped process (SIGSTOP, ^Z) hears it once continued
                        os.killpg(proc.pid, signal.SIGCONT)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(proc.wait(), grace)
                return
