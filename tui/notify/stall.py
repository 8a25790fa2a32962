"""When a live session counts as stalled: quiet too long for its role and phase.

Quiet = no message, no phase change (no streamed event, where the tracker keeps
its time) for longer than the threshold. The threshold of a role is, by
default, `factor` times the median gap between consecutive messages of that
role's sessions in the store, never under a floor (10 min). Phases that wait
on something outside the agent (a lock, a provider throttle, a compaction) get
twice as long. The config overrides either: ``role/phase``, then ``role``,
then ``default`` minutes. A stall is a flag: nothing is ever done to the
session.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping

import aiosqlite

from ..tau.store import Store
from .settings import NotifySettings

#: Phases in which a long silence is expected more often.
PATIENT_PHASES = {"waiting": 2.0, "rate limited": 2.0, "compacting": 2.0}
#: Sessions sampled per role, messages per session, for the median gap.
SAMPLE_SESSIONS = 50
SAMPLE_MESSAGES = 200


class StallRule:
    """Thresholds by role, from the store's history and the settings."""

    def __init__(self, settings: NotifySettings, medians: Mapping[str, float] | None = None) -> None:
        self.settings = settings
        self.medians: dict[str, float] = dict(medians or {})

    def threshold(self, role: str, phase: str | None) -> float:
        """Seconds of silence after which a live session of ``role`` in ``phase`` is stalled."""
        s = self.settings
        over = s.stall_override_s
        exact = over.get(f"{role}/{phase}")
        if exact is not None:
            return exact
        base = over.get(role, over.get("default"))
        if base is None:
            median = self.medians.get(role)
            base = max(s.stall_floor_s, s.stall_factor * median) if median else s.stall_floor_s
        return base * PATIENT_PHASES.get(phase or "", 1.0)

    def stalled(self, role: str, phase: str | None, is_live: bool,
                last_event: float | None, now: float) -> bool:
        return is_live and last_event is not None and now - last_event > self.threshold(role, phase)


async def median_gaps(store: Store) -> dict[str, float]:
    """The median gap (s) between consecutive messages, per role, over the newest
    sessions of each role in task_sessions. Read-only, small: at most
    SAMPLE_SESSIONS × SAMPLE_MESSAGES rows per role, through the session index.
    The sample is picked in SQL, not from the fleet model, so a look at one
    task (``list 42``) judges stalls as the app and ``watch`` do."""
    by_role = await _sample(store)
    out: dict[str, float] = {}
    for role, sids in by_role.items():
        gaps: list[float] = []
        for sid in sids:
            # One session at a time under the store's lock: a change's read
            # waits a fraction of a millisecond, not the whole sample.
            async with store._lock:  # noqa: SLF001
                tau = store._db.tau  # noqa: SLF001
                created = tau.schema.msg_created() if tau.conn is not None else "NULL"
                if tau.conn is None or created == "NULL":
                    return out
                try:
                    async with tau.conn.execute(
                        f"SELECT {created} FROM messages WHERE session_id = ? ORDER BY id DESC LIMIT ?",
                        (sid, SAMPLE_MESSAGES)) as cur:
                        times = [int(r[0] or 0) for r in await cur.fetchall()]
                except (aiosqlite.Error, ValueError, TypeError):
                    continue
            gaps.extend((a - b) / 1000 for a, b in zip(times, times[1:]) if a > b)
        if gaps:
            out[role] = statistics.median(gaps)
    return out


async def _sample(store: Store) -> dict[str, list[str]]:
    """Role → its newest SAMPLE_SESSIONS distinct sessions (by link time, then id).

    Per role, a top-N of its links (tau has no index on their time: each is a
    scan with a small heap, cheaper than one sort of all), one role at a time
    under the store's lock. A session linked twice in one role counts once:
    twice the sample's links are read, the distinct ones kept."""
    roles = await _read(store, "SELECT DISTINCT role FROM task_sessions", ())
    by_role: dict[str, list[str]] = {}
    for (role,) in roles:
        rows = await _read(store, "SELECT session_id FROM task_sessions WHERE role IS ? "
                                  "ORDER BY created_at DESC, session_id DESC LIMIT ?",
                           (role, 2 * SAMPLE_SESSIONS))
        got = by_role.setdefault(str(role), [])
        for (sid,) in rows:
            if len(got) < SAMPLE_SESSIONS and str(sid) not in got:
                got.append(str(sid))
    return by_role


async def _read(store: Store, sql: str, params: tuple[object, ...]) -> list[tuple[object, ...]]:
    """One query of tasks.db's task_sessions under the store's lock ([] if it cannot be read)."""
    async with store._lock:  # noqa: SLF001
        tasks = store._db.tasks  # noqa: SLF001
        if tasks.conn is None or not tasks.schema.has("task_sessions", "session_id", "role", "created_at"):
            return []
        try:
            async with tasks.conn.execute(sql, params) as cur:
                return list(await cur.fetchall())
        except aiosqlite.Error:
            return []
