"""The right numbers: counts, sums and transcripts follow tau's deletions.

Each test changes a store written with tau's schema the way tau changes it
(TAU.md §2.3: a compaction deletes rows and adds a summary with a higher id;
GC deletes sessions; a new session may get a deleted one's id) and states what
tau would say for the same rows (§6.1: message_count is the rows that exist).
"""

from __future__ import annotations

import json

from tests.conftest import screen_text, wait_for_all, wait_for_text, wait_gone, wait_until
from tests.harness import make_app
from tests.storekit import BASE_MS, StoreKit, assistant, model_json, user
from tui.ui import format as fmt
from tui.ui.screens.session import TranscriptScreen
from tui.tau.store import Store

SIZE = (130, 40)


def compact(kit: StoreKit, sid: str, keep_from: int, summary: str) -> None:
    """tau's compact_session: delete the rows below the first kept one, then
    insert one compaction_summary (it gets a higher id than the kept rows)."""
    with kit._tx(kit.tau) as c:
        c.execute("DELETE FROM messages WHERE session_id = ? AND id < ?", (sid, keep_from))
        c.execute("INSERT INTO messages (session_id, message_json, created_at) VALUES (?,?,?)",
                  (sid, json.dumps({"role": "compaction_summary", "summary": summary,
                                    "tokens_before": 171234, "timestamp": BASE_MS},
                                   separators=(",", ":")), BASE_MS + 99_000))


def message_ids(kit: StoreKit, sid: str) -> list[int]:
    return [r[0] for r in kit.tau.execute("SELECT id FROM messages WHERE session_id=? ORDER BY id", (sid,))]


async def test_a_compaction_makes_counts_sums_and_the_open_transcript_go_down(kit: StoreKit) -> None:
    kit.add_task(1, "Compacted", "active")
    kit.link(1, "s1", "interactive")
    kit.add_session("s1", tagline="a long chat")
    msgs = []
    for i in range(6):
        msgs += [user(f"question {i}"), assistant(f"answer {i}", tokens=1000, cost=0.10)]
    kit.add_messages("s1", msgs)  # 12 messages, 6,000 tokens, $0.60
    kit.run("s1", "thinking")
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Compacted")
        app.open_task(1)
        text = await wait_for_text(pilot, app, "12 msgs")
        assert "6.0k tok" in text and "$0.60" in text
        app.open_session("s1")
        await wait_for_text(pilot, app, "question 0")
        ids = message_ids(kit, "s1")
        kit.run("s1", "compacting")
        compact(kit, "s1", keep_from=ids[10], summary="SUMMARY-OF-THE-CHAT")  # tau cuts at a user message
        # tau now has 3 messages: the 2 kept and the summary; 1 assistant turn of 1,000 tokens.
        text = await wait_for_text(pilot, app, "SUMMARY-OF-THE-CHAT")
        await wait_until(pilot, lambda: "question 0" not in screen_text(app), what="deleted rows gone")
        screen = app.screen
        assert isinstance(screen, TranscriptScreen)
        await wait_until(pilot, lambda: screen.header is not None and screen.header.message_count == 3,
                         what="3 messages")
        assert screen.header is not None and screen.header.tokens == 1000
        app.pop_screen()
        text = await wait_for_text(pilot, app, "3 msgs")
        assert "1.0k tok" in text and "$0.10" in text and "12 msgs" not in text
        app.open_session("s1")  # reopened: no "3 of 12"
        text = await wait_for_text(pilot, app, "3 messages")
        assert "of 12" not in text and "answer 5" in text and "answer 4" not in text


async def test_a_reused_session_id_does_not_inherit_the_dead_sessions_numbers(kit: StoreKit) -> None:
    kit.add_task(1, "Reuse", "active")
    kit.link(1, "s7", "worker", BASE_MS - 60_000)
    kit.add_session("s7", created_at=BASE_MS - 60_000)
    kit.add_messages("s7", [user("old one"), assistant("old answer", tokens=5000, cost=1.0)] * 3)
    store = Store(kit.data_dir, kit.runtime_dir)
    await store.open()
    try:
        detail = await store.read_task(1)
        assert detail is not None and detail.sessions[0].info.message_count == 6
        assert detail.sessions[0].tokens == 15000
        # tau deletes s7 (and its messages, by cascade) and gives the id to a new session.
        with kit._tx(kit.tau) as c:
            c.execute("DELETE FROM messages WHERE session_id='s7'")
            c.execute("DELETE FROM sessions WHERE id='s7'")
            c.execute("INSERT INTO sessions (id, model_json, created_at, last_phase) VALUES "
                      "('s7', ?, ?, 'idle')", (model_json("New"), BASE_MS))
        kit.add_messages("s7", [user("new one"), assistant("new answer", tokens=10, cost=0.001)])
        detail = await store.read_task(1)
        assert detail is not None
        p = detail.sessions[0]
        assert (p.info.message_count, p.tokens, p.model) == (2, 10, "New")
        tr = await store.read_transcript("s7")
        assert [m.text for m in tr.messages] == ["new one", "new answer"]
    finally:
        await store.close()


