"""Uploaded files: checked by content (not by name), size-limited, stored outside the web root.

Content-addressed under the instance folder (``FILE_STORE``): the SHA-256 is the file's name, so the
same upload is stored once and a stored file cannot be swapped without its hash changing.
"""

import hashlib
import os
from pathlib import Path

from flask import current_app

from procurement.errors import DomainError
from procurement.i18n import gettext as _

#: The first bytes of the kinds of file users may upload, and their media types.
SIGNATURES = ((b"%PDF-", "application/pdf"), (b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))
EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


def sniff(data: bytes) -> str | None:
    """The media type by content: PDF, JPEG or PNG; ``None`` for anything else."""
    return next((kind for magic, kind in SIGNATURES if data.startswith(magic)), None)


def _root() -> Path:
    return Path(current_app.config.get("FILE_STORE") or os.path.join(current_app.instance_path, "files"))


def _path(sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a SHA-256")
    return _root() / sha256[:2] / sha256


def check_upload(data: bytes, field: str, max_bytes: int | None = None) -> str:
    """The media type of an acceptable upload.

    Raises:
        DomainError: empty, too large, or not a PDF, JPEG or PNG by its content.
    """
    limit = max_bytes or current_app.config["MAX_UPLOAD_BYTES"]
    if not data:
        raise DomainError(_("The file is empty."), field=field)
    if len(data) > limit:
        raise DomainError(_("The file is larger than %(n)s MB.", n=limit // (1024 * 1024)), field=field)
    kind = sniff(data)
    if kind is None:
        raise DomainError(_("Only PDF, JPEG or PNG files are accepted (checked by their content)."), field=field)
    return kind


def store(data: bytes) -> str:
    """Keep ``data``; returns its SHA-256, by which it is loaded again."""
    sha256 = hashlib.sha256(data).hexdigest()
    path = _path(sha256)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".part")
        temporary.write_bytes(data)
        os.replace(temporary, path)
    return sha256


def discard(sha256: str) -> None:
    """Remove a stored file that nothing refers to any more (a missing one is no error)."""
    try:
        _path(sha256).unlink()
    except (FileNotFoundError, ValueError):
        pass


def load(sha256: str) -> bytes | None:
    try:
        return _path(sha256).read_bytes()
    except (FileNotFoundError, ValueError):
        return None
