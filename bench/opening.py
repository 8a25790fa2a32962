"""Opening a big transcript: from ``app.open_session`` to the newest message painted."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from tui.tau.store import Store
from tui.ui.app import SessionTopApp

from .common import now, summary_ms
from .inapp import SIZE, frame_lines, wait_until
from .views import TextView


def newest_message_id(data_dir: Path, sid: str) -> tuple[int, int]:
    conn = sqlite3.connect(f"file:{data_dir / 'tau.db'}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT MAX(id), COUNT(*) FROM messages WHERE session_id=?", (sid,)).fetchone()
        return int(row[0] or 0), int(row[1] or 0)
    finally:
        conn.close()


async def open_session_run(data_dir: Path, runtime_dir: Path, sid: str, *, repeats: int = 5,
                           timeout: float = 60.0) -> dict[str, Any]:
    """Time from ``app.open_session`` to the newest message painted, in a fresh app
    (so the store's caches are cold; the OS page cache is warm). Also a second
    open of the same session in the same app (store caches warm)."""
    newest, count = newest_message_id(data_dir, sid)
    marker = f"#{newest}"
    cold: list[float] = []
    warm: list[float] = []
    timeouts = 0
    for _ in range(repeats):
        app = SessionTopApp(Store(data_dir, runtime_dir))
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(lambda: app.applied >= 1, 120)
            await pilot.pause()
            for bucket in (cold, warm):
                t0 = now()
                app.open_session(sid)

                def shown() -> bool:
                    scr = app.screen
                    if type(scr).__name__ != "TranscriptScreen" or getattr(scr, "last_id", None) != newest:
                        return False
                    return TextView(frame_lines(scr)).contains(marker)

                # Check the painted frame after each refresh until the newest message shows.
                end = t0 + timeout
                seen = None
                while now() < end:
                    scr = app.screen
                    if type(scr).__name__ == "TranscriptScreen" and getattr(scr, "last_id", None) == newest:
                        await scr.wait_for_refresh()
                        t = now()
                        if shown():
                            seen = t
                            break
                    await asyncio.sleep(0.001)
                if seen is None:
                    timeouts += 1
                else:
                    bucket.append(seen - t0)
                app.pop_screen()
                await pilot.pause()
    return {"session": sid, "messages": count, "cold_open": summary_ms(cold, timeouts=timeouts),
            "warm_open": summary_ms(warm)}
