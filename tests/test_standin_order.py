"""The stand-in starts a run in tau's order, the order a dashboard can trip on.

TAU.md §5.2a (agent_runner.rs): a run tau starts itself is put in
live_sessions first, with no phase, so a ``subscribe`` answers Idle (dispatch.rs
Subscribe: ``phases.get(..).unwrap_or(default)``); history loads and plugins
start; the prompt is stored (:840); only then Connecting persists ``sending
request`` (:404). A restart stores "Resumed after server restart." and starts
its resumes before it serves (mod.rs ``run``: ``spawn_auto_resume_tasks``
before the accept loop), and a resume writes the same stale ``sending
request`` a crash left. Read back with plain sqlite3 and a raw socket client.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_standin import NOW, Client, rows, stepped_fleet
from tui.demo import DemoFleet, TauServer, build_demo_store

LOAD = 3  # ticks of history load and plugin start, fixed for the test


@pytest.fixture
def store(tmp_path: Path) -> Path:
    build_demo_store(tmp_path / "data", now_ms=NOW)
    return tmp_path / "data"


@pytest.fixture
def fleet(store: Path, tmp_path: Path) -> Iterator[DemoFleet]:
    with stepped_fleet(store, tmp_path / "run", load_ticks=(LOAD, LOAD)) as f:
        yield f


def first_answer(fleet: DemoFleet, sid: str) -> str:
    c = Client(fleet.socket_path)
    try:
        c.send({"type": "subscribe", "session_id": sid})
        return str(c.line()["event"]["phase"])
    finally:
        c.close()


def disk(store: Path, sid: str) -> tuple[str | None, int]:
    (phase,) = rows(store / "tau.db", "SELECT last_phase FROM sessions WHERE id = ?", sid)[0]
    (count,) = rows(store / "tau.db", "SELECT COUNT(*) FROM messages WHERE session_id = ?", sid)[0]
    return phase, count


def test_a_run_tau_starts_is_live_before_its_prompt_and_its_phase(fleet: DemoFleet, store: Path) -> None:
    sid = rows(store / "tasks.db", "SELECT ts.session_id FROM task_sessions ts JOIN tasks t ON t.id = ts.task_id"
               " WHERE ts.role = 'planner' AND t.state NOT IN ('merged','done','closed','failed')")[0][0]
    assert not fleet.server.is_live(sid)
    before = disk(store, sid)
    fleet.start_run(sid)
    # Step 1: live, no phase, nothing on disk.
    assert fleet.server.is_live(sid) and first_answer(fleet, sid) == "Idle"
    for _ in range(LOAD - 1):  # history load, plugin start: LOAD ticks with the first
        fleet.stream_step()
        assert disk(store, sid) == before
    assert disk(store, sid) == before and first_answer(fleet, sid) == "Idle"
    # Step 2: the prompt, the phase still unset.
    fleet.stream_step()
    assert disk(store, sid) == (before[0], before[1] + 1)
    assert first_answer(fleet, sid) == "Idle" and fleet.server.is_live(sid)
    # Step 3: Connecting (after the provider throttle's sleep, if it bit).
    for _ in range(40):
        fleet.stream_step()
        if fleet.server.phase_of(sid)[0] == "Connecting":
            break
    assert fleet.server.phase_of(sid)[0] == "Connecting" and disk(store, sid)[0] == "sending request"


def test_a_restart_resumes_before_it_serves_and_rewrites_the_stale_phase(fleet: DemoFleet, store: Path) -> None:
    stale = dict(rows(store / "tau.db", "SELECT id, last_phase FROM sessions WHERE last_phase != 'idle'"))
    resumed = fleet.restart(crash=True)
    assert resumed
    watch = sqlite3.connect(store / "tau.db")
    try:
        version = watch.execute("PRAGMA data_version").fetchone()[0]
        for sid in resumed:
            info = [json.loads(m)["text"] for (m,) in rows(
                store / "tau.db", "SELECT message_json FROM messages WHERE session_id = ? AND"
                " json_extract(message_json, '$.role') = 'info'", sid)]
            assert info[-1] == "Resumed after server restart."
            # Live, no phase: tau's subscribe says Idle while plugins start.
            assert fleet.server.is_live(sid) and first_answer(fleet, sid) == "Idle"
        for _ in range(LOAD):
            fleet.stream_step()
        moved = watch.execute("PRAGMA data_version").fetchone()[0] != version
    finally:
        watch.close()
    for sid in resumed:
        assert fleet.server.phase_of(sid)[0] in ("Connecting", "ToolExec", "Thinking", "Responding")
    same = [sid for sid in resumed if stale.get(sid) == "sending request"]
    assert same, "a resume over a crash's `sending request`"
    for sid in same:  # the same value written again: only the commit shows
        assert disk(store, sid)[0] == "sending request"
    assert moved


def test_the_servers_start_up_work_comes_before_any_answer(store: Path, tmp_path: Path) -> None:
    srv = TauServer(tmp_path / "run", store)
    early: list[Client] = []

    def startup() -> None:
        c = Client(srv.socket_path)  # bound: the connect waits in the backlog
        c.send({"type": "subscribe", "session_id": "s1"})
        early.append(c)
        srv.set_phase("s1", "Thinking")  # tau's resumes, before its accept loop

    srv.start(before_serving=startup)
    try:
        assert early[0].line()["event"]["phase"] == "Thinking"
    finally:
        early[0].close()
        srv.shutdown()
