"""Quieter alerts, in a real terminal at 80x24: a burst of notifications is one
toast (the newest, "+N more"), none over the help screen (it waits, and shows
when help closes), and the bell and the terminal's notification go out at most
once per kind in 10 s (the rest of a burst as one, "(+N more)"); the `!` log
still has every one; the demo rings no bell and sends nothing to the desktop.

Real parts: a tau-shaped store written by another connection and the stand-in
tau server (StoreKit), the dashboard as a process on a real pty read by a VT
emulator (tests/ptykit.py), the bytes it writes counted; the demo as the
operator starts it (`--demo`); the `!` screen under Pilot.
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
import time
from pathlib import Path

from tests.conftest import wait_for_text, wait_until
from tests.harness import make_app
from tests.ptykit import PtyApp
from tests.storekit import BASE_MS, StoreKit, assistant, user
from tui.notify.settings import DEMO_OFF, KINDS, REPEAT_S, demo_table, parse

#: An OSC sequence (ended by BEL or ST): its BEL is not the bell.
OSC = re.compile(rb"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


def fleet_of_four(kit: StoreKit) -> None:
    for i, title in enumerate(("Fix the parser", "Add retries", "Port to arm", "Speed up build"), 1):
        kit.add_task(i, title, "active")
        kit.link(i, f"s{i}", "worker")
        kit.add_session(f"s{i}", exit_status="completed")
        kit.add_messages(f"s{i}", [user("go")])


def turn_ended(kit: StoreKit, sid: str, status: str) -> None:
    """A socket chat's turn ends as tau ends it: the answer stored, the phase
    idle, the exit status written (one commit)."""
    with kit._tx(kit.tau) as c:  # noqa: SLF001
        c.execute("INSERT INTO messages (session_id, message_json, created_at) VALUES (?,?,?)",
                  (sid, json.dumps(assistant("done")), BASE_MS + 60_000))
        c.execute("UPDATE sessions SET last_exit_status=?, last_phase='idle' WHERE id=?", (status, sid))


def bells(out: bytes) -> int:
    """BELs that ring: not the ones that end an OSC sequence."""
    return OSC.sub(b"", out).count(b"\x07")


def osc9(out: bytes, kind: str) -> list[bytes]:
    return re.findall(rb"\x1b\]9;sessiontop: " + kind.encode() + rb": ([^\x07]*)\x07", out)


def toast_titles(app: PtyApp) -> list[str]:
    """The toasts on screen, by their titles ("sessiontop: exit", …)."""
    return [line for line in app.lines() if any(f"sessiontop: {k}" in line for k in KINDS)]


def test_a_burst_is_one_toast_and_one_bell_and_none_over_help_at_80x24(kit: StoreKit,
                                                                       tmp_path: Path) -> None:
    fleet_of_four(kit)
    config = tmp_path / "config.toml"
    config.write_text("[notify]\nosc9 = true\nosc777 = false\nbell = true\n")
    app = PtyApp("--data-dir", str(kit.data_dir), "--runtime-dir", str(kit.runtime_dir),
                 "--config", str(config), cols=80, rows=24)
    try:
        app.wait_for("Fix the parser")
        # One notification first: it proves the baseline is taken (what was so
        # at start-up is never told), and it is a kind of its own. A review
        # that lands before the first look is the baseline: task 4 goes back
        # to active, then to review again, a few seconds apart (two commits a
        # millisecond apart are one change to a look that comes after both),
        # until one is told.
        tries: list[float] = []

        def review_told() -> bool:
            if osc9(bytes(app.output), "review"):
                return True
            if not tries or time.monotonic() - tries[-1] > 3:
                tries.append(time.monotonic())
                kit.set_state(4, "review" if len(tries) % 2 else "active")
            return False

        app.wait(review_told, what="a review told")
        app.wait_for("sessiontop: review")
        # A burst: three failed turns in a few milliseconds.
        turn_ended(kit, "s1", "error")
        turn_ended(kit, "s2", "panicked")
        turn_ended(kit, "s3", "max_turns")
        # (a toast is half the width: its message wraps)
        app.wait(lambda: "s3 of task #3" in app.text() and "more · ! lists them" in app.text(),
                 what="the newest toast, saying how many more")
        assert len(toast_titles(app)) == 1, app.text()  # one toast, the newest
        assert "sessiontop: exit" in toast_titles(app)[0]
        assert "s1 of task #1" not in app.text() and "s2 of task #2" not in app.text()
        more = re.search(r"\+(\d+) more · ! lists them", app.text())
        assert more and int(more.group(1)) >= 2, app.text()
        # The bell and OSC 9 rang for the first exit at once; not for the next two.
        out = bytes(app.output)
        assert osc9(out, "exit") == [b"worker s1 of task #1: turn ended error"], osc9(out, "exit")
        # Help: the toast standing goes; one told meanwhile does not cover it.
        app.send(b"?")
        app.wait(lambda: "sessiontop: keys" in app.text() and not toast_titles(app),
                 what="help, with no toast over it")
        kit.set_state(1, "failed")
        app.wait(lambda: osc9(bytes(app.output), "failed"), what="the failed task told")
        app.read(1.0)  # a frame's time and more for a toast to be drawn, were one shown
        assert "sessiontop: keys" in app.text() and not toast_titles(app), app.text()
        app.send(b"\x1b")  # help closes: what waited shows, one toast
        app.wait(lambda: "sessiontop: failed" in app.text() and "sessiontop: keys" not in app.text(),
                 what="the held toast after help")
        assert len(toast_titles(app)) == 1, app.text()
        # The rest of the exit burst goes out as one when 10 s have passed: the
        # newest, standing for the other.
        app.wait(lambda: len(osc9(bytes(app.output), "exit")) == 2, timeout=REPEAT_S + 30,
                 what="the burst's rest, as one")
        out = bytes(app.output)
        assert osc9(out, "exit")[1] == b"worker s3 of task #3: turn ended max_turns (+1 more)"
        # A bell with each terminal notification, none more: review, the first
        # exit, failed, the burst's rest (4 for 6 notifications; more only if a
        # second review try was told as well).
        sent = sum(len(osc9(out, kind)) for kind in KINDS)
        assert bells(out) == sent and sent <= 4 + len(tries) - 1, (bells(out), sent)
        app.send(b"q")
        assert app.wait_exit() == 0
    finally:
        app.close()


def test_the_demo_rings_no_bell_and_sends_nothing_to_the_desktop(tmp_path: Path) -> None:
    """Even with a config file that asks for the bell, OSC 9 and a command:
    the demo's fleet is made up (toasts and `!` as usual)."""
    hook_log = tmp_path / "hook.log"
    hook = tmp_path / "hook.py"
    hook.write_text(f"open({str(hook_log)!r}, 'a').write('ran')\n")
    config = tmp_path / "config.toml"
    config.write_text("[notify]\nosc9 = true\nosc777 = true\nbell = true\n"
                      f"notify_command = {json.dumps(f'{sys.executable} {hook}')}\n")
    data = tmp_path / "demo"
    app = PtyApp("--demo", "--data-dir", str(data), "--config", str(config), cols=80, rows=24)
    try:
        app.wait(lambda: "tasks" in app.text() and "running" in app.text(), what="the demo's list")
        failed: list[float] = []

        def a_task_fails() -> bool:
            """A task fails, written into the demo's store as tau writes a state
            change, again every few seconds until one is told (one that lands
            before the dashboard's first look is its baseline, not news)."""
            if toast_titles(app):
                return True
            if not failed or time.monotonic() - failed[-1] > 3:
                failed.append(time.monotonic())
                with sqlite3.connect(data / "tasks.db", timeout=30) as db:
                    db.execute("UPDATE tasks SET state='failed', updated_at=updated_at+1 WHERE id="
                               "(SELECT id FROM tasks WHERE state != 'failed' ORDER BY id LIMIT 1)")
            return False

        app.wait(a_task_fails, what="a notification's toast")
        out = bytes(app.output)
        assert b"\x1b]9;" not in out and b"\x1b]777;" not in out
        assert bells(out) == 0
        assert not hook_log.exists()
        app.send(b"q")
        app.wait_exit()
    finally:
        app.close()


