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

from .engine import Event


def environment(event: Event) -> dict[str, str]:
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
            os.killpg(proc.pid, 9)
        with contextlib.suppress(Exception):
            await proc.wait()
        return "timeout"
    except asyncio.CancelledError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 9)
        raise
    return "ok" if proc.returncode == 0 else f"exit {proc.returncode}"


class Hooks:
    """Runs the hook in the background and keeps the tasks until they end."""

    def __init__(self, command: str | None, timeout: float) -> None:
        self.command, self.timeout = command, timeout
        self._tasks: set[asyncio.Task[str]] = set()
        self.results: list[str] = []

    def fire(self, event: Event) -> None:
        if not self.command:
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
