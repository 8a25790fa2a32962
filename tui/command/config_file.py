"""Where sessiontop's config file is, the TOML in it, and the line a key is on.

No settings here: `tui.command.config` reads the top-level keys and the tables
(a value that cannot work refuses the start, `ConfigError`), and
`tui.notify.settings` reads the ``[notify]`` table for the engine. Both find
and read the file through this module, which imports neither.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_TABLE_LINE = re.compile(r"^\s*\[")


class ConfigError(Exception):
    """The config file cannot be used; the message is one line."""


def config_path(env: Mapping[str, str] = os.environ) -> Path:
    """Under $XDG_CONFIG_HOME, else ~/.config (an empty variable counts as unset)."""
    base = env.get("XDG_CONFIG_HOME")
    if not base:
        base = str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base) / "sessiontop" / "config.toml"


def loads(text: str, path: Path) -> dict[str, Any]:
    """The TOML in ``text``; ConfigError (naming ``path`` and the line) if it is not TOML."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {' '.join(str(exc).split())}") from None


def read(path: Path) -> str | None:
    """The file's text; None if there is none; ConfigError if it cannot be read."""
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: {' '.join(str(exc).split())}") from None


def line_of(text: str, key: str, table: str | None = None) -> int | None:
    """The line (1-based) where ``key`` is set: at the top, or in ``[table]``
    (else the table's own line); for the error message."""
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    header = re.compile(rf"^\s*\[\s*{re.escape(table)}\s*\]") if table else None
    inside = table is None
    found: int | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if _TABLE_LINE.match(line):
            if inside and table is None:
                return None  # past the top-level keys
            inside = bool(header and header.match(line))
            if inside:
                found = number
            continue
        if inside and pattern.match(line):
            return number
    return found
