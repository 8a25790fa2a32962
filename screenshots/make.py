"""Regenerate screenshots/: each level of the dashboard on the demo fleet, at a fixed clock.

    python screenshots/make.py

Writes SVG (Textual's own export) and PNG (via rsvg-convert, from Debian's
librsvg2-bin, with fonts-firacode installed so the PNG uses the font the SVG
asks for). The demo fleet is built with a fixed seed and a fixed "now" at a
fixed path, its stand-in tau server (the live phases) runs on the same fixed
clock and is not stepped, and times are shown in UTC, so the pictures only
change when the look does.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tui.ui.app import SessionTopApp  # noqa: E402
from tui.demo import DemoFleet  # noqa: E402
from tui.tau.store import Store  # noqa: E402

NOW_MS = 1_780_000_000_000
SIZE = (132, 38)


def to_png(svg: Path) -> None:
    """SVG → PNG; keep the spaces Textual writes as leading &#160; (rsvg drops them otherwise)."""
    if shutil.which("rsvg-convert") is None:
        print("rsvg-convert not found: apt-get install librsvg2-bin fonts-firacode", file=sys.stderr)
        return
    text = svg.read_text(encoding="utf-8").replace(
        '<svg class="rich-terminal"', '<svg xml:space="preserve" class="rich-terminal"', 1)
    with tempfile.NamedTemporaryFile("w", suffix=".svg", delete=False, encoding="utf-8") as tmp:
        tmp.write(text)
    try:
        subprocess.run(["rsvg-convert", tmp.name, "-o", str(svg.with_suffix(".png"))], check=True)
    finally:
        os.unlink(tmp.name)


async def shoot(data_dir: Path, runtime_dir: Path, server: object) -> None:
    app = SessionTopApp(Store(data_dir, runtime_dir), clock=lambda: NOW_MS / 1000,
                        watch=False, tick=False)

    async def settle(count: int) -> None:
        for _ in range(200):
            if app.applied >= count:
                break
            await pilot.pause(0.02)
        await pilot.pause(0.3)

    def save(name: str) -> None:
        path = HERE / f"{name}.svg"
        app.save_screenshot(str(path))
        to_png(path)
        print("wrote", path.with_suffix(".png").relative_to(HERE.parent))

    async with app.run_test(size=SIZE) as pilot:
        await settle(1)
        save("1-tasks")
        # The busiest running task: the row with the most live sessions.
        snap = app.screen.snapshot  # type: ignore[attr-defined]
        busiest = max(snap.tasks, key=lambda t: (t.live_count, t.session_count))
        app.screen.select_task(busiest.id)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(2)
        save("2-task")
        screen = app.screen
        live = next((i for i, p in enumerate(screen._visible) if p.info.is_live), 0)  # type: ignore[attr-defined]
        for _ in range(live):
            await pilot.press("right")
        await pilot.press("enter")
        await settle(3)
        # The turn streaming now, as tau's server sends it (TAU.md §7.4): thinking,
        # then the answer being written, each delta with the whole partial message.
        sid = app.screen.session_id  # type: ignore[attr-defined]
        partial: dict = {"content": [], "api": "anthropic-messages", "provider": "anthropic",
                         "model": "claude-sonnet-4", "stop_reason": "stop", "timestamp": NOW_MS,
                         "usage": {"input": 0, "output": 0, "cache_read": 0, "cache_write": 0,
                                   "total_tokens": 0, "cost": {"input": 0, "output": 0, "cache_read": 0,
                                                               "cache_write": 0, "total": 0}}}
        server.emit(sid, {"type": "start", "partial": partial})  # type: ignore[attr-defined]
        pieces = {"thinking": ["The retry test fails only on a closed socket; ",
                               "check the backoff path before touching the parser."],
                  "text": ["The failing case is the closed socket: `read` returns 0 and the loop ",
                           "retries at once instead of backing off.\n\nI will make the backoff ",
                           "apply to EOF too, then run `cargo test retry` again"]}
        for kind, parts in pieces.items():
            ci = len(partial["content"])
            partial["content"].append({"type": kind, kind: ""})
            server.emit(sid, {"type": f"{kind}_start", "content_index": ci, "partial": partial})  # type: ignore[attr-defined]
            for piece in parts:
                partial["content"][ci][kind] += piece
                server.emit(sid, {"type": f"{kind}_delta", "content_index": ci, "delta": piece,  # type: ignore[attr-defined]
                                  "partial": partial})
            await pilot.pause(0.2)
        await pilot.pause(0.5)
        save("3-transcript")
        await pilot.press("question_mark")
        await pilot.pause(0.3)
        save("4-help")
        await pilot.press("escape", "escape", "escape")
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.5)
        save("5-tasks-80x24")


def main() -> None:
    os.environ["TZ"] = "UTC"
    time.tzset()
    home = Path("/tmp/sessiontop-screens")  # fixed: the status line shows it
    shutil.rmtree(home, ignore_errors=True)
    data_dir = home / "tau"
    fleet = DemoFleet(data_dir, seed=7, clock=lambda: NOW_MS, runtime_dir=home / "run")
    fleet.start(run_thread=False)  # the server holds the live phases; nothing moves
    try:
        asyncio.run(shoot(data_dir, fleet.runtime_dir, fleet.server))
    finally:
        fleet.server.crash()  # no clean shutdown: it would write to the store
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
