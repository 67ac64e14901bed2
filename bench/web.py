"""Web pages benchmark: Lighthouse scores (performance, accessibility, best practices) of the home, gallery,
artwork and verify pages on a catalogue of 10,000 artworks, and each page's server time under load beside the
same page's API call.

- database: a throwaway SQLite file under var/bench/web/, seeded once with bench.api's bulk inserts (users,
  artworks, tags, provenance records); every artwork's preview is one real 256 px JPEG so the pages load real
  images;
- server: gunicorn, 2 sync workers, settings `bench.web_settings` (DEBUG off, throttles off, the default 5 s
  anonymous page cache on, as visitors get it; static files from WhiteNoise);
- Lighthouse 12.2.3 (npm, node_modules/.bin/lighthouse) driving Debian's Chromium headless
  (`CHROME_PATH=/usr/bin/chromium`, `--headless=new --no-sandbox`), its default mobile profile with simulated
  throttling, one run per page (median of --lighthouse-runs if more);
- server time: wrk, 16 connections, --duration s per URL after a warm-up, page and API interleaved for
  --rounds rounds; p50/p99 are medians over rounds. Pairs: home ↔ GET /api/v1/artworks?page_size=12,
  gallery ↔ ?page_size=24, artwork ↔ GET /api/v1/artworks/<id>, verify (a hash) ↔ GET /api/v1/verify/<sha256>.

    python -m bench.web [--artworks 10000] [--duration 5] [--rounds 2] [--lighthouse-runs 1]

Prints a one-line summary, then one JSON object on the last line.
"""

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.api import free_port, run_wrk, wrk_binary

REPO_ROOT = Path(__file__).resolve().parent.parent
GOALS = {"performance": 90, "accessibility": 95, "best_practices": 95}
LIGHTHOUSE = REPO_ROOT / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
WORKERS = 2
PREVIEW = "gallery/previews/bench-web.jpg"


def setup_django() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.web_settings"
    import django

    django.setup()


def seed(*, artworks: int, reseed: bool) -> dict:
    from django.conf import settings

    from bench import api
    from bench.synthetic_images import synthetic_image
    from marketplace.gallery.cards import artwork_cards_rebuild
    from marketplace.gallery.models import Artwork

    result = api.seed(artworks=artworks, reseed=reseed)
    target = Path(settings.MEDIA_ROOT) / PREVIEW
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        synthetic_image(7, size=(256, 256)).convert("RGB").save(buffer, format="JPEG", quality=85)
        target.write_bytes(buffer.getvalue())
    if Artwork.objects.exclude(preview=PREVIEW).update(preview=PREVIEW, width=256, height=256):
        artwork_cards_rebuild()  # the cards carry width and height
    return result


def sample_urls() -> dict[str, tuple[str, str]]:
    """page -> (page path, the same page's API call)."""
    from marketplace.gallery.models import Artwork

    artwork = (
        Artwork.objects.filter(state="published", provenance_record__isnull=False, min_price__isnull=False)
        .order_by("-published_at")
        .first()
    )
    sha = artwork.content_sha256
    return {
        "home": ("/", "/api/v1/artworks?page_size=12"),
        "gallery": ("/gallery", "/api/v1/artworks?page_size=24"),
        "artwork": (f"/artworks/{artwork.public_id}", f"/api/v1/artworks/{artwork.public_id}"),
        "verify": (f"/verify?sha256={sha}", f"/api/v1/verify/{sha}"),
    }


def start_gunicorn(port: int) -> subprocess.Popen:
    import urllib.request

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.web_settings", "PYTHONUNBUFFERED": "1"}
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
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return server
        except OSError as error:
            if getattr(error, "code", None):  # an HTTP answer (healthz may say 503: the chain is down)
                return server
            time.sleep(0.2)
    server.kill()
    sys.exit("gunicorn did not start")


