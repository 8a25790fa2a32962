"""The process: it never spins, never hangs, and always leaves (issue 21).

The real command line on real pseudo-terminals. Without a terminal the
dashboard refuses in one line; the end of its input costs no CPU; a terminal
that vanishes ends it with status 1 and nothing left behind; a terminal that
stops taking output does not stop a signal. CPU is read from /proc, with a
bound far from what a spinning thread costs (a whole core), not a timing.
"""

from __future__ import annotations

import fcntl
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.harness import poll
from tests.ptykit import ALT_SCREEN, ANY_MOTION_MOUSE, CURSOR, PtyApp
from tests.storekit import StoreKit

#: A spinning thread is a whole core (100 %); an idle dashboard about 1 %.
IDLE_CPU_BOUND = 0.20
#: Long enough for any clean exit on a loaded machine; a hang never ends.
EXIT_DEADLINE = 30.0


def cli(kit: StoreKit, *extra: str, **kwargs: object) -> PtyApp:
    return PtyApp("--data-dir", str(kit.data_dir), "--runtime-dir", str(kit.runtime_dir),
                  *extra, **kwargs)  # type: ignore[arg-type]


def stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat after the command name: [0] is field 3 (state)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the whole process (every thread) so far."""
    fields = stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_share(pid: int, seconds: float = 2.0) -> float:
    """The share of one core the process used over ``seconds``."""
    start, began = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)  # a measuring window, not a wait for something to happen
    return (cpu_seconds(pid) - start) / (time.monotonic() - began)


def left_in_session(sid: int) -> list[int]:
    """Processes still in session ``sid`` (the app started its own: children,
    a hook's command, would still be in it)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(stat_fields(int(entry.name))[3]) == sid:
                    out.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return out


def assert_restored(app: PtyApp) -> None:
    modes = app.modes()
    assert modes.get(ALT_SCREEN) is False and modes.get(ANY_MOTION_MOUSE) is False, modes
    assert modes.get(CURSOR) is True, modes


# --- no terminal -----------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["stdin /dev/null", "stdout a pipe", "TERM=dumb"])
def test_without_a_terminal_the_dashboard_says_so_in_one_line(fleet: StoreKit, case: str) -> None:
    """``sessiontop < /dev/null`` (nohup, ssh -n) read end-of-file again and
    again on a whole core; ``sessiontop | head`` drew a dashboard into a pipe
    reader's terminal; TERM=dumb got a full-colour screen it cannot show."""
    kwargs: dict[str, object] = {}
    if case == "stdin /dev/null":
        kwargs["stdin"] = subprocess.DEVNULL
    elif case == "stdout a pipe":
        kwargs["stdout"] = subprocess.PIPE
    else:
        kwargs["env"] = {"TERM": "dumb"}
    app = cli(fleet, **kwargs)
    try:
        assert app.wait_exit(EXIT_DEADLINE) == 2
        said = app.written().strip().splitlines()
        assert len(said) == 1, said
        assert said[0].startswith("sessiontop: the dashboard needs a terminal")
        assert "sessiontop list" in said[0] and "sessiontop watch" in said[0]
        assert {"stdin /dev/null": "stdin is not one", "stdout a pipe": "stdout is not one",
                "TERM=dumb": "not TERM=dumb"}[case] in said[0]
        assert ALT_SCREEN not in app.modes(), "a screen was drawn"
    finally:
        app.close()


def test_help_lists_the_commands_for_scripts() -> None:
    out = subprocess.run([sys.executable, "-m", "tui", "--help"], cwd=Path(__file__).parent.parent,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    lines = out.stdout.splitlines()
    for name in ("list", "watch"):
        assert any(line.split()[:2] == ["sessiontop", name] for line in lines), out.stdout


# --- the end of the input ---------------------------------------------------------------------


def test_the_end_of_the_input_costs_nothing_and_the_app_runs_on(fleet: StoreKit) -> None:
    """Keys come from one terminal, the screen goes to another; the first
    reaches its end (its master closes: the slave reads end-of-file). The
    input is no longer read; the dashboard still follows the store and still
    ends on a signal, restoring its terminal."""
    keys_master, keys_slave = pty.openpty()
    app = cli(fleet, stdin=keys_slave)
    os.close(keys_slave)
    try:
        app.wait_for("Review the watcher debounce")
        os.close(keys_master)
        keys_master = -1
        share = cpu_share(app.proc.pid)
        assert share < IDLE_CPU_BOUND, f"{share:.0%} of a core after the end of the input"
        fleet.add_task(40, "Written after the keys ended", "active")
        app.wait_for("Written after the keys ended")
        app.signal(signal.SIGTERM)
        assert app.wait_exit(EXIT_DEADLINE) == 128 + signal.SIGTERM
        assert_restored(app)
        assert "Traceback" not in app.written()
    finally:
        if keys_master >= 0:
            os.close(keys_master)
        app.close()


# --- the output gone, the output stuck --------------------------------------------------------


def test_a_vanished_terminal_ends_the_app_with_status_1_and_nothing_left(tmp_path: Path) -> None:
    """The terminal goes without a SIGHUP (the app is not its session's
    leader: a detached tmux pane, a terminal whose program is gone): the first
    frame that cannot be written ends the app, status 1; the demo's store
    directory is removed and nothing of the process is left."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    app = PtyApp("--demo", env={"TMPDIR": str(tmp)})
    try:
        app.wait_for("sessiontop", "tasks ·")
        assert [p for p in tmp.iterdir() if p.name.startswith("sessiontop-demo-")]
        app.close_terminal()
        app.proc.wait(EXIT_DEADLINE)  # TimeoutExpired: it hung
        assert app.proc.returncode == 1
        assert not list(tmp.iterdir()), list(tmp.iterdir())
        assert left_in_session(app.proc.pid) == []
    finally:
        app.close()


def unread(fd: int) -> int:
    """Bytes the app wrote that the terminal (this test) has not read."""
    return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_ends_the_app_while_its_terminal_takes_no_output(tmp_path: Path, signum: int) -> None:
    """The terminal stops reading (a stalled ssh link, a suspended emulator):
    writes block, Textual's queue of frames fills, and the event loop waits on
    it. A signal still ends the app, and it cleans up after itself."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    app = PtyApp("--demo", "--speed", "20", cols=200, rows=60, env={"TMPDIR": str(tmp)})
    try:
        app.wait_for("sessiontop", "tasks ·")
        assert app.fd is not None
        fd = app.fd
        # Stop reading; wait until what was written no longer grows: the
        # terminal's buffer is full and the app's writes wait.
        seen = [-1]

        def full() -> bool:
            now, seen[0] = unread(fd), unread(fd)
            time.sleep(0.5)  # sampling the buffer: it is full once it stays put
            return now > 0 and unread(fd) == now

        poll(full, 120, "the terminal's buffer to fill")
        app.signal(signum)
        # (poll sleeps between looks without reading: the terminal still takes nothing)
        poll(lambda: app.proc.poll() is not None, EXIT_DEADLINE,
             "a signal to end an app whose terminal is stuck", step=0.1)
        assert app.proc.returncode == (0 if signum == signal.SIGINT else 128 + signum)
        assert not list(tmp.iterdir()), list(tmp.iterdir())
        assert left_in_session(app.proc.pid) == []
    finally:
        app.close()


def test_a_wedged_exit_is_ended_by_the_deadline(tmp_path: Path) -> None:
    """Whatever holds the way out (here, a main thread that never returns),
    a signal ends the process within the grace period, with its status, and
    the last resorts run (the command line removes the demo's directory so)."""
    made = tmp_path / "sessiontop-demo-x"
    made.mkdir()
    code = ("import os, shutil, signal, threading\n"
            "from tui.ui.exits import LEAVING\n"
            "LEAVING.grace_s = 1.0\n"
            "LEAVING.install()\n"
            f"LEAVING.last_resort(lambda: shutil.rmtree({str(made)!r}))\n"
            "print('ready', flush=True)\n"
            "threading.Event().wait()  # wedged\n")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=Path(__file__).parent.parent,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(EXIT_DEADLINE) == 128 + signal.SIGTERM
        assert not made.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
