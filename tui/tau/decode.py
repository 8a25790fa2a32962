"""Turning what a row holds into plain values, never raising.

tau writes well-typed rows, but a store can hold anything (a hand edit, a
corrupt page, a 10 MB message, a number that is Infinity): every value read
from a file passes through one of these, so no single row can stop a screen.
"""

from __future__ import annotations

import functools
import json
import math

from ..model.snapshots import Message, ToolCall

#: Text longer than this in one message is cut for display (10 MB messages exist).
MESSAGE_TEXT_LIMIT = 200_000


def as_int(value: object, default: int = 0) -> int:
    """An integer from a column tau should have filled with one; anything
    else (NULL, text, a blob, an infinite or NaN real) reads as ``default``."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else default
    if isinstance(value, (str, bytes)):
        try:
            return int(value.strip())
        except ValueError:
            return default
    return default


def as_str(value: object, default: str = "") -> str:
    """Text from a column; NULL reads as ``default``, a blob as lenient UTF-8."""
    if value is None:
        return default
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def as_num(value: object) -> float:
    """A finite number from JSON, else 0 (JSON may say Infinity or NaN)."""
    if isinstance(value, bool):
        return 0.0
    if isinstance(value, (int, float)):
        try:
            f = float(value)
        except OverflowError:
            return 0.0
        return f if math.isfinite(f) else 0.0
    return 0.0


def model_info(model_json: object) -> tuple[str, int | None, bool]:
    """(display name, context window in tokens, whether tau can load it) from
    ``sessions.model_json`` ("", None, False if unreadable); the rest of that
    JSON (headers may hold secrets) is never kept. A fleet's sessions share a
    few models: each distinct JSON is decoded once."""
    return _model_info(model_json) if isinstance(model_json, str) else ("", None, False)


#: tau's ``Model`` (types.rs): the fields without a serde default, and their JSON kinds.
_MODEL_TEXT = ("id", "name", "api", "provider", "base_url")
_MODEL_COUNTS = ("context_window", "max_tokens")  # u64
_MODEL_COSTS = ("input", "output", "cache_read", "cache_write")  # f64
_THINKING = ("none", "anthropic", "open_ai", "openai", "qwen")


def _is_u64(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2 ** 64


def tau_loads_model(obj: dict) -> bool:
    """Would tau's serde read this as a ``Model``? A session whose model_json it
    cannot read fails ``get_session``: tau's ``task_get`` leaves it out (TAU.md §6.1)."""
    if not all(isinstance(obj.get(k), str) for k in _MODEL_TEXT):
        return False
    if not all(_is_u64(obj.get(k)) for k in _MODEL_COUNTS):
        return False
    cost = obj.get("cost")
    if not isinstance(cost, dict) or not all(
            isinstance(cost.get(k), (int, float)) and not isinstance(cost.get(k), bool) for k in _MODEL_COSTS):
        return False
    if "thinking" in obj and obj["thinking"] not in _THINKING:
        return False
    headers = obj.get("headers", {})
    return isinstance(headers, dict) and all(isinstance(v, str) for v in headers.values())


@functools.lru_cache(maxsize=512)
def _model_info(model_json: str) -> tuple[str, int | None, bool]:
    try:
        obj = json.loads(model_json)
    except (ValueError, RecursionError):
        return "", None, False
    if not isinstance(obj, dict):
        return "", None, False
    window = obj.get("context_window")
    ok = isinstance(window, int) and not isinstance(window, bool) and window > 0
    return as_str(obj.get("name") or obj.get("id")), window if ok else None, tau_loads_model(obj)


def blocks_text(blocks: object) -> str:
    """The text of a list of content blocks; non-text blocks are named."""
    if isinstance(blocks, str):
        return blocks
    if not isinstance(blocks, list):
        return ""
    parts: list[str] = []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            parts.append(str(block.get("text", "")))
        elif kind == "image":
            parts.append("[image]")
        elif kind not in ("thinking", "tool_call"):
            parts.append(f"[{kind}]")
    return "\n".join(parts)


def usage_of(obj: dict) -> tuple[int, float]:
    """(tokens, cost) of an assistant message's ``usage``; zero if absent."""
    usage = obj.get("usage")
    if not isinstance(usage, dict):
        return 0, 0.0
    raw = usage.get("total_tokens")
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        tokens = as_num(raw)
    else:
        tokens = as_num(usage.get("input")) + as_num(usage.get("output"))
    cost = usage.get("cost")
    total = as_num(cost.get("total")) if isinstance(cost, dict) else as_num(cost)
    return as_int(tokens), total


