"""The grouping rules of the task list: tau's task picker (TAU.md §7.3, §8).

Each case says which ``task_overview`` bucket tau would put the task in; the
groups after Held are the states the picker leaves out.
"""

from __future__ import annotations

from tui.model.groups import (
    FINISHED_SHOWN,
    GROUPS,
    budget,
    budget_note,
    group_of,
    group_tasks,
    matches,
)
from tui.model.snapshots import TaskRow


def task(i: int, state: str = "active", *, live: int = 0, chat: int = 0, held: bool = False,
         blocked: tuple[int, ...] = (), prio: int = 0, updated: int = 0, activity: int | None = None,
         title: str = "t", project: str = "p", owner: str | None = None, created: int = 0) -> TaskRow:
    return TaskRow(id=i, title=title, state=state, priority=prio, project=project, parent_id=None,
                   held=held, created_at=created, updated_at=updated, session_count=live + chat,
                   live_count=live, busiest_phase="thinking" if live else None,
                   last_activity=activity, blocked_by=blocked, chat_live=chat,
                   chat_phase="working" if chat else None, owner=owner)


def test_each_task_lands_in_its_task_overview_bucket() -> None:
    for state in ("active", "review", "merging", "refining"):
        assert group_of(task(1, state)) == "active"  # tau's "active"
    assert group_of(task(1, "ready")) == "ready"  # queued_ready
    assert group_of(task(1, "planning")) == "planning"  # queued_planning
    assert group_of(task(1, "planning", owner="s9")) == "planning"  # its planner runs: still queued
    assert group_of(task(1, "ready", held=True)) == "held"
    assert group_of(task(1, "planning", held=True)) == "held"
    assert group_of(task(1, "ready", blocked=(3,))) == "blocked"
    assert group_of(task(1, "planning", held=True, blocked=(3,))) == "blocked"  # held or not
    assert group_of(task(1, "active", blocked=(3,), held=True)) == "active"  # active stays active
    # in no bucket of tau's: where an operator expects them
    assert group_of(task(1, "interactive", held=True)) == "interactive"
    assert group_of(task(1, "approved")) == "approved"
    assert group_of(task(1, "failed", blocked=(3,))) == "failed"
    for state in ("merged", "done", "closed"):
        assert group_of(task(1, state)) == "finished"
    assert group_of(task(1, "launching")) == "other"  # unknown states shown as they are


def test_a_live_session_never_moves_a_task() -> None:
    for state in ("active", "ready", "planning", "interactive", "approved", "failed", "merged"):
        for held, blocked in ((False, ()), (True, ()), (False, (3,))):
            quiet = task(1, state, held=held, blocked=blocked)
            assert group_of(task(1, state, live=2, chat=1, held=held, blocked=blocked)) == group_of(quiet)
            assert group_of(task(1, state, chat=5, held=held, blocked=blocked)) == group_of(quiet)
    assert "running" not in dict(GROUPS)


def test_groups_in_taus_order_sorted_and_finished_folded() -> None:
    tasks = [task(i, "done", updated=i * 1000) for i in range(20)]
    tasks += [task(100, "active", live=1, activity=5), task(101, "review", chat=1, activity=9),
              task(102, "ready", prio=1), task(103, "ready", prio=5), task(104, "failed"),
              task(105, "planning", held=True), task(106, "ready", blocked=(1,)),
              task(107, "approved"), task(108, "interactive"), task(109, "planning")]
    groups = group_tasks(tasks)
    assert [g.key for g in groups] == ["active", "ready", "planning", "blocked", "held",
                                      "interactive", "approved", "failed", "finished"]
    assert [g.heading for g in groups][:3] == ["Active", "Queued — ready", "Queued — planning"]
    assert [t.id for t in groups[0].tasks] == [101, 100]  # newest activity first
    finished = groups[-1]
    assert len(finished.tasks) == FINISHED_SHOWN and finished.folded == 20 - FINISHED_SHOWN
    assert [t.id for t in finished.tasks][:2] == [19, 18]  # newest first
    assert len(group_tasks(tasks, unfold_finished=True)[-1].tasks) == 20
    by_prio = group_tasks(tasks, sort="priority")
    assert [t.id for t in by_prio[1].tasks] == [103, 102]
    # live only: tau's has_live_session, a chat included; groups unchanged
    live = group_tasks(tasks, live_only=True)
    assert [(g.key, [t.id for t in g.tasks]) for g in live] == [("active", [101, 100])]


