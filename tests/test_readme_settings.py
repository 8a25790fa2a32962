"""Every setting the config file takes is in the README's one table, and the
README never sends a reader to TAU.md (it is not shipped)."""

from __future__ import annotations

import re
from pathlib import Path

from tui.command.config import KEYS
from tui.notify.settings import TABLE_KEYS, parse

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def table_rows() -> list[str]:
    section = README[README.index("## Settings: the config file"):]
    section = section[:section.index("\n## ", 1)]
    return [line for line in section.splitlines() if line.startswith("| `")]


def test_every_config_key_has_a_row_in_the_settings_table() -> None:
    rows = table_rows()
    top = {m.group(1) for r in rows if (m := re.match(r"\| `(\w+)` \|", r))}
    notify = {m.group(1) for r in rows if (m := re.match(r"\| `\[notify\]` `(\w+)` \|", r))}
    assert top == set(KEYS)
    assert notify == set(TABLE_KEYS)
    # TABLE_KEYS is what parse takes: each is known to it, anything else is not.
    for key in TABLE_KEYS:
        assert not any("unknown setting" in p for p in parse({key: None}).problems), key
    assert any("unknown setting" in p for p in parse({"no_such_key": 1}).problems)


def test_the_readme_and_help_never_send_a_reader_to_tau_md() -> None:
    from tui.ui.app import SessionTopApp
    from tui.ui.screens.help import LEGEND, sections

    assert "TAU.md" not in README
    assert "TAU.md" not in LEGEND and "TAU.md" not in repr(sections(SessionTopApp.BINDINGS))
    assert "palette" in README and "writes it into this file" in README
    assert "python -m tui.demo" in README
