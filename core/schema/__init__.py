"""The database schema, shipped inside the package so an installed Marquee can migrate.

``migrations/`` holds the numbered files applied once each, ``functions/`` the
function definitions applied again whenever they change; ``core.migrations``
reads both with ``importlib.resources`` and explains the rules.
"""
