"""The task screen's panes hold still while their sessions' turns come and go.

A live pane shows more than an idle one (what the turn is doing, its newest
messages). The real app driven by Pilot, a store written by another
connection, the stand-in's server on a real socket: a turn ends and starts
again, and the pane below it stays where it was.
"""

from __future__ import annotations

from tests.harness import make_app, wait_for_text, wait_until
from tests.storekit import StoreKit, assistant, user
from tui.ui.widgets.session_card import SessionCard

SIZE = (60, 50)  # one column of panes: the second below the first


def _cards(app) -> dict[str, SessionCard]:  # type: ignore[no-untyped-def]
    return {c.pane.info.session_id: c for c in app.screen.query(SessionCard)}


async def test_a_turn_ending_and_starting_again_moves_no_pane(kit: StoreKit) -> None:
    kit.add_task(1, "A busy task", "active")
    for sid in ("s1", "s2"):
        kit.link(1, sid, "worker")
        kit.add_session(sid, tagline=f"the {sid} worker")
    kit.add_messages("s1", [user("start"), assistant("looking at the retry loop"),
                            assistant("the backoff doubles")])
    kit.run("s1", "thinking")
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        app.open_task(1)
        await wait_for_text(pilot, app, "the backoff doubles")  # live: its newest messages
        await pilot.pause()
        first, second = _cards(app)["s1"], _cards(app)["s2"]
        height, below = first.region.height, second.region.y
        assert below >= first.region.bottom  # the second pane is under the first
        kit.finish("s1")
        await wait_until(pilot, lambda: "the backoff doubles" not in str(first.render()),
                         what="the turn's end on the pane")
        await pilot.pause()
        assert (first.region.height, second.region.y) == (height, below)
        kit.run("s1", "thinking")
        await wait_for_text(pilot, app, "the backoff doubles")
        await pilot.pause()
        assert (first.region.height, second.region.y) == (height, below)
