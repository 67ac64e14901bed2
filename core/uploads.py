"""Hostile-upload handling shared by datasets, gallery uploads, commission references and verification.

An uploaded image is sniffed by its magic bytes (PNG, JPEG, WEBP only: SVG, GIF, HTML and everything else are
refused), its declared size is checked against a pixel cap *before* decoding (decompression bombs), it is
checked for data hidden after the image's logical end or markup in its metadata (polyglots), fully decoded
(truncated files fail here), and re-encoded without metadata, so what we store is pixels we produced ourselves.
Zip archives are read without trusting their headers: traversal names, links, encryption, too many files, too
many bytes and suspicious compression ratios are refused.
"""

import hashlib
import io
import posixpath
import stat
import warnings
import zipfile
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageOps

from core.errors import CommonError, InvalidInput, PayloadTooLarge

ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP")
DEFAULT_MAX_PIXELS = 40_000_000  # 40 MP: larger than any artwork we serve, far below a bomb
DEFAULT_MAX_BYTES = 25 * 1024 * 1024
MARKUP_SIGNATURES = (b"<script", b"<html", b"<svg", b"<?php", b"<!doctype", b"<iframe", b"javascript:")
# Some encoders pad a JPEG after its end-of-image marker with a few zero bytes; anything else is hidden data.
TRAILING_SLACK = 16


def upload_size_check(upload: Any, *, max_bytes: int) -> None:
    """Refuse an uploaded file by its size before reading it into memory (PayloadTooLarge, 413)."""
    if upload.size is not None and upload.size > max_bytes:
        raise PayloadTooLarge(f"The file is {upload.size} bytes; the limit is {max_bytes}.", max_bytes=max_bytes)


class ImageRejected(InvalidInput):
    code = CommonError.INVALID_IMAGE
    title = "Invalid image"


@dataclass(frozen=True)
class CleanImage:
    data: bytes  # the re-encoded file
    format: str  # of `data`
    width: int
    height: int
    sha256: str  # of `data`
    original_sha256: str  # of the upload as received
    source_format: str


def _sniff(raw: bytes) -> str | None:
    if raw.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if raw.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if len(raw) >= 12 and raw[:4] == b"RIFF" and raw[8:12] == b"WEBP":
        return "WEBP"
    return None


def _png_end(raw: bytes) -> int:
    offset = 8
    while offset + 8 <= len(raw):
        length = int.from_bytes(raw[offset : offset + 4], "big")
        kind = raw[offset + 4 : offset + 8]
        offset += 12 + length
        if kind == b"IEND":
            return offset
    raise ImageRejected("The PNG file is truncated (no IEND chunk).")


def _jpeg_end(raw: bytes) -> int:
    """Walk the marker segments and entropy-coded scans to the real end-of-image marker."""
    offset, size = 2, len(raw)
    while offset + 2 <= size:
        if raw[offset] != 0xFF:
            raise ImageRejected("The JPEG file is corrupt (bad marker).")
        marker = raw[offset + 1]
        if marker == 0xFF:  # fill byte
            offset += 1
            continue
        if marker == 0xD9:
            return offset + 2
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            offset += 2
            continue
        if offset + 4 > size:
            break
        length = int.from_bytes(raw[offset + 2 : offset + 4], "big")
        offset += 2 + length
        if marker == 0xDA:  # start of scan: skip entropy-coded data to the next real marker
            while offset + 1 < size:
                if raw[offset] == 0xFF and raw[offset + 1] != 0x00 and not 0xD0 <= raw[offset + 1] <= 0xD7:
                    break
                offset += 1
    raise ImageRejected("The JPEG file is truncated (no end-of-image marker).")


def _webp_end(raw: bytes) -> int:
    return 8 + int.from_bytes(raw[4:8], "little")


def _reject_hidden_payloads(raw: bytes, kind: str, name: str) -> None:
    end = {"PNG": _png_end, "JPEG": _jpeg_end, "WEBP": _webp_end}[kind](raw)
    trailing = raw[end:]
    if len(trailing) > TRAILING_SLACK or trailing.strip(b"\x00"):
        raise ImageRejected(f"{name}: {len(trailing)} bytes of data follow the end of the image (a polyglot file).")
    lowered = raw.lower()
    for signature in MARKUP_SIGNATURES:
        if signature in lowered:
            raise ImageRejected(f"{name}: markup ({signature.decode()}…) is embedded in the image.")


def image_clean(
    *,
    raw: bytes,
    name: str = "upload",
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    output_format: str = "PNG",
) -> CleanImage:
    """Validate an uploaded image and return it re-encoded; raise ImageRejected/PayloadTooLarge with the reason."""
    if not raw:
        raise ImageRejected(f"{name}: the file is empty.")
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"{name}: {len(raw)} bytes is over the {max_bytes}-byte limit.")
    kind = _sniff(raw)
    if kind is None:
        head = raw[:256].lstrip().lower()
        what = "an SVG" if b"<svg" in head or head.startswith(b"<?xml") else "not a PNG, JPEG or WEBP image"
        raise ImageRejected(f"{name}: {what}; only PNG, JPEG and WEBP are accepted.")
    _reject_hidden_payloads(raw, kind, name)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(raw), formats=ALLOWED_FORMATS) as probe:
                width, height = probe.size
                if width * height > max_pixels:
                    raise ImageRejected(
                        f"{name}: {width}×{height} pixels is over the {max_pixels}-pixel limit "
                        "(decompression bomb guard)."
                    )
                probe.verify()
            with Image.open(io.BytesIO(raw), formats=ALLOWED_FORMATS) as image:
                image.load()
                image = ImageOps.exif_transpose(image)
                has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
                image = image.convert("RGBA" if has_alpha and output_format == "PNG" else "RGB")
                out = io.BytesIO()
                save_args = {"optimize": False} if output_format == "PNG" else {"quality": 92}
                image.save(out, format=output_format, **save_args)
        except ImageRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageRejected(f"{name}: too many pixels (decompression bomb guard).") from None
        except (OSError, SyntaxError, ValueError, Image.UnidentifiedImageError) as exc:
            raise ImageRejected(f"{name}: the image is truncated or corrupt ({type(exc).__name__}).") from None
    data = out.getvalue()
    return CleanImage(
        data=data,
        format=output_format,
        width=image.width,
        height=image.height,
        sha256=hashlib.sha256(data).hexdigest(),
        original_sha256=hashlib.sha256(raw).hexdigest(),
        source_format=kind,
    )


