"""Issue 23, the wire: the store's own snapshots cross it whole and strictly.

Real parts: a tau-shaped store written by another connection with the
stand-in server up; the snapshots are the dashboard's own reads of it
(`Store`). What crosses must come out equal to what went in (the remote
screen shows what a local one would), a phase change must be a delta of one
row under a kilobyte, and anything malformed must be a one-line error.
"""

from __future__ import annotations

import json

import pytest

from tests.harness import apoll
from tests.storekit import StoreKit
from tui.model.snapshots import LiveAnswer, LiveTool, LiveTurn, TaskRow, Transcript
from tui.remote import wire
from tui.remote.codec import DecodeError, decode, encode
from tui.remote.mirror import Inconsistent, Mirror
from tui.remote.publish import Publisher
from tui.remote.wire import Delta, Snapshot, dumps, loads
from tui.tau.store import Store


def row(i: int, **kw: object) -> TaskRow:
    base = dict(id=i, title=f"task {i}", state="active", priority=0, project="tau", parent_id=None,
                held=False, created_at=1, updated_at=2, session_count=0, live_count=0,
                busiest_phase=None, last_activity=None)
    base.update(kw)
    return TaskRow(**base)  # type: ignore[arg-type]


async def test_the_stores_snapshots_cross_the_wire_unchanged(fleet: StoreKit) -> None:
    store = Store(fleet.data_dir, fleet.runtime_dir)
    await store.open()
    try:
        # What tau shows (TAU.md §6.2): task 1 runs s3 (ToolExec) and s4 (Thinking) in the server's memory.
        async def settled() -> bool:
            nonlocal snap
            snap = await store.read_task_list()
            return snap.tasks[0].busiest_phase == "running tools" and snap.tasks[0].live_count == 2

        snap = None
        await apoll(settled, what="the server's word")
        detail = await store.read_task(1, recent=3)
        page = await store.read_transcript("s3", limit=3)
    finally:
        await store.close()
    for value, tp in ((snap.tasks, tuple[TaskRow, ...]), (snap.status, type(snap.status)),
                      (detail, type(detail)), (page, Transcript)):
        line = json.dumps(encode(tp, value))
        assert decode(tp, json.loads(line)) == value
    assert page.messages and page.messages[1].tool_calls  # tool calls, thinking, usage: all of it


def test_text_is_data_on_the_wire() -> None:
    """Escapes, markup and a lone surrogate (text decoded from bad bytes) come back as the same string."""
    hostile = "\x1b[2J\x1b]0;pwned\x07[bold red]x[/] \u202e\udc80 end"
    line = dumps(Delta(v=(1, 2, 3), at=1.0, rows=(row(7, title=hostile),)))
    line.decode("utf-8")  # the line itself is valid UTF-8
    assert b"\x1b" not in line and b"\n" not in line[:-1]
    assert loads(line).rows[0].title == hostile


def test_the_streaming_turn_keeps_its_parts_apart() -> None:
    turn = LiveTurn(parts=(LiveAnswer(stamp=5, text="hi"), LiveTool(call_id="c", name="bash", output="ok")),
                    notices=("retrying",), seq=4)
    assert decode(LiveTurn, json.loads(json.dumps(encode(LiveTurn, turn)))) == turn


@pytest.mark.parametrize("body, says", [
    ({"k": "delta", "v": [1, 2, 3], "at": 1.0, "rows": [{"id": "1"}]}, "delta.rows[0]: missing field"),
    ({"k": "delta", "v": [1, 2, 3], "at": 1.0, "rows": [{**json.loads(json.dumps(encode(TaskRow, row(1)))),
                                                      "priority": "high"}]}, "delta.rows[0].priority: expected an integer"),
    ({"k": "delta", "v": [1, 2], "at": 1.0}, "delta.v: expected 3 items"),
    ({"k": "beat", "at": True}, "beat.at: expected a finite number"),
    ({"k": "beat", "at": 1.0, "extra": 1}, "beat: unknown field 'extra'"),
    ({"k": "launch"}, "unknown message kind 'launch'"),
    ([1, 2], "not a JSON object"),
])
def test_a_malformed_message_is_one_line_naming_the_field(body: object, says: str) -> None:
    with pytest.raises(DecodeError) as err:
        loads(json.dumps(body).encode())
    assert says in str(err.value) and "\n" not in str(err.value)


def test_not_json_and_non_numbers_are_refused() -> None:
    for raw in (b"Welcome to gpu1!", b'{"k":"beat","at":NaN}', b"[" * 100_000):
        with pytest.raises(DecodeError):
            loads(raw)


