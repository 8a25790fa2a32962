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
