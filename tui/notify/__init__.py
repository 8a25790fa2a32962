"""Telling the operator when it matters: one engine, several sinks.

- observe: a plain picture of the fleet (tasks, their sessions' TaskSessionInfo,
  the server) taken from the same store and tracker the screens use
- stall: when a live session has been quiet too long for its role and phase
- engine: transitions between two pictures (the first is the baseline)
- settings: the ``[notify]`` table of the config file
- terminal, hook: the terminal's own notification (OSC 9 / 777, bell) and the
  command hook

No Textual here: the app and the ``watch`` command both feed the engine.
"""
