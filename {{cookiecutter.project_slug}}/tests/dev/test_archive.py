"""Unpacking a model archive: plain files land, anything that could escape is refused.

These run on every Python the project claims, 3.11.2 included (the template's own tests run
them there): the checks must not lean on tarfile's extraction filters (3.11.4+).
"""

from __future__ import annotations

import io
import stat
import tarfile
from pathlib import Path

import pytest

from {{ cookiecutter.__package }}.dev.archive import UnsafeArchiveError, unpack


def _tar(path: Path, *members: tuple[tarfile.TarInfo, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for info, data in members:
            info.size = len(data) if info.isfile() else 0
            archive.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return path


def _file(name: str, data: bytes = b"x", mode: int = 0o644) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.mode = mode
    return info, data


def _special(name: str, kind: bytes, link: str = "") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info, b""


def test_files_and_directories_unpack(tmp_path: Path) -> None:
    directory = tarfile.TarInfo("code")
    directory.type = tarfile.DIRTYPE
    tar = _tar(
        tmp_path / "model.tar.gz",
        (directory, b""),
        _file("model.joblib", b"weights"),
        _file("code/inference.py", b"def model_fn(d): ..."),
    )
    target = tmp_path / "out"
    written = unpack(tar, target)
    assert sorted(p.relative_to(target).as_posix() for p in written) == [
        "code/inference.py",
        "model.joblib",
    ]
    assert (target / "model.joblib").read_bytes() == b"weights"


def test_a_file_object_unpacks_too(tmp_path: Path) -> None:
    tar = _tar(tmp_path / "model.tar.gz", _file("model.joblib", b"weights"))
    unpack(io.BytesIO(tar.read_bytes()), tmp_path / "out")
    assert (tmp_path / "out" / "model.joblib").read_bytes() == b"weights"


def test_mode_bits_are_not_taken_from_the_archive(tmp_path: Path) -> None:
    tar = _tar(tmp_path / "model.tar.gz", _file("run", b"#!/bin/sh", mode=0o4777))
    unpack(tar, tmp_path / "out")
    mode = (tmp_path / "out" / "run").stat().st_mode
    assert not mode & (stat.S_ISUID | stat.S_ISGID)


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        pytest.param(_file("/etc/evil"), "absolute path", id="absolute"),
        pytest.param(_file("C:/evil"), "absolute path", id="windows-drive"),
        pytest.param(_file("code/../../evil"), "'..'", id="parent"),
        pytest.param(_special("link", tarfile.SYMTYPE, "/etc/passwd"), "a link", id="symlink"),
        pytest.param(_special("hard", tarfile.LNKTYPE, "model.joblib"), "a link", id="hardlink"),
        pytest.param(_special("fifo", tarfile.FIFOTYPE), "special file", id="fifo"),
        pytest.param(_special("dev", tarfile.CHRTYPE), "special file", id="device"),
    ],
)
def test_escaping_members_are_refused_before_anything_is_written(
    tmp_path: Path, member: tuple[tarfile.TarInfo, bytes], reason: str
) -> None:
    tar = _tar(tmp_path / "model.tar.gz", _file("model.joblib"), member)
    target = tmp_path / "deep" / "out"
    with pytest.raises(UnsafeArchiveError, match=reason):
        unpack(tar, target)
    assert list(target.iterdir()) == []
    assert not (tmp_path / "evil").exists()
