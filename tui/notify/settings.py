"""The ``[notify]`` table of sessiontop's config file, parsed and checked.

```toml
[notify]
toast = true            # a toast in the app
osc9 = true             # the terminal's notification, OSC 9 (iTerm2, kitty, WezTerm, …)
osc777 = false          # OSC 777 (urxvt, foot, VTE terminals)
bell = true             # BEL
notify_command = "notify-send sessiontop \"$SESSIONTOP_MESSAGE\""
command_timeout = 10    # s, then the command is killed
events = ["exit", "review", "approval", "failed", "stall", "queued", "server"]  # which kinds notify
repeat_seconds = 10     # the bell, OSC and command at most once per kind in this time (0: each)
stall_factor = 5        # a stall: this many times the role's median gap…
stall_floor_minutes = 10  # …and never less than this
stall_minutes = { default = 20, worker = 30, "worker/compacting" = 60 }  # overrides both
queued_minutes = 10     # a message waiting this long for a session not running
```
A bad value is reported as a problem and the default kept: a typo never stops
the dashboard. The file is ``$XDG_CONFIG_HOME/sessiontop/config.toml`` (else
``~/.config/sessiontop/config.toml``), read by `tui.command.config`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The kinds of notification (see `tui.notify.engine`).
KINDS = ("exit", "review", "approval", "failed", "stall", "queued", "server")
#: The keys of the ``[notify]`` table (README.md documents each, in "Settings").
TABLE_KEYS = ("toast", "osc9", "osc777", "bell", "notify_command", "command_timeout", "events",
              "repeat_seconds", "stall_factor", "stall_floor_minutes", "stall_minutes",
              "queued_minutes")
#: The bell, the terminal's notification and the command: at most once per kind
#: in this many seconds (the rest of a burst go out as one, `tui.notify.throttle`).
REPEAT_S = 10.0
#: The demo's fleet is made up: it never rings the bell, pops a desktop
#: notification or runs the operator's command, whatever the config file says
#: (toasts and `!` as usual). Laid over the ``[notify]`` table by `demo_table`.
DEMO_OFF = {"osc9": False, "osc777": False, "bell": False, "notify_command": ""}
#: Kinds the demo does not tell unless the config file's ``events`` names
#: them: its made-up queue is for watching, not for toasts.
DEMO_QUIET = frozenset({"queued"})
#: A message waiting this long for a session that is not running is told (s).
QUEUED_AFTER_S = 600.0


@dataclass(frozen=True, slots=True)
class NotifySettings:
    toast: bool = True
    osc9: bool = True
    osc777: bool = False
    bell: bool = True
    command: str | None = None
    command_timeout: float = 10.0
    kinds: frozenset[str] = frozenset(KINDS)
    stall_factor: float = 5.0
    stall_floor_s: float = 600.0
    stall_override_s: Mapping[str, float] = field(default_factory=dict)
    repeat_s: float = REPEAT_S
    queued_after_s: float = QUEUED_AFTER_S
    problems: tuple[str, ...] = ()


def parse(table: Mapping[str, Any] | None) -> NotifySettings:
    """Settings from the raw ``[notify]`` table (None or {}: the defaults)."""
    table = dict(table or {})
    problems: list[str] = []
    out: dict[str, Any] = {}

    def flag(key: str) -> None:
        if key in table:
            v = table.pop(key)
            if isinstance(v, bool):
                out[key] = v
            else:
                problems.append(f"notify.{key} must be true or false")

    def number(key: str, name: str, scale: float = 1.0) -> None:
        if key in table:
            v = table.pop(key)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0:
                out[name] = float(v) * scale
            else:
                problems.append(f"notify.{key} must be a positive number")

    for key in ("toast", "osc9", "osc777", "bell"):
        flag(key)
    if "notify_command" in table:
        v = table.pop("notify_command")
        if isinstance(v, str) and v.strip():
            out["command"] = v
        elif v not in ("", None):
            problems.append("notify.notify_command must be a string")
    number("command_timeout", "command_timeout")
    if "repeat_seconds" in table:
        v = table.pop("repeat_seconds")
        if isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 86_400:
            out["repeat_s"] = float(v)
        else:
            problems.append("notify.repeat_seconds must be a number of seconds from 0 to 86400")
    number("stall_factor", "stall_factor")
    number("stall_floor_minutes", "stall_floor_s", 60.0)
    number("queued_minutes", "queued_after_s", 60.0)
    if "events" in table:
        v = table.pop("events")
        if isinstance(v, list) and all(isinstance(x, str) for x in v):
            unknown = [x for x in v if x not in KINDS]
            if unknown:
                problems.append(f"notify.events: unknown {', '.join(unknown)} (known: {', '.join(KINDS)})")
            out["kinds"] = frozenset(x for x in v if x in KINDS)
        else:
            problems.append("notify.events must be a list of strings")
    if "stall_minutes" in table:
        v = table.pop("stall_minutes")
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0:
            out["stall_override_s"] = {"default": float(v) * 60}
        elif isinstance(v, Mapping):
            good = {str(k): float(m) * 60 for k, m in v.items()
                    if isinstance(m, (int, float)) and not isinstance(m, bool) and m > 0}
            if len(good) != len(v):
                problems.append("notify.stall_minutes: each value must be a positive number")
            out["stall_override_s"] = good
        else:
            problems.append("notify.stall_minutes must be a number or a table of role = minutes")
    for key in table:
        problems.append(f"notify.{key}: unknown setting")
    return NotifySettings(problems=tuple(problems), **out)


def demo_table(table: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``[notify]`` table for ``--demo``: the operator's, with `DEMO_OFF` over
    it, and `DEMO_QUIET` kinds off unless its ``events`` names them."""
    out = {**dict(table or {}), **DEMO_OFF}
    out.setdefault("events", [k for k in KINDS if k not in DEMO_QUIET])
    return out


def load(path: Path | None = None) -> NotifySettings:
    """The ``[notify]`` settings of the config file (`tui.command.config` reads it; the
    defaults if there is none). A broken file never stops us: its one-line
    error becomes a problem, told as a toast."""
    from ..command.config import ConfigError
    from ..command.config import load as load_config

    try:
        return parse(load_config(path).notify)
    except ConfigError as exc:
        return NotifySettings(problems=(str(exc),))
