"""tau's request schema (protocol.rs ``Request``), for parsing lines as serde does.

Why: a client must see the same ``bad request: …`` replies from the stand-in
as from tau — a missing field, an unknown type or a wrong JSON type is an
error line and the connection stays open (TAU.md §7.1). The messages follow
serde_json's wording closely enough to be recognisable; they are not byte-exact.
"""

from __future__ import annotations

import json
from typing import Any

#: Field kinds: s = string, i = integer, u = unsigned, b = bool, l = list of strings,
#: v = any JSON value. A trailing "?" means optional (Option / #[serde(default)]).
SCHEMA: dict[str, dict[str, str]] = {
    "chat": {"session_id": "s", "text": "s", "attachments": "a?"},
    "create_session": {"model": "s?", "provider": "s?", "system_prompt": "s?", "cwd": "s?",
                       "parent_id": "s?", "child_budget": "u?", "tagline": "s?", "auto_archive": "b?",
                       "notify_parent": "b?", "project_name": "s?", "sandbox_profile": "s?"},
    "get_session_info": {"session_id": "s"},
    "get_session_ancestors": {"session_id": "s"},
    "list_sessions": {"include_archived": "b?", "project_name": "s?"},
    "archive_session": {"session_id": "s", "require_ancestor": "s?"},
    "restore_session": {"session_id": "s"},
    "delete_session": {"session_id": "s"},
    "list_models": {},
    "list_aliases": {"cwd": "s?"},
    "set_model": {"session_id": "s", "model_id": "s", "caller_session_id": "s?"},
    "set_cwd": {"session_id": "s", "cwd": "s", "caller_session_id": "s?"},
    "reparent_children": {"old_parent_id": "s", "new_parent_id": "s"},
    "set_session_successor": {"session_id": "s", "successor_id": "s?", "caller_session_id": "s?"},
    "resolve_successor": {"session_id": "s"},
    "succeed_session": {"session_id": "s", "tagline": "s?", "caller_session_id": "s?"},
    "get_task_session_role": {"session_id": "s"},
    "login": {"provider": "s"},
    "auth_status": {},
    "get_subscription_usage": {},
    "get_messages": {"session_id": "s"},
    "subscribe": {"session_id": "s"},
    "wait_sessions": {"session_ids": "l", "timeout_secs": "u?"},
    "wait_any_sessions": {"session_ids": "l", "timeout_secs": "u?"},
    "cancel_chat": {"session_id": "s", "caller_session_id": "s?"},
    "steer": {"session_id": "s", "text": "s"},
    "compact": {"session_id": "s", "keep_hint": "s?"},
    "queue_message": {"target_session_id": "s", "content": "s", "sender_info": "s",
                      "await_reply": "b?", "reply_to": "s?"},
    "queue_info": {"target_session_id": "s", "text": "s"},
    "reply_to_message": {"msg_id": "s", "content": "s"},
    "reload_plugins": {"session_id": "s"},
    "reload_config": {},
    "gc_sessions": {"older_than_days": "u"},
    "fire_hook": {"name": "s", "data": "v"},
    "execute_tool": {"session_id": "s", "tool_name": "s", "arguments": "v"},
    "enqueue_post_idle_action": {"session_id": "s", "action": "v"},
    "set_tagline": {"session_id": "s", "tagline": "s"},
    "task_list": {"project": "s", "state": "s?", "parent_id": "i?"},
    "task_get": {"id": "i"},
    "task_create": {"project": "s", "title": "s", "parent_id": "i?", "priority": "i?", "tags": "l?",
                    "sandbox_profile": "s?"},
    "task_update": {"id": "i", "state": "s?", "title": "s?", "priority": "i?", "tags": "v?",
                    "affected_files": "v?", "skip_review": "b?", "require_approval": "b?",
                    "sandbox_profile": "s?"},
    "task_search": {"project": "s", "query": "s", "state": "s?"},
    "task_assign": {"id": "i", "session_id": "s"},
    "task_status": {"project": "s"},
    "task_overview": {"project": "s", "recent_limit": "u?"},
    "task_merge_queue": {"project": "s"},
    "project_stats": {"project_name": "s"},
    "get_project_info": {"project_name": "s"},
    "shutdown": {"restart": "b?"},
}
#: TAU.md §7.5 plus get_subscription_usage: the stand-in records these and refuses them.
MUTATING = frozenset({
    "chat", "create_session", "archive_session", "restore_session", "delete_session", "set_model",
    "set_cwd", "set_tagline", "reparent_children", "set_session_successor", "succeed_session",
    "cancel_chat", "steer", "compact", "queue_message", "queue_info", "reply_to_message",
    "wait_sessions", "wait_any_sessions", "execute_tool", "fire_hook", "enqueue_post_idle_action",
    "reload_plugins", "reload_config", "gc_sessions", "login", "task_create", "task_update",
    "task_assign", "shutdown", "get_subscription_usage",
})
DEFAULTS: dict[str, Any] = {"include_archived": False, "recent_limit": 10, "restart": False}


class BadRequest(ValueError):
    """A line that tau would answer with ``bad request: …``."""


def _kind(value: Any) -> str:
    """serde's name for what it found."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean `{str(value).lower()}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"floating point `{value}`"
    if isinstance(value, str):
        return f"string {json.dumps(value)}"
    return "sequence" if isinstance(value, list) else "map"


def _check(field: str, kind: str, value: Any) -> None:
    base = kind.rstrip("?")
    if value is None and kind.endswith("?") and base in "sil":
        return
    ok = {"s": isinstance(value, str),
          "i": isinstance(value, int) and not isinstance(value, bool),
          "u": isinstance(value, int) and not isinstance(value, bool) and value >= 0,
          "b": isinstance(value, bool),
          "l": isinstance(value, list) and all(isinstance(v, str) for v in value),
          "a": isinstance(value, list), "v": True}[base]
    if not ok:
        want = {"s": "a string", "i": "i64", "u": "u64", "b": "a boolean", "l": "a sequence",
                "a": "a sequence", "v": "any value"}[base]
        raise BadRequest(f"invalid type: {_kind(value)}, expected {want}")


def parse_request(line: str) -> dict[str, Any]:
    """Parse one request line; raise BadRequest with serde-like wording."""
    col = len(line)
    try:
        req = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"{exc.msg.lower()} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(req, dict):
        raise BadRequest(f"invalid type: {_kind(req)}, expected internally tagged enum Request"
                         f" at line 1 column {col}")
    kind = req.get("type")
    if "type" not in req:
        raise BadRequest(f"missing field `type` at line 1 column {col}")
    if not isinstance(kind, str) or kind not in SCHEMA:
        names = ", ".join(f"`{n}`" for n in SCHEMA)
        raise BadRequest(f"unknown variant `{kind}`, expected one of {names} at line 1 column {col}")
    out: dict[str, Any] = {"type": kind}
    for field, fkind in SCHEMA[kind].items():
        if field not in req:
            if not fkind.endswith("?"):
                raise BadRequest(f"missing field `{field}` at line 1 column {col}")
            out[field] = DEFAULTS.get(field)
            continue
        try:
            _check(field, fkind, req[field])
        except BadRequest as exc:
            raise BadRequest(f"{exc} at line 1 column {col}") from None
        out[field] = req[field]
    return out
