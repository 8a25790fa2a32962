"""``sessiontop list`` and ``sessiontop watch``: the fleet for scripts.

No Textual on this path (a script has no terminal, and must start at once):
these modules import the store, the engine and the standard library only.

Exit status: 0 done; 1 the store cannot be read, or a task asked for is not
there; 2 a usage mistake. Each failure is one line on stderr with its reason.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from ..command.config import ConfigError
from ..command.config import load as load_config
from ..command.hosts_config import HostEntry, pick
from ..command.options import OneLineParser
from ..tau.paths import default_data_dir

#: What each command does (its --help, and `sessiontop --help`).
HELP = {
    "list": "print each task with its sessions, then exit",
    "watch": "print one line per transition until interrupted",
}

def parse(argv: list[str]) -> argparse.Namespace:
    parser = OneLineParser(prog="sessiontop", description="tau's fleet, for scripts")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in HELP.items():
        p = sub.add_parser(name, help=text, description=text)
        p.add_argument("--json", action="store_true", help="JSON (list: one document; watch: one object a line)")
        p.add_argument("--data-dir", type=Path, default=None,
                       help="tau's data directory (default: $XDG_DATA_HOME/tau, else ~/.local/share/tau)")
        p.add_argument("--runtime-dir", type=Path, default=None,
                       help="tau's runtime directory holding tau.sock (default: $XDG_RUNTIME_DIR/tau, "
                            "else ~/.tau, else /tmp/tau-*/)")
        p.add_argument("--host", action="append", default=None, metavar="NAME",
                       help="this host too (repeatable): a [hosts.NAME] of the config file, or an ssh "
                            "destination (default: every [hosts.NAME]); each task and line says its host")
        p.add_argument("--no-local", action="store_true", help="leave this machine out (the hosts only)")
        if name == "list":
            p.add_argument("task_ids", nargs="*", type=int, metavar="TASK_ID", help="only these tasks")
        else:
            p.add_argument("--since", default=None, metavar="WHEN",
                           help="first replay what the store can tell since WHEN (10m, 2h, 1d, "
                                "unix seconds or an ISO date)")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    """``argv``: the command's name, then its arguments."""
    args = parse(argv)
    try:
        args.hosts = hosts_for(args)
    except (ConfigError, ValueError) as exc:
        print(f"sessiontop: {exc}", file=sys.stderr)
        return 2
    if args.hosts and not args.no_local and args.data_dir is None and not default_data_dir().exists():
        # As the dashboard does: a machine without tau is no reason to refuse the hosts.
        args.no_local = True
        print(f"sessiontop: this machine has no tau ({default_data_dir()} does not exist): the hosts only",
              file=sys.stderr)
    try:
        if args.command == "list" and args.hosts:  # issue 23: every host's tasks, each saying its host
            from .hosts import run_list_hosts
            return asyncio.run(run_list_hosts(args))
        if args.command == "list":
            from .listing import run_list
            return asyncio.run(run_list(args))
        from .watching import run_watch
        return asyncio.run(run_watch(args))
    except KeyboardInterrupt:
        return 0
    except BrokenPipeError:  # `sessiontop watch | head`: the reader has had enough
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def hosts_for(args: argparse.Namespace) -> tuple[HostEntry, ...]:
    """The hosts shown beside this machine: ``--host``, else the config's
    ``[hosts.NAME]`` (as the dashboard shows them); ValueError for a mistake."""
    hosts = pick(load_config().hosts, args.host)
    if args.no_local and not hosts:
        raise ValueError("--no-local leaves nothing: name a host (--host NAME, or [hosts.NAME] in the config)")
    return hosts


def list_main(argv: list[str]) -> int:
    """``sessiontop list ARGS`` (``argv``: the arguments after ``list``)."""
    return main(["list", *argv])


def watch_main(argv: list[str]) -> int:
    """``sessiontop watch ARGS`` (``argv``: the arguments after ``watch``)."""
    return main(["watch", *argv])
