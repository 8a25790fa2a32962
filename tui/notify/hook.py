"""The command hook: ``notify_command`` run for each notification.

Run through ``/bin/sh -c`` with the event in ``SESSIONTOP_*`` environment
variables and as one JSON object on stdin; killed after the timeout. It runs
as its own asyncio task: the dashboard never waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections import deque

from .engine import Event


#: What became of the newest hook runs, kept for the log screen and tests.
RESULTS_KEPT = 50
#: At most this many hook runs at once; more are dropped (and said so): a burst
#: of events (the server going down) never forks a crowd.
MAX_RUNNING = 8


def environment(event: Event) -> dict[str, str]:
    """The event as ``SESSIONTOP_KIND``, ``SESSIONTOP_MESSAGE``, ``SESSIONTOP_TASK_ID``, …;
    ``SESSIONTOP_EVENT`` is the notification kind (exit, review, stall, …)."""
    env = dict(os.environ)
    for key, value in event.to_json().items():
        env[f"SESSIONTOP_{key.upper()}"] = str(value)
    env["SESSIONTOP_EVENT"] = event.notify or event.kind
    return env


async def run_hook(command: str, event: Event, timeout: float) -> str:
    """Run the command for one event; what became of it ("ok", "exit 3", "timeout", …)."""
    try:
        proc = await asyncio.create_subprocess_exec(
            "/bin/sh", "-c", command, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            env=environment(event), start_new_session=True)
    except OSError as exc:
        return f"could not start: {exc}"
    data = (json.dumps(event.to_json()) + "\n").encode()
    try:
        await asyncio.wait_for(proc.communicate(data), timeout)
    except asyncio.TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            await proc.wait()
        return "timeout"
    except asyncio.CancelledError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        raise
    return "ok" if proc.returncode == 0 else f"exit {proc.returncode}"


class Hooks:
    """Runs the hook in the background and keeps the tasks until they end."""

    def __init__(self, command: str | None, timeout: float) -> None:
        self.command, self.timeout = command, timeout
        self._tasks: set[asyncio.Task[str]] = set()
        self.results: deque[str] = deque(maxlen=RESULTS_KEPT)

    def fire(self, event: Event) -> None:
        """Start the command for ``event`` and return at once."""
        if not self.command:
            return
        if len(self._tasks) >= MAX_RUNNING:
            self.results.append("dropped: too many running")
            return
        task = asyncio.create_task(run_hook(self.command, event, self.timeout))
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[str]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is None:
            self.results.append(task.result())

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
