"""Run by .ci/run against a non-editable wheel install (not collected by pytest).

Starts the app headless on a demo store, from outside the checkout, and checks
that the styles shipped inside the wheel were loaded and the tasks rendered.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

import tui
from tui.ui.app import SessionTopApp, stylesheet_paths
from tui.demo import build_demo_store
from tui.tau.store import Store


async def main() -> int:
    where = Path(tui.__file__).resolve().parent
    sheets = stylesheet_paths()
    assert sheets, "no stylesheet found"
    assert all(where in p.parents for p in sheets), f"styles not from the wheel: {sheets}"
    with tempfile.TemporaryDirectory() as tmp:
        build_demo_store(Path(tmp) / "tau")
        app = SessionTopApp(Store(Path(tmp) / "tau", Path(tmp) / "run"), watch=False)
        async with app.run_test(size=(120, 30)) as pilot:
            for _ in range(250):
                if app.applied:
                    break
                await pilot.pause(0.02)
            assert app.applied, "no snapshot reached the screen"
            text = "\n".join(s.text for s in app.screen._compositor.render_strips())
            assert "Finished" in text, text
            # A rule from styles/app.tcss is in force: the status line sits on $panel.
            assert any("TaskTable" in str(rule) for rule in app.stylesheet.rules), "tcss not loaded"
    print(f"wheel smoke: app started from {where} with {len(sheets)} stylesheet(s)")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