def test_sorts_mean_what_tau_means() -> None:
    # priority: higher first, then older first (tau's bucket order)
    rows = [task(1, "ready", prio=0, created=1), task(2, "ready", prio=3, created=5),
            task(3, "ready", prio=1, created=2), task(4, "ready", prio=3, created=4)]
    assert [t.id for t in group_tasks(rows, sort="priority")[0].tasks] == [4, 2, 3, 1]
    # state: workflow order, not alphabetical; unknown states last
    rows = [task(i, s, held=True) for i, s in enumerate(
        ("merging", "review", "refining", "active", "approved", "interactive", "launching"))]
    flat = [t.state for g in group_tasks(rows, sort="state") for t in g.tasks]
    assert flat[:4] == ["refining", "active", "review", "merging"]
    one_group = [task(i, s) for i, s in enumerate(("merging", "review", "refining", "active"))]
    assert [t.state for t in group_tasks(one_group, sort="state")[0].tasks] == [
        "refining", "active", "review", "merging"]
    # Finished: by the time its Last column shows (sessions' activity, else
    # the task's last change), newest first, whatever the sort
    rows = [task(1, "merged", updated=900_000), task(2, "done", updated=100_000, activity=950),
            task(3, "closed", updated=500_000, activity=None)]
    for sort in ("activity", "priority", "id", "state"):
        assert [t.id for t in group_tasks(rows, sort=sort)[0].tasks] == [2, 1, 3]


def test_the_active_heading_counts_taus_budget_per_project() -> None:
    # tau: active and review count, and a planning task whose planner runs
    # (tasks.session_id set); a planning task without one, approved, ready do not.
    rows = [task(1, "active", project="tau"), task(2, "review", project="tau"),
            task(3, "planning", owner="s1", project="tau"), task(4, "planning", project="tau"),
            task(5, "approved", project="tau"), task(6, "ready", project="tau"),
            task(7, "merging", project="webapp"), task(8, "done", project="webapp")]
    assert budget(rows) == {("", "tau"): 3, ("", "webapp"): 1}  # count_inflight_tasks per project
    assert budget_note(budget(rows)) == "tau 3 of 8 slots · webapp 1 of 8"
    active = group_tasks(rows)[0]
    assert (active.key, len(active.tasks), active.note) == ("active", 3, "tau 3 of 8 slots · webapp 1 of 8")
    # the budget is the fleet's, whatever the filter shows
    assert group_tasks(rows, needle="#7")[0].note == "tau 3 of 8 slots · webapp 1 of 8"


def test_with_hosts_each_budget_is_its_hosts_and_a_host_filter_keeps_its_own() -> None:
    """Each host's tau schedules its own projects: two hosts' "tau" projects
    are two budgets, each named with its host; filtered to one host, the
    heading says that host's budgets only (before: every host's, unnamed)."""
    rows = [replace(task(1, "active", project="tau"), host="gpu1"),
            replace(task(2, "active", project="tau"), host="gpu1"),
            replace(task(1, "review", project="tau"), host="local"),
            replace(task(3, "merging", project="infra"), host="gpu1")]
    assert group_tasks(rows)[0].note == "gpu1 tau 2 of 8 slots · gpu1 infra 1 of 8 · local tau 1 of 8"
    assert group_tasks(rows, needle="host:gpu1")[0].note == "gpu1 tau 2 of 8 slots · gpu1 infra 1 of 8"
    grouper = Grouper()
    assert grouper.group(rows, needle="host:local")[0].note == "local tau 1 of 8 slots"


def test_filter_words_and_ids() -> None:
    t = task(12, "review", title="Fix the Watcher")
    assert matches(t, "watcher fix") and matches(t, "REVIEW") and matches(t, "#12")
    assert not matches(t, "#1") and not matches(t, "merged")


# --- the incremental grouper gives what group_tasks gives ------------------------------

from dataclasses import replace  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tui.model.groups import SORTS, Grouper  # noqa: E402

STATES = ("active", "review", "ready", "planning", "interactive", "approved", "merged", "done",
          "failed", "launching")
row = st.builds(
    lambda i, state, live, chat, held, blocked, prio, updated, act, title, project, owner: task(
        i, state, live=live, chat=chat, held=held, blocked=blocked, prio=prio, updated=updated,
        activity=act, title=title, project=project, owner=owner, created=updated // 2),
    st.just(0), st.sampled_from(STATES), st.integers(0, 2), st.integers(0, 1), st.booleans(),
    st.sampled_from(((), (3,))), st.integers(0, 3), st.integers(0, 50),
    st.one_of(st.none(), st.integers(0, 50)), st.sampled_from(("fix", "watch", "fix watch")),
    st.sampled_from(("tau", "webapp")), st.sampled_from((None, "s1")))
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
