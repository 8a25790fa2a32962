"""The real command line on a real pseudo-terminal, its screen read by a terminal emulator.

`PtyApp` runs ``python -m tui ARGS`` with the pty's slave as its terminal,
reads what it writes and feeds it to `pyte` (a VT emulator), so a test sees
the screen a terminal would show, and can tell which modes the app left the
terminal in (alternate screen, mouse tracking, cursor) from the bytes written.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import pyte

REPO = Path(__file__).resolve().parent.parent
#: DEC private modes set (h) or reset (l), e.g. ESC[?1049h.
MODE = re.compile(rb"\x1b\[\?([\d;]+)([hl])")
ALT_SCREEN, ANY_MOTION_MOUSE, BASIC_MOUSE, CURSOR = 1049, 1003, 1000, 25


class PtyApp:
    """One run of the CLI on a pty of ``cols`` x ``rows``."""

    def __init__(self, *args: str, cols: int = 100, rows: int = 30,
                 env: Mapping[str, str] | None = None, cwd: Path = REPO) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        full_env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(cols), LINES=str(rows))
        full_env.pop("TEXTUAL", None)
        # Not the developer's own config file: a test says what it wants.
        full_env["XDG_CONFIG_HOME"] = str(REPO / "tests" / "no-config-here")
        full_env.update(env or {})
        self.proc = subprocess.Popen([sys.executable, "-m", "tui", *args], cwd=cwd, stdin=slave,
                                     stdout=slave, stderr=slave, env=full_env,
                                     start_new_session=True, close_fds=True)
        os.close(slave)
        self.fd: int | None = master
        self.output = bytearray()
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)

    # --- reading -------------------------------------------------------------------

    def read(self, seconds: float) -> None:
        """Take what the app wrote for up to ``seconds`` (less once it ended)."""
        deadline = time.monotonic() + seconds
        while self.fd is not None and time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if not ready:
                if self.proc.poll() is not None:
                    return
                continue
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:  # the slave side is closed: the app ended
                return
            if not chunk:
                return
            self.output += chunk
            self.stream.feed(chunk)

    def lines(self) -> list[str]:
        return list(self.screen.display)

    def text(self) -> str:
        return "\n".join(self.lines())

    def wait(self, predicate: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            if self.proc.poll() is not None:
                self.read(0.2)
                if predicate():
                    return
                break
            self.read(0.1)
        raise AssertionError(f"timed out waiting for {what or predicate}; screen:\n{self.text()}\n"
                             f"tail: {bytes(self.output[-600:])!r}")

    def wait_for(self, *texts: str, timeout: float = 60.0) -> str:
        """Wait until every one of ``texts`` is on the screen at once."""
        self.wait(lambda: all(t in self.text() for t in texts), timeout, " and ".join(map(repr, texts)))
        return self.text()

    def row_of(self, text: str) -> int:
        """The screen line showing ``text`` (first one)."""
        for y, line in enumerate(self.lines()):
            if text in line:
                return y
        raise AssertionError(f"{text!r} not on screen:\n{self.text()}")

    def background(self, text: str) -> str:
        """The background colour where ``text`` is drawn (the cursor row has its own)."""
        y = self.row_of(text)
        x = self.lines()[y].index(text)
        return self.screen.buffer[y][x].bg

    # --- writing and ending --------------------------------------------------------

    def send(self, data: bytes) -> None:
        assert self.fd is not None
        os.write(self.fd, data)

    def signal(self, signum: int) -> None:
        os.kill(self.proc.pid, signum)

    def wait_exit(self, timeout: float = 30.0) -> int:
        """The exit status, once the process ended (a signal's death is -N)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.read(0.1)
            if self.proc.poll() is not None:
                self.read(0.3)
                return self.proc.returncode
        raise AssertionError(f"the app did not end; screen:\n{self.text()}")

    def modes(self) -> dict[int, bool]:
        """Each DEC private mode as the app last left it (True: set)."""
        state: dict[int, bool] = {}
        for numbers, action in MODE.findall(bytes(self.output)):
            for n in numbers.split(b";"):
                state[int(n)] = action == b"h"
        return state

    def close_terminal(self) -> None:
        """The terminal window closes: the master side goes away."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self.close_terminal()
