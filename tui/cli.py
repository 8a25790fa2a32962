"""The `sessiontop` command: find the store (or make a demo one) and run the app."""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from .command.config import Config, ConfigError
from .command.config import load as load_config
from .command.options import fail, merge, missing_store, no_terminal, parse_args
from .scripts import HELP as SCRIPTS_HELP
from .tau.paths import default_data_dir, default_runtime_dir, find_socket
from .ui.exits import LEAVING, Terminated, exit_status

#: The subcommands: no terminal, no Textual. Name → (what it does, the
#: "module:function" run with the arguments after the name). `sessiontop
#: --help` lists them; one more is one line here.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "list": (SCRIPTS_HELP["list"], "tui.scripts:list_main"),  # issue 12: for scripts
    "watch": (SCRIPTS_HELP["watch"], "tui.scripts:watch_main"),
    # issue 23: this host's tau for a remote sessiontop (tui/remote)
    "feed": ("serve this host's tau to a remote sessiontop (run over ssh)", "tui.remote.feed:main"),
}


def run_subcommand(name: str, argv: list[str]) -> int:
    module, function = SUBCOMMANDS[name][1].split(":")
    return int(getattr(importlib.import_module(module), function)(argv))


def main(argv: list[str] | None = None) -> int:
    script_argv = sys.argv[1:] if argv is None else argv
    if script_argv and script_argv[0] in SUBCOMMANDS:
        return run_subcommand(script_argv[0], script_argv[1:])
    args = parse_args(argv, {name: text for name, (text, _) in SUBCOMMANDS.items()})
    try:
        config = merge(args, load_config(args.config))
    except ConfigError as exc:
        return fail(str(exc))
    if not args.demo:
        problem = missing_store(args.data_dir or default_data_dir(), explicit=args.data_dir is not None)
        if problem:
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
    from .notify.settings import demo_table
    from .ui.app import SessionTopApp
    from .tau.store import Store

    fleet = None
    temp_dir: Path | None = None
    forget: Callable[[], None] = lambda: None
    status, gone = 0, False
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
            fleet = DemoFleet(data_dir, seed=args.seed, speed=args.speed)
            fleet.start()
            runtime_dir: Path | None = fleet.runtime_dir
            # A made-up fleet rings no bell and sends nothing to the desktop or
            # to the operator's notify_command (toasts and `!` as usual).
            config = replace(config, notify=demo_table(config.notify))
        else:
            data_dir = args.data_dir or default_data_dir()
            runtime_dir = args.runtime_dir or default_runtime_dir()
        # Without XDG_RUNTIME_DIR and HOME, tau's runtime dir is per process:
        # look for its socket anew each time the server is sought.
        socket = None if runtime_dir is not None else (lambda: find_socket(None))
        # The [notify] table goes on in app.config.notify (tui.notify parses it).
        app = SessionTopApp(Store(data_dir, runtime_dir, socket=socket), poll=config.poll,
                            config=config)
        # The app hears a signal from here (one that comes first waits for it).
        LEAVING.unwind = False
        try:
            app.run(mouse=config.mouse)
        except OSError:
            if not app.output_gone:
                raise
        status, gone = app.return_code or 0, app.output_gone
        if gone:
            _silence()  # nothing more can be said; nor may a flush at exit fail
    finally:
        # A signal now lets this finish (the deadline still holds).
        LEAVING.unwind = False
        if fleet is not None:
            fleet.stop()
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)
            forget()
    if args.demo and args.data_dir is not None and not gone:
        print(f"The demo store is kept in {args.data_dir}")
    return status


def _silence() -> None:
    """Point stdout and stderr at /dev/null: the terminal they wrote to is gone."""
    null = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        os.dup2(null, fd)
    os.close(null)


if __name__ == "__main__":
    sys.exit(main())
