"""``sessiontop list [--json] [TASK_ID…]``: each task with its sessions.

Each session is exactly what tau's ``TaskSessionInfo`` serialises (TAU.md
§6.1: ``session_id, role, created_at`` (ms), ``message_count, archived,
last_activity`` (s), ``last_phase, last_exit_status`` (omitted when NULL),
``is_live``), from the same merge of disk and server the screens use. What the
dashboard knows beyond the record is under ``sessiontop`` (per session) and
``sessions_gone`` (rows tau's server drops: the session is no longer in
tau.db, or tau cannot read its model_json; each says which under ``why``).
``message_count`` here counts rows: a row tau cannot parse (which makes tau
say 0) is found only where the screens sum a session's usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..model.snapshots import TaskSessionInfo
from ..notify.observe import FleetState, Observer
from ..notify.settings import load
from ..notify.stall import StallRule, median_gaps
from .common import OK, FAILED, Unreadable, check_readable, one_line, open_store


def record(info: TaskSessionInfo) -> dict[str, Any]:
    """The record as tau's serde writes it (key order of the Rust struct).
    ``last_phase`` is always one of tau's labels, as tau always fills it
    (task_handlers.rs:188): the server's word, or (server down, or not
    answered yet: ``sessiontop.phase_source`` says which) the persisted label,
    a NULL column read as tau's default, ``idle``."""
    out: dict[str, Any] = {
        "session_id": info.session_id, "role": info.role, "created_at": info.created_at,
        "message_count": info.message_count, "archived": info.archived,
        "last_activity": info.last_activity, "last_phase": info.last_phase or "idle",
    }
    if info.last_exit_status is not None:
        out["last_exit_status"] = info.last_exit_status
    out["is_live"] = info.is_live
    return out


def document(state: FleetState, rule: StallRule) -> dict[str, Any]:
    """The whole answer: the server, then each task with its sessions."""
    tasks = []
    by_task: dict[int, list[tuple[str, Any]]] = {}  # one pass: a large store has 90,000 links
    for (task_id, sid), s in state.sessions.items():
        by_task.setdefault(task_id, []).append((sid, s))
    for tid, t in state.tasks.items():
        sessions, gone = [], []
        for sid, s in by_task.get(tid, ()):
            info = s.info
            if info.gone or not info.tau_loads:
                # Rows tau's task_get leaves out: the session is not in tau.db,
                # or tau cannot read its model_json.
                gone.append({"session_id": sid, "role": info.role, "created_at": info.created_at,
                             "why": "not in tau.db" if info.gone else "model_json tau cannot read"})
                continue
            rec = record(info)
            rec["sessiontop"] = {
                "phase_source": s.phase_source,
                "last_event": s.last_event,
                "stalled": rule.stalled(info.role, info.last_phase, info.is_live, s.last_event,
                                        state.taken_at),
                "stall_after_s": rule.threshold(info.role, info.last_phase),
            }
            sessions.append(rec)
        tasks.append({"id": tid, "title": t.title, "state": t.state, "project_name": t.project,
                      "priority": t.priority, "updated_at": t.updated_at,
                      "sessions": sessions, "sessions_gone": gone})
    return {"taken_at": state.taken_at,
            "server": {"up": state.server_up, "detail": state.server_detail},
            "tasks": tasks}


def text_lines(doc: dict[str, Any]) -> list[str]:
    """The same document for a person: a line per task, one per session."""
    out = [f"tau server: {doc['server']['detail']}"]
    for t in doc["tasks"]:
        live = sum(1 for s in t["sessions"] if s["is_live"])
        n = len(t['sessions'])
        out.append(f"#{t['id']:<5} {t['state']:<11} {t['title']}  ({n} session{'' if n == 1 else 's'}, {live} live)")
        for s in t["sessions"]:
            flag = " STALLED" if s["sessiontop"]["stalled"] else ""
            # Not tau's word (server down, or not answered yet): said, as on screen.
            told = "" if s["sessiontop"]["phase_source"] == "server" else " (persisted)"
            out.append(f"       {s['role']:<11} {s['session_id']:<14} {'live ' if s['is_live'] else ''}"
                       f"{s['last_phase']}{told}  {s['message_count']} msgs"
                       f"{'  last turn ' + s['last_exit_status'] if 'last_exit_status' in s else ''}{flag}")
    return out


async def local_document(args: argparse.Namespace) -> tuple[dict[str, Any], FleetState]:
    """This machine's document (and the picture it says); the reason, in one
    line, as the exception's text if the store cannot be read."""
    store = None
    try:
        store = await open_store(args)
        state = await Observer(store).take(args.task_ids or None, every_session=True)
        check_readable(store)
        # The role medians only matter for a live session's stall flag.
        live = any(s.info.is_live for s in state.sessions.values())
        rule = StallRule(load(), await median_gaps(store) if live else None)
        return document(state, rule), state
    except Exception as exc:  # noqa: BLE001 - one line
        raise Unreadable(one_line(exc, store)) from None
    finally:
        if store is not None:
            await store.close()


async def run_list(args: argparse.Namespace) -> int:
    """Print the document; 0, or 1 with one line on stderr if the store cannot
    be read or a task asked for is not there (nothing printed if none is)."""
    try:
        doc, state = await local_document(args)
    except Unreadable as exc:
        print(f"sessiontop: {exc}", file=sys.stderr)
        return FAILED
    missing = [t for t in args.task_ids if t not in state.tasks]
    if missing and len(missing) == len(set(args.task_ids)):
        print(f"sessiontop: no task {', '.join(f'#{t}' for t in missing)}", file=sys.stderr)
        return FAILED
    if args.json:
        sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write("\n".join(text_lines(doc)) + "\n")
    sys.stdout.flush()
    if missing:
        print(f"sessiontop: no task {', '.join(f'#{t}' for t in missing)}", file=sys.stderr)
        return FAILED
    return OK
