"""A change to one task costs that task (issue 22): the store says what changed.

Each task list the store hands out carries its number and what it differs by
from the one before (`TaskDelta`): the rows built again and the tasks gone.
The screen regroups only those. These tests hold the two ends to the truth:
on a real store written by another connection, every row outside the delta is
the same object as before and every row in it is the current one; and the
grouper fed deltas (some snapshots skipped, as when the list was not on
screen) always gives what `group_tasks` gives from scratch.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.storekit import BASE_MS, StoreKit, fixed_fleet
from tests.test_groups import task
from tui.model.groups import SORTS, Grouper, group_tasks
from tui.model.snapshots import TaskDelta, TaskListSnapshot
from tui.tau.store import Store


def _check(before: TaskListSnapshot, after: TaskListSnapshot) -> set[int]:
    """The delta of ``after`` against ``before`` is exact enough: rows outside
    it are the same objects; the ids in it are those that are not. Returns the
    tasks in it other than those whose only change is tau's wait reasons (the
    stand-in's task_overview answers land when they land)."""
    assert after.seq == before.seq + 1 and after.delta is not None
    old = {t.id: t for t in before.tasks}
    new = {t.id: t for t in after.tasks}
    in_delta = {t.id for t in after.delta.rows}
    assert all(new[t.id] is t for t in after.delta.rows)  # the rows handed out
    assert after.delta.removed == set(old) - set(new)
    differs = {tid for tid, t in new.items() if old.get(tid) is not t}
    assert differs <= in_delta  # every row that is not the same object is in it
    return {tid for tid in in_delta
            if tid not in old or replace(old[tid], waits=new[tid].waits) != new[tid]}


async def test_the_store_says_which_rows_changed(kit: StoreKit) -> None:
    fixed_fleet(kit)
    store = Store(kit.data_dir, kit.runtime_dir)
    await store.open()
    try:
        first = await store.read_task_list()
        assert first.delta is None  # the first list: everything is new
        again = await store.read_task_list()
        assert _check(first, again) == set()  # nothing committed: nothing rebuilt
        kit.set_state(3, "ready", at=BASE_MS + 1_000)  # a state change
        changed = await store.read_task_list()
        # the task (and at most the one that depends on it: blocked by it, or not now)
        assert 3 in _check(again, changed) <= {3, 5}
        assert {t.id for t in changed.delta.rows} - {3, 5} <= {t.id for t in changed.tasks if t.waits
                                                                or _waits_of(again, t.id)}
        kit.add_task(40, "a task tau just filed", "active", updated_at=BASE_MS + 2_000)
        created = await store.read_task_list()
        assert _check(changed, created) == {40}
        assert created.tasks[-1].id == 40 and len(created.tasks) == len(changed.tasks) + 1
        kit.add_session("s40")
        kit.link(40, "s40")
        linked = await store.read_task_list()
        assert _check(created, linked) == {40}
        assert next(t for t in linked.tasks if t.id == 40).session_count == 1
    finally:
        await store.close()


def _waits_of(snap: TaskListSnapshot, tid: int) -> tuple[str, ...]:
    return next((t.waits for t in snap.tasks if t.id == tid), ())


# --- the grouper, fed deltas, gives what group_tasks gives ------------------------------

STATES = ("active", "review", "ready", "planning", "interactive", "approved", "merged", "done",
          "failed", "launching")
row = st.builds(
    lambda state, live, held, blocked, prio, updated, act: task(
        0, state, live=live, held=held, blocked=blocked, prio=prio, updated=updated,
        activity=act, created=updated // 2),
    st.sampled_from(STATES), st.integers(0, 2), st.booleans(), st.sampled_from(((), (3,))),
    st.integers(0, 3), st.integers(0, 50), st.one_of(st.none(), st.integers(0, 50)))


@settings(max_examples=150, deadline=None)
@given(st.lists(row, min_size=0, max_size=40),
       st.lists(st.tuples(st.lists(st.tuples(st.integers(0, 10_000), row), max_size=4),
                          st.integers(-1, 2), st.booleans(), st.sampled_from(SORTS), st.booleans()),
                max_size=12))
def test_the_grouper_fed_deltas_matches_group_tasks(first, steps) -> None:  # type: ignore[no-untyped-def]
    tasks = [replace(t, id=i) for i, t in enumerate(first)]
    grouper = Grouper()
    seq = 1
    assert grouper.group(tuple(tasks), seq=seq, delta=None) == group_tasks(tuple(tasks))
    next_id = 1000
    for edits, grow, skipped, sort, unfold in steps:
        tasks = list(tasks)
        built, removed = {}, set()
        for which, new in edits:
            if tasks:
                k = which % len(tasks)
                tasks[k] = built[tasks[k].id] = replace(new, id=tasks[k].id)
        if grow > 0:
            added = replace(first[0] if first else task(0), id=next_id)
            next_id += 1
            tasks.append(added)
            built[added.id] = added
        elif grow < 0 and tasks:
            gone = tasks.pop(0)
            removed.add(gone.id)
            built.pop(gone.id, None)
        seq += 2 if skipped else 1  # a list the screen never applied: the delta does not count
        delta = TaskDelta(rows=tuple(built.values()), removed=frozenset(removed))
        kw = dict(sort=sort, unfold_finished=unfold)
        got = grouper.group(tuple(tasks), seq=seq, delta=delta, **kw)  # type: ignore[arg-type]
        assert got == group_tasks(tuple(tasks), **kw)  # type: ignore[arg-type]
        assert grouper.running == sum(1 for g in got if g.key == "active" for t in g.tasks if t.live_count)
