"""Notifications in the app: each transition told once (toast, log, the command
hook), never again on more reads or on a restart; stalls flagged on the task row
and the pane, first in the notifications screen; the hook never blocks.

Real parts: a tau-shaped store written by another connection (StoreKit), the
demo's stand-in tau server on a real socket, the real app under Pilot, a real
hook process. Waits are on the app's own counters (pictures taken, log size),
never on a sleep.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.conftest import screen_text, wait_for_all, wait_for_text, wait_until
from tests.harness import make_app
from tests.storekit import BASE_MS, StoreKit, assistant, user
from tui.notify import notifier as notifier_module
from tui.ui.app import SessionTopApp
from tui.notify.settings import NotifySettings, parse
from tui.tau.events import LivePhase


def small_fleet(kit: StoreKit) -> None:
    """Four tasks, a session each: s1..s3 for the exits, t4 for the task states."""
    for i, (title, state) in enumerate((("Fix the parser", "active"), ("Add retries", "active"),
                                        ("Port to arm", "active"), ("Speed up build", "active")), 1):
        kit.add_task(i, title, state)
        kit.link(i, f"s{i}", "worker")
        kit.add_session(f"s{i}", exit_status="completed")
        kit.add_messages(f"s{i}", [user("go")])


def turn_ended(kit: StoreKit, sid: str, status: str) -> None:
    """A socket chat's turn ends as tau ends it: its answer stored, the phase
    back to idle, the exit status written (one commit here)."""
    with kit._tx(kit.tau) as c:  # noqa: SLF001
        c.execute("INSERT INTO messages (session_id, message_json, created_at) VALUES (?,?,?)",
                  (sid, json.dumps(assistant("done")), BASE_MS + 60_000))
        c.execute("UPDATE sessions SET last_exit_status=?, last_phase='idle' WHERE id=?", (status, sid))


def hook_command(tmp: Path, *, sleep: float = 0) -> tuple[str, Path]:
    """A fake notify_command: appends its env and stdin to a file (then sleeps)."""
    out = tmp / "hook.log"
    script = tmp / "hook.py"
    script.write_text(
        "import json, os, sys, time\n"
        "data = json.loads(sys.stdin.read())\n"
        f"with open({str(out)!r}, 'a') as f:\n"
        "    f.write(json.dumps({'event': os.environ['SESSIONTOP_EVENT'],"
        " 'kind': os.environ['SESSIONTOP_KIND'], 'message': os.environ['SESSIONTOP_MESSAGE'],"
        " 'task': os.environ.get('SESSIONTOP_TASK_ID'), 'stdin': data}) + '\\n')\n"
        f"time.sleep({sleep})\n")
    return f"{sys.executable} {script}", out


def hook_lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def app_for(kit: StoreKit, settings: NotifySettings) -> SessionTopApp:
    return make_app(kit, notify=settings)


async def baselined(pilot, app: SessionTopApp) -> None:  # type: ignore[no-untyped-def]
    await wait_until(pilot, lambda: app.notifier.engine.baselined, what="the baseline")


async def more_pictures(pilot, app: SessionTopApp, n: int = 3) -> None:  # type: ignore[no-untyped-def]
    """Let the notifier take ``n`` more pictures (forced: each read again)."""
    target = app.notifier.pictures + n
    while app.notifier.pictures < target:
        await app.notifier.check()
        app.request_refresh(force=True)
        await pilot.pause(0.02)


def toasts(app: SessionTopApp) -> list[str]:
    return [n.message for n in app._notifications]  # noqa: SLF001 - Textual's own toast list


async def test_each_transition_is_told_once_by_toast_and_hook_and_not_again_after_a_restart(
        kit: StoreKit, tmp_path: Path) -> None:
    small_fleet(kit)
    command, log = hook_command(tmp_path)
    # repeat_seconds = 0: the hook runs for each one (by default, once per kind in 10 s)
    settings = parse({"notify_command": command, "osc9": False, "bell": False, "repeat_seconds": 0})
    app = app_for(kit, settings)
    async with app.run_test(size=(130, 40)) as pilot:
        await baselined(pilot, app)
        turn_ended(kit, "s1", "error")
        turn_ended(kit, "s2", "panicked")
        turn_ended(kit, "s3", "max_turns")
        kit.set_state(4, "review")
        await wait_until(pilot, lambda: len(app.notifier.log) >= 4, what="four notifications")
        kit.set_state(4, "failed")
        kit.tasks.execute("UPDATE tasks SET state='approved', require_approval=1, updated_at=updated_at+1"
                          " WHERE id=2")
        await wait_until(pilot, lambda: len(app.notifier.log) >= 6, what="six notifications")
        kit.server_up(False)
        await wait_until(pilot, lambda: len(app.notifier.log) >= 7, what="the server going down")
        kit.server_up(True)
        await wait_until(pilot, lambda: len(app.notifier.log) >= 8, what="the server coming back")
        await more_pictures(pilot, app)
        got = sorted((e.notify, e.task_id, e.new) for e in app.notifier.log)
        assert got == sorted([("exit", 1, "error"), ("exit", 2, "panicked"), ("exit", 3, "max_turns"),
                              ("review", 4, "review"), ("failed", 4, "failed"),
                              ("approval", 2, "approved"), ("server", None, "down"),
                              ("server", None, "up")]), got
        # Newest first in the log; one toast at a time, the newest (tests/test_alerts.py);
        # the hook once each, all told.
        assert [e.new for e in app.notifier.log][:2] == ["up", "down"]
        shown = toasts(app)
        assert len(shown) <= 1 and all(t.startswith("tau server is back") for t in shown), shown
        await wait_until(pilot, lambda: len(hook_lines(log)) == 8, what="the hook, eight times")
        runs = hook_lines(log)
        assert sorted(r["event"] for r in runs) == sorted(e.notify for e in app.notifier.log)
        first = next(r for r in runs if r["event"] == "exit" and r["task"] == "1")
        assert first["kind"] == "session_exit" and first["stdin"]["session_id"] == "s1"
        assert first["stdin"]["new"] == "error" and first["message"] == first["stdin"]["message"]
        # The log screen, newest first.
        await pilot.press("exclamation_mark")
        text = await wait_for_text(pilot, app, "Notifications, newest first")
        assert text.index("tau server is back") < text.index("turn ended error")
    # A restart: what is so now is its baseline; nothing old is told again.
    app2 = app_for(kit, settings)
    async with app2.run_test(size=(130, 40)) as pilot:
        await baselined(pilot, app2)
        await more_pictures(pilot, app2)
        assert list(app2.notifier.log) == [] and toasts(app2) == []
    assert len(hook_lines(log)) == 8


async def test_a_stalled_session_on_the_stand_in_is_flagged_on_row_and_pane_and_told_once(
        kit: StoreKit) -> None:
    small_fleet(kit)
    # 0.02 min = 1.2 s of silence. The session is idle at the baseline; its turn
    # starts after it, so its stall is a transition however slow the machine.
    app = app_for(kit, parse({"stall_minutes": {"worker": 0.02}, "osc9": False, "bell": False}))
    async with app.run_test(size=(130, 40)) as pilot:
        await baselined(pilot, app)
        await wait_for_text(pilot, app, "Fix the parser")
        kit.run("s1", "running tools")  # the stand-in server holds the phase; nothing follows
        await wait_until(pilot, lambda: "s1" in app.notifier.engine.stalled, what="s1 stalled")
        await wait_for_text(pilot, app, "⚠ stalled")
        row = next(line for line in screen_text(app).splitlines() if "Fix the parser" in line)
        assert "⚠" in row and "stalled" in row
        other = next(line for line in screen_text(app).splitlines() if "Add retries" in line)
        assert "stalled" not in other
        await more_pictures(pilot, app)
        stalls = [e for e in app.notifier.log if e.notify == "stall"]
        assert len(stalls) == 1 and stalls[0].session_id == "s1" and stalls[0].task_id == 1
        assert app.notifier.engine.stalled["s1"].tasks == {1}
        # Needs attention: the stalled session first.
        await pilot.press("exclamation_mark")
        text = await wait_for_text(pilot, app, "Needs attention")
        attention = text[text.index("Needs attention"):text.index("Notifications, newest first")]
        assert "stall" in attention and "worker s1" in attention
        await pilot.press("escape")
        # The pane on the task's own screen.
        app.open_task(1)
        text = await wait_for_all(pilot, app, "s1", "⚠ stalled: quiet")
        assert "limit" in text
        # A streamed event is a sign of life: the flag goes (flag only: nothing was done).
        kit.live("s1", "Thinking")
        await wait_until(pilot, lambda: "s1" not in app.notifier.engine.stalled, what="s1 unflagged")
        await wait_until(pilot, lambda: "⚠ stalled" not in screen_text(app), what="the mark to go")
        assert [e.notify for e in app.notifier.log].count("stall") == 1


async def test_deltas_that_keep_the_phase_are_signs_of_life_and_quiet_is_not(
        kit: StoreKit, monkeypatch: pytest.MonkeyPatch) -> None:
    """Thinking deltas change nothing a row shows (the same phase, no note in
    the tracker's change log), yet a session streaming them for longer than
    its threshold is not stalled; once they stop, it is; one more and it is not."""
    # A picture each second (5 s in the app): this test's threshold is seconds, not minutes.
    monkeypatch.setattr(notifier_module, "PICTURE_EVERY_S", 1.0)
    small_fleet(kit)
    app = app_for(kit, parse({"stall_minutes": {"worker": 0.05}, "osc9": False, "bell": False}))

    def delta(text: str) -> None:
        kit.server.emit("s1", {"type": "thinking_delta", "content_index": 0, "delta": text, "partial": {}})

    def live_event_ms() -> int:
        p = app.store.live.phase("s1")
        return p.last_event_ms if p is not None else 0

    async with app.run_test(size=(130, 40)) as pilot:
        await baselined(pilot, app)
        kit.run("s1", "thinking")
        await wait_until(pilot, lambda: (app.store.live.phase("s1") or LivePhase("", False)).label == "thinking",
                         what="s1 thinking")
        # 5 s of deltas (longer than the 3 s threshold), each a sign of life: a
        # picture taken as each lands never finds s1 stalled.
        for i in range(20):
            seen = live_event_ms()
            delta(f"hm{i}")
            await wait_until(pilot, lambda s=seen: live_event_ms() > s, what=f"delta {i} in")
            await app.notifier.check()
            assert "s1" not in app.notifier.engine.stalled, f"stalled while streaming (delta {i})"
            await pilot.pause(0.25)  # the scenario: the next delta a moment later
        # Then silence: stalled after the threshold.
        await wait_until(pilot, lambda: "s1" in app.notifier.engine.stalled, what="s1 stalled")
        delta("again")
        await wait_until(pilot, lambda: "s1" not in app.notifier.engine.stalled, what="s1 unflagged")


async def test_a_slow_hook_never_blocks_the_app_and_is_killed_at_its_timeout(
        kit: StoreKit, tmp_path: Path) -> None:
    small_fleet(kit)
    command, log = hook_command(tmp_path, sleep=60)
    app = app_for(kit, parse({"notify_command": command, "command_timeout": 1,
                              "osc9": False, "bell": False}))
    async with app.run_test(size=(130, 40)) as pilot:
        await baselined(pilot, app)
        kit.set_state(4, "failed")
        await wait_until(pilot, lambda: len(hook_lines(log)) == 1, what="the hook started")
        # The hook sleeps; the app goes on: keys work, the next event is told.
        await pilot.press("exclamation_mark")
        await wait_for_text(pilot, app, "Needs attention")
        turn_ended(kit, "s1", "error")
        await wait_until(pilot, lambda: len(app.notifier.log) == 2, what="the second event")
        assert toasts(app) == []  # `!` is open and lists them: no toast over it
        await wait_until(pilot, lambda: list(app.notifier.hooks.results).count("timeout") == 2,
                         timeout=30, what="both hooks killed at their timeout")
