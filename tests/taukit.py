"""What tau writes and pushes for its queue, retirements and rate limits, for the tests.

Each function is one thing tau's server does, written from tau's source, not
from the dashboard's or the stand-in's code: the rows on a connection of the
test's own (`StoreKit`), the pushes through the stand-in's real socket.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from tests.storekit import StoreKit, model_json

#: Every request type of tau v0.1.1 that changes state, starts work or calls out
#: (TAU.md §7.5, and get_subscription_usage, which calls tau's provider): what
#: the dashboard must never send. Written from protocol.rs, not from our client.
MUTATING_REQUESTS = (
    "chat", "create_session", "archive_session", "restore_session", "delete_session", "set_model",
    "set_cwd", "set_tagline", "reparent_children", "set_session_successor", "succeed_session",
    "cancel_chat", "steer", "compact", "queue_message", "queue_info", "reply_to_message",
    "wait_sessions", "wait_any_sessions", "execute_tool", "fire_hook", "enqueue_post_idle_action",
    "reload_plugins", "reload_config", "gc_sessions", "login", "task_create", "task_update",
    "task_assign", "shutdown", "get_subscription_usage",
)


def usage_push(five: float | None, seven: float | None, *, five_reset_ms: int, seven_reset_ms: int,
               opus: float | None = None) -> dict[str, Any]:
    """protocol.rs ``Response::SubscriptionUsage`` as serde writes it: every field
    of ``SubscriptionUsage`` present, null when None (subscription_usage.rs)."""
    def bucket(pct: float | None, at: int) -> dict[str, Any] | None:
        if pct is None:
            return None
        return {"utilization": pct,
                "resets_at": datetime.fromtimestamp(at / 1000, tz=timezone.utc).isoformat()}
    return {"type": "subscription_usage", "usage": {
        "five_hour": bucket(five, five_reset_ms), "seven_day": bucket(seven, seven_reset_ms),
        "seven_day_sonnet": None, "seven_day_opus": bucket(opus, seven_reset_ms),
        "extra_usage": {"is_enabled": False, "monthly_limit": None, "used_credits": None}}}


def queue(kit: StoreKit, target: str, content: str, sender: str, created_at: int) -> int:
    """db.rs ``queue_message``: one row, content and sender apart."""
    cur = kit.tau.execute("INSERT INTO queued_messages (target_session_id, content, sender_info, created_at)"
                          " VALUES (?,?,?,?)", (target, content, sender, created_at))
    return int(cur.lastrowid)


def drain(kit: StoreKit, sid: str, now_ms: int, *, push: bool = True) -> list[str]:
    """agent.rs ``drain_queued`` → db.rs ``drain_queued_messages``: in one
    transaction each row becomes a user message ``[from sender] content`` and is
    deleted; then the engine's SteerMessage, which the server sends its
    subscribers as ``user_message`` (agent_runner.rs :626)."""
    texts: list[str] = []
    with kit._tx(kit.tau) as c:  # noqa: SLF001 - the kit's own transaction helper
        rows = c.execute("SELECT id, content, sender_info FROM queued_messages WHERE target_session_id = ?"
                         " ORDER BY id", (sid,)).fetchall()
        for _, content, sender in rows:
            text = f"[from {sender}] {content}" if sender is not None else content
            c.execute("INSERT INTO messages (session_id, message_json, created_at) VALUES (?,?,?)",
                      (sid, json.dumps({"role": "user", "content": [{"type": "text", "text": text}],
                                        "timestamp": now_ms}), now_ms))
            texts.append(text)
        for row_id, _, _ in rows:
            c.execute("DELETE FROM queued_messages WHERE id = ?", (row_id,))
    if push:
        for text in texts:
            kit.server.send(sid, {"type": "user_message", "text": text})
    return texts


def succeed(kit: StoreKit, sid: str, new_id: str, now_ms: int) -> None:
    """dispatch.rs ``succeed_session_impl``: the successor created (top level,
    the same model), the old session's ``successor_id`` set, its info line
    stored, then ``session_succeeded`` on the old session's subscribers."""
    kit.tau.execute("INSERT INTO sessions (id, model_json, created_at, tagline, archived, last_phase)"
                    " VALUES (?,?,?,?,0,NULL)", (new_id, model_json(), now_ms, "the successor"))
    kit.tau.execute("UPDATE sessions SET successor_id = ? WHERE id = ?", (new_id, sid))
    kit.add_message(sid, {"role": "info", "text": f"Session retired by {sid}; succeeded by {new_id}. "
                          "Future notifications forwarded.", "timestamp": now_ms}, now_ms)
    kit.server.send(sid, {"type": "session_succeeded", "successor_id": new_id})