def usage_parts(obj: dict) -> tuple[int, int, int, int]:
    """(input, output, cache_read, cache_write) tokens of an assistant message."""
    usage = obj.get("usage")
    if not isinstance(usage, dict):
        return 0, 0, 0, 0
    return (as_int(as_num(usage.get("input"))), as_int(as_num(usage.get("output"))),
            as_int(as_num(usage.get("cache_read"))), as_int(as_num(usage.get("cache_write"))))


def decode_message(row_id: int, session_id: str, created_at: int, raw: object) -> Message:
    """A `Message` from one ``messages`` row; bad JSON becomes a visible row.

    Never raises: whatever the row holds, the transcript gets a row to show.
    """
    base = {"id": as_int(row_id), "session_id": as_str(session_id), "created_at": as_int(created_at)}
    try:
        return _decode(base, raw)
    except Exception as exc:  # noqa: BLE001 - a row must never stop a screen
        text = raw[:2000] if isinstance(raw, str) else ""
        return Message(role="invalid", error=f"cannot decode: {exc!r}"[:300], text=text, **base)


def _decode(base: dict, raw: object) -> Message:
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    if not isinstance(raw, str):
        return Message(role="invalid", error="message_json is not text", **base)
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        return Message(role="invalid", error=f"not JSON: {exc}", text=raw[:2000], **base)
    if not isinstance(obj, dict):
        return Message(role="invalid", error=f"JSON {type(obj).__name__}, not an object",
                       text=raw[:2000], **base)
    role = obj.get("role")
    role = role if isinstance(role, str) else "unknown"
    lim = MESSAGE_TEXT_LIMIT

    def cut(s: str) -> str:
        return s if len(s) <= lim else s[:lim] + f"\n… ({len(s) - lim:,} more characters)"

    if role == "user":
        return Message(role=role, text=cut(blocks_text(obj.get("content"))), **base)
    if role == "assistant":
        content = obj.get("content") if isinstance(obj.get("content"), list) else []
        thinking: list[str] = []
        calls: list[ToolCall] = []
        for block in content:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "thinking":
                thinking.append(str(block.get("thinking", "")))
            elif block.get("type") == "tool_call":
                args = block.get("arguments")
                try:
                    args_text = args if isinstance(args, str) else json.dumps(
                        args, ensure_ascii=False, separators=(",", ":"))
                except (TypeError, ValueError, RecursionError):
                    args_text = "(arguments too deeply nested to show)"
                calls.append(ToolCall(id=str(block.get("id", "")), name=str(block.get("name", "?")),
                                      arguments=args_text[:4000]))
        tokens, cost = usage_of(obj)
        return Message(
            role=role,
            text=cut(blocks_text(content)),
            thinking=cut("\n".join(thinking)),
            tool_calls=tuple(calls),
            tokens=tokens,
            cost=cost,
            model=str(obj.get("model") or ""),
            stop_reason=str(obj.get("stop_reason") or ""),
            error=str(obj.get("error_message") or ""),
            stamp=as_int(obj.get("timestamp")),
            **base,
        )
    if role == "tool_result":
        duration = obj.get("duration_ms")
        return Message(
            role=role,
            text=cut(blocks_text(obj.get("content"))),
            tool_name=str(obj.get("tool_name") or ""),
            is_error=bool(obj.get("is_error")),
            duration_ms=as_int(duration) if isinstance(duration, (int, float))
            and not isinstance(duration, bool) and math.isfinite(duration) else None,
            summary=str(obj.get("summary") or ""),
            tool_call_id=str(obj.get("tool_call_id") or ""),
            **base,
        )
    if role == "compaction_summary":
        before = obj.get("tokens_before")
        note = f"(compacted from {before:,} tokens)" if isinstance(before, int) else ""
        return Message(role=role, text=cut(str(obj.get("summary") or "")), summary=note, **base)
    if role == "info":
        return Message(role=role, text=cut(str(obj.get("text") or "")), **base)
    return Message(role=role, text=cut(raw[:2000]), error=f"unknown message role {role!r}", **base)