async def test_a_phase_change_is_one_row_under_a_kilobyte(fleet: StoreKit) -> None:
    """The feed's publisher on the dashboard's reads: the snapshot, then a
    delta of exactly the row the change touched, applied by the mirror with
    every other row the very same object."""
    store = Store(fleet.data_dir, fleet.runtime_dir)
    await store.open()
    pub, mirror = Publisher(), Mirror()
    try:
        async def read() -> list[bytes]:
            snap = await store.read_task_list()
            dv = await store.data_versions()
            return [dumps(m) for m in pub.messages(snap, (dv[0], dv[1], store.live.version), False)]

        async def settled() -> bool:
            for line in await read():
                mirror.apply(loads(line))
            # tau's word in: the phase from its memory, why #5 waits from its scheduler.
            return mirror.rows[1].busiest_phase == "running tools" and mirror.rows[5].waits

        await apoll(settled, what="the first picture with the server's word")
        before = dict(mirror.rows)
        fleet.run("s4", "running tools")
        fleet.live("s3", "Responding")  # s3 leaves ToolExec: task 1's busiest is s4's now…
        fleet.run("s4", "thinking")  # …and then s4 thinks: task 1 shows "working" (s3)
        sent: list[bytes] = []

        async def changed() -> bool:
            lines = await read()
            sent.extend(lines)
            for line in lines:
                mirror.apply(loads(line))
            return mirror.rows[1].busiest_phase == "working"

        await apoll(changed, what="the delta")
    finally:
        await store.close()
    deltas = [loads(x) for x in sent]
    assert {r.id for d in deltas for r in d.rows} == {1}
    assert all(len(x) < 1024 for x in sent), [len(x) for x in sent]
    assert all(mirror.rows[i] is before[i] for i in before if i != 1)


def test_a_big_list_is_cut_in_chunks_and_applied_whole() -> None:
    rows = tuple(row(i, title="x" * 2000) for i in range(400))
    from tui.model.snapshots import StoreStatus, TaskListSnapshot

    snap = TaskListSnapshot(tasks=rows, status=StoreStatus(data_dir="/d"), taken_at=1.0)
    msgs = Publisher().messages(snap, (1, 1, 1), False)
    lines = [dumps(m) for m in msgs]
    assert len(lines) > 2 and all(len(x) < wire.CHUNK_BYTES * 1.5 for x in lines)
    mirror = Mirror()
    for line in lines[:-1]:
        assert mirror.apply(loads(line)) is False
        assert mirror.tasks() == ()  # half a snapshot is never shown
    assert mirror.apply(loads(lines[-1])) is True
    assert mirror.tasks() == rows


def test_order_and_removal_follow_the_feed() -> None:
    from tui.model.snapshots import StoreStatus, TaskListSnapshot

    status = StoreStatus(data_dir="/d")
    pub, mirror = Publisher(), Mirror()

    def send(rows: tuple[TaskRow, ...]) -> list[Snapshot | Delta]:
        msgs = pub.messages(TaskListSnapshot(tasks=rows, status=status, taken_at=1.0), (1, 1, 1), False)
        for m in msgs:
            mirror.apply(loads(dumps(m)))
        return msgs

    a, b, c = row(1), row(2), row(3)
    send((a, b, c))
    (d,) = send((a, c, row(4)))  # 2 gone, 4 new at the end: no order needed
    assert d.removed == (2,) and d.order is None and [r.id for r in d.rows] == [4]
    (d,) = send((row(4), c, a))  # reordered: the order goes
    assert d.order == (4, 3, 1) and d.rows == ()
    assert [r.id for r in mirror.tasks()] == [4, 3, 1]
    assert send((row(4), c, a)) == []  # nothing changed: nothing sent
    with pytest.raises(Inconsistent):
        mirror.apply(Delta(v=(1, 1, 1), at=1.0, order=(4, 3, 99)))


def test_a_10_mb_title_goes_cut_and_is_not_sent_again() -> None:
    """tau keeps a title of any length (test_hostile); the wire's line is bounded:
    the row goes with its title cut and says so, once."""
    from tui.model.snapshots import StoreStatus, TaskListSnapshot

    huge = row(1, title="t" * (10 * 1024 * 1024))
    snap = TaskListSnapshot(tasks=(huge, row(2)), status=StoreStatus(data_dir="/d"), taken_at=1.0)
    pub = Publisher()
    (line,) = [dumps(m) for m in pub.messages(snap, (1, 1, 1), False)]
    assert len(line) < wire.MAX_LINE
    title = loads(line).rows[0].title
    assert title.startswith("t" * 1000) and title.endswith(" more characters, not sent)")
    assert pub.messages(snap, (1, 1, 1), False) == []  # the same row: nothing to send


