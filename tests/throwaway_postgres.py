"""Settings for a PostgreSQL server that lives only as long as a test run.

Nothing such a server writes needs to survive a crash, so it need not wait for
the disk: creating and dropping a database then costs tens of milliseconds
instead of one or two seconds, and stopping the server does not wait for a
checkpoint's fsyncs.
"""

THROWAWAY_SERVER_SETTINGS = (
    "ALTER SYSTEM SET fsync = off",
    "ALTER SYSTEM SET synchronous_commit = off",
    "ALTER SYSTEM SET full_page_writes = off",
    "SELECT pg_reload_conf()",
)
