"""What several test modules need: tiny dataset files, a quiet local web server, a way to
see whether a folder changed, and unreadable paths."""

import builtins
import gzip
import hashlib
import http.server
import io
import os
from pathlib import Path

import numpy as np


def idx_bytes(array) -> bytes:
    """``array`` as a gzipped IDX file, the format of MNIST and Fashion-MNIST."""
    array = np.asarray(array)
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return gzip.compress(header + array.astype(np.uint8).tobytes(), compresslevel=1, mtime=0)


def write_manifest(root: Path) -> None:
    """A ``SHA256SUMS`` in ``root`` listing every other file under it, as `sha256sum` does."""
    lines = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(root).as_posix()}\n"
             for p in sorted(root.rglob("*")) if p.is_file() and p.name != "SHA256SUMS"]
    (root / "SHA256SUMS").write_text("".join(lines), encoding="utf-8", newline="\n")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # not each request into the test output
        pass


def file_stats(folder: Path, skip: set[str] = frozenset({"__pycache__"})) -> dict:
    """{path inside ``folder``: (size, modification time)} of every file, leaving out
    subfolders named in ``skip`` at any depth. Equal before and after: nothing changed."""
    found = {}
    for parent, subfolders, files in os.walk(folder):
        subfolders[:] = [name for name in subfolders if name not in skip]
        for name in files:
            info = os.lstat(path := os.path.join(parent, name))
            found[os.path.relpath(path, folder)] = (info.st_size, info.st_mtime_ns)
    return found


def deny(monkeypatch, path: Path) -> None:
    """Make ``path`` unreadable as ``chmod 000`` does for anyone but root (tests often run
    as root, whom no permission stops): opening or listing it, or reaching inside it,
    raises the PermissionError the system would."""
    path = str(path)

    def guard(real, inside_only=False):
        def call(target, *args, **kwargs):
            name = str(target) if isinstance(target, (str, os.PathLike)) else ""
            if name.startswith(path + os.sep) or (name == path and not inside_only):
                raise PermissionError(13, "Permission denied", name)
            return real(target, *args, **kwargs)
        return call

    for module, name in ((builtins, "open"), (io, "open"), (os, "scandir"), (os, "listdir")):
        monkeypatch.setattr(module, name, guard(getattr(module, name)))
    monkeypatch.setattr(os, "stat", guard(os.stat, inside_only=True))
