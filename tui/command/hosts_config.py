"""The config file's ``[hosts.NAME]`` tables (issue 23): the remote hosts to show.

```toml
[hosts.gpu1]
ssh = "me@gpu1"                      # an ssh destination or a Host alias from ~/.ssh/config
ssh_options = ["-p", "2222"]         # optional, passed to ssh before the destination
command = "~/.local/bin/sessiontop"  # optional: sessiontop on that host (default: sessiontop)
data_dir = "/srv/tau"                # optional, passed on (default: tau's default there)
runtime_dir = "/run/user/1000"       # optional, passed on
```
A value that cannot work is refused with one line naming the file and the
line, as the rest of the file is (`tui.command.config`). ``ssh_options``
that would weaken ssh's checks are refused (`tui.model.ssh_options`, which
`tui.remote.ssh` checks again).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..model.hosts import LOCAL_HOST
from ..model.ssh_options import check_ssh_options

#: The keys of a ``[hosts.NAME]`` table.
HOST_KEYS = ("ssh", "ssh_options", "command", "data_dir", "runtime_dir")
#: A host's name: shown on every row, typed in ``host:NAME`` (no spaces, no markup).
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")


@dataclass(frozen=True, slots=True)
class HostEntry:
    """One remote host: how ssh reaches it and where its sessiontop and tau are."""

    name: str
    ssh: str
    ssh_options: tuple[str, ...] = ()
    command: str = "sessiontop"
    data_dir: str | None = None
    runtime_dir: str | None = None


def check_name(name: str) -> str | None:
    """Why ``name`` cannot name a host (one line), else None."""
    if name == LOCAL_HOST:
        return f"{LOCAL_HOST!r} is this machine's name here: call the host something else"
    if not NAME.match(name):
        return (f"{name[:40]!r} is not a host name sessiontop can show: letters, digits, '.', '_' "
                f"and '-', at most 40, starting with a letter or digit")
    return None


def table_line(text: str, name: str, key: str | None = None) -> int | None:
    """The line (1-based) of ``key`` in ``[hosts.NAME]`` (its heading's line
    without a key), for the error message; None if it is not written so."""
    heading = re.compile(rf"^\s*\[\s*hosts\s*\.\s*(\"{re.escape(name)}\"|'{re.escape(name)}'|{re.escape(name)})\s*\]")
    other = re.compile(r"^\s*\[")
    assign = re.compile(rf"^\s*{re.escape(key)}\s*=") if key else None
    inside = False
    for number, line in enumerate(text.splitlines(), 1):
        if heading.match(line):
            if assign is None:
                return number
            inside = True
        elif other.match(line):
            inside = False
        elif inside and assign is not None and assign.match(line):
            return number
    return None


def parse_hosts(value: Any, text: str, fail: Callable[[int | None, str], Exception]) -> tuple[HostEntry, ...]:
    """The ``hosts`` table of the file as entries; ``fail(line, why)`` makes the error."""
    if not isinstance(value, dict):
        raise fail(None, "hosts must be tables: [hosts.NAME] with ssh = \"user@host\"")
    out = []
    for name, table in value.items():
        problem = check_name(name)
        if problem:
            raise fail(table_line(text, name), f"[hosts.{name[:40]}]: {problem}")
        if not isinstance(table, dict):
            raise fail(table_line(text, name), f"hosts.{name} must be a table ([hosts.{name}])")
        out.append(_entry(name, table, text, fail))
    return tuple(out)


def _entry(name: str, table: dict[str, Any], text: str,
           fail: Callable[[int | None, str], Exception]) -> HostEntry:
    def bad(key: str, why: str) -> Exception:
        return fail(table_line(text, name, key) or table_line(text, name), f"[hosts.{name}] {key} {why}")

    for key in table:
        if key not in HOST_KEYS:
            raise bad(key, f"is not a setting of a host (known: {', '.join(HOST_KEYS)})")
    if "ssh" not in table:
        raise fail(table_line(text, name), f"[hosts.{name}] needs ssh = \"user@host\" (or a Host alias)")
    values: dict[str, Any] = {"name": name}
    for key in ("ssh", "command", "data_dir", "runtime_dir"):
        if key not in table:
            continue
        value = table[key]
        if not isinstance(value, str) or not value.strip() or "\n" in value or "\0" in value:
            raise bad(key, "must be one line of text in quotes")
        values[key] = value.strip()
    if values["ssh"].startswith("-"):
        raise bad("ssh", "must be a destination (user@host, or a Host alias), not an option: "
                         "options go in ssh_options")
    if "ssh_options" in table:
        options = table["ssh_options"]
        if not isinstance(options, list) or not all(isinstance(o, str) and "\0" not in o for o in options):
            raise bad("ssh_options", 'must be a list of words in quotes, e.g. ["-p", "2222"]')
        try:
            check_ssh_options(options)
        except ValueError as exc:
            raise bad("ssh_options", f"refused: {str(exc).removeprefix('ssh_options: ')}") from None
        values["ssh_options"] = tuple(options)
    return HostEntry(**values)


def pick(entries: tuple[HostEntry, ...], wanted: list[str] | None) -> tuple[HostEntry, ...]:
    """The hosts to show: ``--host`` names (an entry's name, else a plain ssh
    destination, named as given), else every entry. ValueError for a name
    that can name neither."""
    if not wanted:
        return entries
    by_name = {e.name: e for e in entries}
    out: list[HostEntry] = []
    for word in wanted:
        entry = by_name.get(word)
        if entry is None:
            if word.startswith("-") or not word.strip():
                raise ValueError(f"--host {word!r}: a [hosts.NAME] of the config file, or an ssh destination")
            label = word.rsplit("@", 1)[-1]
            problem = check_name(label)
            if problem:
                raise ValueError(f"--host {word!r}: {problem}")
            entry = HostEntry(name=label, ssh=word)
        if all(e.name != entry.name for e in out):
            out.append(entry)
    return tuple(out)
