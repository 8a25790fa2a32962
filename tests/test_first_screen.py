"""The first screen of a large store waits only for what it shows (issue 22).

On a year of tau (90,000 task_sessions rows) reading every task's links before
the first screen took a quarter of a second. The first read now takes the
links of the tasks the list shows and keeps current (the unfinished ones, the
newest finished), and reads the rest in the background after the first
screen; the counts then agree with the store, including a session tau links
to a long-finished task meanwhile. Real files, written by another connection;
the thresholds are lowered so that a small store is "large".
"""

from __future__ import annotations

import sqlite3

import pytest

from tests.harness import apoll
from tests.storekit import BASE_MS, StoreKit
from tui.tau.store import Store

H = 3_600_000


def _truth(kit: StoreKit) -> dict[int, int]:
    conn = sqlite3.connect(kit.tasks_path)
    try:
        counts = dict(conn.execute("SELECT task_id, COUNT(*) FROM task_sessions GROUP BY task_id"))
        return {tid: counts.get(tid, 0) for (tid,) in conn.execute("SELECT id FROM tasks")}
    finally:
        conn.close()


async def test_first_list_then_the_rest_of_the_links(kit: StoreKit, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tui.tau.fleet_links.FIRST_READ_ALL", 10)
    monkeypatch.setattr("tui.tau.fleet_links.FILL_TASKS", 4)
    monkeypatch.setattr("tui.tau.fleet_tasks.FIRST_FINISHED", 3)
    monkeypatch.setattr("tui.tau.fleet_tasks.RELEVANT_FINISHED", 2)
    for i in range(1, 6):
        kit.add_task(i, f"work {i}", "active", updated_at=BASE_MS - i * 60_000)
        kit.add_session(f"a{i}")
        kit.link(i, f"a{i}", "worker", BASE_MS - i * 60_000)
    for i in range(6, 31):  # a history of finished work, two sessions each
        kit.add_task(i, f"done {i}", "merged", updated_at=BASE_MS - i * H)
        for k in (1, 2):
            kit.add_session(f"f{i}-{k}")
            kit.link(i, f"f{i}-{k}", "worker", BASE_MS - i * H)
    whole = Store(kit.data_dir, kit.runtime_dir)  # a script's or a feed's: everything at once
    await whole.open()
    try:
        once = {t.id: t.session_count for t in (await whole.read_task_list()).tasks}
        assert once == _truth(kit) and not whole.usage_pending()
    finally:
        await whole.close()
    store = Store(kit.data_dir, kit.runtime_dir)
    store.first_screen_first()  # the app's
    await store.open()
    try:
        first = {t.id: t for t in (await store.read_task_list()).tasks}
        truth = _truth(kit)
        assert len(first) == 30
        # What the list shows now is right: the unfinished tasks, the newest finished.
        assert all(first[i].session_count == truth[i] for i in (1, 2, 3, 4, 5, 6, 7, 8))
        # The rest comes after the first screen.
        assert store.usage_pending()
        # tau links a session to a long-finished task while the rest is read.
        kit.add_session("late")
        kit.link(30, "late", "reviewer", BASE_MS)
        await store.read_task_list()
        while await store.count_usage():
            pass
        assert not store.usage_pending()
        final = {t.id: t for t in (await store.read_task_list()).tasks}
        truth = _truth(kit)
        assert {i: t.session_count for i, t in final.items()} == truth
        assert truth[30] == 3
    finally:
        await store.close()


async def test_queued_tasks_sessions_follow_the_first_screen(kit: StoreKit,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The first read keeps the Active group's sessions (its order hangs on
    them); the queued tasks' come after it, and then say what tau's server
    says: a planner running on a queued task is live."""
    monkeypatch.setattr("tui.tau.fleet_tasks.DEFER_ABOVE", 4)
    monkeypatch.setattr("tui.tau.fleet_tasks.FIRST_PAGE", 2)
    monkeypatch.setattr("tui.tau.fleet_tasks.DEFER_STEP", 2)
    for i in range(1, 4):
        kit.add_task(i, f"active {i}", "active", updated_at=BASE_MS - i * 60_000)
        kit.add_session(f"a{i}", created_at=BASE_MS - i * 60_000)
        kit.link(i, f"a{i}", "worker", BASE_MS - i * 60_000)
    for i in range(4, 9):
        kit.add_task(i, f"queued {i}", "planning", updated_at=BASE_MS - i * H)
        kit.add_session(f"q{i}", created_at=BASE_MS - i * H)
        kit.link(i, f"q{i}", "planner", BASE_MS - i * H)
    kit.add_session("p8", phase="sending request", created_at=BASE_MS)
    kit.link(8, "p8", "planner", BASE_MS)
    kit.live("p8", "Thinking")
    store = Store(kit.data_dir, kit.runtime_dir)
    store.first_screen_first()
    await store.open()
    try:
        first = {t.id: t for t in (await store.read_task_list()).tasks}
        assert all(first[i].last_activity is not None for i in (1, 2, 3))
        assert store.usage_pending()  # the queued tasks' sessions come next
        while await store.count_usage():
            pass
        final = {t.id: t for t in (await store.read_task_list()).tasks}
        assert all(final[i].last_activity is not None for i in range(1, 9))
        assert final[8].session_count == 2
        async def planner_live() -> bool:  # the server's answer to the subscription it now asks for
            final.update({t.id: t for t in (await store.read_task_list()).tasks})
            return final[8].live_count == 1

        await apoll(planner_live, what="the planner tau's server says runs, live")
    finally:
        await store.close()
