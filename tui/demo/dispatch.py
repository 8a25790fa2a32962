"""Which answer each request type gets (dispatch.rs ``handle_client``'s match).

Why: one table from request type to response keeps the socket loop free of
store details. Every read opens the store afresh, as tau's task handlers do.
Requests that would change tau's state (TAU.md §7.5) and
``get_subscription_usage`` are refused: the stand-in records them and acts on
nothing, so a test can prove a client never sent one.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from . import content, protocol, queries, tasks
from .queries import Live, Resp, error

#: What ``list_models`` reports: protocol.rs ``ModelInfo`` of the demo's models.
MODEL_INFOS = [{"id": m["id"], "name": m["name"], "provider": m["provider"], "thinking": m["thinking"],
                "context_window": m["context_window"], "max_tokens": m["max_tokens"]}
               for m in content.MODELS.values()]


def refused(kind: str) -> Resp:
    return error(f"demo stand-in: `{kind}` is recorded but not acted on")


def answer(req: dict[str, Any], data_dir: Path, live: Live) -> Resp:
    """The one response line a non-subscribe request gets."""
    kind = req["type"]
    if kind in protocol.MUTATING:
        return refused(kind)
    if kind == "list_models":
        return {"type": "models", "models": MODEL_INFOS}
    if kind == "list_aliases":
        return {"type": "aliases", "global": [], "project": []}
    if kind == "auth_status":
        return {"type": "auth_status", "providers": ["anthropic", "openai"]}
    try:
        if kind.startswith("task_") or kind == "get_task_session_role":
            return _task_answer(req, data_dir, live)
        db = queries.connect(data_dir / "tau.db")
        try:
            return _session_answer(req, db, live)
        finally:
            db.close()
    except (sqlite3.Error, tasks.TaskError) as exc:
        return error(str(exc))


def _session_answer(req: dict[str, Any], db: sqlite3.Connection, live: Live) -> Resp:
    kind = req["type"]
    if kind == "list_sessions":
        return queries.list_sessions(db, req, live)
    if kind == "get_session_info":
        return queries.get_session_info(db, req["session_id"], live)
    if kind == "get_session_ancestors":
        return queries.get_session_ancestors(db, req["session_id"], live)
    if kind == "get_messages":
        return queries.get_messages(db, req["session_id"])
    if kind == "project_stats":
        return queries.project_stats(db, req["project_name"])
    if kind == "get_project_info":
        return queries.get_project_info(db, req["project_name"])
    if kind == "resolve_successor":
        return queries.resolve_successor(db, req["session_id"])
    return error(f"demo stand-in: `{kind}` is not served")


def _task_answer(req: dict[str, Any], data_dir: Path, live: Live) -> Resp:
    kind = req["type"]
    tdb = queries.connect(data_dir / "tasks.db")
    try:
        if kind == "get_task_session_role":
            return tasks.role_of(tdb, req["session_id"])
        if kind == "task_get":
            sdb = queries.connect(data_dir / "tau.db")
            try:
                return queries.task_get(tdb, sdb, req["id"], live)
            finally:
                sdb.close()
        project = req["project"]
        if kind == "task_overview":
            return tasks.overview(tdb, project, req["recent_limit"], live.live)
        if kind == "task_list":
            ids = tasks.live_task_ids(tdb, project, live.live)
            tree = tasks.tree_order(tasks.list_tasks(tdb, project, req.get("state"), req.get("parent_id")))
            return {"type": "task_tree", "tasks": [[d, tasks.task_info(t, t["id"] in ids)] for d, t in tree]}
        if kind == "task_search":
            found = tasks.search(tdb, project, req["query"], req.get("state"))
            return {"type": "task_list", "tasks": [tasks.task_info(t, False) for t in found]}
        if kind == "task_status":
            return {"type": "task_status", "text": tasks.format_status(tasks.get_status(tdb, project))}
        if kind == "task_merge_queue":
            queue = tasks.list_tasks(tdb, project, "approved") + tasks.list_tasks(tdb, project, "merging")
            return {"type": "task_merge_queue", "tasks": [tasks.task_info(t, False) for t in queue]}
        return error(f"demo stand-in: `{kind}` is not served")
    finally:
        tdb.close()
