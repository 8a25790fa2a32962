"""Styling lives in styles/*.tcss: no widget or screen of tui/ carries CSS of its
own, every component class a widget declares (the parts its code colours) has
its rule there, and the rules moved there take effect in the real app."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

from textual.containers import Vertical, VerticalScroll
from textual.dom import DOMNode

import tui.ui
from tests.conftest import FIXED_NOW
from tests.harness import make_app, wait_for_text, wait_until
from tests.storekit import StoreKit
from tui.ui.app import stylesheet_paths
from tui.ui.screens.notifications import NotificationsScreen
from tui.ui.screens.successor import SuccessorPrompt

TUI = Path(__file__).resolve().parent.parent / "tui"


async def _modal_screens_look(fleet: StoreKit) -> None:
    app = make_app(fleet, clock=lambda: FIXED_NOW)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_text(pilot, app, "Review the watcher debounce")
        await pilot.press("exclamation_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, NotificationsScreen), what="the ! screen")
        box = app.screen.query_one(VerticalScroll)
        await wait_until(pilot, lambda: tuple(box.outer_size) == (90, 24), what="90% × 80%")
        assert box.styles.border_top[0] == "round"
        await pilot.press("escape")
        app.push_screen(SuccessorPrompt("s7", "s43"))
        await wait_for_text(pilot, app, "s7 is retired → s43")
        prompt = app.screen.query_one(Vertical)
        assert prompt.outer_size.width == 64 and prompt.styles.border_top[0] == "round"


async def test_no_module_of_tui_carries_css_and_the_modal_screens_look_as_they_did(fleet: StoreKit) -> None:
    """The ! screen and the retired session's prompt had their CSS beside them:
    it is in styles/ now, and they keep their size and frame."""
    found = []
    for path in TUI.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id in ("DEFAULT_CSS", "CSS") for t in node.targets):
                found.append(f"{path.relative_to(TUI.parent)}:{node.lineno}")
    assert not found, f"CSS outside styles/: {found}"
    await _modal_screens_look(fleet)


def test_every_component_class_has_its_rule_in_styles() -> None:
    for info in pkgutil.walk_packages(tui.ui.__path__, "tui.ui."):
        importlib.import_module(info.name)
    declared: dict[str, str] = {}
    todo: list[type] = [DOMNode]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("tui.ui.") and "COMPONENT_CLASSES" in cls.__dict__:
            declared.update({name: cls.__name__ for name in cls.__dict__["COMPONENT_CLASSES"]})
    assert declared, "no component classes found"
    css = "\n".join(p.read_text(encoding="utf-8") for p in stylesheet_paths())
    styled = set(re.findall(r"\.([a-z]+--[a-z-]+)", css))
    unstyled = {name: owner for name, owner in declared.items() if name not in styled}
    assert not unstyled, f"component classes with no rule in styles/: {unstyled}"
