"""The real command line on a real pty: keys typed as a terminal sends them, signals, exit.

A terminal sends Esc then a key typed within the escape delay as the two bytes
of Alt+key (``\\x1bq``): the tests write exactly those bytes in one write.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.ptykit import ALT_SCREEN, ANY_MOTION_MOUSE, BASIC_MOUSE, CURSOR, PtyApp
from tests.storekit import StoreKit


def cli(kit: StoreKit, *extra: str, **kwargs: object) -> PtyApp:
    return PtyApp("--data-dir", str(kit.data_dir), "--runtime-dir", str(kit.runtime_dir),
                  *extra, **kwargs)  # type: ignore[arg-type]


def cursor_and_other(app: PtyApp, on: str, off: str) -> tuple[str, str]:
    """The backgrounds of the cursor's row (``on``) and of another row
    (``off``), once both rows are drawn and the cursor is drawn on ``on``."""
    app.wait(lambda: None not in (app.background(on), app.background(off))
             and app.background(on) != app.background(off), what=f"the cursor drawn on {on!r}")
    cursor, other = app.background(on), app.background(off)
    assert cursor is not None and other is not None
    return cursor, other


def assert_terminal_restored(app: PtyApp) -> None:
    """The terminal is as the shell left it: main screen, no mouse reports, a cursor."""
    modes = app.modes()
    assert modes.get(ALT_SCREEN) is False, modes
    assert modes.get(ANY_MOTION_MOUSE) is False and modes.get(BASIC_MOUSE) is False, modes
    assert modes.get(CURSOR) is True, modes


def test_esc_then_q_typed_fast_goes_back_then_quits(fleet: StoreKit) -> None:
    app = cli(fleet)
    try:
        app.wait_for("Review the watcher debounce")
        app.send(b"\r")  # into task 2
        app.wait_for("Sessions (")
        app.send(b"\x1bq")  # Esc q, in one write: Alt+q to the parser
        assert app.wait_exit() == 0
        assert_terminal_restored(app)
        assert b"Traceback" not in app.output
    finally:
        app.close()


def test_a_lone_esc_goes_back_and_the_next_key_is_its_own(fleet: StoreKit) -> None:
    """Esc alone in a write: the parser cannot tell it from the start of a
    sequence until its short timeout passes, which the input thread must wait
    out (it otherwise sleeps until a key comes). Then a key typed later acts
    on its own, and q quits at once."""
    app = cli(fleet)
    try:
        cursor, _ = cursor_and_other(app, "Review the watcher debounce", "Add retry to the dispatcher")
        app.send(b"\r")
        app.wait_for("Sessions (")
        app.send(b"\x1b")  # Esc, nothing after it
        app.wait(lambda: "Sessions (" not in app.text(), what="the list back after a lone Esc")
        app.read(0.5)  # the scenario: the next key comes a while after the Esc, on its own
        app.send(b"j")  # a plain j, the cursor to task 1
        app.wait(lambda: app.background("Add retry to the dispatcher") == cursor,
                 what="the cursor on task 1")
        app.send(b"q")
        assert app.wait_exit() == 0
        assert_terminal_restored(app)
    finally:
        app.close()


def test_esc_then_j_typed_fast_goes_back_then_moves(fleet: StoreKit) -> None:
    app = cli(fleet)
    try:
        # task 2: the newest, first, under the cursor
        cursor, other = cursor_and_other(app, "Review the watcher debounce", "Add retry to the dispatcher")
        app.send(b"\r")
        app.wait_for("Sessions (")
        app.send(b"\x1bj")  # Esc: back to the list; j: the cursor one row down, to task 1
        # Both rows redrawn: a frame half-way through its redraw lacks one or the other
        # (background() is None then, and the wait goes on).
        app.wait(lambda: "Sessions (" not in app.text()
                 and app.background("Add retry to the dispatcher") == cursor
                 and app.background("Review the watcher debounce") == other,
                 what="the list back with the cursor on task 1")
        app.send(b"q")
        assert app.wait_exit() == 0
    finally:
        app.close()


def test_esc_then_slash_typed_fast_leaves_the_filter_and_opens_it_again(fleet: StoreKit) -> None:
    app = cli(fleet)
    try:
        app.wait_for("Review the watcher debounce")
        app.send(b"/zzz")
        app.wait_for("No task matches")
        app.send(b"\x1b/")  # Esc clears the filter; / opens the box again, empty
        app.wait(lambda: "No task matches" not in app.text()
                 and "Review the watcher debounce" in app.text()
                 and "filter tasks:" in app.text(), what="the filter cleared and open again")
        app.send(b"#1\r")
        app.wait(lambda: "Review the watcher debounce" not in app.text(), what="filtered to #1")
        assert "Add retry to the dispatcher" in app.text()
    finally:
        app.close()


# --- signals and the ways out -----------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_restores_the_terminal_and_exits_with_its_status(fleet: StoreKit, signum: int) -> None:
    app = cli(fleet)
    try:
        app.wait_for("Review the watcher debounce")
        app.send(b"\r")
        app.wait_for("Sessions (")
        assert app.modes().get(ALT_SCREEN) and app.modes().get(ANY_MOTION_MOUSE)
        app.signal(signum)
        assert app.wait_exit() == 128 + signum
        assert_terminal_restored(app)
        assert b"Traceback" not in app.output
    finally:
        app.close()


def test_a_closed_terminal_ends_the_app(fleet: StoreKit) -> None:
    """The window closes: the kernel hangs up the terminal (SIGHUP) and reads fail."""
    app = cli(fleet)
    try:
        app.wait_for("Review the watcher debounce")
        app.close_terminal()
        app.signal(signal.SIGHUP)  # what the kernel sends the session when its terminal goes
        assert app.wait_exit() == 128 + signal.SIGHUP
    finally:
        app.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_removes_the_demo_directory(tmp_path: Path, signum: int) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    app = PtyApp("--demo", env={"TMPDIR": str(tmp)})
    try:
        app.wait_for("sessiontop", "tasks ·")
        assert [p.name for p in tmp.iterdir() if p.name.startswith("sessiontop-demo-")]
        app.signal(signum)
        assert app.wait_exit() == 128 + signum
        assert_terminal_restored(app)
        assert not [p for p in tmp.iterdir() if p.name.startswith("sessiontop-demo-")]
        assert b"Traceback" not in app.output
    finally:
        app.close()


def test_q_quits_from_the_help_screen(fleet: StoreKit) -> None:
    app = cli(fleet)
    try:
        app.wait_for("Review the watcher debounce")
        app.send(b"?")
        app.wait_for("sessiontop: keys")
        app.send(b"q")
        assert app.wait_exit() == 0
        assert_terminal_restored(app)
    finally:
        app.close()


def _state(pid: int) -> str:
    """The process state letter of /proc/PID/stat (T: stopped)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0]


def test_ctrl_z_suspends_and_fg_redraws(fleet: StoreKit) -> None:
    app = cli(fleet)
    try:
        app.wait_for("Review the watcher debounce")
        app.send(b"\x1a")  # ctrl+z
        app.wait(lambda: _state(app.proc.pid) == "T", what="the process stopped")
        app.quiet(0.3)  # what it wrote just before it stopped (stopped, it writes nothing more)
        assert_terminal_restored(app)  # the shell gets its terminal back while stopped
        app.screen.reset()  # forget what was drawn: after fg it must be drawn anew
        app.signal(signal.SIGCONT)  # fg
        app.wait_for("Review the watcher debounce", "Add retry to the dispatcher")
        assert app.modes().get(ALT_SCREEN)
        app.send(b"q")
        assert app.wait_exit() == 0
    finally:
        app.close()
