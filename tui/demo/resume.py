"""Bringing runs back into memory: when the fleet starts, and after a restart.

Why: tau's memory (phases, live set) is empty after every start (TAU.md
§5.2), but its turns are not: the initial fleet is a snapshot of a running
server, so a starting fleet picks its mid-turn sessions up where the store
shows them; a restarted server instead resumes what tau itself resumes
(mod.rs ``spawn_auto_resume_tasks``), with tau's info line.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from . import content as c

if TYPE_CHECKING:
    from .port import Fleet

#: Persisted phase -> (where the run picks up, the phase it is in meanwhile).
RESUME = {"preparing": ("prepared", "Preparing"), "rate limited": ("throttled", "RateLimited"),
          "compacting": ("compacting", "Compacting")}


def attach(fleet: Fleet, *, prime: bool) -> None:
    """Resume in memory the runs the store shows mid-turn (persisted phase not idle)."""
    if fleet._attached:
        return
    fleet._attached = True
    w = fleet.writer()
    for sid, phase in w.tau.execute("SELECT id, last_phase FROM sessions WHERE archived = 0"
                                    " AND last_phase IS NOT NULL AND last_phase != 'idle'"
                                    " ORDER BY created_at, id").fetchall():
        if sid in fleet._runs:
            continue
        rows = [(json.loads(js), at) for js, at in w.tau.execute(
            "SELECT message_json, created_at FROM messages WHERE session_id = ? ORDER BY id", (sid,))]
        users = [at for m, at in rows if m["role"] == "user"]
        turn_ms = users[-1] if users else (rows[-1][1] if rows else fleet._clock())
        last = rows[-1][0] if rows else {}
        answered = {m.get("tool_call_id") for m, _ in rows[-8:] if m["role"] == "tool_result"}
        pending = [b for b in last.get("content", ()) if last.get("role") == "assistant"
                   and b.get("type") == "tool_call" and b["id"] not in answered]
        mode, wire = RESUME.get(phase, ("tools", "ToolExec") if pending else ("llm", "Connecting"))
        run = fleet._new_run(sid, mode, pending)
        if phase == "waiting":
            run.queued_chats = 1
            wire = "Waiting"
        fleet.server.set_phase(sid, wire, live=True, turn_started_at_ms=turn_ms)
        fleet._runs[sid] = run
        if prime and mode == "llm":  # get to the first streamed event (past its first-token wait)
            for _ in range(400):
                if fleet.server.phase_of(sid)[0] not in ("Connecting", "Waiting") or run.tick():
                    break


def unfinished(fleet: Fleet) -> list[str]:
    """db.rs ``sessions_needing_resume``: not archived, resume_on_restart, exit status
    not "completed", last message (≤ 24 h old) a user / tool result / tool_use or
    error answer. tau resumes them itself: no preparing, no exit status. Called
    before the restarted server serves (mod.rs ``spawn_auto_resume_tasks``
    comes before its accept loop): the info line is stored and the run is
    live, its phase unset, until its Connecting rewrites the stale value."""
    w, now, out = fleet.writer(), fleet._clock(), []
    for sid, js, at in w.tau.execute(
            "SELECT s.id, m.message_json, m.created_at FROM sessions s JOIN messages m ON m.session_id = s.id"
            " AND m.id = (SELECT MAX(id) FROM messages WHERE session_id = s.id) WHERE s.archived = 0"
            " AND COALESCE(s.resume_on_restart, 1) = 1 AND (s.last_exit_status IS NULL"
            " OR s.last_exit_status != 'completed') ORDER BY s.created_at, s.id").fetchall():
        last = json.loads(js)
        if at < now - 24 * 3600 * 1000 or not (last["role"] in ("user", "tool_result") or (
                last["role"] == "assistant" and last["stop_reason"] in ("tool_use", "error"))):
            continue
        w.append(sid, [c.info("Resumed after server restart.", now)])  # mod.rs:254
        pending = [b for b in last.get("content", ()) if last["role"] == "assistant"
                   and last["stop_reason"] == "tool_use" and b.get("type") == "tool_call"]
        run = fleet._runs[sid] = fleet._new_run(sid, "resume", pending, chat=False)
        run.tick()  # live (agent_runner.rs:1064); Connecting comes after its load ticks
        out.append(sid)
    # mod.rs: then the sessions with queued messages, their flag set (the drain is owed).
    for (sid,) in w.tau.execute("SELECT DISTINCT target_session_id FROM queued_messages"
                                " ORDER BY target_session_id").fetchall():
        fleet.has_queued.add(sid)
        if sid not in fleet._runs:
            run = fleet._runs[sid] = fleet._new_run(sid, "resume", chat=False)
            run.tick()
            out.append(sid)
    return out


def gc_empty(fleet: Fleet) -> list[str]:
    """gc_empty_sessions.rs at start-up: delete non-archived sessions older than 60 s with
    no messages and no children, unless live or owned by a task not merged/closed/failed."""
    w, now = fleet.writer(), fleet._clock()
    protected = {r[0] for r in w.tasks.execute(
        "SELECT session_id FROM tasks WHERE session_id IS NOT NULL AND state NOT IN ('merged','closed','failed')"
        " UNION SELECT placeholder_session_id FROM tasks WHERE placeholder_session_id IS NOT NULL"
        " AND state NOT IN ('merged','closed','failed') UNION SELECT ts.session_id FROM task_sessions ts"
        " JOIN tasks t ON t.id = ts.task_id WHERE t.state NOT IN ('merged','closed','failed')")}
    gone = [sid for (sid,) in w.tau.execute(
        "SELECT s.id FROM sessions s WHERE s.archived = 0 AND s.created_at < ?"
        " AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.session_id = s.id)"
        " AND NOT EXISTS (SELECT 1 FROM sessions c WHERE c.parent_id = s.id)", (now - 60_000,)).fetchall()
        if sid not in protected and not fleet.server.is_live(sid)]
    for sid in gone:
        w.tau.execute("DELETE FROM sessions WHERE id = ?", (sid,))
    return gone
