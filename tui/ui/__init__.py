"""The screen: the Textual app, its screens and widgets, and the terminal.

- app: one app over a source of snapshots; app_settings, commands: theme and palette
- screens, widgets: what is drawn (they never open a database, a socket or a link)
- terminal: keys and signals; format: short human forms of times and counts; heap: GC schedule
"""
