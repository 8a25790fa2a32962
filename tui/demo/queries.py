"""tau's read-only answers, built from the store the way tau builds them.

Why: a client of the stand-in must get what tau would send — SessionInfo
from registry.rs, task_detail / task_overview from task_handlers.rs and
tasks_scheduler.rs, stats from db.rs SQL — with tau's field order, omissions
and quirks (TAU.md §6, §7.3): rows of deleted sessions dropped from task_get,
``message_count`` 0 when a row does not parse, ``state`` from memory.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import tasks as tq

Resp = dict[str, Any]
ROLES = ("user", "assistant", "tool_result", "compaction_summary", "info")
LABELS = {"Idle": "idle", "Waiting": "waiting", "Preparing": "preparing", "Connecting": "sending request",
          "Thinking": "thinking", "Responding": "working", "ToolExec": "running tools",
          "Compacting": "compacting", "RateLimited": "rate limited"}
SESSION_COLS = ("id, model_json, system_prompt, cwd, is_subscription, created_at, parent_id, child_budget,"
                " tagline, archived, last_exit_status, last_phase, auto_archive, notify_parent,"
                " project_name, successor_id")


@dataclass(frozen=True)
class Live:
    """A snapshot of the server's memory: phases and the live set (state.rs)."""

    phases: dict[str, tuple[str, int | None, int | None]]
    live: frozenset[str]


def error(message: str) -> Resp:
    return {"type": "error", "message": message}


def connect(path: Path) -> sqlite3.Connection:
    """A read-only connection (tau's own reads never block its writers: WAL)."""
    if not path.exists():
        raise sqlite3.OperationalError(f"unable to open database file: {path}")
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)


# --- messages and sessions (db.rs, registry.rs) ------------------------------------


def parse_message(raw: str) -> dict[str, Any] | None:
    """The message if serde would accept it as a ``Message``, else None."""
    try:
        msg = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(msg, dict) or msg.get("role") not in ROLES or not isinstance(msg.get("timestamp"), int):
        return None
    need = {"user": ("content",), "info": ("text",), "compaction_summary": ("summary", "tokens_before"),
            "tool_result": ("tool_call_id", "tool_name", "content", "is_error"),
            "assistant": ("content", "api", "provider", "model", "usage", "stop_reason")}[msg["role"]]
    if any(k not in msg for k in need):
        return None
    if msg["role"] == "assistant":
        u = msg["usage"]
        if not isinstance(u, dict) or any(not isinstance(u.get(k), int) for k in
                                          ("input", "output", "cache_read", "cache_write", "total_tokens")):
            return None
        if not isinstance(u.get("cost"), dict) or msg["stop_reason"] not in (
                "stop", "length", "tool_use", "error", "aborted"):
            return None
    return msg


def messages(db: sqlite3.Connection, sid: str) -> list[dict[str, Any]] | None:
    """db.rs ``get_messages``: every row parsed, or None when one fails."""
    out = []
    for (raw,) in db.execute("SELECT message_json FROM messages WHERE session_id = ? ORDER BY id", (sid,)):
        msg = parse_message(raw)
        if msg is None:
            return None
        out.append(msg)
    return out


def _model(row: tuple[Any, ...]) -> dict[str, Any] | None:
    """db.rs ``row_to_session``: serde reads model_json as types.rs ``Model`` or
    the session cannot be loaded (every field without a default, of its type)."""
    try:
        model = json.loads(row[1])
    except (TypeError, ValueError):
        return None
    if not isinstance(model, dict):
        return None
    cost = model.get("cost")
    number = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)  # noqa: E731
    count = lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0  # noqa: E731
    ok = (all(isinstance(model.get(k), str) for k in ("id", "name", "api", "provider", "base_url"))
          and count(model.get("context_window")) and count(model.get("max_tokens"))
          and isinstance(cost, dict) and all(number(cost.get(k)) for k in ("input", "output", "cache_read", "cache_write"))
          and model.get("thinking", "none") in ("none", "anthropic", "open_ai", "openai", "qwen")
          and isinstance(model.get("headers", {}), dict))
    return model if ok else None


