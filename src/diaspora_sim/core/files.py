"""Writing files and folders atomically, and never destroying what this tool did not write.

Every folder the tool writes holds a ``manifest.json`` naming the package, the kind of folder
(``run``, ``validation-report``, ...) and the files it wrote. An output path may be

- a path that does not exist (its missing parent folders are created);
- an empty folder (replaced by the new folder);
- with ``overwrite``, a folder this tool wrote as the same kind, holding nothing but the
  files its manifest lists.

Anything else (a file, a device, a link, a user's folder, a folder with files added by hand)
is refused with an :class:`~diaspora_sim.core.errors.InputError` before any work is done, and again at the moment the
new folder is renamed into place.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import InputError, input_error

MANIFEST = "manifest.json"
NAME_MAX = 200
"""Longest folder or file name written, in bytes (file systems allow 255; temporary names add a suffix)."""
PACKAGE = "diaspora_sim"


def _refused(message: str) -> InputError:
    return input_error(message, what="output path")


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of a folder this tool wrote, or None (no manifest, unreadable, or another tool's)."""
    try:
        doc = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return doc if isinstance(doc, dict) and doc.get("package") == PACKAGE else None


def _listing(folder: Path) -> set[str]:
    """Every file below `folder`, as paths relative to it (folders left out)."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if not p.is_dir() or p.is_symlink()}


def check_output_folder(out: Path, *, kind: str, overwrite: bool = False, option: str = "--out") -> None:
    """Raise InputError unless the folder `out` may be written as a folder of `kind` (module docstring)."""
    out = Path(out)
    if len(out.name.encode()) > NAME_MAX:
        raise _refused(f"{option} {out}: the name is longer than {NAME_MAX} bytes; give a shorter one")
    if not os.path.lexists(out):
        for parent in out.parents:
            if os.path.lexists(parent) and not parent.is_dir():
                raise _refused(f"{option} {out}: {parent} exists and is not a folder")
            if parent.is_dir():
                if not os.access(parent, os.W_OK | os.X_OK):
                    raise _refused(f"{option} {out}: cannot create it in {parent} (permission denied)")
                break
        return
    if out.is_symlink() or not out.is_dir():
        raise _refused(f"{option} {out}: exists and is not a folder; give a new path (nothing was written)")
    entries = list(out.iterdir())
    if not entries:
        return
    manifest = read_manifest(out)
    if manifest is None or manifest.get("kind", kind) != kind:
        what = "a folder this tool did not write" if manifest is None else f"a {manifest.get('kind')} folder"
        raise _refused(f"{option} {out}: exists and is {what}; give a new path (nothing was written)")
    if not overwrite:
        raise _refused(f"{option} {out}: exists (a {kind} folder written earlier); pass --overwrite to replace it, "
                          "or give a new path")
    foreign = sorted(_listing(out) - set(manifest.get("files", [])) - {MANIFEST})
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise _refused(f"{option} {out}: holds files this tool did not write ({shown}); it is not replaced "
                          "(move them away, or give a new path)")


def write_folder(
    out: Path,
    fill: Callable[[Path], dict[str, Any]],
    *,
    kind: str,
    overwrite: bool = False,
    option: str = "--out",
) -> Path:
    """Write the folder `out` atomically: `fill(tmp)` writes the files into a temporary folder beside
    `out` and returns the manifest's content, to which the package, the kind and the list of files
    are added; the folder is then renamed into place. A failure leaves nothing behind, and only an
    empty folder or (with `overwrite`) an earlier folder of the same kind is ever replaced.
    """
    out = Path(out)
    check_output_folder(out, kind=kind, overwrite=overwrite, option=option)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    except OSError as exc:
        raise _refused(f"{option} {out}: cannot write there: {os_reason(exc)}; nothing was written") from None
    try:
        doc = fill(tmp)
        files = sorted(_listing(tmp) | {MANIFEST})
        doc = {"package": PACKAGE, "kind": kind, **doc, "files": files}
        (tmp / MANIFEST).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        check_output_folder(out, kind=kind, overwrite=overwrite, option=option)  # again: it may have changed
        if os.path.lexists(out) and any(out.iterdir()):
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, old / "folder")
            os.replace(tmp, out)
            shutil.rmtree(old)
        else:
            os.replace(tmp, out)  # onto nothing, or onto an empty folder
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _refused(f"{option} {out}: writing failed: {os_reason(exc)}; nothing was written") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def check_output_file(out: Path, *, overwrite: bool = False, option: str = "--out") -> None:
    """Raise InputError unless the single file `out` may be written: a new path (its folder
    creatable), or with `overwrite` an existing regular file. A folder, a link or a device is refused.
    """
    out = Path(out)
    if not os.path.lexists(out):
        check_output_folder(out, kind="file", option=option)  # the same checks of the name and the parents
        return
    if out.is_symlink() or not out.is_file():
        raise _refused(f"{option} {out}: exists and is not a regular file; give a new path (nothing was written)")
    if not overwrite:
        raise _refused(f"{option} {out}: exists; pass --overwrite to replace it, or give a new path")


def write_file(out: Path, write: Callable[[Path], Any], *, overwrite: bool = False, option: str = "--out") -> Path:
    """Write the single file `out` atomically: `write(tmp)` writes a temporary file beside it (same
    suffix), which is then renamed into place; a failure leaves nothing behind (checks as
    :func:`check_output_file`).
    """
    out = Path(out)
    check_output_file(out, overwrite=overwrite, option=option)
    tmp = out.with_name(f".{out.stem}.tmp-{os.getpid()}{out.suffix}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write(tmp)
        check_output_file(out, overwrite=overwrite, option=option)  # again: it may have changed meanwhile
        os.replace(tmp, out)
    except OSError as exc:
        raise _refused(f"{option} {out}: writing failed: {os_reason(exc)}; nothing was written") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return out


def os_reason(exc: OSError) -> str:
    """What an operating-system error means for the user (a full disk said plainly)."""
    if exc.errno == errno.ENOSPC:
        return "the disk is full (no space left on device)"
    if exc.errno == errno.EDQUOT:
        return "the disk quota is exceeded"
    return exc.strerror or str(exc)


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder and an atomic rename.

    A failure (a full disk, a permission) raises the OSError and leaves neither the temporary file
    nor a partial `path` behind.
    """
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
