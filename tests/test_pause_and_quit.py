"""`p` holds the screen still whatever arrives; `q` quits from every screen.

The real app under Pilot on a tau-shaped store written by another connection,
with the stand-in server up (storekit). While paused, a transition that is
told (a task failing, a turn ending in error) is recorded in the `!` log, and
the screen does not move: not the rows, not the counts, not the task screen's
panes. `p` again shows it all at once.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import FIXED_NOW
from tests.harness import make_app, screen_text, wait_for_text, wait_until
from tests.storekit import BASE_MS, StoreKit, assistant
from tui.notify.settings import parse

SIZE = (130, 40)
#: No toast over the screen (so the screen can be compared whole), no bell, no OSC.
QUIET = parse({"toast": False, "bell": False, "osc9": False})


def quiet_app(kit: StoreKit):  # type: ignore[no-untyped-def]
    """A fixed clock: "updated … ago" and the ages hold still too."""
    return make_app(kit, notify=QUIET, clock=lambda: FIXED_NOW)


async def told(pilot, app, before: int) -> None:  # type: ignore[no-untyped-def]
    """Wait until a notification beyond ``before`` is in the log and the
    refresher has dealt with everything asked of it since."""
    await wait_until(pilot, lambda: len(app.notifier.log) > before, 30, "a notification")
    await wait_until(pilot, lambda: app.refresh_idle, 30, "the refresher idle")
    await pilot.pause()


def turn_ended(kit: StoreKit, sid: str, status: str) -> None:
    """A turn ends as tau ends it: its answer stored, idle, the exit status."""
    with kit._tx(kit.tau) as c:  # noqa: SLF001
        c.execute("INSERT INTO messages (session_id, message_json, created_at) VALUES (?,?,?)",
                  (sid, json.dumps(assistant("gave up on the flaky test")), BASE_MS + 60_000))
        c.execute("UPDATE sessions SET last_exit_status=?, last_phase='idle' WHERE id=?", (status, sid))


async def test_paused_the_task_list_holds_still_while_a_task_fails(fleet: StoreKit) -> None:
    app = quiet_app(fleet)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Add retry to the dispatcher")
        await wait_until(pilot, lambda: app.notifier.engine.baselined, 30, "the baseline")
        await pilot.press("p")
        await wait_for_text(pilot, app, "PAUSED")
        await wait_until(pilot, lambda: app.refresh_idle, 30, "the refresher idle")
        held, applied, logged = screen_text(app), app.applied, len(app.notifier.log)
        assert "failed" not in held.split("Add retry to the dispatcher")[0].splitlines()[-1]
        fleet.set_state(1, "failed")
        await told(pilot, app, logged)
        assert app.notifier.log[0].task_id == 1 and app.notifier.log[0].new == "failed"
        assert app.applied == applied and screen_text(app) == held
        await pilot.press("p")
        await wait_until(pilot, lambda: "PAUSED" not in screen_text(app) and any(
            "Add retry to the dispatcher" in line and "failed" in line
            for line in screen_text(app).splitlines()), 30, "the failed task shown")


async def test_paused_the_task_screen_holds_still_while_a_turn_ends_in_error(fleet: StoreKit) -> None:
    app = quiet_app(fleet)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Add retry to the dispatcher")
        await wait_until(pilot, lambda: app.notifier.engine.baselined, 30, "the baseline")
        app.open_task(1)
        await wait_for_text(pilot, app, "Sessions (")
        await pilot.press("p")
        await wait_for_text(pilot, app, "PAUSED")
        await wait_until(pilot, lambda: app.refresh_idle, 30, "the refresher idle")
        held, applied, logged = screen_text(app), app.applied, len(app.notifier.log)
        turn_ended(fleet, "s3", "error")
        await told(pilot, app, logged)
        assert app.notifier.log[0].new == "error"
        assert app.applied == applied and screen_text(app) == held
        await pilot.press("p")
        await wait_until(pilot, lambda: screen_text(app) != held and "PAUSED" not in screen_text(app),
                         30, "the task screen moved on")


async def test_paused_a_screen_opened_meanwhile_still_gets_its_first_read(fleet: StoreKit) -> None:
    app = quiet_app(fleet)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Add retry to the dispatcher")
        await pilot.press("p")
        await wait_for_text(pilot, app, "PAUSED")
        app.open_task(1)
        await wait_for_text(pilot, app, "Sessions (")


# --- q ----------------------------------------------------------------------------------------


async def open_screen(pilot, app, where: str) -> None:  # type: ignore[no-untyped-def]
    await wait_for_text(pilot, app, "Add retry to the dispatcher")
    if where in ("task", "transcript"):
        app.open_task(1)
        await wait_for_text(pilot, app, "Sessions (")
    if where == "transcript":
        app.open_session("s3")
        await wait_for_text(pilot, app, "implement retry with backoff")
    if where == "help":
        await pilot.press("question_mark")
        await wait_for_text(pilot, app, "sessiontop: keys")
    if where == "notifications":
        await pilot.press("exclamation_mark")
        await wait_for_text(pilot, app, "Notifications, newest first")


@pytest.mark.parametrize("where", ["tasks", "task", "transcript", "help", "notifications"])
async def test_q_quits_from_every_screen(fleet: StoreKit, where: str) -> None:
    app = quiet_app(fleet)
    async with app.run_test(size=SIZE) as pilot:
        await open_screen(pilot, app, where)
        await pilot.press("q")
        await wait_until(pilot, lambda: app.return_code is not None, 30, "the app to quit")
    assert app.return_code == 0


async def test_in_the_palette_q_is_a_letter_and_ctrl_c_quits(fleet: StoreKit) -> None:
    """The command palette searches as one types: there q is text. Ctrl+C
    (and Esc, then q) still leave."""
    app = quiet_app(fleet)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Add retry to the dispatcher")
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "CommandPalette", 30, "the palette")
        await pilot.press("q")
        await pilot.pause()
        assert app.return_code is None and type(app.screen).__name__ == "CommandPalette"
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: app.return_code is not None, 30, "the app to quit")
    assert app.return_code == 0
