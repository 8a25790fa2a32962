"""The `sessiontop` command: find the store (or make a demo one) and run the app."""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from .command.config import Config, ConfigError
from .command.config import load as load_config
from .command.options import fail, merge, missing_store, parse_args
from .tau.paths import default_data_dir, default_runtime_dir, find_socket


class Terminated(Exception):
    """SIGTERM or SIGHUP outside the app's event loop (while starting or
    stopping the demo): unwind through the ``finally`` that cleans up."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum: int, _frame: object) -> None:
    raise Terminated(signum)


def _catch_exit_signals() -> None:
    """Outside the app's loop a signal unwinds (inside it, the app quits)."""
    from .ui.terminal import EXIT_SIGNALS

    for sig in EXIT_SIGNALS:
        signal.signal(sig, _raise_terminated)


def main(argv: list[str] | None = None) -> int:
    # issue 12: `sessiontop list` / `watch`, for scripts: no Textual on that path (tui/scripts).
    script_argv = sys.argv[1:] if argv is None else argv
    if script_argv[:1] == ["feed"]:  # issue 23: this host's tau for a remote sessiontop (tui/remote)
        from .remote.feed import main as feed_main
        return feed_main(script_argv[1:])
    if script_argv and script_argv[0] in ("list", "watch"):
        from .scripts import main as scripts_main
        return scripts_main(script_argv)
    args = parse_args(argv)
    try:
        config = merge(args, load_config(args.config))
    except ConfigError as exc:
        return fail(str(exc))
    if not args.demo:
        problem = missing_store(args.data_dir or default_data_dir(), explicit=args.data_dir is not None)
        if problem:
            return fail(problem)
    from .ui.terminal import exit_status

    _catch_exit_signals()
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
    status = 0
    try:
        if args.demo:
            from .demo import DemoFleet

            if args.data_dir is None:
                temp_dir = Path(tempfile.mkdtemp(prefix="sessiontop-demo-"))
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
        try:
            app.run(mouse=config.mouse)
        except KeyboardInterrupt:
            pass
        status = app.return_code or 0
    finally:
        # The app's own signal handlers are gone now: a signal here unwinds too.
        _catch_exit_signals()
        if fleet is not None:
            fleet.stop()
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)
    if args.demo and args.data_dir is not None:
        print(f"The demo store is kept in {args.data_dir}")
    return status


if __name__ == "__main__":
    sys.exit(main())
