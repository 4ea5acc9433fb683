"""Writing output files whole or not at all.

A baseline is a file in the user's repository, a durations file is shared by every CI shard, and a report
is what a failed release is judged by: a full disk, a vanished folder or a Ctrl-C in the middle of writing
one must leave the previous version as it was, never half of a new one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


def write_atomically(path: Path, data: str | bytes, *, errors: str = "strict") -> None:
    """Write ``data`` (text as UTF-8) to ``path``: into a temporary file beside it, synced, then renamed over
    it. On any failure the temporary file is removed and ``path`` is untouched; the OSError says which
    file."""
    with writing_atomically(path, errors=errors) as write:
        write(data)


@contextlib.contextmanager
def writing_atomically(path: Path, *, errors: str = "strict") -> Iterator[Callable[[str | bytes], None]]:
    """``write_atomically`` for a file written piece by piece: yields a ``write(text or bytes)``; the file
    appears whole when the block ends, and not at all when it raises."""
    path = Path(path)
    # The mode an existing file has, else what a plain open() gives under a usual umask.
    try:
        mode = path.stat().st_mode & 0o7777
    except OSError:
        mode = 0o644
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(descriptor, "wb") as handle:

            def write(piece: str | bytes) -> None:
                handle.write(piece.encode("utf-8", errors) if isinstance(piece, str) else piece)

            yield write
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError) and exc.filename is None:
            exc.filename = str(path)  # ENOSPC from write() names no file: name the one being written
        raise