def _stats(msgs: list[dict[str, Any]], model: dict[str, Any], sub: bool) -> dict[str, Any]:
    """registry.rs ``compute_stats``."""
    st = {"user_messages": 0, "assistant_messages": 0, "tool_calls": 0, "tool_results": 0}
    tok = {"input": 0, "output": 0, "cache_read": 0, "cache_write": 0}
    cost, ctx = 0.0, None
    for m in msgs:
        role = m["role"]
        if role == "user":
            st["user_messages"] += 1
        elif role == "tool_result":
            st["tool_results"] += 1
        elif role == "assistant":
            st["assistant_messages"] += 1
            st["tool_calls"] += sum(1 for b in m["content"] if isinstance(b, dict) and b.get("type") == "tool_call")
            u = m["usage"]
            for k in tok:
                tok[k] += u[k]
            cost += float(u["cost"].get("total", 0.0))
            if m["stop_reason"] not in ("error", "aborted"):
                ctx = u["input"] + u["cache_read"] + u["cache_write"]
    return {**st, "tokens": tok, "cost": cost, "is_subscription": sub,
            "context_window": model["context_window"], "context_tokens": ctx}


def _sql_stats(db: sqlite3.Connection, sid: str, model: dict[str, Any], sub: bool) -> tuple[dict[str, Any], int, int | None]:
    """db.rs ``session_stats``: the SQL aggregate list_sessions uses (no parsing)."""
    row = db.execute(
        "SELECT COUNT(*),"
        " SUM(json_extract(message_json, '$.role') = 'user'),"
        " SUM(json_extract(message_json, '$.role') = 'assistant'),"
        " SUM(json_extract(message_json, '$.role') = 'tool_result'),"
        " COALESCE(SUM(CASE WHEN json_extract(message_json, '$.role') = 'assistant' THEN json_extract(message_json, '$.usage.input') END), 0),"
        " COALESCE(SUM(CASE WHEN json_extract(message_json, '$.role') = 'assistant' THEN json_extract(message_json, '$.usage.output') END), 0),"
        " COALESCE(SUM(CASE WHEN json_extract(message_json, '$.role') = 'assistant' THEN json_extract(message_json, '$.usage.cache_read') END), 0),"
        " COALESCE(SUM(CASE WHEN json_extract(message_json, '$.role') = 'assistant' THEN json_extract(message_json, '$.usage.cache_write') END), 0),"
        " COALESCE(SUM(CASE WHEN json_extract(message_json, '$.role') = 'assistant' THEN json_extract(message_json, '$.usage.cost.total') END), 0.0),"
        " MAX(created_at) FROM messages WHERE session_id = ?", (sid,)).fetchone()
    empty = {"user_messages": 0, "assistant_messages": 0, "tool_calls": 0, "tool_results": 0,
             "tokens": {"input": 0, "output": 0, "cache_read": 0, "cache_write": 0}, "cost": 0.0,
             "is_subscription": sub, "context_window": model["context_window"], "context_tokens": None}
    if not row[0]:
        return empty, 0, None
    calls = db.execute(
        "SELECT COALESCE(SUM((SELECT COUNT(*) FROM json_each(json_extract(m.message_json, '$.content'))"
        " WHERE json_extract(value, '$.type') = 'tool_call')), 0) FROM messages m"
        " WHERE m.session_id = ? AND json_extract(m.message_json, '$.role') = 'assistant'", (sid,)).fetchone()[0]
    last = db.execute(
        "SELECT json_extract(message_json, '$.usage.input') + json_extract(message_json, '$.usage.cache_read')"
        " + json_extract(message_json, '$.usage.cache_write') FROM messages WHERE session_id = ?"
        " AND json_extract(message_json, '$.role') = 'assistant'"
        " AND json_extract(message_json, '$.stop_reason') NOT IN ('error', 'aborted') ORDER BY id DESC LIMIT 1",
        (sid,)).fetchone()
    stats = {**empty, "user_messages": row[1] or 0, "assistant_messages": row[2] or 0, "tool_calls": calls,
             "tool_results": row[3] or 0,
             "tokens": {"input": row[4], "output": row[5], "cache_read": row[6], "cache_write": row[7]},
             "cost": float(row[8]), "context_tokens": last[0] if last else None}
    return stats, row[0], row[9]


