"""`make run`'s first impression on this 2-core box: the demo's first published, anchored artworks appear within
3 minutes of a healthy /healthz even while a user's training run is started meanwhile — the worker pools keep
generation and chain work from waiting behind training."""

import io
import json
import quopri
import time
import zipfile

import pytest
import requests
from PIL import Image

from tests.config.test_make_run import Stack, _wait

FIRST_IMPRESSION_S = 180


GENERATION_WHILE_TRAINING_S = 60


def _first_running(runs: list[tuple[str, dict]], *, timeout: float) -> tuple[str, dict] | None:
    """The first of these training runs (url, auth headers) seen `running` within the time, or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for url, headers in runs:
            if requests.get(url, headers=headers, timeout=10).json()["state"] == "running":
                return url, headers
        time.sleep(0.5)
    return None


def _wait_for_state(url: str, headers: dict, wanted: set[str], *, timeout: float) -> str:
    """Polls a job's `state` until it is one of `wanted` or the time is up; returns the last state seen."""
    deadline, state = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        state = requests.get(url, headers=headers, timeout=10).json()["state"]
        if state in wanted:
            break
        time.sleep(0.5)
    return state


def _dataset_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(12):
            image = Image.new("RGB", (32, 32), (20 * index, 90, 200 - 10 * index))
            png = io.BytesIO()
            image.save(png, "PNG")
            archive.writestr(f"img-{index}.png", png.getvalue())
    return buffer.getvalue()


@pytest.mark.slow
@pytest.mark.chain
def test_demo_artworks_are_published_and_anchored_within_three_minutes_despite_a_user_training(tmp_path):
    stack = Stack(tmp_path / "var")
    stack.env["ATELIER_DEMO_CONTENT"] = "1"
    stack.start(tmp_path / "stack.log")
    try:
        _wait(f"{stack.base}/healthz", timeout=120)
        healthy_at = time.monotonic()
        # a user signs up and starts a long training run at once
        registered = requests.post(
            f"{stack.base}/api/v1/auth/register",
            timeout=10,
            json={"email": "eager@example.com", "password": "a-long-and-unusual-passphrase", "role": "artist"},
        )
        assert registered.status_code == 202, registered.text
        from tests.security.test_signup_enumeration import link_parts

        mail = "".join(
            quopri.decodestring(path.read_bytes()).decode() for path in sorted((stack.var / "mail").glob("*.log"))
        )
        uid, confirm_token = link_parts(mail)
        token = requests.post(
            f"{stack.base}/api/v1/auth/register/confirm", timeout=10, json={"uid": uid, "token": confirm_token}
        ).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        dataset = requests.post(
            f"{stack.base}/api/v1/datasets",
            headers=auth,
            timeout=60,
            data={"name": "mine"},
            files={"files": ("set.zip", _dataset_zip())},
        )
        assert dataset.status_code == 202, dataset.text
        state, deadline = dataset.json()["state"], time.monotonic() + 60
        while state == "processing" and time.monotonic() < deadline:  # a default-queue worker decodes it
            time.sleep(0.5)
            state = requests.get(f"{stack.base}{dataset.headers['Location']}", headers=auth, timeout=10).json()["state"]
        assert state == "ready", state
        run = requests.post(
            f"{stack.base}/api/v1/training-runs",
            headers=auth,
            timeout=30,
            json={"dataset": dataset.json()["id"], "config": {"resolution": 32, "steps": 2000}},
        )
        assert run.status_code in (201, 202), run.text

        anchored, elapsed = [], 0.0
        while not anchored and elapsed < FIRST_IMPRESSION_S + 60:
            time.sleep(2)
            elapsed = time.monotonic() - healthy_at
            listing = requests.get(f"{stack.base}/api/v1/artworks", params={"provenance": "confirmed"}, timeout=10)
            anchored = listing.json()["results"] if listing.status_code == 200 else []
        print(f"first anchored demo artwork {elapsed:.0f} s after a healthy /healthz")
        assert anchored, (tmp_path / "stack.log").read_text()[-4000:]
        assert elapsed <= FIRST_IMPRESSION_S

        # the pools at work: while a training run (the user's, or the demo's own) is running, the demo artist's
        # generation job finishes in seconds
        artist = json.loads((stack.var / "demo-credentials.json").read_text())["artist"]
        artist_auth = {
            "Authorization": "Bearer "
            + requests.post(f"{stack.base}/api/v1/auth/login", timeout=10, json=artist).json()["token"]
        }
        runs = [(f"{stack.base}/api/v1/training-runs/{run.json()['id']}", auth)] + [
            (f"{stack.base}/api/v1/training-runs/{demo_run['id']}", artist_auth)
            for demo_run in requests.get(f"{stack.base}/api/v1/training-runs", headers=artist_auth, timeout=10).json()[
                "results"
            ]
        ]
        running = _first_running(runs, timeout=120)
        assert running, "no training run was running"
        model = requests.get(f"{stack.base}/api/v1/models", headers=artist_auth, timeout=10).json()["results"][0]
        started = time.monotonic()
        job = requests.post(
            f"{stack.base}/api/v1/generation-jobs",
            headers=artist_auth,
            timeout=30,
            json={"model": model["id"], "count": 4},
        )
        assert job.status_code == 202, job.text
        job_url = f"{stack.base}/api/v1/generation-jobs/{job.json()['id']}"
        final = _wait_for_state(
            job_url, artist_auth, {"succeeded", "failed", "canceled"}, timeout=GENERATION_WHILE_TRAINING_S
        )
        seconds = time.monotonic() - started
        print(f"a generation job submitted while a training run was running finished in {seconds:.1f} s")
        assert final == "succeeded"
        assert requests.get(running[0], headers=running[1], timeout=10).json()["state"] == "running"
    finally:
        assert stack.stop() == 0
