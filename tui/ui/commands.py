"""Command palette entries: jump to a task by id or title; the themes, with
the one in use marked."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher
from textual.theme import ThemeProvider

from ..model.hosts import task_label
from ..model.snapshots import TaskRow
from ..model.text import one_line
from .screens.base import dashboard


def _name(task: TaskRow) -> str:
    """"#42", or "gpu1 #42" where rows carry their host (the host's name is data)."""
    return one_line(task_label(task.host, task.id), 60)


def _highlight(matcher: Matcher, label: str) -> Content:
    """``matcher.highlight`` without its markup parsing: a task title such as
    ``[@click=app.quit]`` must show as written, not become an action."""
    content = Content(label)
    for offset in matcher.fuzzy_search.match(matcher.query, label)[1]:
        if not label[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


class TaskCommands(Provider):
    """Every task of the last snapshot, as "#id title" ("gpu1 #id title" with hosts)."""

    def _tasks(self) -> tuple[TaskRow, ...]:
        from .screens.tasks import TaskListScreen

        for screen in self.app.screen_stack:
            if isinstance(screen, TaskListScreen) and screen.snapshot is not None:
                return screen.snapshot.tasks
        return ()

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for task in self._tasks():
            name = _name(task)
            label = f"{name} {one_line(task.title, 80)}  [{one_line(task.state, 12)}]"
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, _highlight(matcher, label), partial(self._jump, task.id, task.host),
                          text=label, help=f"open task {name}")

    async def discover(self) -> Hits:
        for task in list(self._tasks())[:20]:
            label = f"{_name(task)} {one_line(task.title, 80)}"
            yield Hit(1.0, Content(label), partial(self._jump, task.id, task.host), text=label,
                      help="open task")

    def _jump(self, task_id: int, host: str = "") -> None:
        from .screens.tasks import TaskListScreen

        app = self.app
        while len(app.screen_stack) > 2 and not isinstance(app.screen, TaskListScreen):
            app.pop_screen()
        if isinstance(app.screen, TaskListScreen):
            app.screen.select_task(task_id, host)
        dashboard(app).open_task(task_id, host)


#: What follows the name of the theme in use in the theme picker.
CURRENT_MARK = "  ✓ in use"


class ThemeCommands(ThemeProvider):
    """Textual's theme picker, with the theme in use marked and listed first:
    an operator trying themes sees where they started from."""

    async def discover(self) -> Hits:
        current = self.app.theme
        for name, callback in sorted(self.commands, key=lambda c: c[0] != current):
            label = name + CURRENT_MARK if name == current else name
            yield DiscoveryHit(Content(label), callback, text=name,
                               help="the theme in use" if name == current else None)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        current = self.app.theme
        for name, callback in self.commands:
            score = matcher.match(name)
            if score > 0:
                label = matcher.highlight(name)
                if name == current:
                    label = label + Content(CURRENT_MARK)
                yield Hit(score, label, callback, text=name)
