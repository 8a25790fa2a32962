"""Issue 11, look: in every shipped theme the selected pane's border, a live
pane's border and the colours of a turn's outcome stand out from what they are
drawn on; the theme picker marks the theme in use; toasts never cover the
status line (it says where liveness comes from) or the footer; the footer
drops whole keys when narrow, never "q Quit" or "? Help", and cuts none.

Contrast is WCAG's ratio of relative luminance, with its floor for the parts of
an interface that carry meaning and for bold text: 3:1. It is measured on what
the running app resolves for each widget, not on the theme's variables.
"""

from __future__ import annotations

from textual.color import Color
from textual.widgets import Footer, OptionList
from textual.widgets._toast import Toast

from tests.conftest import FIXED_NOW
from tests.harness import apoll, make_app, screen_text, wait_for_text, wait_until
from tests.storekit import StoreKit
from tui.ui.commands import CURRENT_MARK
from tui.ui.textual_private import FooterKey
from tui.ui.screens.task import TaskScreen
from tui.ui.widgets.session_card import SessionCard
from tui.ui.widgets.status import StatusLine
from tui.ui.widgets.task_table import TaskTable

FLOOR = 3.0


def luminance(c: Color) -> float:
    def channel(v: int) -> float:
        x = v / 255
        return x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4
    return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b)


def contrast(a: Color, b: Color) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def over(base: Color, c: Color) -> Color:
    """``c`` as drawn on ``base`` (a translucent colour blends)."""
    return base.blend(c.with_alpha(1.0), c.a) if c.a < 1 else c


def measurable(name: str) -> bool:
    """The ANSI themes draw with the terminal's own palette: nothing to measure."""
    return "ansi" not in name


async def test_every_theme_keeps_borders_and_outcomes_legible(fleet: StoreKit) -> None:
    app = make_app(fleet, clock=lambda: FIXED_NOW)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for_text(pilot, app, "Review the watcher debounce")
        table = app.screen.query_one(TaskTable)
        app.open_task(1)
        await wait_for_text(pilot, app, "last turn error")
        screen = app.screen
        assert isinstance(screen, TaskScreen)
        cards = {c.pane.info.session_id: c for c in screen.query(SessionCard) if c.pane is not None}
        await wait_until(pilot, lambda: cards["s1"].has_class("-cursor"), what="the first card selected")
        themes = sorted(t for t in app.available_themes if measurable(t))
        assert {"textual-dark", "textual-light", "nord", "solarized-light"} <= set(themes)
        faint: list[str] = []
        for name in themes:
            app.theme = name
            await pilot.pause()
            await pilot.pause()
            page = over(app.screen.styles.background, app.screen.styles.background)
            checks: dict[str, tuple[Color, Color]] = {}
            for sid, what in (("s1", "selected pane's border"), ("s3", "live pane's border")):
                card = cards[sid]
                under = over(page, card.styles.background)
                checks[what] = (over(under, card.styles.border_top[1]), under)
            card = cards["s4"]
            under = over(page, card.styles.background)
            for part in ("bad", "good", "warn"):
                rich = card.get_component_rich_style(f"card--{part}")
                assert rich.color is not None
                checks[f"pane's {part} outcome"] = (Color.from_rich_color(rich.color), under)
                rich = table.get_component_rich_style(f"tasktable--{part}")
                assert rich.color is not None
                checks[f"list's {part} outcome"] = (Color.from_rich_color(rich.color),
                                                    over(page, table.styles.background))
            for what, (fg, bg) in checks.items():
                ratio = contrast(fg, bg)
                if ratio < FLOOR:
                    faint.append(f"{name}: {what} {fg.hex} on {bg.hex} is {ratio:.1f}:1")
        assert not faint, "\n".join(faint)


async def test_the_theme_picker_marks_the_theme_in_use(fleet: StoreKit) -> None:
    app = make_app(fleet, clock=lambda: FIXED_NOW)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for_text(pilot, app, "Review the watcher debounce")
        app.theme = "nord"
        app.action_change_theme()
        await wait_for_text(pilot, app, "nord" + CURRENT_MARK)
        options = app.screen.query_one(OptionList)
        first = str(options.get_option_at_index(0).prompt)
        assert first.startswith("nord" + CURRENT_MARK), first  # listed first
        await pilot.press(*"gruvbox", "enter")
        await wait_until(pilot, lambda: app.theme == "gruvbox", what="gruvbox chosen")
        app.action_change_theme()
        await wait_for_text(pilot, app, "gruvbox" + CURRENT_MARK)
        assert "nord" + CURRENT_MARK not in screen_text(app)


async def test_toasts_stand_above_the_status_line_and_the_footer(fleet: StoreKit) -> None:
    app = make_app(fleet, clock=lambda: FIXED_NOW)
    for size in ((80, 24), (160, 40)):
        async with app.run_test(size=size, notifications=True) as pilot:
            await wait_for_text(pilot, app, "Review the watcher debounce")
            for i in range(4):  # a stack of them, one long enough to wrap
                app.notify(f"turn ended error in session s{i} " + "of a long-titled task " * i,
                           severity="error", timeout=30)
            await wait_until(pilot, lambda: len(app.screen.query(Toast)) == 4, what="four toasts")
            await pilot.pause()
            status = app.screen.query_one(StatusLine).region
            footer = app.screen.query_one(Footer).region
            assert status.height and footer.height
            for toast in app.screen.query(Toast):
                assert toast.region.height, "the toast is shown"
                assert not toast.region.overlaps(status), (size, toast.region, status)
                assert not toast.region.overlaps(footer), (size, toast.region, footer)
        app = make_app(fleet, clock=lambda: FIXED_NOW)


async def test_the_footer_drops_whole_keys_and_keeps_quit_and_help(fleet: StoreKit) -> None:
    def problems(app, width: int, name: str) -> list[object]:  # type: ignore[no-untyped-def]
        keys = list(app.screen.query_one(Footer).query(FooterKey))
        (palette,) = [k for k in keys if k.has_class("-command-palette")]
        shown = [k for k in keys if k.display and k is not palette]
        out: list[object] = []
        actions = {k.action for k in shown}
        if not {"quit", "help"} <= actions:
            out.append((width, name, actions))
        for k in shown:  # each whole, left of the palette key
            if k.region.width != len(k.key_display) + len(k.description) + 3:
                out.append((width, name, k, "cut"))
            if k.region.right > palette.region.x:
                out.append((width, name, k.description, "under the palette key"))
        if width >= 200 and len(shown) != len(keys) - 1:
            out.append((width, name, "room for every key"))
        return out

    async def check(pilot, app, width: int, name: str) -> None:  # type: ignore[no-untyped-def]
        # The footer is laid out a frame after the screen: wait for it to be right.
        await apoll(lambda: not problems(app, width, name), what=f"the footer at {width} ({name})",
                    sleep=pilot.pause, details=lambda: str(problems(app, width, name)))

    for width in (60, 80, 100, 132, 220):
        app = make_app(fleet, clock=lambda: FIXED_NOW)
        async with app.run_test(size=(width, 30)) as pilot:
            await wait_for_text(pilot, app, "Review the watcher debounce")
            await check(pilot, app, width, "task list")
            app.open_task(1)
            await wait_for_text(pilot, app, "last turn error")
            await check(pilot, app, width, "task")
