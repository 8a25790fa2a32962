"""What tau cannot read, counted as tau counts it (TAU.md §6.1), and chats of
every role kept apart from a task's own work (§6.2, issue 9).

Each store is written by tau-shaped writes on a connection of its own
(tests.storekit); each assertion says what tau's ``task_get`` would give.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import screen_text, wait_for_all, wait_for_text
from tests.harness import apoll, make_app
from tests.storekit import BASE_MS, StoreKit, assistant, model_json, user
from tui.notify.observe import Observer
from tui.notify.settings import load
from tui.notify.stall import StallRule
from tui.scripts.listing import document
from tui.tau.store import Store

SIZE = (160, 48)


async def test_a_session_tau_cannot_load_is_counted_apart(kit: StoreKit) -> None:
    """tau's get_session fails on a model_json that is not its Model (here the
    cost and base_url are missing): task_get drops the row. The pane is still
    shown, marked, and counted apart; `list --json` puts it with the dropped."""
    kit.add_task(1, "Half a model", "active")
    kit.link(1, "s1", "worker", BASE_MS)
    kit.link(1, "s2", "reviewer", BASE_MS + 1)
    kit.add_session("s1")
    kit.add_session("s2")
    with kit._tx(kit.tau) as c:
        c.execute("UPDATE sessions SET model_json=? WHERE id='s2'",
                  (json.dumps({"id": "m", "name": "Partial", "provider": "anthropic",
                               "context_window": 200000, "max_tokens": 100}),))
    kit.add_messages("s2", [user("review"), assistant("fine")])
    store = Store(kit.data_dir, kit.runtime_dir)
    await store.open()
    try:
        detail = await store.read_task(1)
        assert detail is not None
        loads = {p.info.session_id: p.info.tau_loads for p in detail.sessions}
        assert loads == {"s1": True, "s2": False}
        doc = document(await Observer(store).take([1], every_session=True), StallRule(load()))
        task = doc["tasks"][0]
        assert [s["session_id"] for s in task["sessions"]] == ["s1"]  # what task_get lists
        assert task["sessions_gone"] == [{"session_id": "s2", "role": "reviewer", "created_at": BASE_MS + 1,
                                          "why": "model_json tau cannot read"}]
    finally:
        await store.close()
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Half a model")
        app.open_task(1)
        await wait_for_all(pilot, app, "Sessions (1 + 1 unloadable)", "tau cannot load it")


async def test_a_row_tau_cannot_parse_makes_its_count_zero(kit: StoreKit) -> None:
    """tau parses every row for task_get's message_count, and one that fails
    makes the whole history empty: 0. The pane says 0, as tau would, and what
    the rows are; the transcript still shows every row, the bad one as such;
    a session with only good rows keeps its count."""
    kit.add_task(1, "Broken row", "active")
    kit.link(1, "s1", "worker", BASE_MS)
    kit.link(1, "s2", "reviewer", BASE_MS + 1)
    kit.add_session("s1")
    kit.add_session("s2")
    kit.add_messages("s1", [user("start"), assistant("working on it", tokens=300)])
    kit.add_messages("s2", [user("a"), assistant("b"), user("c")])
    with kit._tx(kit.tau) as c:  # a role tau does not know (a newer tau, a corrupt row)
        c.execute("INSERT INTO messages (session_id, message_json, created_at) VALUES (?,?,?)",
                  ("s1", json.dumps({"role": "narrator", "text": "?"}), BASE_MS + 5000))
    store = Store(kit.data_dir, kit.runtime_dir)
    await store.open()
    try:
        detail = await store.read_task(1)
        assert detail is not None
        panes = {p.info.session_id: p for p in detail.sessions}
        assert (panes["s1"].info.message_count, panes["s1"].rows, panes["s1"].unreadable) == (0, 3, 1)
        assert (panes["s2"].info.message_count, panes["s2"].unreadable) == (3, 0)
        tr = await store.read_transcript("s1")
        assert len(tr.messages) == 3 and tr.header.unreadable == 1
    finally:
        await store.close()
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Broken row")
        app.open_task(1)
        await wait_for_all(pilot, app, "0 msgs", "(1 of 3 rows unreadable)", "3 msgs")
        # Not JSON at all: counted too, on the next read.
        with kit._tx(kit.tau) as c:
            c.execute("INSERT INTO messages (session_id, message_json, created_at) VALUES (?,?,?)",
                      ("s2", "{not json", BASE_MS + 9000))
        await wait_for_text(pilot, app, "(1 of 4 rows unreadable)")
        assert "3 msgs" not in screen_text(app)


@pytest.mark.parametrize("role", ["interactive", "contributor"])
async def test_a_live_chat_of_any_chat_role_is_kept_apart(kit: StoreKit, role: str) -> None:
    """An interactive or contributor session talking about a task lights tau's
    has_live_session, but it is not the task's work: the list counts no
    working session live and marks the chat; the task stays in its group."""
    kit.add_task(1, "Talked about", "ready")
    kit.add_task(2, "Worked on", "active")
    kit.link(1, "s1", role, BASE_MS)
    kit.link(2, "s1", role, BASE_MS)
    kit.link(2, "s2", "worker", BASE_MS)
    kit.add_session("s1")
    kit.add_session("s2")
    kit.add_messages("s1", [user("what about task 1?")])
    kit.add_messages("s2", [user("build")])
    kit.run("s1", "working")
    kit.run("s2", "running tools")
    store = Store(kit.data_dir, kit.runtime_dir)
    await store.open()
    try:
        by_id: dict = {}

        async def answered() -> bool:  # the server's answers land a moment after the read
            by_id.update({t.id: t for t in (await store.read_task_list()).tasks})
            return bool(by_id[1].chat_live and by_id[2].live_count)

        await apoll(answered, what="the server's answers")
        assert (by_id[1].live_count, by_id[1].chat_live, by_id[1].chat_phase) == (0, 1, "working")
        assert (by_id[2].live_count, by_id[2].chat_live, by_id[2].busiest_phase) == (1, 1, "running tools")
    finally:
        await store.close()


async def test_a_switched_model_is_followed(kit: StoreKit) -> None:
    """tau rewrites model_json when a session's model is switched (db.rs
    update_session_field): the pane's model and context use follow it."""
    kit.add_task(1, "Switched", "active")
    kit.link(1, "s1", "worker", BASE_MS)
    kit.add_session("s1", model="Small")
    kit.add_messages("s1", [user("go"), assistant("ok", tokens=20000)])
    store = Store(kit.data_dir, kit.runtime_dir)
    await store.open()
    try:
        detail = await store.read_task(1)
        assert detail is not None and detail.sessions[0].model == "Small"
        with kit._tx(kit.tau) as c:
            c.execute("UPDATE sessions SET model_json=? WHERE id='s1'", (model_json("Big", window=1_000_000),))
        detail = await store.read_task(1)
        assert detail is not None
        p = detail.sessions[0]
        assert p.model == "Big" and p.context_pct == pytest.approx(1.0)  # 10k input of 1M
    finally:
        await store.close()
