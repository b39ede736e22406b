"""Photo storage behind one small interface; the local-disk backend writes under settings.data_dir.

The type check reads the file's magic bytes, not the client's Content-Type, so a renamed PDF is 415.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Protocol

from app.errors import PayloadTooLarge, UnsupportedMediaType

_MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"GIF87a", "image/gif", ".gif"),
    (b"GIF89a", "image/gif", ".gif"),
)


def sniff_image(data: bytes) -> tuple[str, str] | None:
    for magic, mime, ext in _MAGIC:
        if data.startswith(magic):
            return mime, ext
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", ".webp"
    return None


def check_photo(filename: str, data: bytes, *, max_bytes: int) -> tuple[str, str]:
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"照片“{filename}”大小 {len(data)} 字节，超过上限 {max_bytes} 字节",
            field="photos",
            max_bytes=max_bytes,
        )
    kind = sniff_image(data)
    if kind is None:
        raise UnsupportedMediaType(
            f"照片“{filename}”不是支持的图片格式（JPEG、PNG、GIF、WebP）", field="photos"
        )
    return kind


class PhotoStorage(Protocol):
    def save(self, data: bytes, *, suffix: str) -> str: ...

    def open(self, key: str) -> bytes: ...


class LocalPhotoStorage:
    """Files under ``root/ab/<uuid><suffix>``; the key is the relative path."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, data: bytes, *, suffix: str) -> str:
        name = uuid.uuid4().hex
        key = f"{name[:2]}/{name}{suffix}"
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)  # atomic: a reader never sees half a photo
        return key

    def open(self, key: str) -> bytes:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError("photo key escapes the storage root")
        return path.read_bytes()


def photo_record(storage: PhotoStorage, filename: str, data: bytes, *, max_bytes: int) -> dict:  # type: ignore[type-arg]
    mime, ext = check_photo(filename, data, max_bytes=max_bytes)
    key = storage.save(data, suffix=ext)
    return {
        "key": key,
        "filename": filename,
        "content_type": mime,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