async def test_deleted_newest_rows_whose_ids_are_reused_are_counted_anew(kit: StoreKit) -> None:
    """tau's message ids are INTEGER PRIMARY KEY without AUTOINCREMENT (TAU.md
    §2.3): delete the session that holds the newest rows and the next rows take
    their ids. If that happens between two reads, the counts must still be
    what tau's SQL row count gives (task_get's message_count)."""
    kit.add_task(1, "Survivor", "active")
    kit.add_task(2, "Doomed", "active")
    kit.link(1, "sB", "worker")
    kit.link(2, "sA", "worker")
    kit.add_session("sB")
    kit.add_session("sA")
    kit.add_messages("sB", [user("one"), assistant("two"), user("three"), assistant("four")])
    kit.add_messages("sA", [user("newest"), assistant("rows")], start=BASE_MS + 60_000)
    store = Store(kit.data_dir, kit.runtime_dir)
    await store.open()
    try:
        counts = {r.id: r.session_count for r in (await store.read_task_list()).tasks}
        assert counts == {1: 1, 2: 1}
        detail = await store.read_task(1)
        assert detail is not None and detail.sessions[0].info.message_count == 4
        # tau deletes sA (its messages cascade: ids 5 and 6 are free again),
        # and sB's next three rows take ids 5, 6 and 7, all before the next read.
        with kit._tx(kit.tau) as c:
            c.execute("DELETE FROM messages WHERE session_id='sA'")
            c.execute("DELETE FROM sessions WHERE id='sA'")
        kit.add_messages("sB", [user("five"), assistant("six"), user("seven")], start=BASE_MS + 120_000)
        rows = kit.tau.execute("SELECT id FROM messages WHERE session_id='sB' ORDER BY id").fetchall()
        assert [r[0] for r in rows] == [1, 2, 3, 4, 5, 6, 7]  # the ids were reused
        await store.read_task_list()
        detail = await store.read_task(1)
        assert detail is not None
        assert detail.sessions[0].info.message_count == 7  # tau: SELECT COUNT(*) … = 7
        tr = await store.read_transcript("sB")
        assert [m.text for m in tr.messages][-3:] == ["five", "six", "seven"]
    finally:
        await store.close()


async def test_live_sessions_are_counted_once_each(kit: StoreKit) -> None:
    """One orchestrator chat linked to three tasks is one live session; a live
    session on no task is one too (the title counts distinct sessions)."""
    for t in (1, 2, 3):
        kit.add_task(t, f"Filed {t}", "ready")
        kit.link(t, "s1", "creator")
    kit.add_session("s1")
    kit.add_session("s2")  # a child session on no task
    kit.add_messages("s1", [user("file three tasks")])
    kit.add_messages("s2", [user("sub-agent")])
    kit.run("s1", "working")
    kit.run("s2", "running tools")
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Filed 3")
        await wait_for_text(pilot, app, "2 live sessions")


async def test_a_gone_session_is_shown_but_counted_apart(fleet: StoreKit) -> None:
    """task 2 has s5 and s99, a task_sessions row whose session is gone from
    tau.db: tau's task_get counts 1 (it drops the row); the pane is still shown."""
    app = make_app(fleet)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Review the watcher debounce")
        app.open_task(2)
        await wait_for_all(pilot, app, "Sessions (1 + 1 gone, 1 live)", "session gone")


async def test_a_session_gc_deleted_while_its_screens_are_open(kit: StoreKit) -> None:
    """tau's gc_sessions deletes an archived session's rows (TAU.md §2.3;
    messages cascade), the task_sessions row stays: the open transcript says
    the session is gone and shows none of its deleted rows, the task screen
    counts it apart, and the list's count is what tau's task_get gives."""
    kit.add_task(1, "Collected", "merged")
    kit.link(1, "s1", "worker", BASE_MS - 60_000)
    kit.link(1, "s2", "reviewer", BASE_MS)
    kit.add_session("s1", archived=True, created_at=BASE_MS - 60_000)
    kit.add_session("s2", archived=True, created_at=BASE_MS)
    kit.add_messages("s1", [user("build it"), assistant("built the thing")])
    kit.add_messages("s2", [user("review it"), assistant("looks right")], start=BASE_MS + 5_000)
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Collected")
        app.open_task(1)
        await wait_for_text(pilot, app, "Sessions (2)")
        await pilot.press("enter")  # s1's transcript
        await wait_for_text(pilot, app, "built the thing")
        with kit._tx(kit.tau) as c:  # gc_sessions: rows only, by created_at
            c.execute("DELETE FROM messages WHERE session_id='s1'")
            c.execute("DELETE FROM sessions WHERE id='s1'")
        await wait_for_text(pilot, app, "session gone from tau.db")
        await wait_gone(pilot, app, "built the thing")
        await pilot.press("escape")
        await wait_for_text(pilot, app, "Sessions (1 + 1 gone)")
        assert "2 msgs" in screen_text(app)  # the survivor keeps its own numbers