@dataclass(frozen=True)
class ZipMember:
    name: str
    label: str  # the class subfolder, "" for files at the top level
    data: bytes


@dataclass
class ZipContents:
    members: list[ZipMember] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)


def _safe_member_path(info: zipfile.ZipInfo) -> list[str]:
    name = info.filename
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise InvalidInput(f"The zip contains an unsafe path: {name!r}.", field="files", code=CommonError.UNSAFE_ZIP)
    parts = [part for part in posixpath.normpath(name).split("/") if part not in ("", ".")]
    if any(part == ".." for part in parts) or ".." in name.split("/"):
        raise InvalidInput(
            f"The zip contains a path that escapes its folder: {name!r}.", field="files", code=CommonError.UNSAFE_ZIP
        )
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise InvalidInput(f"The zip contains a symbolic link: {name!r}.", field="files", code=CommonError.UNSAFE_ZIP)
    return parts


@dataclass(frozen=True)
class ZipEntry:
    info: zipfile.ZipInfo
    name: str
    label: str  # the class subfolder, "" for files at the top level


@dataclass
class ZipListing:
    entries: list[ZipEntry] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)


def zip_open(source: Any) -> zipfile.ZipFile:
    """A zip archive from bytes or a seekable binary file; InvalidInput (400) when it is not one."""
    try:
        return zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError):
        raise InvalidInput(
            "The file is not a valid zip archive.", field="files", code=CommonError.INVALID_ZIP
        ) from None


def zip_list_images(
    *, archive: zipfile.ZipFile, max_files: int, max_total_bytes: int, max_ratio: int = 200
) -> ZipListing:
    """Check a zip's directory without decompressing anything: unsafe paths, links, encryption, file count,
    declared ratio and declared total size. Top-level subfolders become labels (a single folder wrapping
    everything, as made by "compress folder", is ignored). Declared sizes can lie: reading stays capped."""
    infos = [info for info in archive.infolist() if not info.is_dir()]
    if not infos:
        raise InvalidInput("The zip archive is empty.", field="files", code=CommonError.EMPTY_ZIP)
    if len(infos) > max_files:
        raise PayloadTooLarge(f"The zip holds {len(infos)} files; the limit is {max_files}.")
    paths = [_safe_member_path(info) for info in infos]
    tops = {parts[0] for parts in paths if len(parts) > 1}
    strip_wrapper = len(tops) == 1 and all(len(parts) > 1 for parts in paths) and any(len(parts) > 2 for parts in paths)
    listing, declared = ZipListing(), 0
    for info, parts in zip(infos, paths, strict=True):
        if info.flag_bits & 0x1:
            raise InvalidInput(
                f"The zip entry {info.filename!r} is encrypted.", field="files", code=CommonError.UNSAFE_ZIP
            )
        parts = parts[1:] if strip_wrapper else parts
        display = "/".join(parts)
        if parts[-1].startswith(".") or parts[0] == "__MACOSX":
            listing.skipped.append({"name": display, "reason": "hidden or system file"})
            continue
        if len(parts) > 2:
            listing.skipped.append({"name": display, "reason": "nested deeper than one class folder"})
            continue
        if info.compress_size and info.file_size / info.compress_size > max_ratio:
            raise InvalidInput(
                f"The zip entry {display!r} expands {info.file_size // info.compress_size}×: refused as a zip bomb.",
                field="files",
                code=CommonError.ZIP_BOMB,
            )
        declared += info.file_size
        if declared > max_total_bytes:
            raise PayloadTooLarge("The zip expands beyond the total size limit.")
        listing.entries.append(ZipEntry(info=info, name=display, label=parts[0] if len(parts) == 2 else ""))
    return listing


def zip_read_images(*, raw: bytes, max_files: int, max_total_bytes: int, max_ratio: int = 200) -> ZipContents:
    """Read a zip of images without trusting its headers (zip_list_images, then every entry read capped)."""
    archive = zip_open(raw)
    listing = zip_list_images(
        archive=archive, max_files=max_files, max_total_bytes=max_total_bytes, max_ratio=max_ratio
    )
    contents, total = ZipContents(skipped=listing.skipped), 0
    for entry in listing.entries:
        data = _read_capped(archive, entry.info, limit=max_total_bytes - total)
        total += len(data)
        contents.members.append(ZipMember(name=entry.name, label=entry.label, data=data))
    return contents


def _read_capped(archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, limit: int) -> bytes:
    """Read at most `limit` bytes whatever the header claims: declared sizes can lie."""
    chunks, size = [], 0
    try:
        with archive.open(info) as handle:
            while chunk := handle.read(1 << 16):
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge("The zip expands beyond the total size limit.")
                chunks.append(chunk)
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise InvalidInput(
            f"The zip entry {info.filename!r} is corrupt ({type(exc).__name__}).",
            field="files",
            code=CommonError.INVALID_ZIP,
        ) from None
    return b"".join(chunks)
