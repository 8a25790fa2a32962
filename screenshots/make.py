"""Regenerate screenshots/: each level of the dashboard on the demo fleet, at a fixed clock,
then the `!` screen after the fleet moved on (6-alerts) and the list with two demo
hosts (7-hosts).

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

from tui.demo import DemoFleet  # noqa: E402
from tui.demo.build import build_demo_store  # noqa: E402
from tui.hosts import Hosts  # noqa: E402
from tui.hosts.build import DEMO_NAMES  # noqa: E402
from tui.remote.source import RemoteSource  # noqa: E402
from tui.remote.ssh import LocalTransport  # noqa: E402
from tui.tau.store import Store  # noqa: E402
from tui.ui.app import SessionTopApp  # noqa: E402

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


async def shoot(data_dir: Path, runtime_dir: Path, fleet: DemoFleet) -> None:
    server = fleet.server
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
        await pilot.resize_terminal(*SIZE)
        await alerts(app, pilot, fleet)
        save("6-alerts")


async def alerts(app: SessionTopApp, pilot: object, fleet: object) -> None:
    """The `!` screen with notifications in its log: the fleet moves on (its
    fixed clock, its seed) until turns end and tasks change state, each change
    read with `r` (nothing is watched here) so the notifier tells it. Its
    toasts stand on the task list; `!` lists them instead of a toast."""
    for _ in range(100):
        if app.notifier.engine.baselined:
            break
        await pilot.pause(0.05)  # type: ignore[attr-defined]
    for _ in range(400):
        if len(app.notifier.log) >= 4:
            break
        fleet.step()  # type: ignore[attr-defined]
        await pilot.press("r")  # type: ignore[attr-defined]
        await pilot.pause(0.05)  # type: ignore[attr-defined]
    await pilot.press("exclamation_mark")  # type: ignore[attr-defined]
    await pilot.pause(1.2)  # type: ignore[attr-defined]


#: `sessiontop feed` with the fixed clock: a host's feed stamps what it sends
#: (its clock's skew is measured from that), so it too must not see the day.
FEED = (sys.executable, "-c", f"import sys, time; time.time = lambda: {NOW_MS / 1000!r}; "
        f"sys.path.insert(0, {str(HERE.parent)!r}); from tui.cli import main; sys.exit(main())")


async def shoot_hosts(data_dir: Path, runtime_dir: Path, hosts: list[tuple[str, Path, Path]]) -> None:
    """The list with two demo hosts beside this machine (`--demo-hosts 2`):
    the Host column, `host:` ids, each host in the status line."""
    def clock() -> float:
        return NOW_MS / 1000

    remotes = [RemoteSource(LocalTransport(name, str(d), str(r), command=FEED), clock=clock)
               for name, d, r in hosts]
    app = SessionTopApp(Hosts(Store(data_dir, runtime_dir), remotes, clock=clock), clock=clock,
                        watch=False, tick=False)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(300):  # every host's rows in (each feed is a process of its own)
            snap = getattr(app.screen, "snapshot", None)
            if snap is not None and {t.host for t in snap.tasks} >= {n for n, _, _ in hosts}:
                break
            await pilot.pause(0.05)
        await pilot.pause(1.0)
        path = HERE / "7-hosts.svg"
        app.save_screenshot(str(path))
        to_png(path)
        print("wrote", path.with_suffix(".png").relative_to(HERE.parent))


def host_fleets(home: Path) -> tuple[list[DemoFleet], list[tuple[str, Path, Path]]]:
    """Two demo hosts as `--demo-hosts 2` makes them (their seeds, their
    projects), on the fixed clock, their servers not stepped."""
    fleets, hosts = [], []
    for i, name in enumerate(DEMO_NAMES[:2], 1):
        data_dir, seed = home / "hosts" / name, 7 + 101 * i
        build_demo_store(data_dir, seed=seed, now_ms=NOW_MS, cast=i)
        fleet = DemoFleet(data_dir, seed=seed, clock=lambda: NOW_MS, runtime_dir=home / f"run-{name}")
        fleet.start(run_thread=False)
        fleets.append(fleet)
        hosts.append((name, data_dir, fleet.runtime_dir))
    return fleets, hosts


def main() -> None:
    os.environ["TZ"] = "UTC"
    time.tzset()
    # The notifier reads the wall clock itself (its log's times, stalls' ages):
    # it too sees the fixed "now", so 6-alerts does not change with the day.
    time.time = lambda: NOW_MS / 1000
    home = Path("/tmp/sessiontop-screens")  # fixed: the status line shows it
    shutil.rmtree(home, ignore_errors=True)
    data_dir = home / "tau"
    fleet = DemoFleet(data_dir, seed=7, clock=lambda: NOW_MS, runtime_dir=home / "run")
    fleet.start(run_thread=False)  # the server holds the live phases; nothing moves
    fleets = [fleet]
    try:
        asyncio.run(shoot(data_dir, fleet.runtime_dir, fleet))
        # The hosts' picture: this machine's fleet anew, as it was at the start.
        fleet.server.crash()
        shutil.rmtree(home, ignore_errors=True)
        fleet = DemoFleet(data_dir, seed=7, clock=lambda: NOW_MS, runtime_dir=home / "run")
        fleet.start(run_thread=False)
        more, hosts = host_fleets(home)
        fleets = [fleet, *more]
        asyncio.run(shoot_hosts(data_dir, fleet.runtime_dir, hosts))
    finally:
        for each in fleets:
            each.server.crash()  # no clean shutdown: it would write to the store
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
