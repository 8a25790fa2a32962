"""Reading one task for its screen: fields, history, relations, a pane per session.

The task's own rows are read afresh from tasks.db each time (one task is
cheap); its sessions come from the fleet model, which is asked to keep them
current even when the task is long finished. Token sums get a time budget per
read; what is left is counted in the background (usage.py).
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from ..model.snapshots import HistoryEntry, Message, Relation, SessionPane, TaskDetail
from . import usage as usage_mod
from .db import Connections
from .decode import as_int, as_str
from .errors import StoreError
from .fleet import FleetModel
from .merge import Liveness, detail_task_row, pane, session_info
from .records import Link
from .transcript_read import TranscriptReader
from .usage import UsageSums

#: Task columns worth a word on the task screen when set (others are noise).
EXTRA_TASK_FIELDS = ("session_id", "filed_by_session_id", "merge_target", "no_merge", "skip_review",
                     "require_approval", "dispatch_failure_count", "sandbox_profile")

#: What `TaskReader.read_rows` gives: the tasks row, its sessions, history,
#: relations, and (id, state) of the tasks it depends on.
TaskRows = tuple[dict[str, Any], list[Link], tuple[HistoryEntry, ...], tuple[Relation, ...],
                 list[tuple[int, str]]]


class TaskReader:
    """One task's detail, built from tasks.db and the fleet model."""

    def __init__(self, db: Connections, fleet: FleetModel, usage: UsageSums,
                 transcripts: TranscriptReader) -> None:
        self.db = db
        self.fleet = fleet
        self.usage = usage
        self.transcripts = transcripts  # for a live pane's newest messages

    async def read(self, task_id: int, liveness: Liveness, *, recent: int = 3,
                   include_archived: bool = True) -> TaskDetail | None:
        """One task (see `Store.read_task`). The caller holds the store's lock
        and has opened the files."""
        db, fleet = self.db, self.fleet
        if db.tasks.conn is None:
            failure = db.unavailable("tasks")
            if failure is not None:
                raise failure
            return None
        got = await db.guarded("tasks", lambda: self.read_rows(task_id))
        if got is None:
            return None
        d, links, history, relations, deps_states = got
        await fleet.refresh_tau(frozenset(sid for sid, _, _ in links))
        sessions = fleet.sessions
        infos = [session_info(sid, role, created, sessions.rows.get(sid), sessions.stats.get(sid), liveness)
                 for sid, role, created in links]
        if not include_archived:
            infos = [i for i in infos if not i.archived]
        panes: list[SessionPane] = []
        usage_until = time.perf_counter() + usage_mod.USAGE_BUDGET_S
        for info in infos:
            sid = info.session_id
            row = sessions.rows.get(sid)
            tokens, cost, counted = 0, 0.0, True
            recent_msgs: tuple[Message, ...] = ()
            if row is not None and db.tau.conn is not None:
                try:
                    tokens, cost, counted = await db.guarded(
                        "tau", lambda s=sid: self.usage.of(
                            db.tau, s, sessions.stats.get(s), read=time.perf_counter() < usage_until))
                    if info.is_live and recent:
                        recent_msgs = await db.guarded(
                            "tau", lambda s=sid: self.transcripts.newest(s, recent))
                except StoreError:
                    if "tau" in db.busy:
                        raise
            panes.append(pane(info, row, tokens=tokens, cost=cost, usage_complete=counted,
                              recent=recent_msgs, liveness=liveness, use=self.usage.breakdown(sid),
                              unreadable=self.usage.unreadable(sid)))
        # The task's figures count every session, archived too; and afresh: a
        # failed read above made the store forget tau.db's record.
        all_infos = [session_info(sid, role, created, sessions.rows.get(sid), sessions.stats.get(sid),
                                  liveness) for sid, role, created in links]
        tags: tuple[str, ...] = ()
        raw_tags = d.get("tags")
        if raw_tags:
            try:
                parsed = json.loads(raw_tags) if isinstance(raw_tags, str) else raw_tags
                tags = tuple(as_str(x) for x in parsed) if isinstance(parsed, list) else (as_str(raw_tags),)
            except ValueError:
                tags = (as_str(raw_tags),)
        extra = tuple((k, as_str(d[k])) for k in EXTRA_TASK_FIELDS
                      if d.get(k) not in (None, "", 0))
        return TaskDetail(
            task=detail_task_row(d, all_infos, deps_states),
            branch=None if d.get("branch") is None else as_str(d.get("branch")),
            tags=tags,
            worktree_path=None if d.get("worktree_path") is None else as_str(d.get("worktree_path")),
            extra=extra, history=history, relations=relations, sessions=tuple(panes),
        )

    async def read_rows(self, task_id: int) -> TaskRows | None:
        """The task's own rows from tasks.db; None if there is no such task."""
        conn, schema = self.db.tasks.conn, self.db.tasks.schema
        assert conn is not None
        conn.row_factory = sqlite3.Row
        try:
            async with conn.execute("SELECT * FROM tasks WHERE id = ?", (task_id,)) as cur:
                row = await cur.fetchone()
        finally:
            conn.row_factory = None
        if row is None:
            return None
        d = {k: row[k] for k in row.keys()}
        if "assigned_session" in d:
            # tau's migration folds it into session_id and drops it (TAU.md §4.2)
            assigned = d.pop("assigned_session")
            if assigned is not None:
                d["session_id"] = assigned
        links: list[Link] = []
        if schema.has("task_sessions", "task_id", "session_id"):
            ts = lambda c: schema.col("task_sessions", c)  # noqa: E731
            async with conn.execute(
                f"SELECT session_id, {ts('role')}, {ts('created_at')} FROM task_sessions "
                "WHERE task_id = ? ORDER BY 3, rowid", (task_id,),
            ) as cur:
                links = [(as_str(r[0]), as_str(r[1], "worker"), as_int(r[2])) for r in await cur.fetchall()]
        history: tuple[HistoryEntry, ...] = ()
        if schema.has("task_history", "task_id"):
            th = lambda c: schema.col("task_history", c)  # noqa: E731
            async with conn.execute(
                f"SELECT {th('id')}, {th('field')}, {th('old_value')}, {th('new_value')}, "
                f"{th('session_id')}, {th('created_at')} FROM task_history "
                "WHERE task_id = ? ORDER BY 6, 1", (task_id,),
            ) as cur:
                history = tuple(
                    HistoryEntry(id=as_int(r[0]), field=as_str(r[1]),
                                 old_value=None if r[2] is None else as_str(r[2]),
                                 new_value=None if r[3] is None else as_str(r[3]),
                                 session_id=None if r[4] is None else as_str(r[4]),
                                 created_at=as_int(r[5]))
                    for r in await cur.fetchall())
        relations: tuple[Relation, ...] = ()
        deps_states: list[tuple[int, str]] = []
        if schema.has("task_relations", "from_task", "to_task", "relation"):
            # Both ends' states (either end may be this task, TAU.md §4.5); NULL:
            # the task is not in the store (a missing dependency does not block).
            st = "{}.state" if schema.has("tasks", "state") else "NULL"
            async with conn.execute(
                f"SELECT r.from_task, r.to_task, r.relation, {st.format('f')}, {st.format('t')} "
                "FROM task_relations r LEFT JOIN tasks f ON f.id = r.from_task "
                "LEFT JOIN tasks t ON t.id = r.to_task WHERE r.from_task = ? OR r.to_task = ?",
                (task_id, task_id),
            ) as cur:
                rels = await cur.fetchall()
            relations = tuple(
                Relation(as_int(a), as_int(b), as_str(c), None if fs is None else as_str(fs),
                         None if ts is None else as_str(ts))
                for a, b, c, fs, ts in rels)
            deps_states = [(r.to_task, r.to_state) for r in relations
                           if r.from_task == task_id and r.relation == "depends_on"
                           and r.to_state is not None]
        return d, links, history, relations, deps_states
