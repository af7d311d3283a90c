"""The `artdash` command. Each command's docstring is its --help.

Settings come from ARTDASH_* environment variables (see `artdash --help`). One module per
group of commands: ``db``, ``catalog`` (demo, title, upload, members, tag), ``results``,
``discover`` (discover, annotate), ``lab`` (simulate, evaluate), ``users``, ``serve`` (serve, learn, keys), ``ops`` (backup, restore, doctor); ``base`` holds
the group itself.
"""

# each command's module is imported when the command is used (base.COMMANDS)
from artdash.cli.base import main

__all__ = ["main"]
