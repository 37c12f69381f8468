"""Atomic file output: write to a temporary file beside the target, then rename over it.

A reader never sees a half-written file, and an interrupted job leaves either the old file or none.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from .errors import NeurofocusError

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success rename it to ``path``, on error delete it.

    The temporary name keeps the target's suffix, so libraries that choose a format by extension still work.
    """
    import tempfile  # here, not at the top: reading commands never write (tempfile imports random, shutil, bz2...)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files: give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    write_bytes_atomic(path, text.encode("utf-8"))


class OutputFolder:
    """A command's output folder whose rerun replaces the previous run's files instead of mixing with them.

    Every file the run writes is named through :meth:`path`; :meth:`finish` then removes what an earlier run wrote
    and this one did not (listed in the folder's manifest, plus any file matching ``owned`` patterns such as
    ``stack/slice_*.png``) and records this run's files. Files the commands never wrote are left alone.
    """

    MANIFEST = ".neurofocus-outputs.json"

    def __init__(self, folder: str | os.PathLike, owned: tuple[str, ...] = ()):
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise NeurofocusError("exists and is not a folder", self.folder)
        self.owned, self.written = owned, []
        import json  # here, not at the top: reading commands never write

        try:
            self.previous = [str(p) for p in json.loads((self.folder / self.MANIFEST).read_text())["files"]]
        except (OSError, ValueError, KeyError, TypeError):
            self.previous = []

    def path(self, relative: str) -> Path:
        """The path of an output file ``relative`` to the folder (recorded as this run's)."""
        self.written.append(Path(relative).as_posix())
        return self.folder / relative

    def record(self, *relative: str) -> None:
        """Record files that a library function wrote into the folder as this run's."""
        self.written += [Path(r).as_posix() for r in relative]

    def finish(self) -> None:
        """Remove the earlier run's files that this run did not write; record this run's files."""
        keep = set(self.written)
        stale = {p for p in self.previous if p not in keep}
        stale |= {q.relative_to(self.folder).as_posix() for pattern in self.owned for q in self.folder.glob(pattern)}
        for relative in sorted(stale - keep):
            target = self.folder / relative
            if ".." not in Path(relative).parts and (target.is_file() or target.is_symlink()):
                target.unlink()
                if target.parent != self.folder:
                    with contextlib.suppress(OSError):  # an emptied sub-folder goes too; a non-empty one stays
                        target.parent.rmdir()
        import json

        write_text_atomic(self.folder / self.MANIFEST, json.dumps({"files": sorted(keep)}, indent=1) + "\n")
