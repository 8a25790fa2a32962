"""The task board as tau's server reads it (tasks_db.rs, tasks_scheduler.rs).

Why: ``task_overview`` buckets, wait reasons and ``has_live_session`` are
computed by tau from tasks.db plus its in-memory live set; the stand-in must
classify exactly as ``get_status`` does (TAU.md §7.3) so that a dashboard
reading the socket and one reading the files can be compared.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

STATES = ("interactive", "planning", "refining", "ready", "active", "review", "approved", "merging",
          "failed", "merged", "done", "closed")
INFLIGHT = ("active", "review", "merging", "refining")
MAX_CONCURRENT = 8
COLUMNS = ("id, project_name, title, state, priority, parent_id, tags, affected_files, branch, merge_target,"
           " worktree_path, session_id, skip_review, require_approval, sandbox_profile, held,"
           " placeholder_session_id, auto_downgraded_from_ready, filed_by_project, filed_by_session_id,"
           " no_merge, dispatch_failure_count, created_at, updated_at")
_NAMES = [c.strip() for c in COLUMNS.split(",")]

Task = dict[str, Any]


class TaskError(ValueError):
    """What makes tau's task queries fail (an unknown state string)."""


def _json(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _row(row: tuple[Any, ...]) -> Task:
    task = dict(zip(_NAMES, row))
    if task["state"] not in STATES:
        raise TaskError(f"invalid task state '{task['state']}'")
    task["tags"], task["affected_files"] = _json(task["tags"]), _json(task["affected_files"])
    return task


def select(db: sqlite3.Connection, where: str, args: tuple[Any, ...] = ()) -> list[Task]:
    return [_row(r) for r in db.execute(f"SELECT {COLUMNS} FROM tasks WHERE {where}", args)]


def get_task(db: sqlite3.Connection, task_id: int) -> Task | None:
    found = select(db, "id = ?", (task_id,))
    return found[0] if found else None


def list_tasks(db: sqlite3.Connection, project: str, state: str | None = None,
               parent_id: int | None = None) -> list[Task]:
    """tasks_db.rs ``list_tasks``: no state = all but merged/closed; "all" = everything."""
    where, args = "project_name = ?", [project]
    if state is None:
        where += " AND state NOT IN ('merged', 'closed')"
    elif state != "all":
        where += " AND state = ?"
        args.append(state)
    if parent_id is not None:
        where += " AND parent_id = ?"
        args.append(parent_id)
    return select(db, where + " ORDER BY priority DESC, created_at ASC", tuple(args))


def task_info(t: Task, live: bool) -> dict[str, Any]:
    """protocol.rs ``TaskInfo``, in its field order."""
    info: dict[str, Any] = {k: t[k] for k in ("id", "project_name", "title", "state", "priority", "parent_id",
                                              "tags", "affected_files", "branch", "worktree_path",
                                              "session_id")}
    info["skip_review"] = bool(t["skip_review"])
    info["require_approval"] = bool(t["require_approval"])
    if t["sandbox_profile"] is not None:
        info["sandbox_profile"] = t["sandbox_profile"]
    info["held"] = bool(t["held"])
    info["has_live_session"] = live
    for key in ("filed_by_project", "filed_by_session_id"):
        if t[key] is not None:
            info[key] = t[key]
    info["no_merge"] = bool(t["no_merge"])
    info["created_at"], info["updated_at"] = t["created_at"], t["updated_at"]
    return info


def live_task_ids(db: sqlite3.Connection, project: str, live: frozenset[str]) -> set[int]:
    """task_handlers.rs ``live_task_ids_for_project``: any task_sessions row live, any role."""
    return {tid for tid, sid in db.execute(
        "SELECT ts.task_id, ts.session_id FROM task_sessions ts JOIN tasks t ON t.id = ts.task_id"
        " WHERE t.project_name = ?", (project,)) if sid in live}


def tree_order(tasks: list[Task]) -> list[tuple[int, Task]]:
    """tasks_db.rs ``tree_order``: depth-first, siblings by priority desc then id."""
    ids = {t["id"] for t in tasks}
    kids: dict[int | None, list[Task]] = {}
    for t in tasks:
        kids.setdefault(t["parent_id"] if t["parent_id"] in ids else None, []).append(t)
    for group in kids.values():
        group.sort(key=lambda t: (-t["priority"], t["id"]))
    out: list[tuple[int, Task]] = []
    stack = [(0, t) for t in reversed(kids.pop(None, []))]
    while stack:
        depth, t = stack.pop()
        out.append((depth, t))
        stack += [(depth + 1, k) for k in reversed(kids.pop(t["id"], []))]
    return out


def _blocking(db: sqlite3.Connection, task_id: int) -> list[dict[str, Any]]:
    rows = db.execute(
        "SELECT t.id, t.title, t.state, t.project_name FROM task_relations r JOIN tasks t ON t.id = r.to_task"
        " WHERE r.from_task = ? AND r.relation = 'depends_on' AND t.state NOT IN ('merged', 'closed')",
        (task_id,)).fetchall()
    return [{"Dependency": {"task_id": r[0], "title": r[1], "state": r[2], "project_name": r[3]}} for r in rows]


def _files(value: Any) -> list[str]:
    if not isinstance(value, list) or "*" in value:
        return []
    return [v for v in value if isinstance(v, str)]


def get_status(db: sqlite3.Connection, project: str) -> dict[str, Any]:
    """tasks_scheduler.rs ``get_status``: buckets of (task, wait reasons)."""
    inflight = db.execute(
        "SELECT COUNT(*) FROM tasks WHERE project_name = ? AND (state IN ('refining', 'active', 'review',"
        " 'merging') OR (state = 'planning' AND session_id IS NOT NULL))", (project,)).fetchone()[0]
    tasks = list_tasks(db, project)
    active_files = [(t["id"], _files(t["affected_files"])) for t in tasks if t["state"] in INFLIGHT]
    out: dict[str, Any] = {k: [] for k in ("active", "queued_planning", "queued_ready", "held", "blocked")}
    for t in tasks:
        if t["state"] in INFLIGHT:
            out["active"].append((t, _blocking(db, t["id"])))
        elif t["state"] in ("ready", "planning"):
            deps = _blocking(db, t["id"])
            if deps:
                out["blocked"].append((t, deps))
                continue
            reasons: list[Any] = []
            if t["state"] == "ready":
                mine = _files(t["affected_files"])
                for other, files in active_files:
                    overlap = [f for f in mine if f in files]
                    if overlap:
                        reasons.append({"FileConflict": {"files": overlap, "with_task_id": other}})
            if inflight >= MAX_CONCURRENT:
                reasons.append({"BudgetExhausted": {"used": inflight, "max": MAX_CONCURRENT}})
            reasons = reasons or ["NotScheduled"]
            key = "held" if t["held"] else "queued_planning" if t["state"] == "planning" else "queued_ready"
            out[key].append((t, reasons))
    out["inflight_count"], out["max_concurrent"] = inflight, MAX_CONCURRENT
    return out


def overview(db: sqlite3.Connection, project: str, recent_limit: int, live: frozenset[str]) -> dict[str, Any]:
    """tasks_scheduler.rs ``task_overview_response``."""
    status = get_status(db, project)
    live_ids = live_task_ids(db, project, live)
    resp: dict[str, Any] = {"type": "task_overview"}
    waits = []
    for key in ("blocked", "queued_ready", "queued_planning", "active"):
        waits += [{"task_id": t["id"], "reasons": r} for t, r in status[key] if r]
    for key in ("active", "queued_ready", "queued_planning", "blocked", "held"):
        resp[key] = [task_info(t, t["id"] in live_ids) for t, _ in status[key]]
    for state in ("merged", "done", "closed"):
        resp[f"recently_{state}"] = [task_info(t, t["id"] in live_ids) for t in select(
            db, "project_name = ? AND state = ? ORDER BY updated_at DESC, id DESC LIMIT ?",
            (project, state, recent_limit))]
    resp["inflight_count"], resp["max_concurrent"] = status["inflight_count"], status["max_concurrent"]
    if waits:
        resp["wait_reasons"] = waits
    return resp


def format_status(status: dict[str, Any]) -> str:
    """tasks_scheduler.rs ``format_status`` (the text of ``task_status``)."""
    out = ["=== Task Scheduler Status ===", f"    in-flight: {status['inflight_count']}/{status['max_concurrent']}"]
    for key, head in (("active", "active"), ("queued_planning", "queued - planning"),
                      ("queued_ready", "queued - ready"), ("held", "held"), ("blocked", "blocked")):
        if status[key]:
            out += ["", f"{head} ({len(status[key])}):"]
            for t, reasons in status[key]:
                line = f"  #{t['id']:<5} {t['title']:<40} {t['session_id'] or '-':<6}"
                files = _files(t["affected_files"])
                if files:
                    line += f"  [{', '.join(f.rsplit('/', 1)[-1] for f in files)}]"
                if t["held"]:
                    line += " 🔒held"
                for r in reasons:
                    if r == "NotScheduled":
                        line += "  ⏳ not yet scheduled"
                    elif "Dependency" in r:
                        line += f"  ⏳ depends on #{r['Dependency']['task_id']} ({r['Dependency']['state']})"
                    elif "FileConflict" in r:
                        fc = r["FileConflict"]
                        line += f"  ⏳ file conflict [{', '.join(fc['files'])}] with #{fc['with_task_id']}"
                    elif "BudgetExhausted" in r:
                        line += f"  ⏳ budget ({r['BudgetExhausted']['used']}/{r['BudgetExhausted']['max']} sessions used)"
                out.append(line)
    if not any(status[k] for k in ("active", "queued_planning", "queued_ready", "held", "blocked")):
        out += ["", "No active or queued tasks."]
    return "\n".join(out) + "\n"


def search(db: sqlite3.Connection, project: str, query: str, state: str | None) -> list[Task]:
    """tasks_db.rs ``search_tasks``: title or message text, LIKE."""
    like = f"%{query}%"
    cols = ", ".join(f"t.{c}" for c in _NAMES)
    sql = (f"SELECT DISTINCT {cols} FROM tasks t LEFT JOIN task_messages m ON m.task_id = t.id"
           " WHERE t.project_name = ?" + (" AND t.state = ?" if state else "") +
           " AND (t.title LIKE ? OR m.content LIKE ?) ORDER BY t.priority DESC, t.created_at ASC")
    args = (project, state, like, like) if state else (project, like, like)
    return [_row(r) for r in db.execute(sql, args)]


def role_of(db: sqlite3.Connection, sid: str) -> dict[str, Any]:
    """tasks_db.rs ``find_active_task_role_for_session``, as ``task_session_role``."""
    row = db.execute("SELECT ts.task_id, ts.role FROM task_sessions ts JOIN tasks t ON t.id = ts.task_id"
                     " WHERE ts.session_id = ? AND t.state NOT IN ('merged', 'closed', 'failed')"
                     " ORDER BY ts.created_at LIMIT 1", (sid,)).fetchone()
    if row is None:
        return {"type": "task_session_role", "is_worker": False}
    return {"type": "task_session_role", "is_worker": row[1] == "worker", "task_id": row[0], "role": row[1]}
