"""The store layer against real SQLite files written by separate connections."""

from __future__ import annotations

import asyncio

import hashlib
import json
from pathlib import Path

import pytest

from tests.harness import apoll
from tests.storekit import BASE_MS, StoreKit, assistant, tool_result, user
from tui.demo import DemoFleet, build_demo_store
from tui.model.snapshots import TaskSessionInfo
from tui.tau.store import Store, decode_message
from tui.tau.ddl import create_store


async def opened(kit: StoreKit) -> Store:
    store = Store(kit.data_dir, kit.runtime_dir)
    await store.open()
    return store


async def until_read(read, check, timeout: float = 15.0):  # type: ignore[no-untyped-def]
    """Read until ``check(result)`` holds: the server's word reaches the store
    over its own connections, a moment after the change was made."""
    last: list[object] = []

    async def holds() -> bool:
        last[:] = [await read()]
        return bool(check(last[0]))

    await apoll(holds, timeout, "the read to show it", details=lambda: repr(last)[:2000])
    return last[0]


def tasks_by_id(snap):  # type: ignore[no-untyped-def]
    return {t.id: t for t in snap.tasks}


async def sessions_of(store: Store, task_id: int) -> dict[str, TaskSessionInfo]:
    detail = await store.read_task(task_id)
    assert detail is not None
    return {p.info.session_id: p.info for p in detail.sessions}


async def test_every_field_of_task_session_info(fleet: StoreKit) -> None:
    store = await opened(fleet)
    try:
        infos = await sessions_of(store, 1)
        assert list(infos) == ["s1", "s2", "s3", "s4"]  # task_sessions order
        s3 = infos["s3"]
        assert s3 == TaskSessionInfo(
            session_id="s3", role="worker", created_at=BASE_MS - 30 * 60_000,
            message_count=5, archived=False,
            last_activity=(BASE_MS - 10 * 60_000 + 4 * 1000) // 1000,  # newest message, in s
            last_phase="running tools", last_exit_status=None, is_live=True,
        )
        s1 = infos["s1"]
        assert (s1.role, s1.last_phase, s1.last_exit_status, s1.is_live) == (
            "creator", "idle", "completed", False)
        assert s1.message_count == 2
        # A session without messages: last_activity falls back to sessions.created_at.
        s2 = infos["s2"]
        assert s2.message_count == 0 and s2.archived is True
        assert s2.last_activity == (BASE_MS - 3_600_000) // 1000
        assert infos["s4"].last_exit_status == "error" and infos["s4"].is_live
    finally:
        await store.close()


async def test_bare_row_when_session_is_gone(fleet: StoreKit) -> None:
    store = await opened(fleet)
    try:
        infos = await sessions_of(store, 2)
        bare = infos["s99"]
        assert bare.session_id == "s99" and bare.role == "worker"
        assert bare.created_at == BASE_MS - 2 * 3_600_000
        assert (bare.message_count, bare.archived, bare.last_activity, bare.last_phase,
                bare.last_exit_status, bare.is_live) == (None, None, None, None, None, False)
        assert bare.gone
    finally:
        await store.close()


async def test_archived_sessions_and_every_exit_status(fleet: StoreKit) -> None:
    store = await opened(fleet)
    try:
        statuses = {}
        archived = set()
        for task_id in (1, 6, 7):
            for sid, info in (await sessions_of(store, task_id)).items():
                statuses[sid] = info.last_exit_status
                if info.archived:
                    archived.add(sid)
        assert archived == {"s2", "s6", "s7", "s8"}
        assert {"completed", "succeeded", "error", "panicked", "max_turns", "cancelled"} <= set(
            statuses.values())
        # include_archived=False leaves them out
        detail = await store.read_task(7, include_archived=False)
        assert detail is not None and detail.sessions == ()
        assert detail.task.session_count == 2
    finally:
        await store.close()


