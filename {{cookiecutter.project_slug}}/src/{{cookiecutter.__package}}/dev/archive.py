"""Unpack a model.tar.gz as the serving container does, refusing members that could escape.

The emulator and the serving tests unpack model archives to load their hooks. `tarfile`'s
extraction filters (`extractall(filter="data")`) arrived in Python 3.12 and 3.11.4; this project
claims 3.11, whose earlier releases (Debian 12 ships 3.11.2) lack them. So the checks are ours and
the same on every version: only directories and regular files, no absolute names, no `..`,
nothing outside the target. The files are written by hand, so no mode bits (setuid), owner or
link is ever taken from the archive. Imports only the standard library (the serving tests run
in the scikit-learn image's environment too).
"""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import IO


class UnsafeArchiveError(ValueError):
    """A member of the archive would be written outside the target, or is not a plain file."""


def unpack(source: Path | IO[bytes], target: Path) -> list[Path]:
    """Unpack a (gzipped) tar of directories and regular files into `target`; return the files."""
    target.mkdir(parents=True, exist_ok=True)
    root = target.resolve()
    given = {"name": source} if isinstance(source, Path) else {"fileobj": source}
    written: list[Path] = []
    with tarfile.open(mode="r:*", **given) as archive:
        # Check every member before writing any, so a refused archive leaves nothing behind.
        members = [(member, destination(root, member)) for member in archive.getmembers()]
        for member, path in members:
            if member.isdir():
                path.mkdir(parents=True, exist_ok=True)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            stream = archive.extractfile(member)
            if stream is None:  # unreachable for regular files; keeps the type checker honest
                raise UnsafeArchiveError(f"{member.name}: has no content to read")
            with stream, path.open("wb") as out:
                shutil.copyfileobj(stream, out)
            written.append(path)
    return written


def destination(root: Path, member: tarfile.TarInfo) -> Path:
    """Where `member` goes under `root`, or UnsafeArchiveError when it must not be written."""
    if not (member.isfile() or member.isdir()):
        kind = "link" if member.issym() or member.islnk() else "special file"
        raise UnsafeArchiveError(f"{member.name}: a {kind}; only files and directories unpack")
    name = PurePosixPath(member.name)
    # A Windows anchor ("C:", "\\") is absolute to whoever unpacks it there.
    if name.is_absolute() or PureWindowsPath(member.name).anchor:
        raise UnsafeArchiveError(f"{member.name}: an absolute path")
    if ".." in name.parts:
        raise UnsafeArchiveError(f"{member.name}: leaves the target through '..'")
    path = (root / name).resolve()
    if path != root and root not in path.parents:
        raise UnsafeArchiveError(f"{member.name}: resolves outside {root}")
    return path
