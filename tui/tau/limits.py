"""tau's ``subscription_usage`` push: the rate-limit windows of an OAuth install.

tau's server refreshes Anthropic's usage every 300 s and pushes it to every
subscriber (bg_jobs/refresh_subscription_usage.rs ``run``: one copy per
subscribed session), as ``{"type":"subscription_usage","usage":{…}}`` with
``SubscriptionUsage`` (tau-agent-base subscription_usage.rs): ``five_hour``,
``seven_day``, ``seven_day_sonnet``, ``seven_day_opus`` (each a ``UsageBucket``
of ``utilization``, a percentage 0-100 as the API gives it, and ``resets_at``,
an RFC 3339 string; every field may be null), and ``extra_usage``
(``is_enabled``, ``monthly_limit``, ``used_credits``). It is never asked for:
``get_subscription_usage`` may call Anthropic with the operator's token.

A bucket without a utilization is skipped, as tau's own footer does
(protocol.rs ``format_usage_bucket``). Pure functions, no I/O.
"""

from __future__ import annotations

from datetime import datetime

from ..model.snapshots import RateLimits, UsageWindow

#: tau's buckets, in its footer's order, and how the screen names them.
BUCKETS = (("five_hour", "5h"), ("seven_day", "7d"), ("seven_day_sonnet", "sonnet 7d"),
           ("seven_day_opus", "opus 7d"))


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if value == value and abs(value) < 1e12 else None  # not NaN, not absurd


def reset_time(text: object) -> float | None:
    """An RFC 3339 time (``2026-01-01T16:00:00Z``, ``…+00:00``, fractions) in s."""
    if not isinstance(text, str) or not text or len(text) > 64:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:  # tau's are UTC; a bare one is taken as such
        return None
    return when.timestamp()


def parse_usage(obj: dict[str, object], now_s: float) -> RateLimits | None:
    """The push's windows; None when it carries none (tau then shows nothing)."""
    usage = obj.get("usage")
    if not isinstance(usage, dict):
        return None
    windows: list[UsageWindow] = []
    for key, label in BUCKETS:
        bucket = usage.get(key)
        if not isinstance(bucket, dict):
            continue
        used = _number(bucket.get("utilization"))
        if used is None:
            continue
        windows.append(UsageWindow(label, used, reset_time(bucket.get("resets_at"))))
    extra = usage.get("extra_usage")
    enabled, limit, spent = False, None, None
    if isinstance(extra, dict):
        enabled = extra.get("is_enabled") is True
        limit, spent = _number(extra.get("monthly_limit")), _number(extra.get("used_credits"))
    if not windows and not enabled:
        return None
    return RateLimits(windows=tuple(windows), received_at=now_s, extra_enabled=enabled,
                      extra_limit=limit, extra_used=spent)


def same_figures(a: RateLimits | None, b: RateLimits | None) -> bool:
    """The same windows and extra usage (whenever each arrived)."""
    if a is None or b is None:
        return a is b
    return (a.windows, a.extra_enabled, a.extra_limit, a.extra_used) == \
        (b.windows, b.extra_enabled, b.extra_limit, b.extra_used)