async def test_tokens_by_kind_and_context_use(kit: StoreKit) -> None:
    """tau's total_tokens counts cache reads and writes (TAU.md §3); the context
    is the newest usable turn's input + cache over the model's window."""
    kit.add_task(1, "Tokens", "active")
    kit.link(1, "s1", "worker")
    kit.tau.execute("INSERT INTO sessions (id, model_json, created_at, last_phase) VALUES (?,?,?,?)",
                    ("s1", model_json("Big", window=200000), BASE_MS, "idle"))
    turn = assistant("ok", tokens=0)
    turn["usage"] = {"input": 1200, "output": 350, "cache_read": 148000, "cache_write": 800,
                     "total_tokens": 150350, "cost": {"total": 0.05}}
    failed = dict(turn, stop_reason="error")
    failed["usage"] = dict(turn["usage"], input=9, cache_read=0, cache_write=0, total_tokens=359)
    kit.add_messages("s1", [user("go"), turn, failed])
    store = Store(kit.data_dir, kit.runtime_dir)
    await store.open()
    try:
        detail = await store.read_task(1)
        assert detail is not None
        p = detail.sessions[0]
        assert p.tokens == 150350 + 359
        assert p.use is not None and (p.use.input, p.use.output, p.use.cache_read, p.use.cache_write) == (
            1209, 700, 148000, 800)
        # The failed turn does not count for the context: 1,200 + 148,000 + 800 of 200,000.
        assert p.context_pct is not None and abs(p.context_pct - 75.0) < 1e-9
        tr = await store.read_transcript("s1")
        assert tr.header.context_pct == p.context_pct
    finally:
        await store.close()
    # And on screen: the pane and the transcript's header say the same.
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Tokens")
        app.open_task(1)
        await wait_for_all(pilot, app, "150.7k tok", "ctx 75%", fmt.token_parts(p.use))
        assert "in 1.2k" in fmt.token_parts(p.use) and "cache 148.0k" in fmt.token_parts(p.use)
        await pilot.press("enter")
        await wait_for_text(pilot, app, "75%")



async def test_transcript_times_carry_the_date_when_not_today(kit: StoreKit, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import time as _time

    monkeypatch.setenv("TZ", "UTC")
    _time.tzset()
    kit.add_task(1, "Old chat", "active")
    kit.link(1, "s1", "interactive")
    kit.add_session("s1")
    kit.add_message("s1", user("two days ago"), BASE_MS - 2 * 86_400_000)
    kit.add_message("s1", user("a moment ago"), BASE_MS - 60_000)
    app = make_app(kit, clock=lambda: BASE_MS / 1000)
    try:
        async with app.run_test(size=SIZE) as pilot:
            app.open_session("s1")
            text = await wait_for_text(pilot, app, "a moment ago")
            assert "2026-05-26 20:26:40" in text  # BASE_MS minus two days, with its date
            assert "20:25:40  #2" in text  # today's: the time alone
    finally:
        monkeypatch.delenv("TZ")
        _time.tzset()


async def test_the_history_line_keeps_the_newest_transitions_at_80_columns(kit: StoreKit) -> None:
    kit.add_task(1, "Walked", "planning", updated_at=BASE_MS - 9 * 3_600_000)
    path = ("refining", "ready", "active", "review", "approved", "merging", "merged")
    for i, state in enumerate(path):
        kit.set_state(1, state, at=BASE_MS - (8 - i) * 3_600_000)
    app = make_app(kit, clock=lambda: BASE_MS / 1000)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_text(pilot, app, "Walked")
        app.open_task(1)
        text = await wait_for_text(pilot, app, "merging→merged 2h ago")
        history = next(line for line in text.splitlines() if line.lstrip().startswith("history"))
        assert history.lstrip().startswith("history … · ")  # the oldest went, said so
        assert "planning→refining" not in history and len(history.rstrip()) <= 80


async def test_a_session_on_no_task_starting_a_run_later_is_counted(kit: StoreKit, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The side scan reads whole only every 10 minutes; in between, what can
    have changed: a session on no task whose new message came with a run, a
    session added since. tau's live set is the truth: the title follows it."""
    import tui.tau.loose as loose

    monkeypatch.setattr(loose, "LOOSE_SCAN_SECONDS", 0.2)  # the scan's pace, not its reads
    kit.add_task(1, "Filed", "ready")
    kit.link(1, "s1", "creator")
    kit.add_session("s1")
    kit.add_session("c1")  # a child on no task, idle
    kit.add_messages("c1", [user("earlier")])
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Filed")
        await wait_for_text(pilot, app, "0 live sessions")
        kit.run("c1", "running tools")  # a run starts: its phase, then its message
        kit.add_message("c1", user("go on"))
        await wait_for_text(pilot, app, "1 live session")
        kit.add_session("c2", phase="preparing")  # a new one, added since the last scan
        kit.live("c2", "Preparing")
        await wait_for_text(pilot, app, "2 live sessions")
        kit.finish("c1")
        kit.finish("c2", "completed")
        await wait_for_text(pilot, app, "0 live sessions")
