"""Token and cost sums per session, counted a chunk at a time.

A 100k-message session takes about half a second to sum; a screen must not
wait for that. A read sums at most one chunk of the messages newer than last
time and leaves the rest pending; `UsageSums.count_next` finishes pending
sums between the reads the screens ask for.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from .db import Connections, DbFile
from ..model.snapshots import TokenUse
from .decode import as_int, usage_of, usage_parts
from .errors import StoreError
from .records import MsgStats

#: Usage-bearing messages summed per step (about 5 ms); the rest of a long
#: session is counted in the background (`UsageSums.count_next`).
USAGE_CHUNK = 500
#: The roles of tau's ``Message`` (types.rs): a row with another, or not a JSON
#: object, fails tau's parse (TAU.md §3).
ROLES = ("user", "assistant", "tool_result", "compaction_summary", "info")
_ROLE_LIST = ",".join(f"'{r}'" for r in ROLES)
#: The rows a sum reads: usage-bearing ones, and the ones tau cannot parse
#: (counted: one makes tau read the whole history as empty, TAU.md §6.1).
#: Checking every row for validity costs about half again the LIKE scan alone.
_SUMMED = ("(message_json LIKE '%\"usage\"%' OR CASE WHEN json_valid(message_json) THEN "
           f"IFNULL(json_extract(message_json, '$.role'), '') NOT IN ({_ROLE_LIST}) ELSE 1 END)")
#: Time one task read may spend summing usage before it leaves the rest pending.
USAGE_BUDGET_S = 0.05


@dataclass(slots=True)
class _Usage:
    """One session's sums, up to message id ``max_id``."""

    max_id: int = 0
    tokens: int = 0
    cost: float = 0.0
    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0
    #: input + cache tokens of the newest assistant turn that did not fail:
    #: what the model was last given, tau's ``context_tokens`` (db.rs session_stats).
    context: int | None = None
    #: Rows that are not a message tau can read (not JSON, not an object, a
    #: role tau does not know). A structural check, not serde's whole one.
    bad: int = 0

    def totals(self) -> TokenUse:
        return TokenUse(self.input, self.output, self.cache_read, self.cache_write, self.context)


class UsageSums:
    """The sums kept per session; they ride on the message counts (`MsgStats`),
    never past them, so a row is never summed twice."""

    def __init__(self) -> None:
        self._sums: dict[str, _Usage] = {}
        #: Sessions whose sums are still being counted, a chunk at a time.
        self.pending: set[str] = set()

    def clear(self) -> None:
        """Forget every sum (the messages they were taken over changed)."""
        self._sums.clear()
        self.pending.clear()

    def known(self) -> set[str]:
        """Sessions with a sum (complete or not)."""
        return set(self._sums)

    def breakdown(self, session_id: str) -> TokenUse | None:
        """Tokens by kind, and the context, as summed so far."""
        u = self._sums.get(session_id)
        return u.totals() if u is not None else None

    def unreadable(self, session_id: str) -> int:
        """Rows of this session tau cannot parse, as summed so far."""
        u = self._sums.get(session_id)
        return u.bad if u is not None else 0

    def forget(self, session_id: str) -> None:
        """Forget one session's sum (the session is gone)."""
        self._sums.pop(session_id, None)
        self.pending.discard(session_id)

    async def of(self, tau: DbFile, session_id: str, stats: MsgStats | None, *,
                 read: bool = True) -> tuple[int, float, bool]:
        """Tokens and cost of a session, reading only messages newer than last time,
        and at most one chunk of them: (tokens, cost, complete).

        ``stats`` are the session's current message figures (None: no messages);
        ``read`` False: this read's time is spent, give what is summed so far.
        An incomplete sum is marked pending.
        """
        conn = tau.conn
        assert conn is not None
        st = stats
        if st is None or not tau.schema.messages_ok():  # no messages (the stats are current)
            self.pending.discard(session_id)
            return 0, 0.0, True
        u = self._sums.setdefault(session_id, _Usage())
        if st.max_id <= u.max_id:
            self.pending.discard(session_id)
            return u.tokens, u.cost, True
        if not read:  # this read's budget is spent: what is summed so far
            self.pending.add(session_id)
            return u.tokens, u.cost, False
        chunk = USAGE_CHUNK
        async with conn.execute(
            "SELECT id, message_json FROM messages WHERE session_id = ? AND id > ? AND id <= ? "
            f"AND {_SUMMED} ORDER BY id LIMIT ?",
            # no further than the counts: no double sums
            (session_id, u.max_id, st.max_id, chunk),
        ) as cur:
            rows = await cur.fetchall()
        for _mid, raw in rows:
            if not isinstance(raw, str):  # tau reads the column as TEXT only
                u.bad += 1
                continue
            try:
                obj = json.loads(raw)
            except (ValueError, TypeError, RecursionError):
                u.bad += 1
                continue
            if not isinstance(obj, dict) or obj.get("role") not in ROLES:
                u.bad += 1
            elif obj.get("role") == "assistant":
                tokens, cost = usage_of(obj)
                u.tokens += tokens
                u.cost += cost
                inp, out, cread, cwrite = usage_parts(obj)
                u.input += inp
                u.output += out
                u.cache_read += cread
                u.cache_write += cwrite
                if obj.get("stop_reason") not in ("error", "aborted"):
                    u.context = inp + cread + cwrite
        complete = len(rows) < chunk
        u.max_id = st.max_id if complete else as_int(rows[-1][0])
        if complete:
            self.pending.discard(session_id)
        else:
            self.pending.add(session_id)
        return u.tokens, u.cost, complete

    async def count_next(self, db: Connections, stats: Mapping[str, MsgStats]) -> bool:
        """Sum one more chunk of a pending session's usage; True while more remain.
        The caller holds the store's lock: one chunk at a time keeps it brief."""
        if not self.pending:
            return False
        if db.tau.conn is None:
            self.pending.clear()
            return False
        sid = next(iter(self.pending))
        try:
            await db.guarded("tau", lambda: self.of(db.tau, sid, stats.get(sid)))
        except StoreError:
            self.pending.clear()  # the next read marks them again
            return False
        return bool(self.pending)