def lighthouse(url: str) -> dict[str, float]:
    if not LIGHTHOUSE.exists():
        sys.exit("bench.web needs Lighthouse: npm ci (package.json pins lighthouse 12.2.3)")
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "report.json"
        env = {**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", CHROMIUM)}
        subprocess.run(
            [
                str(LIGHTHOUSE),
                url,
                "--output=json",
                f"--output-path={out}",
                "--quiet",
                "--only-categories=performance,accessibility,best-practices",
                "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
            ],
            env=env,
            check=True,
            capture_output=True,
            timeout=240,
        )
        report = json.loads(out.read_text())
    categories = report["categories"]
    failed = {
        key: audit["title"]
        for key, audit in report["audits"].items()
        if audit.get("score") is not None
        and audit["score"] < 0.9
        and audit.get("scoreDisplayMode") in ("binary", "numeric")
    }
    return {
        "performance": round(categories["performance"]["score"] * 100),
        "accessibility": round(categories["accessibility"]["score"] * 100),
        "best_practices": round(categories["best-practices"]["score"] * 100),
        "lcp_ms": round(report["audits"]["largest-contentful-paint"]["numericValue"]),
        "cls": round(report["audits"]["cumulative-layout-shift"]["numericValue"], 3),
        "failed_audits": failed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artworks", type=int, default=10_000)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--lighthouse-runs", type=int, default=1)
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    setup_django()
    from django.db import connection

    seeding = seed(artworks=args.artworks, reseed=args.reseed)
    pages = sample_urls()
    connection.close()
    wrk = wrk_binary()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_gunicorn(port)
    scores: dict[str, dict] = {}
    timing: dict[str, dict[str, list[dict]]] = {name: {"page": [], "api": []} for name in pages}
    try:
        for name, (page, _) in pages.items():
            runs = [lighthouse(base + page) for _ in range(args.lighthouse_runs)]
            scores[name] = {
                key: statistics.median(run[key] for run in runs)
                for key in ("performance", "accessibility", "best_practices", "lcp_ms", "cls")
            }
            scores[name]["failed_audits"] = runs[0]["failed_audits"]
        for page, api in pages.values():
            for path in (page, api):
                run_wrk(wrk, base + path, connections=args.connections, seconds=args.warmup, threads=args.threads)
        for _ in range(args.rounds):
            for name, (page, api) in pages.items():
                for kind, path in (("page", page), ("api", api)):
                    timing[name][kind].append(
                        run_wrk(
                            wrk, base + path, connections=args.connections, seconds=args.duration, threads=args.threads
                        )
                    )
    finally:
        server.terminate()
        server.wait(timeout=30)

    def med(results: list[dict], field: str) -> float:
        return round(statistics.median(result[field] for result in results), 2)

    server_ms = {
        name: {"p50": med(t["page"], "p50_ms"), "p99": med(t["page"], "p99_ms"), "rps": med(t["page"], "rps")}
        for name, t in timing.items()
    }
    api_ms = {
        name: {
            "p50": med(t["api"], "p50_ms"),
            "p99": med(t["api"], "p99_ms"),
            "rps": med(t["api"], "rps"),
            "path": pages[name][1],
        }
        for name, t in timing.items()
    }
    non_2xx = {name: sum(r["non_2xx"] for r in t["page"] + t["api"]) for name, t in timing.items()}
    lighthouse_scores = {
        name: {key: s[key] for key in ("performance", "accessibility", "best_practices")} for name, s in scores.items()
    }
    goals_met = all(s[key] >= goal for s in lighthouse_scores.values() for key, goal in GOALS.items())
    summary = {
        "lighthouse": lighthouse_scores,
        "server_ms": server_ms,
        "api_ms": api_ms,
        "lighthouse_detail": scores,
        "non_2xx": non_2xx,
        "pages": {name: paths[0] for name, paths in pages.items()},
        "artworks": args.artworks,
        "seeding": seeding,
        "server": f"gunicorn, {WORKERS} sync workers, SQLite, anonymous page cache on (5 s)",
        "load": f"wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s, {args.rounds} interleaved rounds",
        "lighthouse_profile": "Lighthouse 12.2.3 default (mobile, simulated throttling), Debian Chromium headless",
        "cpus": os.cpu_count(),
        "load_average_before": round(load_before, 2),
        "goals": GOALS,
        "goals_met": goals_met,
    }
    line = ", ".join(
        f"{name} {s['performance']}/{s['accessibility']}/{s['best_practices']} "
        f"p50 {server_ms[name]['p50']:.1f} ms (API {api_ms[name]['p50']:.1f})"
        for name, s in lighthouse_scores.items()
    )
    print(
        f"Lighthouse perf/a11y/best-practices and server p50: {line}; {args.artworks:,} artworks — goals "
        f"{'met' if goals_met else 'NOT met'}"
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