def test_the_hosts_notifications_cross_as_watch_prints_them() -> None:
    from tui.notify.engine import Event, Stall

    ev = Event("task_state", 12.5, "task #2 'x': review → failed", notify="failed", task_id=2,
               old="review", new="failed", title="x")
    line = dumps(wire.Events((ev,), lost=3))
    assert json.loads(line)["events"] == [ev.to_json()]  # the line `sessiontop watch --json` prints
    assert loads(line) == wire.Events((ev,), lost=3)
    stalls = wire.Stalls({"s3": Stall(tasks=frozenset({1, 4}), since=100.0, after_s=600.0)})
    assert loads(dumps(stalls)) == stalls


def test_a_field_added_on_one_side_changes_the_schema() -> None:
    """Phase 2 adds a host to the rows: a host that runs the other version says
    so in its hello (the link refuses it by name) rather than failing on each row."""
    from dataclasses import make_dataclass

    from tui.remote.codec import fingerprint

    Row = make_dataclass("Row", [("id", int), ("title", "str | None", None)], frozen=True)
    Again = make_dataclass("Row", [("id", int), ("title", "str | None", None)], frozen=True)
    Wider = make_dataclass("Row", [("id", int), ("title", "str | None", None), ("host", str, "")],
                           frozen=True)
    assert fingerprint(Row) == fingerprint(Again) != fingerprint(Wider)


def test_a_long_list_goes_first_screen_first_then_the_rest_with_its_order() -> None:
    """Ten hosts at once each show their first screen after a line of ~10 % of
    their list: the first snapshot holds what the first screen shows (every
    task not finished, the newest finished ones) and says how many follow;
    the rest come in one delta once the feed lets them go, with the whole
    order, and the mirror says when it has every row."""
    from tui.model.snapshots import StoreStatus, TaskListSnapshot
    from tui.remote.publish import FIRST_FINISHED

    status = StoreStatus(data_dir="/d")
    done = [row(i, state="merged", updated_at=1000 + i) for i in range(1, 401)]  # 400 is the newest
    active = [row(i, state="active") for i in range(401, 451)]
    rows = tuple(done[:200] + active + done[200:])
    pub, mirror = Publisher(), Mirror("gpu1")

    def send(tasks: tuple[TaskRow, ...], *, hold: bool) -> list[Snapshot | Delta]:
        msgs = pub.messages(TaskListSnapshot(tasks=tasks, status=status, taken_at=1.0), (1, 1, 1), False,
                            hold=hold)
        for m in msgs:
            mirror.apply(loads(dumps(m)))
        return msgs

    (first,) = send(rows, hold=True)
    newest = {r.id for r in done[-FIRST_FINISHED:]}
    assert isinstance(first, Snapshot) and first.rest == 400 - FIRST_FINISHED
    assert {r.id for r in first.rows} == {r.id for r in active} | newest
    assert mirror.complete and not mirror.whole
    # Held: a change to a shown task goes alone; the rest stays out.
    changed = rows[:200] + (row(401, state="review"),) + rows[201:]
    (d,) = send(changed, hold=True)
    assert [r.id for r in d.rows] == [401] and not mirror.whole
    # Let go: every other row, the list's own order, and the mirror has it all.
    sent = send(changed, hold=False)
    assert sum(len(m.rows) for m in sent) == 400 - FIRST_FINISHED and sent[-1].order is not None
    assert mirror.whole and [r.id for r in mirror.tasks()] == [r.id for r in changed]
    assert all(r.host == "gpu1" for r in mirror.tasks())
    assert send(changed, hold=False) == []  # nothing left to send


def test_a_short_list_goes_whole() -> None:
    from tui.model.snapshots import StoreStatus, TaskListSnapshot

    rows = tuple(row(i, state="merged", updated_at=i) for i in range(1, 201))
    (snap,) = Publisher().messages(TaskListSnapshot(tasks=rows, status=StoreStatus(data_dir="/d"), taken_at=1.0),
                                   (1, 1, 1), False, hold=True)
    assert isinstance(snap, Snapshot) and snap.rest == 0 and len(snap.rows) == 200
