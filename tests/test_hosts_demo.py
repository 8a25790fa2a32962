"""Issue 23: ``sessiontop --demo --demo-hosts 2`` shows a newcomer the multi-host
view in one command, in a real terminal (a pty read by a VT emulator) of 80x24.

Each demo host is its own tau (a data directory and a stand-in server in a
process of its own) read by a local ``sessiontop feed``: no ssh. The test
reads what an operator would see, walks into a host's task, and checks that
leaving takes every process the demo started with it.
"""

from __future__ import annotations

import contextlib
from itertools import combinations
from pathlib import Path

from tests.harness import apoll, poll
from tests.ptykit import PtyApp
from tui.demo.content import ROLES
from tui.hosts.build import DemoHosts


def started_by_demo() -> list[int]:
    """This machine's processes that a demo's hosts run: their tau and their feed."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            with contextlib.suppress(OSError):
                words = (d / "cmdline").read_bytes().split(b"\0")
                if any(b"sessiontop-demo-" in w and b"/hosts/" in w for w in words):
                    out.append(int(d.name))
    return out


def body(app: PtyApp) -> list[str]:
    """The task list's lines (under the title, the filter box and the header)."""
    return app.lines()[2:-5]


def test_demo_hosts_in_a_real_terminal_at_80_columns() -> None:
    before = set(started_by_demo())
    app = PtyApp("--demo", "--demo-hosts", "2", cols=80, rows=24)
    try:
        # Every host in the status line, live; the list says each row's host.
        text = app.wait_for("● local", "● gpu1", "● gpu2", "Host", timeout=90)
        assert "this machine has no tau" not in text
        app.wait(lambda: all(any(f" {h} " in line for line in body(app)) for h in ("local", "gpu1", "gpu2")),
                 what="rows of every host")
        mine = set(started_by_demo()) - before
        assert len(mine) >= 4  # per host: its tau and its feed
        # One host's tasks: the filter's host:NAME.
        app.send(b"/host:gpu2")
        app.wait(lambda: any(" gpu2 " in ln for ln in body(app))
                 and not any(" local " in ln or " gpu1 " in ln for ln in body(app)), what="gpu2's rows only")
        app.send(b"\x1b")  # Esc clears the filter (and the list has the keys again)
        app.wait(lambda: any(" local " in ln for ln in body(app)), what="every host again")
        # A task opens on its host; its id says which.
        app.send(b"\r")
        app.wait(lambda: any(ln.lstrip().startswith(("local #", "gpu1 #", "gpu2 #")) for ln in app.lines()[:2]),
                 what="a task screen whose id names its host")
        app.send(b"q")
        assert app.wait_exit(30) == 0
        poll(lambda: not (set(started_by_demo()) & mine), 30, "the demo's hosts ended with it")
    finally:
        app.close()


async def test_each_demo_host_tells_its_story_in_projects_and_titles_of_its_own(tmp_path: Path) -> None:
    """Three demo hosts look like three machines: no project and no task title
    of one is another's, nor this machine's demo's (its tau, sessiontop, webapp)."""
    demo = DemoHosts(tmp_path / "hosts", 3)
    sources = demo.start()
    try:
        for source in sources:
            await source.open()
        await apoll(lambda: all(s.mirror.complete for s in sources), 60, what="every host's list")
        projects = [{t.project for t in s.mirror.tasks()} for s in sources]
        titles = [{t.title for t in s.mirror.tasks()} for s in sources]
        assert all(len(p) == 3 for p in projects) and all(len(t) >= 10 for t in titles)
        for a, b in combinations(range(3), 2):
            assert not projects[a] & projects[b] and not titles[a] & titles[b], (a, b)
        assert not set().union(*projects) & set(ROLES)
        # Nor in lockstep: each files its tasks at times of its own, so the
        # states by id differ (before: #10 merging, #11 active … on every host).
        boards = [tuple(t.state for t in sorted(s.mirror.tasks(), key=lambda t: t.id)) for s in sources]
        assert len(set(boards)) == 3, boards
    finally:
        for source in sources:
            await source.close()
        demo.stop()
