"""The notifier's pictures follow the change (issue 22): a quiet fleet costs no
picture, yet a stall is still flagged when it falls due and cleared by a sign
of life the tracker notes nowhere, and pictures built from what changed agree
with one built whole.

Real parts: a tau-shaped store written by another connection (StoreKit), the
demo's stand-in server on a real socket, the store and notifier as the app
runs them. Waits are conditions polled with the one wait helper.
"""

from __future__ import annotations

import time

import pytest

from tests.harness import apoll
from tests.storekit import StoreKit, user
from tests.taukit import queue
from tui.notify import notifier as notifier_module
from tui.notify.engine import Engine
from tui.notify.notifier import Notifier
from tui.notify.observe import Observer
from tui.notify.settings import parse
from tui.notify.stall import StallRule
from tui.tau.events import LivePhase
from tui.tau.store import Store


def fleet(kit: StoreKit) -> None:
    """Five tasks; s5 is on tasks 4 and 5 (a session on two tasks is one session)."""
    for i in range(1, 6):
        kit.add_task(i, f"task {i}", "active")
        kit.link(i, f"s{i}", "worker")
        kit.add_session(f"s{i}", exit_status="completed")
        kit.add_messages(f"s{i}", [user("go")])
    kit.link(4, "s5", "reviewer")


async def test_a_quiet_fleet_costs_no_picture_and_stalls_are_still_flagged_and_cleared(
        kit: StoreKit, monkeypatch: pytest.MonkeyPatch) -> None:
    # Looks every 0.1 s would each have been a picture before (one at least
    # every PICTURE_EVERY_S): now only while a session is flagged.
    monkeypatch.setattr(notifier_module, "PICTURE_EVERY_S", 0.1)
    fleet(kit)
    store = Store(kit.data_dir, kit.runtime_dir)
    await store.open()
    notifier = Notifier(store, parse({"stall_minutes": {"worker": 0.03}, "osc9": False, "bell": False}))
    try:
        await notifier.look()  # the baseline
        assert notifier.engine.baselined and notifier.pictures == 1
        for _ in range(4):
            time.sleep(0.15)
            await notifier.look()
        assert notifier.pictures == 1, "a quiet fleet was pictured again"
        assert notifier.looks == 5

        async def look_for(cond) -> bool:  # type: ignore[no-untyped-def]
            await notifier.look()
            return cond()

        # s1 starts a turn: a change, so a picture (its read subscribes to s1);
        # then quiet until its threshold (1.8 s) falls due: a picture then, and the flag.
        kit.run("s1", "thinking")
        await apoll(lambda: look_for(lambda: (store.live.phase("s1") or LivePhase("", False)).label
                                     == "thinking"), what="s1 thinking")
        await notifier.look()
        assert notifier.engine.next_stall_at is not None and "s1" not in notifier.engine.stalled

        await apoll(lambda: look_for(lambda: "s1" in notifier.engine.stalled), what="s1 flagged")
        stalls = [e for e in notifier.log if e.kind == "stall"]
        assert [(e.session_id, e.task_id) for e in stalls] == [("s1", 1)]

        # A delta that keeps the phase: no version moves (nothing would make a
        # look take a picture), yet it is a sign of life: the flag goes.
        seen = (store.live.version, await store.data_versions())
        before = store.live.phase("s1").last_event_ms  # type: ignore[union-attr]
        kit.server.emit("s1", {"type": "thinking_delta", "content_index": 0, "delta": "hm", "partial": {}})
        await apoll(lambda: store.live.phase("s1").last_event_ms > before, what="the delta in")  # type: ignore[union-attr]
        assert (store.live.version, await store.data_versions()) == seen
        await apoll(lambda: look_for(lambda: "s1" not in notifier.engine.stalled), what="s1 unflagged")
        # Unflagged and quiet again (s1 ends its turn): no more pictures.
        kit.finish("s1", "completed")
        await apoll(lambda: look_for(lambda: not store.live.phase("s1") or not store.live.phase("s1").live),  # type: ignore[union-attr]
                    what="s1 idle")
        await notifier.look()
        pictures = notifier.pictures
        for _ in range(3):
            time.sleep(0.15)
            await notifier.look()
        assert notifier.pictures == pictures
    finally:
        await notifier.close()
        await store.close()


async def test_pictures_built_from_what_changed_agree_with_one_built_whole(kit: StoreKit) -> None:
    fleet(kit)
    store = Store(kit.data_dir, kit.runtime_dir)
    await store.open()
    settings = parse({"stall_minutes": {"worker": 0.01}, "queued_minutes": 0.01, "osc9": False, "bell": False})
    notifier = Notifier(store, settings)
    try:
        await notifier.look()  # the baseline
        # Changes of every kind, each seen by a chained picture.
        kit.run("s2", "thinking")  # live, soon stalled (0.6 s)
        kit.live("s5", "Responding")  # the session on two tasks, live
        kit.run("s5", "working")
        queue(kit, "s3", "Please also run clippy.", "session:s9", int(time.time() * 1000) - 60_000)
        kit.set_state(4, "review")
        kit.add_task(6, "task 6", "active")
        kit.link(6, "s6", "worker")
        kit.add_session("s6")
        kit.link(6, "s3", "reviewer")  # s3 on a second task too

        async def settled() -> bool:
            await notifier.look()
            last = notifier.engine.last
            return (last is not None and 6 in last.tasks and "s2" in notifier.engine.stalled
                    and "s5" in notifier.engine.stalled and "s3" in notifier.engine.waiting)

        await apoll(settled, what="every change pictured")
        chained = notifier.engine.last
        assert chained is not None and chained.seq > 1 and chained.changed_sessions is not None
        # A fresh observer builds its first picture whole; a fresh engine's
        # baseline judges it: the same sessions, stalls and waits.
        whole = await Observer(store).take()
        assert whole.changed_sessions is None
        fresh = Engine(StallRule(settings))
        fresh.rule.medians = notifier.engine.rule.medians
        fresh.step(whole)
        assert chained.sessions == whole.sessions and chained.tasks == whole.tasks
        assert chained.by_session == whole.by_session
        assert {sid: e.task_id for sid, e in chained.by_session.items()} == {  # type: ignore[union-attr]
            "s1": 1, "s2": 2, "s3": 3, "s4": 4, "s5": 4, "s6": 6}
        assert notifier.engine.stalled.keys() == fresh.stalled.keys() == {"s2", "s5"}
        assert notifier.engine.stalled["s5"].tasks == {5}  # (a reviewer on task 4: its own limit)
        assert notifier.engine.waiting.keys() == fresh.waiting.keys() == {"s3"}
        assert notifier.engine.waiting["s3"].tasks == {3, 6}
        told = {(e.kind, e.session_id or e.task_id) for e in notifier.log}
        assert {("stall", "s2"), ("stall", "s5"), ("queued", "s3"), ("task_state", 4)} <= told
    finally:
        await notifier.close()
        await store.close()