async def test_liveness_comes_from_the_tau_server(fleet: StoreKit) -> None:
    """is_live and the phase are tau's server's (TAU.md §5.2): with it up, what its
    memory says; stopped, nothing is live; after a crash the phases left on disk
    are stale, and a restarted server (its memory empty) says they are idle."""
    store = await opened(fleet)
    read = store.read_task_list
    try:
        snap = await read()
        assert snap.status.server.state == "up"
        assert tasks_by_id(snap)[1].live_count == 2
        fleet.server_up(False)  # a clean shutdown: tau resets every phase to idle
        snap = await until_read(read, lambda s: s.status.server.state == "down")
        assert all(t.live_count == 0 for t in snap.tasks)
        fleet.server_up()
        fleet.add_message("s3", user("go on"))  # a new run: its prompt, then its phases
        fleet.run("s3", "running tools")
        snap = await until_read(read, lambda s: tasks_by_id(s)[1].live_count == 1)
        fleet.server.crash()  # tau.sock and the phases on disk stay behind
        snap = await until_read(read, lambda s: s.status.server.state == "down")
        assert all(t.live_count == 0 for t in snap.tasks)
        detail = await store.read_task(1)
        assert detail is not None
        s3 = {p.info.session_id: p for p in detail.sessions}["s3"]
        assert (s3.info.is_live, s3.info.last_phase, s3.phase_source) == (False, "sending request", "disk")
        fleet.server.start()  # a new server: its memory is empty
        snap = await until_read(read, lambda s: s.status.server.state == "up")
        detail = await until_read(lambda: store.read_task(1), lambda d: {
            p.info.session_id: p for p in d.sessions}["s3"].phase_source == "server")
        s3 = {p.info.session_id: p for p in detail.sessions}["s3"]
        assert (s3.info.is_live, s3.info.last_phase) == (False, "idle")
        assert all(t.live_count == 0 for t in (await read()).tasks)
    finally:
        await store.close()


async def test_task_list_fields(fleet: StoreKit) -> None:
    store = await opened(fleet)
    try:
        snap = await store.read_task_list()
        tasks = {t.id: t for t in snap.tasks}
        assert len(tasks) == 8
        t1 = tasks[1]
        assert (t1.title, t1.state, t1.priority, t1.project, t1.session_count, t1.live_count) == (
            "Add retry to the dispatcher", "active", 2, "tau", 4, 2)
        assert t1.busiest_phase == "running tools"  # busier than "thinking"
        assert tasks[4].held
        assert tasks[5].blocked_by == (3,)
        assert tasks[8].project == "webapp"
        assert tasks[2].session_count == 2  # the bare row counts
    finally:
        await store.close()


async def test_task_detail_fields_history_and_relations(fleet: StoreKit) -> None:
    store = await opened(fleet)
    try:
        d = await store.read_task(1)
        assert d is not None
        assert d.branch == "task-1-retry" and d.tags == ("core", "reliability")
        assert [(h.field, h.old_value, h.new_value) for h in d.history] == [("state", "ready", "active")]
        s3 = next(p for p in d.sessions if p.info.session_id == "s3")
        assert s3.tokens == 2000 and s3.cost == pytest.approx(0.08)
        assert s3.tagline == "writing the retry loop" and s3.model == "Claude Test"
        assert [m.role for m in s3.recent] == ["tool_result", "assistant", "tool_result"]
        d5 = await store.read_task(5)
        assert d5 is not None and [(r.from_task, r.to_task, r.relation) for r in d5.relations] == [
            (5, 3, "depends_on")]
        assert await store.read_task(12345) is None
    finally:
        await store.close()


async def test_counts_follow_new_messages_incrementally(fleet: StoreKit) -> None:
    store = await opened(fleet)
    try:
        before = (await sessions_of(store, 1))["s3"]
        fleet.add_message("s3", assistant("more", tokens=1000, cost=0.5), BASE_MS + 5000)
        fleet.add_message("s4", user("hi"), BASE_MS + 6000)
        infos = await sessions_of(store, 1)
        assert infos["s3"].message_count == before.message_count + 1
        assert infos["s3"].last_activity == (BASE_MS + 5000) // 1000
        assert infos["s4"].message_count == 3
        d = await store.read_task(1)
        assert d is not None
        s3 = next(p for p in d.sessions if p.info.session_id == "s3")
        assert s3.tokens == 3000 and s3.cost == pytest.approx(0.58)
        # A deleted session takes its messages with it: counts are not kept stale.
        fleet.tau.execute("DELETE FROM sessions WHERE id='s4'")
        infos = await sessions_of(store, 1)
        assert infos["s4"].gone
    finally:
        await store.close()


