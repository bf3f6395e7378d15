"""One module per ``marquee`` sub-command; each has ``register(subparsers)``.

A handler is ``handler(args, settings) -> int``; it raises ``bot.cli.CommandError``
for an expected failure.
"""
