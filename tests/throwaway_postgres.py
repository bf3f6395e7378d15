"""A PostgreSQL server that lives only as long as a test run.

Nothing such a server writes needs to survive a crash, so it need not wait for
the disk: creating and dropping a database then costs milliseconds instead of
one or two seconds, and stopping the server does not wait for a checkpoint's
fsyncs.

Its files go to memory (``/dev/shm``) when the machine has room there. On ext4,
creating a database's few hundred files right after other databases were
dropped spends about half a second in the kernel looking for an inode that was
not just freed (``recently_deleted`` in ``__ext4_new_inode``, seen with perf);
on tmpfs the same clone takes about 15 ms. The suite clones a database for
almost every test.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

THROWAWAY_SERVER_SETTINGS = (
    "ALTER SYSTEM SET fsync = off",
    "ALTER SYSTEM SET synchronous_commit = off",
    "ALTER SYSTEM SET full_page_writes = off",
    "SELECT pg_reload_conf()",
)

MEMORY_FILESYSTEM = Path("/dev/shm")
# A run's servers hold a few hundred megabytes at most; leave the rest of memory alone.
MEMORY_NEEDED_BYTES = 2 * 1024**3


def _memory_has_room() -> bool:
    try:
        return (
            os.access(MEMORY_FILESYSTEM, os.W_OK)
            and shutil.disk_usage(MEMORY_FILESYSTEM).free >= MEMORY_NEEDED_BYTES
        )
    except OSError:
        return False


@contextmanager
def server_directory(fallback: Path) -> Iterator[Path]:
    """A directory for a throwaway server's data: in memory when there is room, else ``fallback``.

    The directory in memory is removed afterwards, whatever happened; ``fallback``
    (a pytest temporary directory) is left to pytest.
    """
    if not _memory_has_room():
        yield fallback
        return
    directory = Path(tempfile.mkdtemp(prefix="marquee-test-pg-", dir=MEMORY_FILESYSTEM))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)