async def test_transcript_pages(kit: StoreKit) -> None:
    kit.add_task(1, "big", "active")
    kit.link(1, "s1")
    kit.add_session("s1")
    kit.add_messages("s1", [user(f"message {i}") for i in range(450)])
    kit.run("s1", "thinking")
    store = await opened(kit)
    try:
        tr = await store.read_transcript("s1", limit=200)
        assert [m.text for m in tr.messages][:1] == ["message 250"]
        assert tr.messages[-1].text == "message 449" and tr.has_older
        assert tr.header.message_count == 450 and tr.header.is_live
        older = await store.read_transcript("s1", limit=200, before_id=tr.messages[0].id)
        assert older.messages[0].text == "message 50" and older.messages[-1].text == "message 249"
        oldest = await store.read_transcript("s1", limit=200, before_id=older.messages[0].id)
        assert len(oldest.messages) == 50 and not oldest.has_older
        kit.add_message("s1", user("brand new"))
        newer = await store.read_transcript("s1", after_id=tr.messages[-1].id)
        assert [m.text for m in newer.messages] == ["brand new"]
        gone = await store.read_transcript("nope")
        assert gone.header.gone and gone.messages == ()
    finally:
        await store.close()


def test_decode_message_every_role() -> None:
    m = decode_message(1, "s1", BASE_MS, json.dumps(assistant(
        "hi", thinking="hmm", calls=(("bash", {"command": "ls"}),), tokens=42, cost=0.25,
        stop="tool_use")))
    assert (m.role, m.text, m.thinking, m.tokens, m.cost, m.stop_reason) == (
        "assistant", "hi", "hmm", 42, 0.25, "tool_use")
    assert m.tool_calls[0].name == "bash" and json.loads(m.tool_calls[0].arguments) == {"command": "ls"}
    r = decode_message(2, "s1", BASE_MS, json.dumps(tool_result("bash", "boom", is_error=True,
                                                                  duration_ms=1500, summary="exit 1")))
    assert (r.role, r.tool_name, r.is_error, r.duration_ms, r.summary, r.text) == (
        "tool_result", "bash", True, 1500, "exit 1", "boom")
    c = decode_message(3, "s1", BASE_MS, json.dumps(
        {"role": "compaction_summary", "summary": "we did things", "tokens_before": 120000}))
    assert c.role == "compaction_summary" and c.text == "we did things" and "120,000" in c.summary
    i = decode_message(4, "s1", BASE_MS, json.dumps({"role": "info", "text": "model switched"}))
    assert (i.role, i.text) == ("info", "model switched")
    bad = decode_message(5, "s1", BASE_MS, "{not json")
    assert bad.role == "invalid" and "not JSON" in bad.error
    odd = decode_message(6, "s1", BASE_MS, json.dumps({"role": "alien", "x": 1}))
    assert odd.role == "alien" and "unknown message role" in odd.error


async def test_old_schema_store(tmp_path: Path) -> None:
    """The first stores tau wrote (TAU.md §2.2, §4.2): tasks with `project` (a
    path) and `assigned_session`, task_sessions as today, a five-column sessions
    table. They open; what they lack reads as empty, and the notices say why."""
    kit = StoreKit(tmp_path / "old", old=True)
    try:
        kit.add_task(1, "from an old tau", "active", project="/home/u/src/legacy")
        kit.add_task(2, "reassigned", "active", project="/home/u/src/legacy")
        # The first tasks.db kept the owner in assigned_session; tau's migration
        # copies it into session_id where set and different (TAU.md §4.2).
        kit.tasks.execute("UPDATE tasks SET assigned_session='s1' WHERE id=1")
        kit.tasks.execute("UPDATE tasks SET assigned_session='s1', session_id='s0' WHERE id=2")
        kit.link(1, "s1", "worker")
        kit.add_session("s1")
        kit.add_messages("s1", [user("hello"), assistant("hi", tokens=40)])
        store = Store(kit.data_dir, kit.runtime_dir)
        await store.open()
        try:
            snap = await store.read_task_list()
            assert [(t.id, t.title, t.project, t.session_count, t.owner) for t in snap.tasks] == [
                (1, "from an old tau", "/home/u/src/legacy", 1, "s1"),
                (2, "reassigned", "/home/u/src/legacy", 0, "s1")]
            assert any("projects are paths" in n for n in snap.status.notices)
            assert any("no tagline, phase or exit status" in n for n in snap.status.notices)
            detail = await store.read_task(2)
            assert detail is not None and detail.task.owner == "s1"
            assert "assigned_session" not in dict(detail.extra)
            detail = await store.read_task(1)
            assert detail is not None and detail.task.owner == "s1"
            (pane,) = detail.sessions
            assert (pane.info.message_count, pane.info.last_phase, pane.info.last_exit_status,
                    pane.info.is_live, pane.tokens) == (2, None, None, False, 40)
            tr = await store.read_transcript("s1")
            assert tr.header.last_phase is None and tr.header.tagline == ""
            assert [m.text for m in tr.messages] == ["hello", "hi"]
        finally:
            await store.close()
    finally:
        kit.close()


