"""The real CLI in tmux, read as an operator sees it: a private server, one control client.

``python -m tui --data-dir … --runtime-dir …`` runs in a detached tmux session
(160×50) on a private tmux server (``tmux -L sessiontop-bench-<pid>``). The
screen is read with ``capture-pane -p`` sent over one tmux control-mode client
(about 0.1 ms a capture, against ~2 ms for a forked ``tmux capture-pane``), so
it can be polled every 2 ms without stealing much of the 2 cores. A change's
time on screen is when the capture that first shows it was asked for.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from .common import REPO, child_env, now

WIDTH, HEIGHT = 160, 50


class Tmux:
    """A private tmux server for the benchmark (ended by ``kill_server``)."""

    def __init__(self) -> None:
        self.socket = f"sessiontop-bench-{os.getpid()}"
        self.started = False

    def name(self, prefix: str) -> str:
        self._n = getattr(self, "_n", 0) + 1
        return f"{prefix}{self._n}"

    def run(self, *args: str, check: bool = True) -> str:
        res = subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args],
                             capture_output=True, text=True)
        if check and res.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)}: {res.stderr.strip()}")
        return res.stdout

    def new_session(self, name: str, command: str) -> int:
        self.run("new-session", "-d", "-s", name, "-x", str(WIDTH), "-y", str(HEIGHT), command)
        if not self.started:
            self.run("set-option", "-g", "window-size", "manual")
            self.run("set-option", "-g", "remain-on-exit", "off")
            self.started = True
        return int(self.run("display-message", "-p", "-t", name, "#{pane_pid}").strip())

    def kill_session(self, name: str) -> None:
        self.run("kill-session", "-t", name, check=False)

    def kill_server(self) -> None:
        if self.started:
            self.run("kill-server", check=False)
            self.started = False
            # tmux leaves its socket file behind: remove ours.
            base = Path(os.environ.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}"
            (base / self.socket).unlink(missing_ok=True)


class Control:
    """One control-mode client: ``capture-pane`` and ``send-keys`` without forking."""

    def __init__(self, tmux: Tmux, name: str) -> None:
        self.tmux = tmux
        self.name = name
        self.proc: asyncio.subprocess.Process | None = None
        self.captures = 0

    async def start(self) -> Control:
        self.proc = await asyncio.create_subprocess_exec(
            "tmux", "-L", self.tmux.socket, "-f", "/dev/null", "-C", "attach-session", "-t", self.name,
            "-f", "no-output", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL, limit=1 << 22)
        # The attach itself answers with a block of its own: read blocks until
        # the one that answers this probe, so each later command reads its own.
        block = await self.command("display-message -p sessiontop-bench-sync")
        while block != ["sessiontop-bench-sync"]:
            block = await asyncio.wait_for(self._read_block(), 10)
        return self

    async def command(self, cmd: str) -> list[str]:
        assert self.proc is not None and self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write((cmd + "\n").encode())
        await self.proc.stdin.drain()
        return await self._read_block(cmd)

    async def _read_block(self, cmd: str = "") -> list[str]:
        """The lines of the next %begin … %end block."""
        assert self.proc is not None and self.proc.stdout is not None
        out: list[str] = []
        inside = False
        while True:
            raw = await self.proc.stdout.readline()
            if not raw:
                raise EOFError("tmux control client ended")
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if not inside:
                if line.startswith("%begin "):
                    inside = True
                    out = []
                continue
            if line.startswith("%end ") or line.startswith("%error "):
                if line.startswith("%error "):
                    raise RuntimeError(f"tmux {cmd}: {' '.join(out)}")
                return out
            out.append(line)

    async def capture(self) -> list[str]:
        self.captures += 1
        return await self.command(f"capture-pane -p -t {self.name}")

    async def keys(self, *keys: str) -> None:
        await self.command("send-keys -t " + self.name + " " + " ".join(shlex.quote(k) for k in keys))

    async def close(self) -> None:
        if self.proc is None:
            return
        try:
            if self.proc.returncode is None:
                self.proc.stdin.close()  # type: ignore[union-attr]
                await asyncio.wait_for(self.proc.wait(), 5)
        except (asyncio.TimeoutError, BrokenPipeError, ConnectionResetError):
            self.proc.kill()
            await self.proc.wait()
        self.proc = None


def cli_command(data_dir: Path, runtime_dir: Path, poll: float | None, *, wait_for_enter: bool) -> str:
    env = child_env()
    argv = [sys.executable, "-m", "tui", "--data-dir", str(data_dir), "--runtime-dir", str(runtime_dir)]
    if poll:
        argv += ["--poll", str(poll)]
    run = (f"cd {shlex.quote(str(REPO))} && exec env PYTHONPATH={shlex.quote(env['PYTHONPATH'])} "
           f"TERM=xterm-256color COLORTERM=truecolor " + " ".join(shlex.quote(a) for a in argv))
    if wait_for_enter:
        run = "read _go; " + run
    return f"sh -c {shlex.quote(run)}"


def list_ready(n_tasks: int) -> Callable[[list[str]], bool]:
    title = re.compile(rf"\b{n_tasks} tasks\b")

    def ok(lines: list[str]) -> bool:
        for i, line in enumerate(lines):
            if title.search(line):
                rows = [ln for ln in lines[i + 1:] if ln.strip()]
                return len(rows) >= min(4, n_tasks)
        return False

    return ok


async def poll_until(ctl: Control, cond: Callable[[list[str]], bool], timeout: float,
                     interval: float = 0.002) -> tuple[float | None, list[str]]:
    """Capture until ``cond`` holds; return when the successful capture was asked."""
    end = now() + timeout
    lines: list[str] = []
    while now() < end:
        t = now()
        lines = await ctl.capture()
        if cond(lines):
            return t, lines
        await asyncio.sleep(interval)
    return None, lines


class Session:
    """The CLI running in one tmux session."""

    def __init__(self, tmux: Tmux, name: str, data_dir: Path, runtime_dir: Path,
                 poll: float | None = None) -> None:
        self.tmux, self.name = tmux, name
        self.data_dir, self.runtime_dir, self.poll = data_dir, runtime_dir, poll
        self.pid = 0
        self.ctl: Control | None = None
        self.t_start = 0.0

    async def start(self) -> None:
        self.pid = self.tmux.new_session(self.name, cli_command(self.data_dir, self.runtime_dir,
                                                                self.poll, wait_for_enter=True))
        self.ctl = await Control(self.tmux, self.name).start()
        await asyncio.sleep(0.05)  # let the shell reach `read`
        self.t_start = now()
        await self.ctl.keys("Enter")

    def resolve_pid(self) -> int:
        """The CLI's own pid: the pane's process once its shell has exec'd Python
        (else a descendant running ``-m tui``)."""
        todo = [self.pid]
        while todo:
            pid = todo.pop(0)
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"-m" in cmd and b"tui" in cmd:
                self.pid = pid
                return pid
            for task in Path(f"/proc/{pid}/task").glob("*/children"):
                todo += [int(c) for c in task.read_text().split()]
        return self.pid

    async def stop(self, timeout: float = 10.0) -> float | None:
        """``q``, as an operator quits; the seconds until the process was gone
        (None: it was still there after ``timeout``, or could not be told)."""
        took = None
        if self.ctl is not None:
            try:
                t0 = now()
                await self.ctl.keys("q")
                while now() - t0 < timeout:
                    if not Path(f"/proc/{self.pid}").exists():
                        took = now() - t0
                        break
                    await asyncio.sleep(0.005)
            except (EOFError, RuntimeError):
                pass
            await self.ctl.close()
            self.ctl = None
        self.tmux.kill_session(self.name)
        return took
