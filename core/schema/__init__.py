"""The database schema, shipped inside the package so an installed Marquee can migrate.

``migrations/`` holds the numbered SQL files that ``core.migrations`` applies once
each; they are read with ``importlib.resources``, never from a source checkout.
"""
