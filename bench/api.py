"""API benchmark, side by side in one run: the public gallery list (`GET /api/v1/artworks`, first page of 20,
newest first) against a bare DRF endpoint returning a constant JSON body (the baseline: same middleware,
authentication, permissions and renderer, no database), on a catalogue of 100,000 seeded artworks.

- database: a throwaway SQLite file under var/bench/api/ (default), or PostgreSQL with
  `--database-url postgres://…/atelier_bench_api` (created if missing); seeded once with bulk inserts (users,
  artworks, tags, provenance records) and reused while it holds the requested number of artworks;
- server: gunicorn, 2 sync workers, settings `bench.api_settings` (DEBUG off, throttles off for both); the
  headline `gallery_*` numbers come from a server with the browse page cache off (every request runs the
  query), `gallery_cached_*` from one with the default 5 s page cache (per-process local memory);
- load: wrk from the same machine, 16 connections, 10 s per endpoint and round after a 2 s warm-up, rounds
  interleaved (bare, gallery, cached gallery, bare, …); rates and p99 are medians over rounds, ratios are paired
  within each round, then the median taken (`apt-get install wrk` if it is missing; the bench installs it
  when it runs as root);
- queries: the list request is also run in-process and its SQL statements counted.

    python -m bench.api [--artworks 100000] [--duration 10] [--connections 16] [--rounds 3]
                        [--database-url URL] [--reseed]

Prints a one-line summary, then one JSON object on the last line.
"""

import argparse
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
GOALS = {"gallery_vs_bare": 0.6, "gallery_p99_ms": 50.0, "queries_per_list_request": 4}
LIST_PATH = "/api/v1/artworks"
BARE_PATH = "/bench/bare"
WORKERS = 2
STYLES = [
    "abstract",
    "impressionist",
    "cyberpunk",
    "surreal",
    "minimal",
    "baroque",
    "pixel-art",
    "ukiyo-e",
    "watercolour",
    "noir",
    "pop-art",
    "vaporwave",
]
WORDS = [
    "harbour",
    "dawn",
    "neon",
    "city",
    "forest",
    "quiet",
    "storm",
    "glass",
    "river",
    "ember",
    "orbit",
    "velvet",
    "mirror",
    "garden",
    "signal",
    "drift",
    "marble",
    "lantern",
    "echo",
    "meadow",
]
TAGS = [f"{a}-{b}" for a in WORDS[:10] for b in WORDS[10:]] + WORDS  # 120 tags
PROVENANCE_STATES = ["pending", "batched", "anchored", "confirmed", "confirmed", "confirmed"]


