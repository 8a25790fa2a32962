"""The task list groups tasks as tau's own task picker does (TAU.md §4.5, §7.3, §8).

The real app via Pilot, on a store written with tau's schema, and the stand-in
tau server on a real socket. Each test states what tau's ``task_overview``
gives for the same rows, and asks the stand-in for it too (it classifies as
tasks_scheduler.rs ``get_status`` does): the dashboard's groups are its buckets.
"""

from __future__ import annotations

import json
import socket
from typing import Any

from tests.conftest import FIXED_NOW, screen_text, wait_for_text, wait_until
from tests.harness import make_app
from tests.storekit import BASE_MS, StoreKit, user
from tui.ui.app import SessionTopApp
from tui.ui.widgets.task_table import TaskTable

SIZE = (130, 40)
H = 3_600_000
#: task_overview's buckets and the dashboard's groups that show them.
BUCKETS = {"active": "active", "queued_ready": "ready", "queued_planning": "planning",
           "blocked": "blocked", "held": "held"}


def overview(kit: StoreKit, project: str = "tau") -> dict[str, Any]:
    """tau's ``task_overview`` for a project, from the stand-in server."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(str(kit.socket_path))
        sock.sendall(json.dumps({"type": "task_overview", "project": project,
                                 "recent_limit": 100}).encode() + b"\n")
        reply = b""
        while not reply.endswith(b"\n"):
            reply += sock.recv(1 << 20)
    return json.loads(reply)


def tau_buckets(ov: dict[str, Any]) -> dict[str, list[int]]:
    """The overview's buckets as the dashboard's group keys, in tau's order."""
    out = {BUCKETS[k]: [t["id"] for t in ov[k]] for k in BUCKETS if ov[k]}
    recent = [t["id"] for k in ("recently_merged", "recently_done", "recently_closed") for t in ov[k]]
    if recent:
        out["finished"] = recent
    return out


def groups_on_screen(app: SessionTopApp) -> dict[str, list[int]]:
    """The task list's groups as shown: group key to task ids, top to bottom."""
    out: dict[str, list[int]] = {}
    current = ""
    for key, _ in app.screen.query_one(TaskTable)._rows:
        if key.startswith("g:"):
            current = key[2:]
            out[current] = []
        elif key.startswith("t:"):
            out[current].append(int(key[2:]))
    return out


def row_text(app: SessionTopApp, task_id: int) -> str:
    cells = app.screen.query_one(TaskTable).get_row(f"t:{task_id}")
    return " | ".join(c.plain for c in cells)


def as_sets(groups: dict[str, list[int]]) -> dict[str, set[int]]:
    return {k: set(v) for k, v in groups.items()}


def live_worker(kit: StoreKit, task_id: int, sid: str, label: str = "working") -> None:
    kit.link(task_id, sid, "worker", BASE_MS - H)
    kit.add_session(sid, created_at=BASE_MS - H)
    kit.add_messages(sid, [user("go")], BASE_MS - 60_000)
    kit.run(sid, label)


