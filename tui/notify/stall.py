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

from ..store import Store
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
    sessions of each role that the fleet model knows. Read-only, small: at most
    SAMPLE_SESSIONS × SAMPLE_MESSAGES rows per role, through the session index."""
    fleet = store._fleet  # noqa: SLF001 - the facade's own model
    by_role: dict[str, list[str]] = {}
    newest = sorted(((created, sid, role) for links in fleet.tasks.links.values()
                     for sid, role, created in links), reverse=True)
    for _, sid, role in newest:
        got = by_role.setdefault(role, [])
        if len(got) < SAMPLE_SESSIONS and sid not in got:
            got.append(sid)
    out: dict[str, float] = {}
    for role, sids in by_role.items():
        gaps: list[float] = []
        # One role at a time under the store's lock: the screen's reads go between.
        async with store._lock:  # noqa: SLF001
            tau = store._db.tau  # noqa: SLF001
            created = tau.schema.msg_created() if tau.conn is not None else "NULL"
            if tau.conn is None or created == "NULL":
                return out
            for sid in sids:
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
