"""What the hosts benchmark looks with: painted frames, process CPU, the machine's.

Helpers of `bench.hosts` and `bench.hosts_many` (their docstrings say what
is measured).
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from pathlib import Path
from typing import Any

from .common import CLK_TCK, cpu_seconds, now

SIZE = (160, 50)


def row_text(app: Any, host: str, task: int) -> str | None:
    from tui.ui.widgets.task_table import TaskTable

    for table in app.screen.query(TaskTable):
        with suppress(KeyError):
            return " ".join(c.plain for c in table.get_row(f"t:{task}@{host}"))
    return None


def frame_lines(screen: Any) -> list[str]:
    return [strip.text for strip in screen._compositor.render_strips()]  # noqa: SLF001


class Painted:
    """Each snapshot the task list applies is checked against what is awaited;
    once the widgets show it, the first painted frame that shows it too
    (found by its marker) gives the time."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.waiting: list[tuple[Any, asyncio.Future[float]]] = []
        screen = app.screen
        orig = screen.apply

        def apply(data: Any, status: Any, refresh: Any) -> None:
            orig(data, status, refresh)
            for check, future in list(self.waiting):
                if not future.done() and check(app):
                    screen.call_after_refresh(self._painted, check, future, screen)

        screen.apply = apply

    def _painted(self, check: Any, future: asyncio.Future[float], screen: Any) -> None:
        if future.done():
            return
        if check(self.app, frame_lines(screen)):
            future.set_result(now())
        elif screen.is_attached:
            screen.set_timer(0.002, lambda: screen.call_after_refresh(self._painted, check, future, screen))

    def expect(self, check: Any) -> asyncio.Future[float]:
        """``check(app, frame=None)``: the widgets (or a frame's lines) show it."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting.append((check, future))
        future.add_done_callback(lambda f: self.waiting.remove((check, f)))
        if check(self.app):
            self.app.screen.call_after_refresh(self._painted, check, future, self.app.screen)
        return future


def on_row(host: str, task: int, marker: str, text: str):  # type: ignore[no-untyped-def]
    """The task's row shows ``text`` (widgets: by its key; a frame: the line with its marker)."""
    def check(app: Any, frame: list[str] | None = None) -> bool:
        if frame is None:
            row = row_text(app, host, task)
            return row is not None and marker in row and text in row
        return any(marker in line and text in line for line in frame)
    return check


def source_for(sshd: Any, host: dict[str, Any]) -> Any:
    from tests.test_remote_ssh import SESSIONTOP
    from tui.remote.source import RemoteSource
    from tui.remote.ssh import SshTransport

    transport = SshTransport(host["name"], "gpu1", ssh_options=("-F", str(sshd.ssh_config)),
                             command=str(SESSIONTOP), data_dir=str(host["data"]), runtime_dir=str(host["run"]))
    return RemoteSource(transport)


async def wait_for(cond: Any, timeout: float, step: float = 0.005) -> bool:
    end = now() + timeout
    while now() < end:
        if cond():
            return True
        await asyncio.sleep(step)
    return bool(cond())


def feed_pids(data_dirs: list[Path]) -> dict[str, int]:
    """The feeds reading each store (on "the host": this machine), by data dir."""
    out: dict[str, int] = {}
    wanted = {str(d).encode(): str(d) for d in data_dirs}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        with suppress(OSError):
            words = (d / "cmdline").read_bytes().split(b"\0")
            if b"feed" in words:
                for w in words:
                    if w in wanted:
                        out[wanted[w]] = int(d.name)
    return out


def descendants(root: int) -> list[int]:
    """Every process under ``root`` now (sshd: its sessions, their shells and feeds)."""
    parent: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            with suppress(OSError, ValueError, IndexError):
                text = (d / "stat").read_text()
                parent[int(d.name)] = int(text[text.rindex(")") + 2:].split()[1])
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        kids = [p for p, pp in parent.items() if pp == pid]
        out += kids
        todo += kids
    return out


def _cpu(pid: int | str) -> float | None:
    try:
        return cpu_seconds(pid)
    except OSError:
        return None


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (every process, the kernel's too)."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / CLK_TCK