async def test_a_done_or_failed_dependency_blocks_a_merged_or_closed_one_does_not(kit: StoreKit) -> None:
    kit.add_task(1, "Done dependency", "done")
    kit.add_task(2, "Failed dependency", "failed")
    kit.add_task(3, "Merged dependency", "merged")
    kit.add_task(4, "Closed dependency", "closed")
    kit.add_task(10, "Needs the done one", "ready")
    kit.add_task(11, "Needs the failed one", "ready")
    kit.add_task(12, "Needs the merged one", "ready")
    kit.add_task(13, "Needs the closed one", "planning")
    for a, b in ((10, 1), (11, 2), (12, 3), (13, 4)):
        kit.depends_on(a, b)
    # tau: blocked [10, 11] (done and failed still block), queued_ready [12],
    # queued_planning [13]; the failed task is in no bucket.
    ov = overview(kit)
    assert tau_buckets(ov) == {"ready": [12], "planning": [13], "blocked": [10, 11],
                               "finished": [3, 1, 4]}
    app = make_app(kit, clock=lambda: FIXED_NOW)
    async with app.run_test(size=SIZE) as pilot:
        text = await wait_for_text(pilot, app, "Needs the closed one")
        shown = groups_on_screen(app)
        assert as_sets({k: v for k, v in shown.items() if k != "failed"}) == as_sets(tau_buckets(ov))
        assert shown["failed"] == [2]
        assert "Blocked (2)" in text and "Queued — ready (1)" in text and "Queued — planning (1)" in text
        assert "waits on #1" in row_text(app, 10) and "waits on #2" in row_text(app, 11)
        assert "waits on" not in row_text(app, 12)
        # the failed dependency is closed: tau unblocks task 11 at once
        kit.set_state(2, "closed", at=BASE_MS)
        assert [t["id"] for t in overview(kit)["queued_ready"]] == [11, 12]
        await wait_for_text(pilot, app, "Queued — ready (2)")
        assert as_sets(groups_on_screen(app))["ready"] == {11, 12}
        app.open_task(10)
        text = await wait_for_text(pilot, app, "waits on #1 (done)")
        assert "⏳ waits on #1" in text  # the title says it too
        await pilot.press("escape")
        await wait_for_text(pilot, app, "Needs the closed one")
        app.open_task(12)
        text = await wait_for_text(pilot, app, "depends on #3 (merged)")
        assert "waits on" not in text


async def test_each_relation_reads_in_its_direction(kit: StoreKit) -> None:
    """(from, to, 'depends_on'): from depends on to. The depended-on task
    "blocks" the other until it is merged or closed; blocks and related only
    inform (TAU.md §4.5)."""
    kit.add_task(3, "The foundation", "active")
    kit.add_task(7, "Built on it", "ready")
    kit.add_task(9, "Told to wait", "ready")
    kit.add_task(4, "A cousin", "review")
    kit.depends_on(7, 3)
    kit.tasks.execute("INSERT INTO task_relations VALUES (3, 9, 'blocks'), (4, 3, 'related')")
    ov = overview(kit)
    assert tau_buckets(ov) == {"active": [3, 4], "ready": [9], "blocked": [7]}  # blocks does not block
    app = make_app(kit, clock=lambda: FIXED_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "The foundation")
        app.open_task(3)
        text = await wait_for_text(pilot, app, "blocks #7 (ready)")
        assert "marks blocked #9 (ready)" in text and "related #4 (review)" in text
        assert "depends_on" not in text and "waits on" not in text
        await pilot.press("escape")
        await wait_for_text(pilot, app, "Told to wait")
        app.open_task(7)
        text = await wait_for_text(pilot, app, "waits on #3 (active)")
        assert "blocks" not in text
        await pilot.press("escape")
        await wait_for_text(pilot, app, "Told to wait")
        app.open_task(9)
        text = await wait_for_text(pilot, app, "marked blocked by #3 (active)")
        # informational: task 9 is queued, not blocked; tau's scheduler says only
        # "not yet scheduled" for it
        assert "⏳ waits on" not in text and "Blocked" not in text
        # The foundation merged: it blocks no more, on either side.
        kit.set_state(3, "merged")
        await pilot.press("escape")
        await wait_for_text(pilot, app, "Told to wait")
        app.open_task(3)
        await wait_for_text(pilot, app, "was needed by #7 (ready)")
        await pilot.press("escape")
        await wait_for_text(pilot, app, "Told to wait")
        app.open_task(7)
        await wait_for_text(pilot, app, "depends on #3 (merged)")


