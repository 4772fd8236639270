"""Empty folders of their own for tests that start an embedded PostgreSQL: nothing left by an earlier run is used.

As root the server runs as an unprivileged account, which must be able to reach its folders. TMPDIR may be a
private folder (mode 700), so these live in the shared /tmp then, opened for reading (0755) and removed after.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def embedded_workspace(prefix: str) -> Iterator[Path]:
    """A new empty folder, with an empty ``server/`` in it for the server account's copies and data."""
    parent = "/tmp" if os.geteuid() == 0 else None
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        folder.chmod(0o755)
        (folder / "server").mkdir(mode=0o755)
        (folder / "server").chmod(0o755)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
