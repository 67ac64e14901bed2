"""core.media against a real S3 server (moto): the content-hash cache verifies what it hands out, re-fetches a
corrupted copy, refuses an object whose bytes do not match its row, and stays within its size bound (LRU)."""

import hashlib
import os
import time

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from core.media import MediaCache, MediaIntegrityError, media_is_remote, media_local_path, media_save_file


def stored(name: str, data: bytes) -> tuple[str, str]:
    return default_storage.save(name, ContentFile(data)), hashlib.sha256(data).hexdigest()


def test_the_filesystem_is_the_default_and_reads_the_stored_file_itself(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    assert not media_is_remote()
    name, sha = stored("a/b.bin", b"local bytes")
    assert media_local_path(name=name, sha256=sha) == tmp_path / "media" / "a" / "b.bin"


def test_a_fetched_copy_is_keyed_by_content_hash_and_reused(s3_media):
    name, sha = stored("x/model.onnx", b"model bytes" * 100)
    path = media_local_path(name=name, sha256=sha)
    assert path.name == f"{sha}.onnx" and path.read_bytes() == b"model bytes" * 100
    assert path.is_relative_to(s3_media.cache_dir)
    default_storage.delete(name)  # a hit needs no fetch
    assert media_local_path(name=name, sha256=sha) == path


def test_a_flipped_byte_in_the_cache_is_detected_and_fetched_again(s3_media):
    data = os.urandom(4096)
    name, sha = stored("x/checkpoint.pt", data)
    path = media_local_path(name=name, sha256=sha)
    corrupted = bytearray(path.read_bytes())
    corrupted[1234] ^= 0x01
    path.write_bytes(bytes(corrupted))
    again = media_local_path(name=name, sha256=sha)
    assert again == path and again.read_bytes() == data


def test_a_truncated_copy_is_fetched_again(s3_media):
    name, sha = stored("x/data.png", b"0123456789" * 50)
    path = media_local_path(name=name, sha256=sha)
    path.write_bytes(path.read_bytes()[:17])
    assert media_local_path(name=name, sha256=sha).read_bytes() == b"0123456789" * 50


def test_an_object_whose_bytes_do_not_match_its_hash_is_refused_and_not_cached(s3_media):
    name, _ = stored("x/swapped.bin", b"what the bucket holds")
    wanted = hashlib.sha256(b"what the row says").hexdigest()
    with pytest.raises(MediaIntegrityError):
        media_local_path(name=name, sha256=wanted)
    assert not any(s3_media.cache_dir.rglob(f"{wanted}*"))


def test_eviction_removes_least_recently_used_files_past_the_size_bound(s3_media):
    cache = MediaCache(root=s3_media.cache_dir, max_bytes=3000)
    blobs = [stored(f"lru/{index}.bin", bytes([index]) * 1000) for index in range(3)]
    paths = [cache.fetch(name=name, sha256=sha) for name, sha in blobs]
    for age, path in enumerate(paths):  # 0 is the oldest use
        os.utime(path, (time.time() - 100 + age, time.time() - 100 + age))
    assert cache.size() == 3000
    cache.fetch(name=blobs[0][0], sha256=blobs[0][1])  # a hit: 0 becomes the most recent
    fourth = stored("lru/3.bin", b"\x03" * 1000)
    new = cache.fetch(name=fourth[0], sha256=fourth[1])
    assert cache.size() <= 3000
    assert paths[1].exists() is False  # the least recently used went first
    assert paths[0].exists() and paths[2].exists() and new.exists()


def test_an_object_larger_than_the_bound_is_still_handed_out_alone(s3_media):
    cache = MediaCache(root=s3_media.cache_dir, max_bytes=100)
    small = cache.fetch(name=stored("big/a", b"a" * 50)[0], sha256=hashlib.sha256(b"a" * 50).hexdigest())
    name, sha = stored("big/b", b"b" * 500)
    big = cache.fetch(name=name, sha256=sha)
    assert big.exists() and not small.exists() and cache.size() == 500


def test_saving_a_local_file_writes_the_bucket_and_warms_the_cache(s3_media, tmp_path):
    source = tmp_path / "result.onnx"
    source.write_bytes(b"exported")
    sha = hashlib.sha256(b"exported").hexdigest()
    name = media_save_file(name="generation/models/x.onnx", path=source, sha256=sha)
    assert name == "generation/models/x.onnx" and s3_media.read(name) == b"exported"
    assert MediaCache(root=s3_media.cache_dir, max_bytes=10**6).path_for(sha, ".onnx").read_bytes() == b"exported"
    source.write_bytes(b"second attempt")
    assert media_save_file(name=name, path=source, cache=False) == name  # exactly the name, replaced
    assert s3_media.read(name) == b"second attempt"