def setup_django(database_url: str | None) -> None:
    if database_url:
        os.environ["BENCH_DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.api_settings"
    import django

    django.setup()


def ensure_postgres_database(url: str) -> None:
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    admin = psycopg.connect(
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"] or "postgres",
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    with admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{config["NAME"]}"')


# --- seeding ------------------------------------------------------------------------------------------------


def seed(*, artworks: int, reseed: bool) -> dict:
    """Migrate and bulk-insert the catalogue (skipped when the database already holds it)."""
    from django.core.management import call_command
    from django.db import connection, transaction

    from marketplace.accounts.models import User
    from marketplace.gallery.cards import card_text
    from marketplace.gallery.models import Artwork, ArtworkTag
    from provenance.models import ProvenanceRecord

    call_command("migrate", verbosity=0, interactive=False)
    existing = Artwork.objects.count()
    if existing == artworks and not reseed:
        return {"seeded": False, "seconds": 0.0}
    started = time.perf_counter()
    with transaction.atomic():
        ArtworkTag.objects.all().delete()
        Artwork.objects.all().delete()
        ProvenanceRecord.objects.filter(subject__startswith="gallery.artwork:").delete()
        User.objects.filter(email__endswith="@bench.invalid").delete()
    rng = random.Random(2026)
    artists = User.objects.bulk_create(
        [
            User(email=f"artist{n}@bench.invalid", role="artist", display_name=f"Artist {n}", password="!")
            for n in range(max(1, artworks // 100))
        ]
    )
    now = time.time()
    chunk = 5_000
    for offset in range(0, artworks, chunk):
        with transaction.atomic():
            rows, records, tags = [], [], []
            for _ in range(offset, min(offset + chunk, artworks)):
                public_id = uuid.uuid4()
                artist = artists[rng.randrange(len(artists))]
                state = rng.choices(["published", "draft", "withdrawn"], weights=[95, 3, 2])[0]
                chosen = rng.sample(TAGS, rng.randint(1, 4))
                title = " ".join(rng.sample(WORDS, 3)).title()
                priced = rng.random() < 0.85
                offers = [rng.random() < 0.9, rng.random() < 0.4, rng.random() < 0.05] if priced else [False] * 3
                published = datetime.fromtimestamp(now - rng.uniform(0, 730 * 86_400), tz=UTC)
                sha = uuid.uuid4().hex + uuid.uuid4().hex
                record = None
                if state != "draft":
                    record = ProvenanceRecord(
                        content_sha256=sha,
                        pdq=uuid.uuid4().hex * 2,
                        pdq_quality=90,
                        subject=f"gallery.artwork:{public_id}",
                        creator=f"accounts.user:{artist.public_id}",
                        owner=f"accounts.user:{artist.public_id}",
                        state=rng.choice(PROVENANCE_STATES),
                    )
                    records.append(record)
                description = f"A {rng.choice(STYLES)} study of {' and '.join(rng.sample(WORDS, 2))}."
                rows.append(
                    Artwork(
                        public_id=public_id,
                        artist=artist,
                        owner=artist,
                        title=title,
                        description=description,
                        tags=chosen,
                        style=rng.choice(STYLES),
                        state=state,
                        source="upload",
                        provenance_record=record,
                        original=f"gallery/originals/{public_id}.png",
                        preview=f"gallery/previews/{public_id}.jpg",
                        width=1024,
                        height=1024,
                        content_sha256=sha,
                        pdq="0" * 64,
                        pdq_quality=90,
                        published_at=published if state != "draft" else None,
                        min_price=rng.randrange(500, 500_000, 100) if priced else None,
                        currency=("USD" if rng.random() < 0.8 else "EUR") if priced else "",
                        offers_personal=offers[0],
                        offers_commercial=offers[1],
                        offers_exclusive=offers[2],
                        search_text=f"{title}\n{description}\n{' '.join(chosen)}".lower(),
                        popularity=int(rng.paretovariate(1.2) * 10),
                        view_count=0,
                    )
                )
            for artwork in rows:  # bulk_create bypasses the services, which render the card
                artwork.card = card_text(artwork)
            ProvenanceRecord.objects.bulk_create(records, batch_size=1_000)
            created = Artwork.objects.bulk_create(rows, batch_size=1_000)
            for artwork in created:
                tags.extend(ArtworkTag(artwork=artwork, tag=tag) for tag in artwork.tags)
            ArtworkTag.objects.bulk_create(tags, batch_size=2_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"seeded": True, "seconds": round(time.perf_counter() - started, 1)}


def count_list_queries(*, cache_seconds: int) -> tuple[int, int]:
    """SQL statements run by one anonymous list request, in-process (and how many cards it returned)."""
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    cache.clear()
    client = Client()
    with override_settings(GALLERY_BROWSE_CACHE_SECONDS=cache_seconds):
        client.get(LIST_PATH)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(LIST_PATH)
    assert response.status_code == 200, response.content[:500]
    return len(captured), len(response.json()["results"])


# --- load ---------------------------------------------------------------------------------------------------


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("(installing wrk from Debian)", file=sys.stderr)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, stdout=subprocess.DEVNULL)
        found = shutil.which("wrk")
    if not found:
        sys.exit("bench.api needs wrk: sudo apt-get install -y wrk")
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(port: int, *, cache_seconds: int | None) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.api_settings", "PYTHONUNBUFFERED": "1"}
    if cache_seconds is not None:
        env["BENCH_BROWSE_CACHE_SECONDS"] = str(cache_seconds)
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "config.wsgi:application",
            "--workers",
            str(WORKERS),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--backlog",
            "256",
        ],
        cwd=REPO_ROOT,
        env=env,
    )
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{BARE_PATH}", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    sys.exit("gunicorn did not start")


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def run_wrk(wrk: str, url: str, *, connections: int, seconds: float, threads: int) -> dict:
    result = subprocess.run(
        [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    )
    out = result.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p = {
        pct: float(value) * _UNITS[unit]
        for pct, value, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    }
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": round(rps, 1),
        "p50_ms": round(p.get("50", 0), 2),
        "p99_ms": round(p.get("99", 0), 2),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1).strip() if socket_errors else "",
    }


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artworks", type=int, default=100_000)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (default: SQLite under var/bench/api)")
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args()

    if args.database_url.startswith("postgres"):
        ensure_postgres_database(args.database_url)
    load_before = os.getloadavg()[0]
    setup_django(args.database_url or None)
    from django.db import connection

    seeding = seed(artworks=args.artworks, reseed=args.reseed)
    queries, cards = count_list_queries(cache_seconds=0)
    cached_queries, _ = count_list_queries(cache_seconds=5)
    database = connection.vendor
    connection.close()

    wrk = wrk_binary()
    # two servers side by side: browse page cache off (the database path: the headline) and on (the default)
    servers = {"db": free_port(), "cached": free_port()}
    processes = [start_gunicorn(servers["db"], cache_seconds=0), start_gunicorn(servers["cached"], cache_seconds=None)]
    targets = {
        "bare": (servers["db"], BARE_PATH),
        "gallery": (servers["db"], LIST_PATH),
        "gallery_cached": (servers["cached"], LIST_PATH),
    }
    rounds: dict[str, list[dict]] = {name: [] for name in targets}
    try:
        for port, path in targets.values():
            run_wrk(
                wrk,
                f"http://127.0.0.1:{port}{path}",
                connections=args.connections,
                seconds=args.warmup,
                threads=args.threads,
            )
        # interleaved rounds, so a noisy neighbour on the machine hits every endpoint alike
        for _ in range(args.rounds):
            for name, (port, path) in targets.items():
                rounds[name].append(
                    run_wrk(
                        wrk,
                        f"http://127.0.0.1:{port}{path}",
                        connections=args.connections,
                        seconds=args.duration,
                        threads=args.threads,
                    )
                )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)

    def ratio(value: float, base: float) -> float | None:
        return round(value / base, 3) if base else None

    def med(name: str, field: str) -> float:
        return round(statistics.median(result[field] for result in rounds[name]), 2)

    # each round pairs endpoints measured back to back; the headline is the median over rounds
    paired = {
        name: [ratio(result["rps"], base["rps"]) for result, base in zip(rounds[name], rounds["bare"], strict=True)]
        for name in ("gallery", "gallery_cached")
    }
    summary = {
        "bare_rps": med("bare", "rps"),
        "gallery_rps": med("gallery", "rps"),
        "gallery_vs_bare": statistics.median(paired["gallery"]),
        "gallery_p99_ms": med("gallery", "p99_ms"),
        "queries_per_list_request": queries,
        "gallery_cached_rps": med("gallery_cached", "rps"),
        "gallery_cached_vs_bare": statistics.median(paired["gallery_cached"]),
        "gallery_cached_p99_ms": med("gallery_cached", "p99_ms"),
        "queries_per_cached_list_request": cached_queries,
        "bare_p99_ms": med("bare", "p99_ms"),
        "gallery_p50_ms": med("gallery", "p50_ms"),
        "bare_p50_ms": med("bare", "p50_ms"),
        "ratio_per_round": paired,
        "rounds": rounds,
        "non_2xx": sum(result["non_2xx"] for results in rounds.values() for result in results),
        "cards_per_page": cards,
        "artworks": args.artworks,
        "database": database,
        "seeding": seeding,
        "server": f"gunicorn, {WORKERS} sync workers (gallery_*: browse page cache off; gallery_cached_*: default "
        "5 s page cache, per-process local memory)",
        "load": f"wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s, {args.rounds} interleaved rounds "
        "(headline: medians over rounds; ratios paired within a round)",
        "cpus": os.cpu_count(),
        "load_average_before": round(load_before, 2),
        "goals": GOALS,
    }

    def met(rps_ratio: float | None, p99: float) -> bool:
        return bool(
            rps_ratio is not None
            and rps_ratio >= GOALS["gallery_vs_bare"]
            and p99 < GOALS["gallery_p99_ms"]
            and queries <= GOALS["queries_per_list_request"]
            and not summary["non_2xx"]
        )

    summary["goals_met"] = met(summary["gallery_vs_bare"], summary["gallery_p99_ms"])
    summary["goals_met_cached"] = met(summary["gallery_cached_vs_bare"], summary["gallery_cached_p99_ms"])
    print(
        f"gallery list {summary['gallery_rps']:.0f} req/s vs bare DRF {summary['bare_rps']:.0f} req/s "
        f"(x{summary['gallery_vs_bare']}), p99 {summary['gallery_p99_ms']:.1f} ms, {queries} queries/request "
        f"[page cache on: {summary['gallery_cached_rps']:.0f} req/s, x{summary['gallery_cached_vs_bare']}, "
        f"p99 {summary['gallery_cached_p99_ms']:.1f} ms], {args.artworks:,} artworks on {database} — goals "
        f"{verdict(summary['goals_met'])} (cached: {verdict(summary['goals_met_cached'])})"
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