async def test_empty_store(tmp_path: Path) -> None:
    create_store(tmp_path / "empty")
    store = Store(tmp_path / "empty", tmp_path / "run")
    await store.open()
    try:
        snap = await store.read_task_list()
        assert snap.tasks == () and snap.status.error is None and snap.status.notices == ()
    finally:
        await store.close()


async def test_missing_store_is_reported_not_raised(tmp_path: Path) -> None:
    store = Store(tmp_path / "nowhere", tmp_path / "run")
    await store.open()
    try:
        snap = await store.read_task_list()
        assert snap.tasks == ()
        assert snap.status.error and "does not exist" in snap.status.error
    finally:
        await store.close()


def _digests(data_dir: Path) -> dict[str, str]:
    out = {}
    for name in ("tasks.db", "tasks.db-wal", "tau.db", "tau.db-wal"):
        path = data_dir / name
        out[name] = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "absent"
    return out


async def test_reading_changes_no_byte_of_the_store(fleet: StoreKit) -> None:
    """tasks.db, tau.db and their -wal files are byte-identical after a full read
    while the writer (still connected) is idle."""
    before = _digests(fleet.data_dir)
    assert before["tasks.db-wal"] != "absent" and before["tau.db-wal"] != "absent"
    store = await opened(fleet)
    snap = await store.read_task_list()
    for task in snap.tasks:
        detail = await store.read_task(task.id)
        assert detail is not None
        for pane in detail.sessions:
            await store.read_transcript(pane.info.session_id)
    await store.data_versions()
    await store.close()
    assert _digests(fleet.data_dir) == before


async def test_the_demo_store_reads_cleanly_and_changes(tmp_path: Path) -> None:
    build_demo_store(tmp_path / "demo", seed=3)
    fleet = DemoFleet(tmp_path / "demo", seed=3)
    store = Store(tmp_path / "demo", fleet.runtime_dir)
    await store.open()
    try:
        first = await store.read_task_list()
        assert len(first.tasks) >= 10 and first.status.error is None
        gone = 0
        for task in first.tasks:
            detail = await store.read_task(task.id)
            assert detail is not None
            gone += sum(1 for p in detail.sessions if p.info.gone)
            for pane in detail.sessions:
                if not pane.info.gone:
                    tr = await store.read_transcript(pane.info.session_id)
                    assert all(m.role != "invalid" for m in tr.messages)
        assert gone >= 1  # the demo keeps one bare row
        for _ in range(60):
            fleet.step()
        fleet.close()
        later = await store.read_task_list()
        assert later.tasks != first.tasks
    finally:
        await store.close()