async def test_a_live_chat_that_filed_ten_tasks_moves_none_of_them(kit: StoreKit) -> None:
    """An orchestrator's chat, creator of ten tasks, running a turn: tau's
    has_live_session is true for all ten (TAU.md §6.2), but its buckets do not
    change, and the chat is no task's working session."""
    states = ("active", "active", "ready", "planning", "ready", "ready", "interactive", "approved",
              "failed", "merged")
    for i, state in enumerate(states, start=1):
        kit.add_task(i, f"Filed by the orchestrator {i}", state, held=i == 5,
                     updated_at=BASE_MS - i * 60_000)
        kit.link(i, "orch", "creator", BASE_MS - 2 * H)
    kit.depends_on(6, 1)
    kit.add_session("orch", tagline="the orchestrator", created_at=BASE_MS - 2 * H)
    kit.add_messages("orch", [user("file the tasks")], BASE_MS - 2 * H)
    live_worker(kit, 1, "w1", "working")
    quiet = overview(kit)
    kit.run("orch", "running tools")  # busier than the worker's phase
    ov = overview(kit)
    assert tau_buckets(ov) == tau_buckets(quiet) == {
        "active": [2, 1], "ready": [3], "planning": [4], "blocked": [6], "held": [5], "finished": [10]}
    lit = {t["id"] for k in ("active", "queued_ready", "queued_planning", "blocked", "held",
                             "recently_merged") for t in ov[k] if t["has_live_session"]}
    assert lit == {1, 2, 3, 4, 5, 6, 10}
    app = make_app(kit, clock=lambda: FIXED_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "2 (1 live+chat)" in screen_text(app), what="live rows")
        shown = groups_on_screen(app)
        assert as_sets({k: v for k, v in shown.items()
                        if k not in ("interactive", "approved", "failed")}) == as_sets(tau_buckets(ov))
        assert (shown["interactive"], shown["approved"], shown["failed"]) == ([7], [8], [9])
        text = screen_text(app)
        assert "Running" not in text and "1 running" in text  # only task 1 has work running
        # task 1: the worker is its live session and its phase, the chat apart
        row = row_text(app, 1)
        assert row.startswith("●") and "2 (1 live+chat)" in row and "⚙ working" in row
        assert "running tools" not in row
        # the others: a live chat only, its phase marked as the chat's
        for tid in (2, 3, 4, 5, 7, 8, 9, 10):
            row = row_text(app, tid)
            assert row.startswith("○") and "1 (chat live)" in row, row
            assert "live)" not in row.replace("(chat live)", "")
        assert "○ running tools" in row_text(app, 2)
        assert "waits on #1" in row_text(app, 6)  # what it waits on says more than the chat
        # live only: tau's has_live_session, every one of them
        await pilot.press("l")
        await wait_until(pilot, lambda: "live only" in screen_text(app), what="live only")
        assert sum(len(v) for v in groups_on_screen(app).values()) == 10
        # the chat ends: nothing moves, the dots go
        await pilot.press("l")
        kit.finish("orch")
        await wait_until(pilot, lambda: "chat live" not in screen_text(app), what="chat idle")
        assert groups_on_screen(app) == shown


async def test_held_and_blocked(kit: StoreKit) -> None:
    for tid, title, state, held in ((1, "Unfinished dependency", "review", False),
                                    (2, "Held, free to go", "ready", True),
                                    (3, "Held and waiting", "ready", True),
                                    (4, "Held while planning", "planning", True),
                                    (5, "Waiting, not held", "planning", False),
                                    (6, "Held interactive", "interactive", True)):
        kit.add_task(tid, title, state, held=held, updated_at=BASE_MS - H + tid * 1000)
    kit.depends_on(3, 1)
    kit.depends_on(5, 1)
    # tau: held [2, 4]; blocked [3, 5] (held or not); the interactive task in no bucket
    ov = overview(kit)
    assert tau_buckets(ov) == {"active": [1], "blocked": [3, 5], "held": [2, 4]}
    app = make_app(kit, clock=lambda: FIXED_NOW)
    async with app.run_test(size=SIZE) as pilot:
        text = await wait_for_text(pilot, app, "Held interactive")
        shown = groups_on_screen(app)
        assert as_sets({k: v for k, v in shown.items() if k != "interactive"}) == as_sets(tau_buckets(ov))
        assert shown["interactive"] == [6]
        assert text.index("Blocked (2)") < text.index("Held (2)") < text.index("Interactive (1)")
        assert "‖ ready" in row_text(app, 3) and "waits on #1" in row_text(app, 3)


