"""Files replaced whole or not at all: a reader never sees half a file, and a failure part-way through a set
of files leaves every one of them as it was.

The general helper of every command that writes (templates, outputs.json, tune.json and tune.png, config.yaml,
init's starter files): the new content is staged in a temporary file beside its target, flushed to disk, then
swapped in with os.replace, which is atomic within one file system (or linked in, for a file that must be new).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

Content = str | bytes
# The name of a staged file starts so: not the user's, whatever error names it.
STAGED_PREFIX = ".staged-"


def write_atomically(
    path: Path, content: Content, mode: int = 0o644, check: Callable[[str], None] | None = None
) -> None:
    """Replace `path` with `content` (text is written as UTF-8, its line endings as they are) whole or not at
    all. `check(staged)`, when given, reads the staged file first: whatever it raises leaves `path` alone."""
    temporary = stage(Path(path).parent, content, mode)
    try:
        if check is not None:
            check(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def check_replaceable(target: Path) -> None:
    """Refuse, before anything is written, a target that a file cannot replace (a directory in the way)."""
    try:
        target_mode = os.lstat(target).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISDIR(target_mode):
        raise IsADirectoryError(21, "a directory is in the way of the file", str(target))


def check_writable_folder(folder: Path, names: tuple[str, ...] = ()) -> None:
    """Raise OSError now, before work whose results go to `folder`, when they could not be written there:
    `folder` (or the nearest of its parents that exists) is not a writable directory, or a directory is in
    the way of one of the files `names`. Nothing is created."""
    folder = Path(folder)
    existing = folder
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise NotADirectoryError(20, "not a directory", str(existing))
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(13, "not writable", str(existing))
    for name in names:
        check_replaceable(folder / name)


@contextlib.contextmanager
def folder_made(folder: Path) -> Iterator[Path]:
    """`folder`, with the parents it lacks, made for the block; when the block fails, the folders it made are
    removed again (those still empty), so a failed write leaves no trace."""
    folder = Path(folder)
    missing = []
    step = folder
    while not os.path.lexists(step) and step != step.parent:
        missing.append(step)
        step = step.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        yield folder
    except BaseException:
        for made in missing:  # deepest first
            with contextlib.suppress(OSError):
                os.rmdir(made)
        raise


class FileTransaction:
    """File replacements and removals in one folder that all happen, or are all undone.

    `with FileTransaction(folder) as files: files.replace(a, text); files.replace(b, data)`: an exception
    inside the block (or from a replacement) puts every earlier file back as it was. Each file replaced or
    removed is first kept as a hard link (a copy where links are not allowed) until the block ends."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._undo: list[tuple[Path, str | None]] = []  # (target, its kept previous content, or None: it was new)
        self._temporaries: list[str] = []

    def __enter__(self) -> FileTransaction:
        return self

    def replace(self, target: Path, content: Content, mode: int = 0o644) -> None:
        temporary = stage(self.folder, content, mode)
        self._temporaries.append(temporary)
        self._undo.append((Path(target), self._keep(Path(target))))
        os.replace(temporary, target)

    def create(self, target: Path, content: Content, mode: int = 0o644) -> None:
        """As replace, for a file that must not exist: FileExistsError, and that file left alone, when one does,
        however it got there since anyone looked (no check-then-write gap)."""
        temporary = stage(self.folder, content, mode)
        self._temporaries.append(temporary)
        try:
            os.link(temporary, target)  # atomic, and never over an existing name (a dangling link included)
        except FileExistsError:
            raise
        except OSError:  # no hard links on this file system: claim the name, then fill it
            os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, mode))
            self._undo.append((Path(target), None))
            os.replace(temporary, target)
            return
        self._undo.append((Path(target), None))

    def remove(self, target: Path) -> None:
        self._undo.append((Path(target), self._keep(Path(target))))
        os.unlink(target)

    def _keep(self, target: Path) -> str | None:
        if not os.path.lexists(target):
            return None
        kept = str(self.folder / f".previous-{uuid.uuid4().hex}.tmp")
        try:
            os.link(target, kept, follow_symlinks=False)
        except OSError:
            shutil.copy2(target, kept, follow_symlinks=False)
        self._temporaries.append(kept)
        return kept

    def __exit__(self, error_type: type[BaseException] | None, *_: object) -> None:
        try:
            if error_type is not None:
                for target, kept in reversed(self._undo):
                    with contextlib.suppress(OSError):
                        if kept is None:
                            os.unlink(target)
                        else:
                            os.replace(kept, target)
        finally:
            for temporary in self._temporaries:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temporary)


def stage(folder: Path, content: Content, mode: int = 0o644) -> str:
    """`content` in a new file in `folder` (beside its target), flushed to disk; its name, for os.replace."""
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=STAGED_PREFIX, suffix=".tmp")
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
    except BaseException:
        os.unlink(temporary)
        raise
    return temporary
