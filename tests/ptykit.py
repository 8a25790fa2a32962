"""The real command line on a real pseudo-terminal, its screen read by a terminal emulator.

`PtyApp` runs ``python -m tui ARGS`` with the pty's slave as its terminal,
reads what it writes and feeds it to `pyte` (a VT emulator), so a test sees
the screen a terminal would show, and can tell which modes the app left the
terminal in (alternate screen, mouse tracking, cursor) from the bytes written.
It is the one pty harness of the suite (the fault, hostile and load tests too);
its waits are `tests.harness.poll`'s, so a condition that meets a half-drawn
frame is asked again, never ends the wait. The environment is the test's (HOME
and the XDG directories are its own: see conftest), plus a terminal's size.
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
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pyte

from tests.harness import poll

REPO = Path(__file__).resolve().parent.parent
#: DEC private modes set (h) or reset (l), e.g. ESC[?1049h.
MODE = re.compile(rb"\x1b\[\?([\d;]+)([hl])")
#: CSI and other escape sequences, to read what was written as text.
ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][A-Za-z0-9]|\x1b[=>78]")
ALT_SCREEN, ANY_MOTION_MOUSE, BASIC_MOUSE, CURSOR = 1049, 1003, 1000, 25


class PtyApp:
    """One run of the CLI (``python -m tui ARGS``, or ``command``) on a pty of
    ``cols`` x ``rows``. ``stdin``/``stdout``: another file for that stream
    (a second pty's slave, ``subprocess.DEVNULL``, ``subprocess.PIPE``) instead
    of the pty (which stays stderr, where Textual draws)."""

    def __init__(self, *args: str, cols: int = 100, rows: int = 30,
                 env: Mapping[str, str] | None = None, cwd: Path = REPO,
                 command: Sequence[str] | None = None,
                 stdin: int | None = None, stdout: int | None = None) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        full_env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(cols), LINES=str(rows))
        full_env.pop("TEXTUAL", None)
        full_env.update(env or {})
        argv = list(command) if command is not None else [sys.executable, "-m", "tui", *args]
        self.proc = subprocess.Popen(argv, cwd=cwd, stdin=slave if stdin is None else stdin,
                                     stdout=slave if stdout is None else stdout, stderr=slave,
                                     env=full_env, start_new_session=True, close_fds=True)
        os.close(slave)
        self.fd: int | None = master
        self.output = bytearray()
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)

    # --- reading -------------------------------------------------------------------

    def read(self, seconds: float) -> None:
        """Take what the app wrote for up to ``seconds`` (less once it ended)."""
        deadline = time.monotonic() + seconds
        if self.fd is None and self.proc.poll() is None:  # nothing to read: just the time
            time.sleep(seconds)
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

    def written(self) -> str:
        """Everything written so far with the escape sequences taken out: what
        was drawn over time, not only what the screen shows now."""
        return ANSI.sub(b"", bytes(self.output)).decode("utf-8", errors="replace")

    def wait(self, predicate: Callable[[], object], timeout: float = 60.0, what: str = "") -> None:
        """Read the output until ``predicate()`` holds (it may raise: not yet)."""
        poll(predicate, timeout, what or str(predicate), step=0.1, sleep=self.read,
             ended=lambda: self.proc.poll() is not None,
             details=lambda: f"screen:\n{self.text()}\ntail: {bytes(self.output[-600:])!r}")

    def quiet(self, seconds: float = 0.5, timeout: float = 60.0) -> None:
        """Read until nothing has been written for ``seconds``: the app drew
        what it had to draw (a frame is not left half-written)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.fd is not None:
            size = len(self.output)
            self.read(seconds)
            if len(self.output) == size:
                return
        raise AssertionError(f"the output never went quiet for {seconds}s")

    def wait_for(self, *texts: str, timeout: float = 60.0) -> str:
        """Wait until every one of ``texts`` is on the screen at once."""
        self.wait(lambda: all(t in self.text() for t in texts), timeout, " and ".join(map(repr, texts)))
        return self.text()

    def row_of(self, text: str) -> int | None:
        """The screen line showing ``text`` (first one); None while it is not
        drawn (a frame half-way through its redraw lacks it)."""
        for y, line in enumerate(self.lines()):
            if text in line:
                return y
        return None

    def background(self, text: str) -> str | None:
        """The background colour where ``text`` is drawn (the cursor row has its
        own); None while it is not on the screen."""
        y = self.row_of(text)
        if y is None:
            return None
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
        poll(lambda: self.proc.poll() is not None, timeout, "the app to end", step=0.1,
             sleep=self.read, details=lambda: f"screen:\n{self.text()}")
        self.read(0.3)  # what it wrote last
        return self.proc.returncode

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
