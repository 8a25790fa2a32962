"""tau's ``subscription_usage`` push, made up for the demo fleet.

Why: an OAuth install of tau refreshes Anthropic's usage every 300 s and
pushes it to every subscriber (bg_jobs/refresh_subscription_usage.rs; the
first tick at start-up, ``TAU_REFRESH_USAGE_DELAY_SECS``, 0 by default). The
stand-in sends the same message, serialised as serde does
``SubscriptionUsage`` (every field present, ``null`` when absent), with
windows that fill as the fleet works and reset when their time comes.
"""

from __future__ import annotations

import random
from datetime import datetime, timezone
from typing import Any

#: tau's refresh interval (s, at speed 1), and the demo's first push: a few
#: seconds after start, so that a dashboard started with it has subscribed.
INTERVAL_S = 300.0
FIRST_S = 5.0
HOUR_MS = 3_600_000


def _rfc3339(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat()


class UsageWindows:
    """The 5-hour, 7-day and Opus 7-day windows of one made-up account."""

    def __init__(self, rng: random.Random, now_ms: int) -> None:
        self.rng = rng
        self.five = round(rng.uniform(35, 60), 1)
        self.five_reset = (now_ms // HOUR_MS + rng.randint(1, 4)) * HOUR_MS
        self.week = round(rng.uniform(20, 45), 1)
        self.week_reset = (now_ms // HOUR_MS + rng.randint(30, 140)) * HOUR_MS
        self.opus = round(rng.uniform(40, 70), 1)

    def message(self, now_ms: int) -> dict[str, Any]:
        """The next push: the windows a little fuller (or reset, past their time)."""
        rng = self.rng
        if now_ms >= self.five_reset:
            self.five, self.five_reset = 0.0, self.five_reset + 5 * HOUR_MS
        if now_ms >= self.week_reset:
            self.week, self.opus, self.week_reset = 0.0, 0.0, self.week_reset + 7 * 24 * HOUR_MS
        self.five = round(min(100.0, self.five + rng.uniform(1, 6)), 1)
        self.week = round(min(100.0, self.week + rng.uniform(0.2, 1)), 1)
        self.opus = round(min(100.0, self.opus + rng.uniform(0.5, 3)), 1)
        usage = {
            "five_hour": {"utilization": self.five, "resets_at": _rfc3339(self.five_reset)},
            "seven_day": {"utilization": self.week, "resets_at": _rfc3339(self.week_reset)},
            "seven_day_sonnet": None,
            "seven_day_opus": {"utilization": self.opus, "resets_at": _rfc3339(self.week_reset)},
            "extra_usage": {"is_enabled": False, "monthly_limit": None, "used_credits": None},
        }
        return {"type": "subscription_usage", "usage": usage}
