"""Media cache benchmark: what reading a stored object through core.media's cache costs, against a local S3
server (moto's, started here on 127.0.0.1) and against reading the same bytes from a local file (the baseline:
what filesystem storage does).

- cold: first read of an object (download from the bucket + sha256 + rename into the cache);
- warm: a cache hit (the copy is re-hashed before it is handed out, so a changed byte is caught);
- baseline: reading the file's bytes from local disk once (no hash).

    python -m bench.media [--megabytes 32] [--rounds 5]

Prints a one-line summary, then one JSON object on the last line.
"""

import argparse
import hashlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import django
from django.conf import settings


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()  # noqa: S310 (our own server)
                break
            except OSError:
                time.sleep(0.2)
        settings.configure(
            STORAGES={
                "default": {
                    "BACKEND": "storages.backends.s3.S3Storage",
                    "OPTIONS": {
                        "bucket_name": "bench",
                        "endpoint_url": endpoint,
                        "access_key": "bench",
                        "secret_key": "bench",
                        "region_name": "us-east-1",
                        "signature_version": "s3v4",
                    },
                }
            }
        )
        django.setup()
        from django.core.files.base import ContentFile
        from django.core.files.storage import default_storage

        from core.media import MediaCache

        default_storage.connection.meta.client.create_bucket(Bucket="bench")
        data = os.urandom(args.megabytes * 1024 * 1024)
        sha = hashlib.sha256(data).hexdigest()
        name = default_storage.save("bench/object.bin", ContentFile(data))
        cold, warm, baseline = [], [], []
        with tempfile.TemporaryDirectory(prefix="bench-media-") as folder:
            local = Path(folder) / "local.bin"
            local.write_bytes(data)
            for round_index in range(args.rounds):
                cache = MediaCache(root=Path(folder) / f"cache-{round_index}", max_bytes=10 * len(data))
                started = time.perf_counter()
                cache.fetch(name=name, sha256=sha)
                cold.append(time.perf_counter() - started)
                started = time.perf_counter()
                cache.fetch(name=name, sha256=sha)
                warm.append(time.perf_counter() - started)
                started = time.perf_counter()
                local.read_bytes()
                baseline.append(time.perf_counter() - started)
    finally:
        server.terminate()
        server.wait(timeout=10)
    result = {
        "bench": "media",
        "megabytes": args.megabytes,
        "rounds": args.rounds,
        "cold_fetch_ms": round(statistics.median(cold) * 1000, 1),
        "cold_fetch_mb_per_s": round(args.megabytes / statistics.median(cold), 1),
        "warm_hit_ms": round(statistics.median(warm) * 1000, 1),
        "baseline_local_read_ms": round(statistics.median(baseline) * 1000, 1),
        "warm_vs_baseline": round(statistics.median(warm) / max(statistics.median(baseline), 1e-9), 2),
    }
    print(
        f"media cache, {args.megabytes} MB: cold {result['cold_fetch_ms']} ms "
        f"({result['cold_fetch_mb_per_s']} MB/s from moto), verified hit {result['warm_hit_ms']} ms, "
        f"plain local read {result['baseline_local_read_ms']} ms"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
