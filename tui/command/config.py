"""sessiontop's config file: ``$XDG_CONFIG_HOME/sessiontop/config.toml``.

```toml
theme = "textual-light"   # the colour theme (the one last chosen in ctrl+p is kept here)
sort = "priority"         # the task list's first sort: activity, priority, id, state
reverse = false           # that sort reversed
mouse = true              # false: no mouse reports (the terminal's own text selection, fewer bytes)
poll = 2.0                # seconds: poll instead of watching for file events
paused = false            # start with live refresh paused (p resumes)

[notify]                  # passed on as it is to the notifications (tui.notify.settings)
bell = false

[hosts.gpu1]              # a remote host, shown beside this machine (tui.command.hosts_config)
ssh = "me@gpu1"
```
Read with the standard library's tomllib. One policy for every key, the
``[notify]`` table's and the hosts' too: a file that is not TOML, or any value
that cannot work, is a `ConfigError`, one line naming the file, the line and
why, and sessiontop refuses to start on it (the dashboard, list and watch
alike). Command-line flags override the file. No Textual here.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model.groups import SORTS
from ..notify.settings import parse as parse_notify
from .config_file import ConfigError, config_path, line_of, loads, read
from .hosts_config import HostEntry, parse_hosts

__all__ = ["KEYS", "Config", "ConfigError", "config_path", "load", "parse", "remember_theme"]

#: The top-level keys, and what each must be.
KEYS = ("theme", "sort", "reverse", "mouse", "poll", "paused")
POLL_RANGE = (0.05, 3600.0)
_THEME_LINE = re.compile(r"^\s*theme\s*=")
_TABLE_LINE = re.compile(r"^\s*\[")
#: The key a `tui.notify.settings.parse` problem is about ("notify.bell must be …").
_NOTIFY_KEY = re.compile(r"^notify\.([A-Za-z0-9_-]+)")


@dataclass(frozen=True, slots=True)
class Config:
    theme: str | None = None
    sort: str | None = None
    reverse: bool = False
    mouse: bool = True
    poll: float | None = None
    paused: bool = False
    #: The raw ``[notify]`` table, for `tui.notify.settings.parse`.
    notify: Mapping[str, Any] = field(default_factory=dict)
    #: The ``[hosts.NAME]`` tables: remote hosts shown beside this machine.
    hosts: tuple[HostEntry, ...] = ()
    #: Where it was read from (also where a chosen theme is kept).
    path: Path | None = None


def parse(text: str, path: Path) -> Config:
    """The settings in ``text`` (the file at ``path``); ConfigError if unusable."""
    data = loads(text, path)

    def at(line: int | None, why: str) -> ConfigError:
        return ConfigError(f"{path}" + (f" line {line}" if line else "") + f": {why}")

    def bad(key: str, why: str) -> ConfigError:
        return at(line_of(text, key), f"{key} {why}")

    out: dict[str, Any] = {"path": path}
    for key, value in data.items():
        if key == "notify":
            if not isinstance(value, dict):
                raise bad(key, "must be a table ([notify])")
            problems = parse_notify(value).problems  # as a bad top-level value: refused
            if problems:
                found = _NOTIFY_KEY.match(problems[0])  # its line, else [notify]'s
                raise at(line_of(text, found.group(1) if found else "", "notify") or line_of(text, "notify"),
                         problems[0])
            out["notify"] = value
        elif key == "hosts":
            out["hosts"] = parse_hosts(value, text, lambda line, why: at(line or line_of(text, "hosts"), why))
        elif key == "theme":
            if not isinstance(value, str) or not value.strip():
                raise bad(key, "must be a theme's name in quotes")
            out[key] = value.strip()
        elif key == "sort":
            if value not in SORTS:
                raise bad(key, f"must be one of {', '.join(SORTS)}, not {value!r}")
            out[key] = value
        elif key in ("reverse", "mouse", "paused"):
            if not isinstance(value, bool):
                raise bad(key, "must be true or false")
            out[key] = value
        elif key == "poll":
            low, high = POLL_RANGE
            if (isinstance(value, bool) or not isinstance(value, (int, float))
                    or not math.isfinite(value) or not low <= value <= high):
                raise bad(key, f"must be a number of seconds from {low:g} to {high:g}")
            out[key] = float(value)
        else:
            raise bad(key, f"is not a setting (known: {', '.join(KEYS)}, [notify], [hosts.NAME])")
    return Config(**out)


def load(path: Path | None = None) -> Config:
    """The config file's settings (the defaults if there is none)."""
    path = config_path() if path is None else path
    text = read(path)
    return Config(path=path) if text is None else parse(text, path)


def remember_theme(path: Path, theme: str) -> None:
    """Keep ``theme`` in the file: its ``theme =`` line is replaced (or one
    added at the top); every other line, comments too, stays as it was."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    except FileNotFoundError:
        lines = []
    entry = f"theme = {_quoted(theme)}\n"
    for i, line in enumerate(lines):
        if _TABLE_LINE.match(line):
            break  # past the top-level keys: none was the theme
        if _THEME_LINE.match(line):
            lines[i] = entry
            break
    if entry not in lines:
        lines.insert(0, entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(lines), encoding="utf-8")
    os.replace(tmp, path)


def _quoted(text: str) -> str:
    """A TOML basic string."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in escaped) + '"'
