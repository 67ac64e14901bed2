"""`make run`'s first impression on this 2-core box: the demo's first published, anchored artworks appear within
3 minutes of a healthy /healthz even while a user's training run is started meanwhile — the worker pools keep
generation and chain work from waiting behind training."""

import io
import quopri
import sqlite3
import time
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
import requests
from PIL import Image

from tests.config.test_make_run import Stack, _wait

FIRST_IMPRESSION_S = 180


GENERATION_WHILE_TRAINING_S = 60


def _generation_seconds_during_training(database: Path) -> list[float]:
    """Wall seconds of each generation job that started while a training run was running (from the stack's own
    database: the times the workers wrote)."""
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT job.started_at, job.finished_at FROM generation_generationjob AS job "
            "WHERE job.state = 'succeeded' AND EXISTS (SELECT 1 FROM generation_trainingrun AS run "
            "WHERE run.started_at <= job.started_at "
            "AND (run.finished_at IS NULL OR run.finished_at >= job.finished_at))").fetchall()
    return [round((datetime.fromisoformat(done) - datetime.fromisoformat(began)).total_seconds(), 1)
            for began, done in rows]


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
        registered = requests.post(f"{stack.base}/api/v1/auth/register", timeout=10, json={
            "email": "eager@example.com", "password": "a-long-and-unusual-passphrase", "role": "artist"})
        assert registered.status_code == 202, registered.text
        from tests.security.test_signup_enumeration import link_parts

        mail = "".join(quopri.decodestring(path.read_bytes()).decode()
                       for path in sorted((stack.var / "mail").glob("*.log")))
        uid, confirm_token = link_parts(mail)
        token = requests.post(f"{stack.base}/api/v1/auth/register/confirm", timeout=10,
                              json={"uid": uid, "token": confirm_token}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        dataset = requests.post(f"{stack.base}/api/v1/datasets", headers=auth, timeout=60,
                                data={"name": "mine"}, files={"files": ("set.zip", _dataset_zip())})
        assert dataset.status_code == 202, dataset.text
        state, deadline = dataset.json()["state"], time.monotonic() + 60
        while state == "processing" and time.monotonic() < deadline:  # a default-queue worker decodes it
            time.sleep(0.5)
            state = requests.get(f"{stack.base}{dataset.headers['Location']}", headers=auth, timeout=10).json()["state"]
        assert state == "ready", state
        run = requests.post(f"{stack.base}/api/v1/training-runs", headers=auth, timeout=30, json={
            "dataset": dataset.json()["id"], "config": {"resolution": 32, "steps": 2000}})
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
        # the pools at work: demo generation jobs ran to the end in seconds while the user's run was training
        overlapping = _generation_seconds_during_training(stack.var / "db.sqlite3")
        print(f"generation jobs that ran while a training run was running: {overlapping} s each")
        assert overlapping and max(overlapping) <= GENERATION_WHILE_TRAINING_S
    finally:
        assert stack.stop() == 0