def test_demo_table_turns_off_only_the_bell_the_desktop_and_the_command() -> None:
    table = {"bell": True, "osc9": True, "toast": True, "events": ["exit"], "notify_command": "x"}
    settings = parse(demo_table(table))
    assert (settings.bell, settings.osc9, settings.osc777, settings.command) == (False, False, False, None)
    assert settings.toast and settings.kinds == {"exit"} and not settings.problems
    assert set(DEMO_OFF) == {"bell", "osc9", "osc777", "notify_command"}
    assert parse({"repeat_seconds": 0}).repeat_s == 0 and parse({}).repeat_s == REPEAT_S
    assert parse({"repeat_seconds": -1}).problems


async def test_the_alerts_screen_says_how_many_are_new_since_it_was_last_open(kit: StoreKit) -> None:
    fleet_of_four(kit)
    app = make_app(kit, notify=parse({"osc9": False, "bell": False}))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.notifier.engine.baselined, what="the baseline")
        turn_ended(kit, "s1", "error")
        turn_ended(kit, "s2", "panicked")
        kit.set_state(4, "review")
        await wait_until(pilot, lambda: len(app.notifier.log) == 3, what="three notifications")
        await pilot.press("exclamation_mark")
        await wait_for_text(pilot, app, "3 new since you last looked here")
        assert not list(app._notifications), "no toast over `!`"  # noqa: SLF001
        await pilot.press("escape")
        turn_ended(kit, "s3", "max_turns")
        await wait_until(pilot, lambda: len(app.notifier.log) == 4, what="a fourth")
        await pilot.press("exclamation_mark")
        text = await wait_for_text(pilot, app, "1 new since you last looked here")
        assert "turn ended max_turns" in text