async def test_incremental_reads_see_every_kind_of_change(fleet: StoreKit, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The task list is kept in memory and updated from what changed; each kind
    of write must still show up (and nothing stale must stay)."""
    store = await opened(fleet)
    try:
        def by_id(snap):  # type: ignore[no-untyped-def]
            return {t.id: t for t in snap.tasks}

        first = by_id(await store.read_task_list())
        read = store.read_task_list
        # a new session row and link on an unfinished task, running a turn
        fleet.add_session("s40")
        fleet.link(3, "s40", "planner")
        fleet.run("s40", "thinking")
        await until_read(read, lambda snap: (lambda t: (t.session_count, t.live_count, t.busiest_phase))(
            by_id(snap)[3]) == (1, 1, "thinking"))
        # a phase change in the server's memory only; then the turn ends
        fleet.run("s40", "running tools")
        await until_read(read, lambda snap: by_id(snap)[3].busiest_phase == "running tools")
        fleet.finish("s40", "completed")
        await until_read(read, lambda snap: by_id(snap)[3].live_count == 0)
        # an idle session that starts a turn with a message
        fleet.add_message("s1", user("again"), BASE_MS + 1000)
        fleet.run("s1", "preparing")
        # s1 is the task's creator: a chat, counted apart from its working sessions
        t1 = (await until_read(read, lambda snap: by_id(snap)[1].chat_live == 1))
        assert (by_id(t1)[1].live_count, by_id(t1)[1].chat_phase) == (2, "preparing")
        assert by_id(t1)[1].last_activity == (BASE_MS + 1000) // 1000
        # a session that starts a turn with no message at all: the sweep finds it
        monkeypatch.setattr("tui.tau.fleet_sessions.SWEEP_SECONDS", 0.0)
        fleet.finish("s1")
        fleet.finish("s5")
        await until_read(read, lambda snap: by_id(snap)[2].live_count == 0)
        fleet.run("s5", "waiting")
        t = await until_read(read, lambda snap: by_id(snap)[2].busiest_phase == "waiting")
        assert by_id(t)[1].live_count == 2
        assert first[3].session_count == 0
        # a hand edit that does not bump updated_at, and a deleted task
        fleet.tasks.execute("UPDATE tasks SET title='edited by hand' WHERE id=4")
        fleet.tasks.execute("DELETE FROM tasks WHERE id=8")
        t = by_id(await store.read_task_list())
        assert t[4].title == "edited by hand" and 8 not in t
        # a dependency finishing unblocks the task waiting on it
        assert first[5].blocked_by == (3,)
        fleet.set_state(3, "merged", at=BASE_MS + 5000)
        assert by_id(await store.read_task_list())[5].blocked_by == ()
        # task_sessions rows going away (the task deleted, cascading)
        fleet.tasks.execute("DELETE FROM task_sessions WHERE task_id=7")
        assert by_id(await store.read_task_list())[7].session_count == 0
    finally:
        await store.close()


async def test_long_finished_tasks_count_sessions_and_open_in_full(kit: StoreKit, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Only recent tasks' sessions are kept current; older finished ones still
    count their sessions, and their task screen reads everything."""
    monkeypatch.setattr("tui.tau.fleet_tasks.RELEVANT_FINISHED", 2)
    for i in range(1, 7):
        kit.add_task(i, f"old {i}", "merged", updated_at=BASE_MS + i)
        kit.link(i, f"s{i}", "worker")
        kit.add_session(f"s{i}", exit_status="completed", archived=True)
        kit.add_messages(f"s{i}", [user("hello"), assistant("done", tokens=10)])
    store = await opened(kit)
    try:
        tasks = {t.id: t for t in (await store.read_task_list()).tasks}
        assert all(t.session_count == 1 and t.live_count == 0 for t in tasks.values())
        assert tasks[6].last_activity is not None  # recent: its session is read
        detail = await store.read_task(1)  # long finished: read on demand
        assert detail is not None
        info = detail.sessions[0].info
        assert (info.message_count, info.last_exit_status, info.archived) == (2, "completed", True)
        assert detail.sessions[0].tokens == 10
    finally:
        await store.close()


async def test_the_sweep_finds_a_traceless_change_while_changes_stream_in(
        fleet: StoreKit, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """While commits keep coming, the sweep re-reads the relevant sessions a
    slice per read (no single change waits for all of them), and still finds
    a change that left no trace (an idle session's phase set without a message)."""
    monkeypatch.setattr("tui.tau.fleet_sessions.SWEEP_SECONDS", 0.3)
    monkeypatch.setattr("tui.tau.fleet_sessions.SWEEP_SLICE", 1)
    store = await opened(fleet)
    try:
        await store.read_task_list()  # the first read re-reads everything
        for i in range(5):  # the scenario: changes keep coming until a new round is due
            await asyncio.sleep(0.08)
            fleet.add_message("s3", user(f"early {i}"))
            await store.read_task_list()
        snap = await store.read_task_list()
        assert {t.id: t for t in snap.tasks}[1].live_count == 2
        fleet.server.set_phase("s1", "Preparing")
        fleet.tau.execute("UPDATE sessions SET last_phase='preparing' WHERE id='s1'")  # was idle
        seen_at = None
        for i in range(60):  # the scenario: 1.8 s or more, a few rounds, never quiet for a whole one
            await asyncio.sleep(0.03)
            fleet.add_message("s3", user(f"busy {i}"))  # a change with a trace, elsewhere
            snap = await store.read_task_list()
            if {t.id: t for t in snap.tasks}[1].chat_live == 1:  # s1, the creator
                seen_at = i
                break
        assert seen_at is not None, "the sweep never re-read the session"
    finally:
        await store.close()
