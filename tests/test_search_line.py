"""The transcript search says where it is in the search line ("2 of 8"), never
in toasts; n goes down (newer), N up (older), and N at the first loaded match
reads older pages for the ones above it.

Real parts: a tau-shaped store written by another connection (StoreKit), the
real app under Pilot, the screen read as the operator sees it.
"""

from __future__ import annotations

from tests.conftest import FIXED_NOW, screen_text, wait_for_text, wait_until
from tests.harness import make_app
from tests.storekit import BASE_MS, StoreKit, assistant, user
from tui.ui.app import SessionTopApp
from tui.ui.screens.session import TranscriptScreen
from tui.ui.widgets.filter_box import FilterBox
from tui.ui.widgets.message_view import MessageView

SIZE = (100, 30)


def transcript(kit: StoreKit, parts: list[tuple[str, int]]) -> None:
    """One session whose messages are ``count`` of each text, in order
    ("retry" ones numbered, the rest filler)."""
    kit.add_task(1, "Search me", "active")
    kit.link(1, "s1", "worker")
    kit.add_session("s1")
    msgs, n = [], 0
    for text, count in parts:
        for i in range(count):
            if text == "retry":
                n += 1
                msgs.append(assistant(f"retry number {n} went through"))
            else:
                msgs.append(user(f"{text} {i}"))
    kit.add_messages("s1", msgs, BASE_MS - 600_000)


def marked(app: SessionTopApp) -> str | None:
    """The text of the message marked as the current match (one at most)."""
    views = [v for v in app.screen.query(MessageView) if v.has_class("-match")]
    assert len(views) <= 1, "one current match at a time"
    return views[0].haystack if views else None


def line(app: SessionTopApp) -> str:
    """What the search box's frame says, as drawn (its bottom edge), stripped."""
    box = app.screen.query_one(FilterBox)
    if not box.display or box.region.height == 0:
        return ""
    rows = screen_text(app).splitlines()
    drawn = rows[box.region.y + box.region.height - 1]
    return drawn.strip(" ▁▔▊▎▕▏").strip()


async def at(pilot, app: SessionTopApp, position: str, number: int) -> None:  # type: ignore[no-untyped-def]
    """The search line says ``position`` and retry ``number`` is the marked one, on screen."""
    await wait_until(pilot, lambda: line(app).startswith(position), what=f"the line to say {position!r}")
    want = f"retry number {number} went through"
    await wait_until(pilot, lambda: want in (marked(app) or ""), what=f"{want!r} marked")
    await wait_for_text(pilot, app, want)


async def test_the_search_line_counts_and_n_goes_down_N_up(kit: StoreKit) -> None:
    # Eight matches, then more filler than the screen holds: the view (at the
    # end) shows none, so Enter goes to the nearest above, the newest.
    transcript(kit, [("older chat", 4), ("retry", 8), ("filler line", 26)])
    app = make_app(kit, clock=lambda: FIXED_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Search me")
        app.open_session("s1")
        await wait_for_text(pilot, app, "filler line 25")
        assert isinstance(app.screen, TranscriptScreen)
        await pilot.press("slash", *"retry")
        await wait_until(pilot, lambda: line(app).startswith("8 matches"), what="the count as typed")
        await pilot.press("enter")
        await at(pilot, app, "8 of 8", 8)
        await pilot.press("N")  # up: older
        await at(pilot, app, "7 of 8", 7)
        await pilot.press("N", "N")
        await at(pilot, app, "5 of 8", 5)
        await pilot.press("n")  # down: newer
        await at(pilot, app, "6 of 8", 6)
        await pilot.press("n", "n")
        await at(pilot, app, "8 of 8", 8)
        await pilot.press("n")  # past the newest: round to the top, and said so
        await at(pilot, app, "1 of 8", 1)
        assert "wrapped to the top" in line(app)
        assert not list(app._notifications), "the search never toasts"  # noqa: SLF001
        await pilot.press("escape")  # closes the search: the line and the mark go
        await wait_until(pilot, lambda: marked(app) is None, what="unmarked")
        assert line(app) == "" and "of 8" not in screen_text(app)
        assert app.screen.query_one(FilterBox).said == ""
        assert isinstance(app.screen, TranscriptScreen)


async def test_N_at_the_first_loaded_match_reads_older_pages_for_the_ones_above(
        kit: StoreKit) -> None:
    # The first page (40 messages) holds retries 5-8; 1-4 are older than it.
    transcript(kit, [("retry", 4), ("old filler", 45), ("retry", 4), ("filler line", 20)])
    app = make_app(kit, clock=lambda: FIXED_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Search me")
        app.open_session("s1")
        await wait_for_text(pilot, app, "filler line 19")
        await pilot.press("slash", *"retry", "enter")
        await at(pilot, app, "4 of 4 loaded", 8)  # "loaded": older messages are not read yet
        await pilot.press("N", "N", "N")
        await at(pilot, app, "1 of 4 loaded", 5)
        await pilot.press("N")  # above the first loaded one: the older pages are read
        await at(pilot, app, "4 of 8", 4)
        await pilot.press("N")
        await at(pilot, app, "3 of 8", 3)
        assert not list(app._notifications), "the search never toasts"  # noqa: SLF001
