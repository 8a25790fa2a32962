"""The command line's options, checked before anything starts: one line per mistake.

A value that cannot work (``--poll nan``, ``--speed 0``, a data directory that
does not exist) is refused at once with one line saying why and what to do,
instead of a dashboard that says "The store cannot be read" forever.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

from .. import __version__
from .config import Config
from ..model.groups import SORTS

#: Sensible ranges: a poll faster than this costs a core for nothing, slower
#: than an hour is no dashboard; the demo's speed factor likewise.
POLL_RANGE = (0.05, 3600.0)
SPEED_RANGE = (0.01, 1000.0)
#: ``--demo-hosts``: each is a demo fleet and a feed process of its own.
DEMO_HOSTS_MAX = 8


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a mistake is one line on stderr (no usage block), status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def bounded(name: str, low: float, high: float):  # type: ignore[no-untyped-def]
    """An argparse type: a finite number within [low, high]."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} needs a number, not {text!r}") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{name} must be a number from {low:g} to {high:g}, not {text!r}")
        return value

    return parse


def commands_epilog(commands: Mapping[str, str]) -> str | None:
    """The subcommands, one line each, under the flags of ``--help``."""
    if not commands:
        return None
    width = max(len(name) for name in commands)
    lines = [f"  sessiontop {name:<{width}}  {text}" for name, text in commands.items()]
    return ("commands (no terminal needed; `sessiontop COMMAND --help` for theirs):\n"
            + "\n".join(lines))


def build_parser(commands: Mapping[str, str] | None = None) -> OneLineParser:
    """``commands``: the subcommands (name → what it does) that ``--help`` lists."""
    parser = OneLineParser(
        prog="sessiontop",
        description="A live terminal dashboard of tau agent sessions: which task, which phase, "
        "how each turn ended. Reads tau's SQLite store read-only and redraws when it changes. "
        "Settings: $XDG_CONFIG_HOME/sessiontop/config.toml (flags override it).",
        epilog=commands_epilog(commands or {}),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="tau's data directory (default: $XDG_DATA_HOME/tau, else "
                             "~/.local/share/tau). With --demo: where the demo store is kept.")
    parser.add_argument("--runtime-dir", type=Path, default=None,
                        help="tau's runtime directory holding its socket tau.sock (default: "
                             "$XDG_RUNTIME_DIR/tau, else ~/.tau, else /tmp/tau-*/)")
    parser.add_argument("--demo", action="store_true",
                        help="run on a built-in demo fleet that writes a tau-shaped store")
    parser.add_argument("--demo-hosts", type=int, default=0, metavar="N", choices=range(0, DEMO_HOSTS_MAX + 1),
                        help=f"demo: N more hosts beside this machine, each a demo fleet of its own "
                             f"behind a local `sessiontop feed` (1-{DEMO_HOSTS_MAX}; implies --demo)")
    parser.add_argument("--host", action="append", default=None, metavar="NAME",
                        help="show this host (repeatable): a [hosts.NAME] of the config file, or an "
                             "ssh destination (default: every [hosts.NAME])")
    parser.add_argument("--no-local", action="store_true",
                        help="leave this machine out (show the hosts only)")
    parser.add_argument("--seed", type=int, default=7, help="demo: random seed (default 7)")
    parser.add_argument("--speed", type=bounded("--speed", *SPEED_RANGE), default=1.0,
                        help="demo: speed factor (default 1)")
    parser.add_argument("--poll", type=bounded("--poll", *POLL_RANGE), default=None, metavar="SECONDS",
                        help="poll every SECONDS instead of watching for file events "
                             "(for filesystems that send no events)")
    parser.add_argument("--theme", default=None, help="colour theme (ctrl+p lists them)")
    parser.add_argument("--sort", choices=SORTS, default=None, help="the task list's first sort")
    parser.add_argument("--mouse", action=argparse.BooleanOptionalAction, default=None,
                        help="mouse reports (--no-mouse: the terminal's own text selection)")
    parser.add_argument("--config", type=Path, default=None, metavar="FILE",
                        help="the config file (default: $XDG_CONFIG_HOME/sessiontop/config.toml)")
    parser.add_argument("--version", action="version", version=f"sessiontop {__version__}")
    return parser


def parse_args(argv: list[str] | None = None,
               commands: Mapping[str, str] | None = None) -> argparse.Namespace:
    args = build_parser(commands).parse_args(argv)
    if args.demo_hosts:
        args.demo = True
    return args


def merge(args: argparse.Namespace, config: Config) -> Config:
    """The config file's settings with the flags given on top."""
    return replace(
        config,
        theme=args.theme or config.theme,
        sort=args.sort or config.sort,
        mouse=config.mouse if args.mouse is None else args.mouse,
        poll=args.poll if args.poll is not None else config.poll,
    )


def missing_store(data_dir: Path, *, explicit: bool) -> str | None:
    """Why ``data_dir`` cannot be tau's data directory (one line), else None."""
    if data_dir.is_dir():
        return None
    if data_dir.exists():
        return f"{data_dir} is not a directory"
    where = "" if explicit else " (tau's default data directory: tau has not run here)"
    return (f"{data_dir} does not exist{where}. Start tau (its server creates it), "
            f"pass --data-dir with tau's data directory, or try `sessiontop --demo`")


#: Where the dashboard's place is taken by a command for scripts.
FOR_SCRIPTS = "for scripts: `sessiontop list`, `sessiontop watch`"
STREAMS = ("stdin", "stdout", "stderr")


def no_terminal(environ: Mapping[str, str] | None = None) -> str | None:
    """Why the dashboard cannot run here (one line), else None.

    It reads keys from stdin and draws on stderr (Textual's way), and a
    dashboard piped into another program is a mistake: all three must be a
    terminal. A terminal that says it cannot move the cursor (TERM=dumb: an
    editor's shell buffer) would get a full-colour screen it cannot show.
    """
    for name in STREAMS:
        stream = getattr(sys, name)
        try:
            tty = stream is not None and stream.isatty()
        except (AttributeError, ValueError):  # closed or not a file
            tty = False
        if not tty:
            return f"the dashboard needs a terminal, and {name} is not one ({FOR_SCRIPTS})"
    term = (os.environ if environ is None else environ).get("TERM", "")
    if term == "dumb":
        return f"the dashboard needs a terminal that draws a full screen, not TERM=dumb ({FOR_SCRIPTS})"
    return None


def fail(message: str) -> int:
    """Say ``message`` on one line; the status of a usage mistake."""
    print(f"sessiontop: {message}", file=sys.stderr)
    return 2
