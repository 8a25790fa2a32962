"""Every key is declared once and documented where an operator looks.

A key lives in a BINDINGS list (the app's, a screen's, a widget's). `?` help is
built from those bindings, plus a short legend for what no binding of ours says
(Textual's own keys, the filter box, the mouse). README's key table must name
the same keys: every key bound with show (in a footer) or listed in help is in
the table, and every key in the table is one of them. And the help itself is
the real one: opened in the real app at 80×24, it scrolls to its last line.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

from textual.binding import Binding
from textual.dom import DOMNode

import tui.ui
from tests.conftest import FIXED_NOW
from tests.harness import make_app, screen_text, wait_for_text, wait_until
from tests.storekit import StoreKit
from tui.ui.app import SessionTopApp
from tui.ui.screens.help import KEY_LABELS, sections

README = Path(__file__).resolve().parent.parent / "README.md"


def _classes_with_bindings() -> list[type[DOMNode]]:
    """Every app, screen and widget class of tui.ui that declares BINDINGS."""
    for info in pkgutil.walk_packages(tui.ui.__path__, "tui.ui."):
        importlib.import_module(info.name)
    found: list[type[DOMNode]] = []
    todo: list[type] = [DOMNode]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("tui.ui.") and "BINDINGS" in cls.__dict__:
            found.append(cls)
    return found


def shown_keys() -> dict[str, set[str]]:
    """Keys bound with show=True, and the classes that bind each."""
    keys: dict[str, set[str]] = {}
    for cls in _classes_with_bindings():
        for binding in Binding.make_bindings(cls.__dict__["BINDINGS"]):
            if binding.show:
                keys.setdefault(binding.key, set()).add(cls.__name__)
    return keys


def help_keys() -> set[str]:
    return {key for _, rows in sections(SessionTopApp.BINDINGS) for row in rows for key in row.keys}


def readme_keys() -> set[str]:
    """The keys named (`in backticks`) in the first column of README's key table."""
    text = README.read_text(encoding="utf-8")
    table = text.split("\n## Keys\n", 1)[1].split("\n## ", 1)[0]
    names = {label: key for key, label in KEY_LABELS.items()}
    keys: set[str] = set()
    for line in table.splitlines()[2:]:  # past the header and its rule
        if line.startswith("|"):
            first = line.split("|")[1]
            keys |= {names.get(token, token) for token in re.findall(r"`([^`]+)`", first)}
    return keys


def test_every_key_shown_or_in_help_is_in_readme_and_nothing_else_is() -> None:
    shown, helped, documented = shown_keys(), help_keys(), readme_keys()
    assert {"q", "question_mark", "slash", "escape", "enter", "p", "exclamation_mark"} <= set(shown)
    missing_in_help = {k: sorted(v) for k, v in shown.items() if k not in helped}
    assert not missing_in_help, f"keys in a footer that help does not list: {missing_in_help}"
    assert not helped - documented, f"keys in help missing from README's table: {sorted(helped - documented)}"
    assert not documented - helped, f"README's table names keys no binding has: {sorted(documented - helped)}"


def test_help_lists_each_levels_bindings_with_their_words() -> None:
    """The help's lines are the bindings' own: a key bound on a screen shows in
    its level with its tooltip, and one tooltip is one line."""
    levels = dict(sections(SessionTopApp.BINDINGS))
    tasks = {row.text: row.keys for row in levels["Tasks"]}
    assert tasks["move up / down"] == ("up", "down", "j", "k")
    assert tasks["the first / last row"] == ("home", "end", "g", "G")
    everywhere = {row.keys: row.text for row in levels["Everywhere"]}
    assert everywhere[("q", "ctrl+c")].startswith("quit")
    assert everywhere[("p",)].startswith("pause / resume")  # Pause and Resume: one line
    transcript = {row.keys for row in levels["Transcript"]}
    assert ("n", "N") in transcript and ("end", "G") in transcript


async def test_help_at_80x24_scrolls_to_its_last_line(fleet: StoreKit) -> None:
    app = make_app(fleet, clock=lambda: FIXED_NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_text(pilot, app, "Review the watcher debounce")
        await pilot.press("question_mark")
        first = await wait_for_text(pilot, app, "sessiontop: keys")
        assert "q  ctrl+c" in first and "Esc closes this help" not in first
        await pilot.press("end")
        await wait_until(pilot, lambda: "Esc closes this help" in screen_text(app), what="the last line")
        await pilot.press("escape")
        await wait_until(pilot, lambda: "sessiontop: keys" not in screen_text(app), what="help closed")
