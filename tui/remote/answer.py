"""The feed's answers to requests: a task's detail, a transcript's pages, focus.

Each request is checked whole before anything is read: an unknown op, an
unknown field, a wrong type or a value out of range is an ``error`` line with
the request's id (when it has one), and the feed goes on. Requests name tasks
and sessions by id; nothing a request says is ever used as a path. The reads
are the store's own (`Store.read_task`, `Store.read_transcript`), so a remote
task screen shows what a local one would.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..model.snapshots import Transcript
from ..tau.errors import StoreError
from .codec import DecodeError
from .wire import (
    MAX_LINE, Done, Error, FocusRequest, PingRequest, ResyncRequest, TaskAnswer, TaskRequest,
    TranscriptAnswer, TranscriptRequest, dumps, loads_request, request_id,
)
from ..tau.store import Store

#: Bounds on what a request may ask for.
MAX_LIMIT = 1000
MAX_RECENT = 50
MAX_SESSION_ID = 512


def _one_line(text: str, width: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1] + "…"


class Answers:
    def __init__(self, store: Store, *, resync: Callable[[], None], max_line: int = MAX_LINE) -> None:
        self.store = store
        self.resync = resync
        self.max_line = max_line

    async def answer(self, line: bytes) -> bytes:
        """The line to send back for one request line."""
        try:
            request = loads_request(line)
            self._check(request)
        except DecodeError as exc:
            return dumps(Error(request_id(line), _one_line(f"bad request: {exc}")))
        try:
            return await self._serve(request)
        except StoreError as exc:
            return dumps(Error(request.id, _one_line(str(exc))))
        except Exception as exc:  # noqa: BLE001 - one request failing never ends the feed
            return dumps(Error(request.id, _one_line(f"{type(exc).__name__}: {exc}")))

    @staticmethod
    def _check(r: Any) -> None:
        if isinstance(r, TaskRequest) and not 0 <= r.recent <= MAX_RECENT:
            raise DecodeError(f"task.recent: 0 to {MAX_RECENT}, not {r.recent}")
        if isinstance(r, TranscriptRequest):
            if not 1 <= r.limit <= MAX_LIMIT:
                raise DecodeError(f"transcript.limit: 1 to {MAX_LIMIT}, not {r.limit}")
            if r.before_id is not None and r.after_id is not None:
                raise DecodeError("transcript: before_id or after_id, not both")
        sid = getattr(r, "session_id", None)
        if sid is not None and len(sid) > MAX_SESSION_ID:
            raise DecodeError(f"session_id: at most {MAX_SESSION_ID} characters")

    async def _serve(self, r: Any) -> bytes:
        store = self.store
        if isinstance(r, TaskRequest):
            detail = await store.read_task(r.task_id, recent=r.recent, include_archived=r.include_archived,
                                           ask_waits=r.ask_waits)
            line = dumps(TaskAnswer(r.id, detail))
            if len(line) > self.max_line and detail is not None:
                # The panes' newest messages are what can make it long: without them.
                line = dumps(TaskAnswer(r.id, replace(detail, sessions=tuple(
                    replace(p, recent=()) for p in detail.sessions))))
            return line if len(line) <= self.max_line else self._too_long(r.id, len(line))
        if isinstance(r, TranscriptRequest):
            page = await store.read_transcript(r.session_id, limit=r.limit, before_id=r.before_id,
                                               after_id=r.after_id)
            return self._fit(r, page)
        if isinstance(r, FocusRequest):
            store.focus(r.session_id)
        elif isinstance(r, ResyncRequest):
            self.resync()
        elif not isinstance(r, PingRequest):  # pragma: no cover - REQUEST_OPS lists these
            raise DecodeError(f"no answer for {type(r).__name__}")
        return dumps(Done(r.id, time.time()))

    def _fit(self, r: TranscriptRequest, page: Transcript) -> bytes:
        """The page as one line within the limit: fewer messages if need be (the
        newest of an older or newest page, the oldest of a following read; the
        rest comes with the next read or scroll)."""
        line = dumps(TranscriptAnswer(r.id, page))
        msgs = page.messages
        keep = len(msgs)
        while len(line) > self.max_line and keep > 1:
            keep //= 2
            if r.after_id is not None:
                cut = replace(page, messages=msgs[:keep], live=None)
            else:
                cut = replace(page, messages=msgs[-keep:], has_older=True)
            line = dumps(TranscriptAnswer(r.id, cut))
        return line if len(line) <= self.max_line else self._too_long(r.id, len(line))

    def _too_long(self, rid: int, size: int) -> bytes:
        return dumps(Error(rid, f"the answer is {size:,} bytes, over the wire's {self.max_line:,}-byte line"))
