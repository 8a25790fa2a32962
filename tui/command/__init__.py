"""The command line's settings: flags (options) and the config file (config)."""
