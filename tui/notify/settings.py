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
`parse` says what is wrong with each bad value (in ``problems``) and keeps
its default. The config file's reader, `tui.command.config`, refuses a file
with any problem at start, in one line naming the file and the line, as it
refuses a bad top-level value: one policy for every key. `load` is the
engine's own look at the table (``sessiontop feed`` on a host, the scripts'
stall rule), which keeps the defaults and says why. The file is
``$XDG_CONFIG_HOME/sessiontop/config.toml`` (else ``~/.config/sessiontop/config.toml``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..command.config_file import ConfigError, config_path, loads, read

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
    """The ``[notify]`` settings of the config file (the defaults if there is
    none). A file that cannot be read keeps the defaults: its one-line error
    becomes a problem (the dashboard and the scripts never get this far with
    one: `tui.command.config` refused it at start)."""
    path = config_path() if path is None else path
    try:
        text = read(path)
        table = loads(text, path).get("notify") if text is not None else None
    except ConfigError as exc:
        return NotifySettings(problems=(str(exc),))
    if table is not None and not isinstance(table, Mapping):
        return NotifySettings(problems=(f"{path}: notify must be a table ([notify])",))
    return parse(table)
