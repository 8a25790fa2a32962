"""The `sessiontop` command: find the store (or make a demo one) and run the app."""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

    from .command.config import Config

#: The subcommands: no terminal, no Textual. Name → the "module:function" run
#: with the arguments after the name; `sessiontop --help` lists them
#: (`subcommand_help`). Nothing else is imported before a subcommand runs:
#: `feed` is what every remote host pays at each connect, so it loads its own
#: modules only (not the dashboard's options, config or scripts).
SUBCOMMANDS: dict[str, str] = {
    "list": "tui.scripts:list_main",  # issue 12: for scripts
    "watch": "tui.scripts:watch_main",
    "feed": "tui.remote.feed:main",  # issue 23: this host's tau for a remote sessiontop (tui/remote)
}


def subcommand_help() -> dict[str, str]:
    """What each subcommand does, for `sessiontop --help`."""
    from .scripts import HELP

    return {**HELP, "feed": "serve this host's tau to a remote sessiontop (run over ssh)"}


def run_subcommand(name: str, argv: list[str]) -> int:
    module, function = SUBCOMMANDS[name].split(":")
    return int(getattr(importlib.import_module(module), function)(argv))


def main(argv: list[str] | None = None) -> int:
    script_argv = sys.argv[1:] if argv is None else argv
    if script_argv and script_argv[0] in SUBCOMMANDS:
        return run_subcommand(script_argv[0], script_argv[1:])
    return _dashboard(argv)


def _dashboard(argv: list[str] | None) -> int:
    """The dashboard: its options, its config, this machine's store, the app."""
    from dataclasses import replace

    from .command.config import ConfigError
    from .command.config import load as load_config
    from .command.hosts_config import pick
    from .command.options import fail, merge, missing_store, no_terminal, parse_args
    from .tau.paths import default_data_dir
    from .ui.exits import LEAVING, Terminated, exit_status

    args = parse_args(argv, subcommand_help())
    try:
        config = merge(args, load_config(args.config))
        # issue 23: the hosts shown beside this machine ([hosts.NAME], --host)
        config = replace(config, hosts=pick(config.hosts, args.host))
    except (ConfigError, ValueError) as exc:
        return fail(str(exc))
    if args.no_local and not (config.hosts or args.demo_hosts):
        return fail("--no-local leaves nothing to show: name a host (--host NAME, or [hosts.NAME] "
                    "in the config file)")
    args.no_tau = None  # why this machine is not shown yet (its status line says it; it joins once there)
    if not args.demo and not args.no_local:
        data_dir = args.data_dir or default_data_dir()
        problem = missing_store(data_dir, explicit=args.data_dir is not None)
        if problem and config.hosts and args.data_dir is None:
            args.no_tau = f"this machine has no tau ({data_dir} does not exist)"
        elif problem:
            return fail(problem)
    # Without a terminal on stdin, Textual read end-of-file again and again on a core.
    problem = no_terminal()
    if problem:
        return fail(problem)
    # From here every exit signal is heard, at every moment (tui/ui/exits.py).
    LEAVING.install()
    LEAVING.unwind = True
    try:
        return _run(args, config)
    except Terminated as exc:
        return exit_status(exc.signum)


def _run(args: argparse.Namespace, config: Config) -> int:
    """Start the demo if asked, run the app, and always clean up after it."""
    import asyncio
    import shutil
    import tempfile
    from collections.abc import Callable
    from dataclasses import replace
    from pathlib import Path

    from .notify.settings import demo_table
    from .tau.paths import default_data_dir, default_runtime_dir, find_socket
    from .tau.store import Store
    from .ui.exits import LEAVING

    fleet = None
    demo_hosts = None
    temp_dir: Path | None = None
    forget: Callable[[], None] = lambda: None
    status, gone = 0, False
    remotes: list = []
    runner: asyncio.Runner | None = None
    try:
        if args.demo:
            from .demo import DemoFleet

            if args.data_dir is None:
                temp_dir = Path(tempfile.mkdtemp(prefix="sessiontop-demo-"))
                made = temp_dir
                forget = LEAVING.last_resort(lambda: shutil.rmtree(made, ignore_errors=True))
                data_dir = temp_dir
            else:
                data_dir = args.data_dir
            if args.demo_hosts:  # each host's fleet beside this machine's (tui.hosts.build)
                from .hosts.build import DemoHosts

                demo_hosts = DemoHosts(Path(data_dir) / "hosts", args.demo_hosts, seed=args.seed,
                                       speed=args.speed)
                remotes = demo_hosts.start()
            fleet = None if args.no_local else DemoFleet(data_dir, seed=args.seed, speed=args.speed)
            if fleet is not None:
                fleet.start()
            runtime_dir: Path | None = fleet.runtime_dir if fleet is not None else None
            # A made-up fleet rings no bell and sends nothing to the desktop or
            # to the operator's notify_command (toasts and `!` as usual).
            config = replace(config, notify=demo_table(config.notify))
        else:
            data_dir = args.data_dir or default_data_dir()
            runtime_dir = args.runtime_dir or default_runtime_dir()
        # Without XDG_RUNTIME_DIR and HOME, tau's runtime dir is per process:
        # look for its socket anew each time the server is sought.
        socket = None if runtime_dir is not None else (lambda: find_socket(None))
        # (No tau here yet but hosts to show: the store waits for tau to make its directory.)
        store = None if args.no_local else Store(data_dir, runtime_dir, socket=socket)
        if config.hosts:
            from .hosts.build import remote_sources

            remotes = remotes + remote_sources(config.hosts)
        if remotes:  # every host in one view (issue 23); else this machine's store as it is
            from .hosts import Hosts

            store = Hosts(store, remotes, no_local=args.no_tau)
            # Every host's ssh starts now, on the loop the app will run on, before
            # Textual is imported: the handshakes and the feeds' own starts overlap
            # this side's (issue 23: a host's first rows come that much sooner).
            runner = asyncio.Runner()
            runner.run(_prestart(remotes))
        from .ui.app import SessionTopApp

        # The [notify] table goes on in app.config.notify (tui.notify parses it).
        app = SessionTopApp(store, poll=config.poll, config=config)
        # The app hears a signal from here (one that comes first waits for it).
        LEAVING.unwind = False
        try:
            app.run(mouse=config.mouse, loop=runner.get_loop() if runner is not None else None)
        except OSError:
            if not app.output_gone:
                raise
        status, gone = app.return_code or 0, app.output_gone
        if gone:
            _silence()  # nothing more can be said; nor may a flush at exit fail
    finally:
        # A signal now lets this finish (the deadline still holds).
        LEAVING.unwind = False
        if runner is not None:
            runner.close()
        if fleet is not None:
            fleet.stop()
        if demo_hosts is not None:
            demo_hosts.stop()
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)
            forget()
    if args.demo and args.data_dir is not None and not gone:
        print(f"The demo store is kept in {args.data_dir}")
    return status


async def _prestart(remotes: list) -> None:
    for remote in remotes:
        await remote.prestart()


def _silence() -> None:
    """Point stdout and stderr at /dev/null: the terminal they wrote to is gone."""
    import os

    null = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        os.dup2(null, fd)
    os.close(null)


if __name__ == "__main__":
    sys.exit(main())
