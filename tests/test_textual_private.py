"""The private Textual names sessiontop leans on are in one module, and a change
in Textual under them fails here, loudly, before it fails an operator.

`tui.ui.textual_private` copies Textual 8.2.8's input thread and leans on its
parser's half-read state, its writer thread's queue, its binding check, its
driver and its footer's keys. Each source it mirrors is pinned by its hash:
an upgrade that changes one fails the first test with the name to re-read.
The others check the shapes themselves (what the copy reads and writes), and
that no other module of `tui/` imports a private Textual name.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import inspect
import queue
from pathlib import Path

from textual._xterm_parser import XTermParser
from textual.drivers._writer_thread import WriterThread

from tests.conftest import FIXED_NOW
from tests.harness import make_app, screen_strips, wait_for_text, wait_until
from tests.storekit import StoreKit
from tui.ui import textual_private
from tui.ui.textual_private import MIRRORED, EscAwareParser, FooterKey, character_to_key

TUI = Path(__file__).resolve().parent.parent / "tui"


def _source_of(dotted: str) -> str:
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for name in parts[i:]:
            obj = getattr(obj, name)
        return inspect.getsource(obj)
    raise ImportError(dotted)


def test_the_mirrored_textual_sources_are_the_ones_copied() -> None:
    changed = [name for name, digest in MIRRORED.items()
               if hashlib.sha256(_source_of(name).encode()).hexdigest() != digest]
    assert not changed, (
        f"Textual changed under tui/ui/textual_private.py: {changed}. Re-read each, carry the change "
        "into the copy (SessionTopDriver.run_input_thread mirrors LinuxDriver's), then pin the new hash.")


def test_the_parser_says_when_a_sequence_is_half_read() -> None:
    """The input thread blocks without a timeout unless the parser holds half a
    sequence (its private `_timeout_time`); a lone Esc must set it, and a tick
    after the delay turn it into the Esc key."""
    parser = EscAwareParser()
    assert parser._timeout_time is None  # noqa: SLF001
    assert list(parser.feed("\x1b")) == []
    assert parser._timeout_time is not None  # noqa: SLF001
    parser._timeout_time = 0  # noqa: SLF001 - the escape delay has passed
    assert [e.key for e in parser.tick()] == ["escape"]
    # Esc then "/" within the delay: one Alt key, which tui.ui.terminal splits again
    parser = EscAwareParser()
    assert list(parser.feed("\x1b/")) == [] and parser._timeout_time is not None  # noqa: SLF001
    parser._timeout_time = 0  # noqa: SLF001
    assert [e.key for e in parser.tick()] == ["alt+slash"]
    assert issubclass(EscAwareParser, XTermParser) and character_to_key("/") == "slash"


def test_the_writer_thread_takes_its_work_from_a_queue_that_none_stops() -> None:
    """SessionTopDriver puts text (and None, to stop) on the writer thread's
    queue itself, so as never to wait on a terminal that is gone."""
    class Sink:
        def __init__(self) -> None:
            self.out: list[str] = []

        def write(self, text: str) -> None:
            self.out.append(text)

        def flush(self) -> None:
            pass

    sink = Sink()
    writer = WriterThread(sink)  # type: ignore[arg-type]
    assert isinstance(writer._queue, queue.Queue)  # noqa: SLF001
    writer.start()
    writer._queue.put("drawn")  # noqa: SLF001
    writer._queue.put(None)  # noqa: SLF001
    writer.join(5)
    assert not writer.is_alive() and "".join(sink.out) == "drawn"


async def test_the_footer_keys_and_the_screen_read_as_sessiontop_reads_them(fleet: StoreKit) -> None:
    app = make_app(fleet, clock=lambda: FIXED_NOW)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for_text(pilot, app, "Review the watcher debounce")
        # (the footer recomposes when the bindings change, a focus moving: wait for it)
        await wait_until(pilot, lambda: {k.action for k in app.screen.query(FooterKey)} >= {"quit", "help"},
                         what="the footer's keys")
        keys = list(app.screen.query(FooterKey))
        assert all(isinstance(k.key_display, str) and isinstance(k.description, str) for k in keys)
        assert app._driver is not None  # noqa: SLF001 - write_to_terminal's way to the terminal
        strips = screen_strips(app)  # the harness's one private read
        assert len(strips) == 30 and "sessiontop" in strips[0].text


def test_no_other_module_of_tui_imports_a_private_textual_name() -> None:
    """Private Textual names (a module or a name starting with "_") are imported
    by tui/ui/textual_private.py only."""
    offenders = []
    for path in TUI.rglob("*.py"):
        if path.name == "textual_private.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("textual"):
                private = any(part.startswith("_") for part in (node.module or "").split("."))
                private = private or any(alias.name.startswith("_") for alias in node.names)
                if private:
                    offenders.append(f"{path.relative_to(TUI.parent)}: from {node.module} import ...")
    assert not offenders, offenders
    assert textual_private.__doc__ and "8.2.8" in textual_private.__doc__
