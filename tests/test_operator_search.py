"""Transcript search: n/N right after Enter, only the matching text marked, k of N in reading order
(said in the search line, tests/test_search_line.py)."""

from __future__ import annotations

from tests.conftest import FIXED_NOW, wait_for_text, wait_until
from tests.harness import make_app
from tests.storekit import BASE_MS, StoreKit, assistant, user
from tui.ui.app import SessionTopApp
from tui.ui.screens.session import TranscriptScreen
from tui.ui.widgets.filter_box import FilterBox
from tui.ui.widgets.message_view import MessageView
from tui.ui.widgets.transcript_scroll import TranscriptScroll

SIZE = (120, 40)


def store(kit: StoreKit) -> None:
    kit.add_task(1, "Search me", "active")
    kit.link(1, "s1", "worker")
    kit.add_session("s1")
    kit.add_messages("s1", [user("first: add a retry please"), assistant("nothing to see"),
                            assistant("the Retry loop is done, retry twice"),
                            user("last: RETRY [bold]again[/bold]")], BASE_MS - 60_000)


def said(app: SessionTopApp, text: str) -> bool:
    """Whether the search line says ``text`` (its position, "2 of 3")."""
    return app.screen.query_one(FilterBox).said.startswith(text)


def marked(view: MessageView) -> list[str]:
    """The stretches of the message's text drawn in the match style."""
    text = view.render_message()
    style = view.styles_of_parts["match"]
    return [text.plain[s.start:s.end] for s in text.spans if str(s.style) == style]


async def test_n_and_N_right_after_enter_mark_only_the_matching_text(kit: StoreKit) -> None:
    store(kit)
    app = make_app(kit, clock=lambda: FIXED_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Search me")
        app.open_session("s1")
        await wait_for_text(pilot, app, "last: RETRY [bold]again[/bold]")
        screen = app.screen
        assert isinstance(screen, TranscriptScreen)
        views = list(screen.query(MessageView))
        await pilot.press("slash", *"retry", "enter")
        # all four on screen: the first match from the top of the view, counted from the top
        await wait_until(pilot, lambda: said(app, "1 of 3"), what="1 of 3")
        assert isinstance(app.focused, TranscriptScroll)  # the keys are the transcript's again
        assert marked(views[0]) == ["retry"] and views[0].has_class("-match")
        assert [marked(v) for v in views[1:]] == [[], [], []]
        await pilot.press("n")  # down, to the newer match
        await wait_until(pilot, lambda: said(app, "2 of 3"), what="2 of 3")
        assert screen.query_one(FilterBox).value == "retry"  # n was not typed into the box
        assert marked(views[2]) == ["Retry", "retry"] and marked(views[0]) == []
        assert not views[0].has_class("-match")
        await pilot.press("n")
        await wait_until(pilot, lambda: said(app, "3 of 3"), what="3 of 3")
        assert marked(views[3]) == ["RETRY"]
        await pilot.press("N")  # back up
        await wait_until(pilot, lambda: marked(views[2]) == ["Retry", "retry"], what="N")
        await pilot.press("escape")  # closes the search: nothing marked any more
        await wait_until(pilot, lambda: all(not marked(v) for v in views), what="unmarked")
        assert isinstance(app.screen, TranscriptScreen)
