"""The feed's wire: versioned JSON lines, one message a line, each way.

Feed → local (``"k"`` names the kind):

- ``hello``: protocol, sessiontop version, schema fingerprint, host name,
  tau's data and runtime paths, tau's server state, the heartbeat interval,
  the longest line it sends and its clock; first, once.
- ``snapshot``: the whole task list (in chunks of at most `CHUNK_BYTES`, the
  last with ``more`` false); a long list goes first screen first: the rows
  the first screen shows, ``rest`` saying how many follow in the next delta
  (with the whole order); then only
- ``delta``: the rows that changed (a row is sent again only when the store
  built it anew and it differs), the ids removed, the order when it is not
  the old one less the removed plus the new ones at the end, and the status,
  live count and counting flag when they moved. ``v`` is the feed's version
  of tasks.db, tau.db and the server's word: it moves whenever the data may
  have, so the local side knows when an open task or transcript is worth
  asking for again (a delta may carry ``v`` alone).
- ``beat``: nothing else was sent for a heartbeat interval.
- ``events``: what ``sessiontop watch --json`` prints, from the same engine;
  ``stalls``: the live sessions stalled now (the rows' marks).
- ``task`` / ``transcript`` / ``done`` / ``error``: answers, by request id.

Local → feed: ``{"id": N, "op": "task" | "transcript" | "focus" | "ping" |
"resync", …}``. Requests name tasks and sessions by id, never a path.

Every message is a frozen dataclass decoded strictly by `tui.remote.codec`:
one that is not is a `DecodeError` of one line, and the stream goes on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .. import __version__
from ..model.snapshots import ServerStatus, StoreStatus, TaskDetail, TaskRow, Transcript
from ..notify.engine import Event, Stall
from .codec import DecodeError, decode, encode, fingerprint

#: Bumped when a message changes meaning; the schema fingerprint catches a
#: snapshot field added or changed on one side only.
PROTOCOL = 1
#: The longest line either side reads (bytes): a longer one is refused, not buffered.
MAX_LINE = 4 * 1024 * 1024
#: The longest request line the feed reads (bytes).
MAX_REQUEST = 64 * 1024
#: A snapshot or delta is cut into lines of about this many bytes.
CHUNK_BYTES = 256 * 1024
#: Seconds between heartbeats of a quiet feed; the local side says lagging
#: after LAGGING_BEATS of them without a line.
HEARTBEAT_S = 5.0
LAGGING_BEATS = 3

Versions = tuple[int | None, int | None, int]


# --- feed → local ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hello:
    protocol: int
    version: str
    schema: str
    host: str
    data_dir: str
    runtime_dir: str | None
    server: ServerStatus
    heartbeat_s: float
    max_line: int
    at: float = 0.0  # the feed's clock when it sent this (this side's first estimate of the skew)


@dataclass(frozen=True, slots=True)
class Delta:
    """Rows that changed since the last delta (see the module's docstring)."""

    v: Versions
    at: float  # the task list's taken_at
    rows: tuple[TaskRow, ...] = ()
    removed: tuple[int, ...] = ()
    order: tuple[int, ...] | None = None
    status: StoreStatus | None = None
    live: int | None = None  # live_sessions
    counting: bool | None = None  # usage_pending: the feed is still summing usage
    more: bool = False  # the next line continues this one


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The whole task list, in order (cut into chunks: ``more``), or its
    first screen's rows with ``rest`` more to follow."""

    v: Versions
    at: float
    rows: tuple[TaskRow, ...] = ()
    status: StoreStatus | None = None  # on the last chunk
    live: int = 0
    counting: bool = False
    more: bool = False
    rest: int = 0  # rows left out for now: the next delta brings them, with the order


@dataclass(frozen=True, slots=True)
class Beat:
    at: float


@dataclass(frozen=True, slots=True)
class Events:
    events: tuple[Event, ...]
    lost: int = 0  # events dropped while the link was slow


@dataclass(frozen=True, slots=True)
class Stalls:
    stalled: dict[str, Stall]


@dataclass(frozen=True, slots=True)
class TaskAnswer:
    id: int
    task: TaskDetail | None


@dataclass(frozen=True, slots=True)
class TranscriptAnswer:
    id: int
    transcript: Transcript


@dataclass(frozen=True, slots=True)
class Done:
    id: int
    at: float


@dataclass(frozen=True, slots=True)
class Error:
    id: int | None
    error: str


# --- local → feed -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaskRequest:
    id: int
    task_id: int
    recent: int = 3
    include_archived: bool = True
    ask_waits: bool = True


@dataclass(frozen=True, slots=True)
class TranscriptRequest:
    id: int
    session_id: str
    limit: int = 200
    before_id: int | None = None
    after_id: int | None = None


@dataclass(frozen=True, slots=True)
class FocusRequest:
    id: int
    session_id: str | None


@dataclass(frozen=True, slots=True)
class PingRequest:
    id: int


@dataclass(frozen=True, slots=True)
class ResyncRequest:
    id: int


FEED_KINDS: dict[str, type] = {
    "hello": Hello, "snapshot": Snapshot, "delta": Delta, "beat": Beat, "events": Events,
    "stalls": Stalls, "task": TaskAnswer, "transcript": TranscriptAnswer, "done": Done, "error": Error,
}
REQUEST_OPS: dict[str, type] = {
    "task": TaskRequest, "transcript": TranscriptRequest, "focus": FocusRequest,
    "ping": PingRequest, "resync": ResyncRequest,
}
KIND_OF = {cls: k for k, cls in FEED_KINDS.items()}
_OP_OF = {cls: k for k, cls in REQUEST_OPS.items()}
#: Both sides must agree on every field of every message.
SCHEMA = fingerprint(*FEED_KINDS.values(), *REQUEST_OPS.values())
VERSION = __version__


def dumps(msg: Any) -> bytes:
    """One message as one line (UTF-8, ``\\n``-terminated). A lone surrogate
    (text decoded from bad bytes) goes as a JSON escape, so the line is valid
    UTF-8 and the other side reads the same string back."""
    cls = type(msg)
    if cls in KIND_OF:
        body = {"k": KIND_OF[cls], **encode(cls, msg)}
    else:
        body = {"op": _OP_OF[cls], **encode(cls, msg)}
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8", "backslashreplace") + b"\n"


def _object(line: bytes, key: str) -> tuple[dict[str, Any], Any]:
    try:
        body = json.loads(line, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise DecodeError(f"not JSON ({exc})") from None
    if not isinstance(body, dict):
        raise DecodeError("not a JSON object")
    return body, body.pop(key, None)


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number the wire carries")


def loads(line: bytes) -> Any:
    """A feed's line as its message, or `DecodeError` (one line)."""
    body, kind = _object(line, "k")
    cls = FEED_KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise DecodeError(f"unknown message kind {str(kind)[:40]!r}")
    return decode(cls, body, kind)


def loads_request(line: bytes) -> Any:
    """A request line, or `DecodeError`; ``request_id`` recovers its id for the error line."""
    body, op = _object(line, "op")
    cls = REQUEST_OPS.get(op) if isinstance(op, str) else None
    if cls is None:
        raise DecodeError(f"unknown request {str(op)[:40]!r}")
    return decode(cls, body, op)


def request_id(line: bytes) -> int | None:
    """The id of a request that could not be decoded, if it has one (for the error line)."""
    try:
        body = json.loads(line)
    except (ValueError, RecursionError):
        return None
    rid = body.get("id") if isinstance(body, dict) else None
    return rid if type(rid) is int else None
