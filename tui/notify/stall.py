"""When a live session counts as stalled: quiet too long for its role and phase.

Quiet = no message, no phase change (no streamed event, where the tracker keeps
its time) for longer than the threshold. The threshold of a role is, by
default, `factor` times the median gap between consecutive messages of that
role's sessions in the store, never under a floor (10 min), or what the config
says for the role. Phases that wait on something outside the agent (a lock, a
provider throttle, a compaction) get twice as long. A stall is a flag: nothing
is ever done to the session.
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
        override = s.stall_override_s.get(role, s.stall_override_s.get("default"))
        if override is not None:
            base = override
        else:
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
    async with store._lock:  # noqa: SLF001
        conn = store._db.tau.conn  # noqa: SLF001
        if conn is None:
            return out
        for role, sids in by_role.items():
            gaps: list[float] = []
            for sid in sids:
                try:
                    async with conn.execute(
                        "SELECT created_at FROM messages WHERE session_id = ? ORDER BY id DESC LIMIT ?",
                        (sid, SAMPLE_MESSAGES)) as cur:
                        times = [int(r[0] or 0) for r in await cur.fetchall()]
                except (aiosqlite.Error, ValueError, TypeError):
                    continue
                gaps.extend((a - b) / 1000 for a, b in zip(times, times[1:]) if a > b)
            if gaps:
                out[role] = statistics.median(gaps)
    return out