async def test_the_active_heading_shows_taus_slots_per_project(kit: StoreKit) -> None:
    kit.add_task(1, "Being built", "active")
    kit.add_task(2, "Being reviewed", "review")
    kit.add_task(3, "Its planner runs", "planning")
    kit.add_task(4, "Not planned yet", "planning")
    kit.add_task(5, "Approved", "approved")
    kit.add_task(6, "A webapp merge", "merging", project="webapp")
    kit.add_task(7, "A webapp task in planning", "planning", project="webapp")
    kit.tasks.execute("UPDATE tasks SET session_id='p3' WHERE id=3")  # dispatched a planner
    # tau's count_inflight_tasks: tau 3 (active, review, planning with an owner), webapp 1
    assert (overview(kit)["inflight_count"], overview(kit, "webapp")["inflight_count"]) == (3, 1)
    assert overview(kit)["max_concurrent"] == 8
    app = make_app(kit, clock=lambda: FIXED_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Active (3) · tau 3 of 8 slots · webapp 1 of 8")
        # the planner is done: tau clears the owner on planning → refining
        kit.tasks.execute("UPDATE tasks SET state='refining', session_id=NULL, updated_at=? WHERE id=3",
                          (BASE_MS + 1,))
        await wait_for_text(pilot, app, "Active (4) · tau 3 of 8 slots · webapp 1 of 8")
        kit.tasks.execute("UPDATE tasks SET session_id='p7', updated_at=? WHERE id=7", (BASE_MS + 2,))
        await wait_for_text(pilot, app, "Active (4) · tau 3 of 8 slots · webapp 2 of 8")
        assert overview(kit, "webapp")["inflight_count"] == 2


async def test_sort_orders_mean_what_tau_means(kit: StoreKit) -> None:
    # ready tasks: priority and creation differ (add_task: created = updated - 1h)
    for tid, prio, at in ((1, 0, 1), (2, 3, 5), (3, 1, 2), (4, 3, 4), (5, 2, 3)):
        kit.add_task(tid, f"Ready {tid}", "ready", priority=prio, updated_at=BASE_MS - 10 * H + at * H)
    for tid, state in ((10, "merging"), (11, "review"), (12, "refining"), (13, "active")):
        kit.add_task(tid, f"In flight {tid}", state, updated_at=BASE_MS - (tid - 9) * 60_000)
    # finished: the Last column shows the sessions' newest activity, else the
    # task's last change
    kit.add_task(20, "Merged long ago, worked on late", "merged", updated_at=BASE_MS - 50 * H)
    kit.link(20, "f20", "worker", BASE_MS - 50 * H)
    kit.add_session("f20", created_at=BASE_MS - 50 * H)
    kit.add_messages("f20", [user("late")], BASE_MS - 2 * H)
    kit.add_task(21, "Done recently", "done", updated_at=BASE_MS - 5 * H)
    kit.add_task(22, "Closed a day ago", "closed", updated_at=BASE_MS - 24 * H)
    ov = overview(kit)
    assert [t["id"] for t in ov["queued_ready"]] == [4, 2, 5, 3, 1]  # priority desc, then creation
    app = make_app(kit, clock=lambda: FIXED_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Closed a day ago")
        assert groups_on_screen(app)["finished"] == [20, 21, 22]  # newest Last first: 2h, 5h, 24h
        await pilot.press("s")  # priority: tau's own order
        await wait_for_text(pilot, app, "sort: priority")
        assert groups_on_screen(app)["ready"] == [4, 2, 5, 3, 1]
        assert groups_on_screen(app)["finished"] == [20, 21, 22]
        await pilot.press("s", "s")  # id, then state: workflow order
        await wait_for_text(pilot, app, "sort: state")
        assert groups_on_screen(app)["active"] == [12, 13, 11, 10]  # refining, active, review, merging
        assert groups_on_screen(app)["finished"] == [20, 21, 22]
