"""The triage rules of the task list."""

from __future__ import annotations

from tui.groups import FINISHED_SHOWN, group_of, group_tasks, matches
from tui.model import TaskRow


def task(i: int, state: str = "active", *, live: int = 0, held: bool = False,
         blocked: tuple[int, ...] = (), prio: int = 0, updated: int = 0, activity: int | None = None,
         title: str = "t") -> TaskRow:
    return TaskRow(id=i, title=title, state=state, priority=prio, project="p", parent_id=None,
                   held=held, created_at=0, updated_at=updated, session_count=live, live_count=live,
                   busiest_phase="thinking" if live else None, last_activity=activity,
                   blocked_by=blocked)


def test_each_task_lands_in_one_group() -> None:
    assert group_of(task(1, "active", live=1)) == "running"
    assert group_of(task(1, "planning", live=2, held=True)) == "running"
    assert group_of(task(1, "merged", live=1)) == "finished"  # live dot, but finished
    assert group_of(task(1, "review")) == "in_flight"
    assert group_of(task(1, "ready")) == "queued"
    assert group_of(task(1, "ready", held=True)) == "held"
    assert group_of(task(1, "ready", blocked=(3,))) == "blocked"
    assert group_of(task(1, "failed")) == "finished"
    assert group_of(task(1, "launching")) == "other"  # unknown states shown as they are


def test_groups_in_triage_order_sorted_and_finished_folded() -> None:
    tasks = [task(i, "done", updated=i) for i in range(20)]
    tasks += [task(100, "active", live=1, activity=5), task(101, "active", live=1, activity=9),
              task(102, "ready", prio=1), task(103, "ready", prio=5)]
    groups = group_tasks(tasks)
    assert [g.key for g in groups] == ["running", "queued", "finished"]
    assert [t.id for t in groups[0].tasks] == [101, 100]  # newest activity first
    finished = groups[-1]
    assert len(finished.tasks) == FINISHED_SHOWN and finished.folded == 20 - FINISHED_SHOWN
    assert [t.id for t in finished.tasks][:2] == [19, 18]  # newest first
    assert len(group_tasks(tasks, unfold_finished=True)[-1].tasks) == 20
    by_prio = group_tasks(tasks, sort="priority")
    assert [t.id for t in by_prio[1].tasks] == [103, 102]
    live = group_tasks(tasks, live_only=True)
    assert [g.key for g in live] == ["running"]


def test_filter_words_and_ids() -> None:
    t = task(12, "review", title="Fix the Watcher")
    assert matches(t, "watcher fix") and matches(t, "REVIEW") and matches(t, "#12")
    assert not matches(t, "#1") and not matches(t, "merged")


# --- the incremental grouper gives what group_tasks gives ------------------------------

from dataclasses import replace  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tui.groups import SORTS, Grouper  # noqa: E402

STATES = ("active", "review", "ready", "planning", "merged", "done", "failed", "launching")
row = st.builds(
    lambda i, state, live, held, blocked, prio, updated, act, title: task(
        i, state, live=live, held=held, blocked=blocked, prio=prio, updated=updated,
        activity=act, title=title),
    st.just(0), st.sampled_from(STATES), st.integers(0, 2), st.booleans(),
    st.sampled_from(((), (3,))), st.integers(0, 3), st.integers(0, 50),
    st.one_of(st.none(), st.integers(0, 50)), st.sampled_from(("fix", "watch", "fix watch")))
edit = st.tuples(st.integers(0, 10_000), row)  # (which task, its new fields)
params = st.tuples(st.sampled_from(SORTS), st.sampled_from(("", "fix", "#3")), st.booleans(),
                   st.booleans())


@settings(max_examples=150, deadline=None)
@given(st.lists(row, min_size=0, max_size=40),
       st.lists(st.tuples(st.lists(edit, max_size=4), params, st.integers(-1, 2)), max_size=12))
def test_the_grouper_matches_group_tasks_through_any_changes(first, steps) -> None:  # type: ignore[no-untyped-def]
    """Rows kept (same objects), rows changed (new objects), rows added and
    removed, filters and sorts switched: the incremental result is always the
    one computed from scratch."""
    tasks = [replace(t, id=i) for i, t in enumerate(first)]
    grouper = Grouper()
    for edits, (sort, needle, live_only, unfold), grow in steps:
        tasks = list(tasks)
        for which, new in edits:
            if tasks:
                k = which % len(tasks)
                tasks[k] = replace(new, id=tasks[k].id)
        if grow > 0:
            tasks.append(replace(first[0] if first else task(0), id=1000 + len(tasks)))
        elif grow < 0 and tasks:
            tasks.pop(which % len(tasks) if edits else 0)
        kw = dict(sort=sort, needle=needle, live_only=live_only, unfold_finished=unfold)
        assert grouper.group(tuple(tasks), **kw) == group_tasks(tuple(tasks), **kw)  # type: ignore[arg-type]