def session_info(db: sqlite3.Connection, row: tuple[Any, ...], live: Live, *, sql: bool) -> Resp | None:
    """registry.rs ``session_info`` (parsed messages) or ``session_info_from_db_stats`` (sql=True)."""
    model = _model(row)
    if model is None:
        return None
    sid, sub = row[0], bool(row[4])
    if sql:
        stats, count, last_ms = _sql_stats(db, sid, model, sub)
    else:
        msgs = messages(db, sid) or []
        stats, count = _stats(msgs, model, sub), len(msgs)
        last_ms = db.execute("SELECT MAX(created_at) FROM messages WHERE session_id = ?", (sid,)).fetchone()[0]
    children = db.execute("SELECT COUNT(*) FROM sessions WHERE parent_id = ? AND archived = 0", (sid,)).fetchone()[0]
    phase, turn_ms, phase_ms = live.phases.get(sid, ("Idle", None, None))
    info: Resp = {"id": sid, "model": model["id"], "provider": model["provider"], "cwd": row[3],
                  "message_count": count, "stats": stats,
                  "last_activity": (last_ms if last_ms is not None else row[5]) // 1000}
    if row[6] is not None:
        info["parent_id"] = row[6]
    info["child_count"] = children
    info["child_budget"] = row[7]
    if row[8] is not None:
        info["tagline"] = row[8]
    info["state"] = LABELS[phase]
    if model["context_window"] and stats["context_tokens"] is not None:
        info["context_pct"] = stats["context_tokens"] / model["context_window"] * 100.0
    info["archived"] = bool(row[9])
    for key, value in (("project_name", row[14]), ("successor_id", row[15]), ("last_exit_status", row[10])):
        if value is not None:
            info[key] = value
    info["is_live"] = sid in live.live
    for key, value in (("turn_started_at_ms", turn_ms), ("phase_started_at_ms", phase_ms)):
        if value is not None:
            info[key] = value
    return info


def _session_row(db: sqlite3.Connection, sid: str) -> tuple[Any, ...] | None:
    return db.execute(f"SELECT {SESSION_COLS} FROM sessions WHERE id = ?", (sid,)).fetchone()


def get_session_info(db: sqlite3.Connection, sid: str, live: Live) -> Resp:
    row = _session_row(db, sid)
    if row is None:
        return error(f"session not found: {sid}")
    info = session_info(db, row, live, sql=False)
    return error(f"get session: invalid model_json for {sid}") if info is None else \
        {"type": "session_info", "info": info}


def list_sessions(db: sqlite3.Connection, req: dict[str, Any], live: Live) -> Resp:
    where, args = [], []
    if req.get("project_name") is not None:
        where.append("project_name = ?")
        args.append(req["project_name"])
    if not req.get("include_archived"):
        where.append("archived = 0")
    sql = f"SELECT {SESSION_COLS} FROM sessions" + (" WHERE " + " AND ".join(where) if where else "")
    out = []
    for row in db.execute(sql + " ORDER BY created_at", args).fetchall():
        info = session_info(db, row, live, sql=True)
        if info is None:
            return error("read session row: invalid model_json")
        out.append(info)
    return {"type": "sessions", "sessions": out}


def get_session_ancestors(db: sqlite3.Connection, sid: str, live: Live) -> Resp:
    out: list[Resp] = []
    current: str | None = sid
    while current is not None and len(out) < 64:
        row = _session_row(db, current)
        info = session_info(db, row, live, sql=False) if row is not None else None
        if info is None:
            break
        out.append(info)
        current = info.get("parent_id")
    return {"type": "session_ancestors", "sessions": out}


def get_messages(db: sqlite3.Connection, sid: str) -> Resp:
    msgs = messages(db, sid)
    return error("read message row: invalid message_json") if msgs is None else \
        {"type": "messages", "messages": msgs}


def project_stats(db: sqlite3.Connection, name: str) -> Resp:
    """db.rs ``project_stats``; ``last_activity`` in ms, archived sessions included."""
    r = db.execute(
        "SELECT COUNT(DISTINCT s.id), COUNT(m.rowid),"
        " COALESCE(SUM(CASE WHEN json_extract(m.message_json, '$.role') = 'assistant' THEN json_extract(m.message_json, '$.usage.input') ELSE 0 END), 0),"
        " COALESCE(SUM(CASE WHEN json_extract(m.message_json, '$.role') = 'assistant' THEN json_extract(m.message_json, '$.usage.output') ELSE 0 END), 0),"
        " COALESCE(SUM(CASE WHEN json_extract(m.message_json, '$.role') = 'assistant' THEN json_extract(m.message_json, '$.usage.cache_read') ELSE 0 END), 0),"
        " COALESCE(SUM(CASE WHEN json_extract(m.message_json, '$.role') = 'assistant' THEN json_extract(m.message_json, '$.usage.cache_write') ELSE 0 END), 0),"
        " COALESCE(SUM(CASE WHEN json_extract(m.message_json, '$.role') = 'assistant' THEN json_extract(m.message_json, '$.usage.cost.total') ELSE 0 END), 0.0),"
        " MAX(m.created_at) FROM sessions s LEFT JOIN messages m ON m.session_id = s.id WHERE s.project_name = ?",
        (name,)).fetchone()
    stats: Resp = {"project_name": name, "session_count": r[0], "message_count": r[1], "tokens_input": r[2],
                   "tokens_output": r[3], "tokens_cache_read": r[4], "tokens_cache_write": r[5],
                   "cost_usd": float(r[6])}
    if r[7] is not None:
        stats["last_activity"] = r[7]
    return {"type": "project_stats", "stats": stats}


def get_project_info(db: sqlite3.Connection, name: str) -> Resp:
    row = db.execute("SELECT name, path FROM projects WHERE name = ?", (name,)).fetchone()
    return {"type": "project_info", "project": {"name": row[0], "path": row[1]} if row else None}


def resolve_successor(db: sqlite3.Connection, sid: str) -> Resp:
    """db.rs ``resolve_successor``: stop at the last live (present, unarchived) link."""
    seen, current = {sid}, sid
    for _ in range(32):
        row = db.execute("SELECT successor_id FROM sessions WHERE id = ?", (current,)).fetchone()
        nxt = row[0] if row else None
        if nxt is None:
            break
        target = db.execute("SELECT archived FROM sessions WHERE id = ?", (nxt,)).fetchone()
        if target is None or target[0] or nxt in seen:
            break
        seen.add(nxt)
        current = nxt
    return {"type": "resolved_successor", "session_id": current}


# --- tasks (task_handlers.rs) ---------------------------------------------------------


def task_get(tdb: sqlite3.Connection, sdb: sqlite3.Connection, task_id: int, live: Live) -> Resp:
    task = tq.get_task(tdb, task_id)
    if task is None:
        return error(f"task {task_id} not found")
    sessions = []
    for sid, role, created in tdb.execute(
            "SELECT session_id, role, created_at FROM task_sessions WHERE task_id = ? ORDER BY created_at",
            (task_id,)).fetchall():
        row = _session_row(sdb, sid)
        info = session_info(sdb, row, live, sql=False) if row is not None else None
        if info is None:  # the session is gone: tau drops the row
            continue
        ts: Resp = {"session_id": sid, "role": role, "created_at": created,
                    "message_count": info["message_count"], "archived": info["archived"],
                    "last_activity": info["last_activity"], "last_phase": info["state"]}
        if "last_exit_status" in info:
            ts["last_exit_status"] = info["last_exit_status"]
        ts["is_live"] = info["is_live"]
        sessions.append(ts)
    history = []
    for fld, old, new, by, at in reversed(tdb.execute(
            "SELECT field, old_value, new_value, session_id, created_at FROM task_history WHERE task_id = ?"
            " ORDER BY id DESC LIMIT 200", (task_id,)).fetchall()):
        h: Resp = {"field": fld}
        for key, value in (("old_value", old), ("new_value", new), ("session_id", by)):
            if value is not None:
                h[key] = value
        h["created_at"] = at
        history.append(h)
    info = tq.task_info(task, any(s["is_live"] for s in sessions))
    live_ids = tq.live_task_ids(tdb, info["project_name"], live.live)
    resp: Resp = {
        "type": "task_detail", "task": info,
        "messages": [{"id": r[0], "task_id": r[1], "content": r[2], "author": r[3], "created_at": r[4],
                      "updated_at": r[5]} for r in tdb.execute(
            "SELECT id, task_id, content, author, created_at, updated_at FROM task_messages"
            " WHERE task_id = ? ORDER BY id", (task_id,))],
        "relations": [{"from_task": r[0], "to_task": r[1], "relation": r[2]} for r in tdb.execute(
            "SELECT from_task, to_task, relation FROM task_relations WHERE from_task = ? OR to_task = ?",
            (task_id, task_id))],
        "subtasks": [tq.task_info(t, t["id"] in live_ids) for t in tq.select(
            tdb, "parent_id = ? ORDER BY priority DESC, created_at ASC", (task_id,))],
    }
    if sessions:
        resp["sessions"] = sessions
    if history:
        resp["history"] = history
    return resp
