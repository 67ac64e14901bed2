import io
import zipfile

import pytest
from PIL import Image

from core.errors import InvalidInput, PayloadTooLarge
from core.uploads import ImageRejected, image_clean, zip_read_images


def image_bytes(fmt: str = "PNG", size=(32, 24), color=(200, 30, 90), mode="RGB", **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, format=fmt, **save)
    return out.getvalue()


def zip_bytes(entries: dict[str, bytes], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_allowed_formats_are_reencoded_as_png_without_metadata(fmt):
    clean = image_clean(raw=image_bytes(fmt), name=f"a.{fmt.lower()}")
    assert clean.format == "PNG" and clean.source_format == fmt
    assert (clean.width, clean.height) == (32, 24)
    with Image.open(io.BytesIO(clean.data)) as decoded:
        assert decoded.format == "PNG" and decoded.size == (32, 24)
        assert not decoded.info.get("exif")


def test_reencoding_is_deterministic():
    raw = image_bytes("JPEG")
    assert image_clean(raw=raw).sha256 == image_clean(raw=raw).sha256


def test_exif_orientation_is_applied_then_stripped():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° on display
    raw = image_bytes("JPEG", size=(40, 10), exif=exif.tobytes())
    clean = image_clean(raw=raw)
    assert (clean.width, clean.height) == (10, 40)


def test_empty_file_is_rejected():
    with pytest.raises(ImageRejected, match="empty"):
        image_clean(raw=b"", name="zero.png")


def test_non_image_is_rejected():
    with pytest.raises(ImageRejected, match="only PNG, JPEG and WEBP"):
        image_clean(raw=b"hello, I am text", name="notes.png")


def test_svg_is_rejected_by_name():
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    with pytest.raises(ImageRejected, match="an SVG"):
        image_clean(raw=svg, name="x.svg")


def test_gif_is_rejected():
    with pytest.raises(ImageRejected, match="only PNG, JPEG and WEBP"):
        image_clean(raw=image_bytes("GIF"))


def test_truncated_png_is_rejected():
    raw = image_bytes(size=(200, 200), color=None)
    with pytest.raises(ImageRejected, match="truncated"):
        image_clean(raw=raw[: len(raw) // 2])


def test_truncated_jpeg_is_rejected():
    raw = image_bytes("JPEG", size=(200, 200))
    with pytest.raises(ImageRejected, match="truncated|corrupt"):
        image_clean(raw=raw[: len(raw) - 40])


def test_png_decompression_bomb_is_rejected_before_decoding():
    out = io.BytesIO()
    Image.new("1", (20000, 20000)).save(out, format="PNG")
    bomb = out.getvalue()
    assert len(bomb) < 200_000  # tiny on disk, 400 megapixels when decoded
    with pytest.raises(ImageRejected, match="decompression bomb guard"):
        image_clean(raw=bomb, name="bomb.png")


def test_png_with_a_zip_appended_is_rejected_as_a_polyglot():
    polyglot = image_bytes() + zip_bytes({"evil.html": b"<b>hi</b>"})
    with pytest.raises(ImageRejected, match="polyglot"):
        image_clean(raw=polyglot)


def test_jpeg_with_html_appended_is_rejected_as_a_polyglot():
    with pytest.raises(ImageRejected, match="polyglot"):
        image_clean(raw=image_bytes("JPEG") + b"<html><script>alert(1)</script></html>")


def test_png_with_script_in_a_text_chunk_is_rejected():
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<script>alert(document.cookie)</script>")
    with pytest.raises(ImageRejected, match="markup"):
        image_clean(raw=image_bytes(pnginfo=info))


def test_oversized_upload_is_413():
    with pytest.raises(PayloadTooLarge):
        image_clean(raw=image_bytes(), max_bytes=10)


def test_zip_subfolders_become_labels_and_a_wrapper_folder_is_ignored():
    raw = zip_bytes({"set/cats/1.png": image_bytes(), "set/dogs/2.png": image_bytes(), "set/dogs/.DS_Store": b"x"})
    contents = zip_read_images(raw=raw, max_files=10, max_total_bytes=10**6)
    assert sorted((m.label, m.name) for m in contents.members) == [("cats", "cats/1.png"), ("dogs", "dogs/2.png")]
    assert contents.skipped == [{"name": "dogs/.DS_Store", "reason": "hidden or system file"}]


def test_flat_zip_has_no_labels():
    contents = zip_read_images(raw=zip_bytes({"1.png": image_bytes()}), max_files=10, max_total_bytes=10**6)
    assert [m.label for m in contents.members] == [""]


@pytest.mark.parametrize("name", ["../evil.png", "a/../../evil.png", "/etc/passwd", "C:\\x.png", "a\\..\\b.png"])
def test_zip_with_path_traversal_names_is_rejected(name):
    with pytest.raises(InvalidInput, match="unsafe path|escapes"):
        zip_read_images(raw=zip_bytes({name: image_bytes()}), max_files=10, max_total_bytes=10**6)


def test_empty_zip_is_rejected():
    with pytest.raises(InvalidInput, match="empty"):
        zip_read_images(raw=zip_bytes({}), max_files=10, max_total_bytes=10**6)


def test_not_a_zip_is_rejected():
    with pytest.raises(InvalidInput, match="not a valid zip"):
        zip_read_images(raw=b"PK\x03\x04garbage", max_files=10, max_total_bytes=10**6)


def test_zip_bomb_is_rejected_by_ratio():
    raw = zip_bytes({"zeros.png": b"\0" * 5_000_000})
    with pytest.raises(InvalidInput, match="zip bomb"):
        zip_read_images(raw=raw, max_files=10, max_total_bytes=10**8)


def test_zip_expanding_past_the_total_limit_is_413():
    raw = zip_bytes({"a.png": bytes(range(256)) * 40}, compression=zipfile.ZIP_STORED)
    with pytest.raises(PayloadTooLarge):
        zip_read_images(raw=raw, max_files=10, max_total_bytes=1000)


def test_zip_whose_headers_understate_the_size_is_rejected_not_trusted():
    raw = zip_bytes({"a.png": bytes(range(256)) * 40}, compression=zipfile.ZIP_STORED)
    lying = raw.replace((10240).to_bytes(4, "little"), (100).to_bytes(4, "little"))  # claims 100 bytes
    with pytest.raises(InvalidInput, match="corrupt"):
        zip_read_images(raw=lying, max_files=10, max_total_bytes=10**6)


def test_zip_with_too_many_files_is_413():
    raw = zip_bytes({f"{i}.png": image_bytes() for i in range(5)})
    with pytest.raises(PayloadTooLarge):
        zip_read_images(raw=raw, max_files=4, max_total_bytes=10**6)


def test_symlink_in_zip_is_rejected():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        link = zipfile.ZipInfo("link.png")
        link.external_attr = 0o120777 << 16
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(InvalidInput, match="symbolic link"):
        zip_read_images(raw=out.getvalue(), max_files=10, max_total_bytes=10**6)
