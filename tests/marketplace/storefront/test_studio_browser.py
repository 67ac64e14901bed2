"""The artist's journey in Debian's Chromium: upload a dataset (seeing why a file was refused), train a tiny
model in a real worker process while the run's page updates itself without reloading, generate with the
results appearing as they finish, publish one and list a licence. Every page is checked with axe-core and
saved at desktop and phone widths under var/screenshots/."""

import os
import signal

import pytest

from generation.models import TrainingRun
from marketplace.gallery.models import Listing
from tests.generation.factories import TINY_CONFIG, shape_image
from tests.helpers import start_db_worker
from tests.marketplace.storefront.browser import DESKTOP, axe_check, chromium, screenshot, sign_in

TRAINING_STEPS = 240
ADVANCED = {key: value for key, value in TINY_CONFIG.items() if key not in ("resolution", "steps", "batch_size")} | {
    "checkpoint_every": 80,
    "sample_every": 40,
    "log_every": 5,
}


def mark_document(page) -> None:
    """A value that only survives while the page is not reloaded."""
    page.evaluate("window.__notReloaded = true")


def not_reloaded(page) -> bool:
    return page.evaluate("window.__notReloaded === true")


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_artist_uploads_trains_watches_generates_publishes_and_lists(
    live_server, make_user, settings, tmp_path, subprocess_env
):
    import json

    media, runs = tmp_path / "media", tmp_path / "runs"
    settings.MEDIA_ROOT, settings.GENERATION_RUNS_ROOT = str(media), str(runs)
    artist = make_user(role="artist", email="painter@example.com", display_name="Paula Painter")
    files = []
    for index in range(8):
        path = tmp_path / f"shape-{index}.png"
        path.write_bytes(shape_image(index))
        files.append(str(path))
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    files.append(str(notes))

    env = {**subprocess_env, "MEDIA_ROOT": str(media), "GENERATION_RUNS_ROOT": str(runs), "OMP_NUM_THREADS": "1"}
    worker = start_db_worker(env, queues="training,generation,default")
    try:
        with chromium() as browser:
            page = browser.new_page(viewport=DESKTOP)
            sign_in(page, live_server.url, artist.email)

            page.goto(f"{live_server.url}/studio/")
            axe_check(page)
            screenshot(page, "studio-home")

            page.goto(f"{live_server.url}/studio/datasets/")
            axe_check(page)
            page.fill("#id_name", "Shapes")
            page.set_input_files("#id_files", files)
            page.click("#dataset-upload button[type=submit]")
            # the dataset page says it is processing and refreshes itself until the worker has decoded it
            page.wait_for_selector("#upload-report", timeout=60_000)
            assert "notes.txt" in page.inner_text("#upload-report")
            assert "8 images kept" in page.inner_text("main")
            axe_check(page)
            screenshot(page, "studio-dataset")

            page.click("text=Train a model on this dataset")
            page.click("summary:has-text('Exact settings')")  # presets and a budget first; exact settings folded
            page.select_option("#id_resolution", "32")
            page.fill("#id_steps", str(TRAINING_STEPS))
            page.fill("#id_batch_size", "8")
            page.fill("#id_advanced", json.dumps(ADVANCED))
            axe_check(page)
            screenshot(page, "studio-training-new")
            page.click("#training-form button[type=submit]")
            page.wait_for_selector("#run-progress")
            run_url = page.url
            mark_document(page)

            # the partial is polled: the step climbs and a sample grid appears while the document stays the same
            page.wait_for_function("Number(document.querySelector('#run-progress').dataset.step) > 0", timeout=180_000)
            page.wait_for_selector("#sample-grid", timeout=180_000)
            seen_running = page.get_attribute("#run-progress", "data-state")
            axe_check(page)
            screenshot(page, "studio-run-live")
            page.wait_for_selector("#run-progress[data-state=succeeded]", timeout=300_000)
            assert not_reloaded(page) and page.url == run_url
            run = TrainingRun.objects.get()
            assert seen_running in ("running", "succeeded") and run.step == TRAINING_STEPS
            assert page.inner_text("#run-step") == str(TRAINING_STEPS)
            page.wait_for_function(
                "['#sample-grid', '#loss-curve'].map(s => document.querySelector(s))"
                ".every(i => i.complete && i.naturalWidth > 0)",
                timeout=30_000,
            )
            assert page.evaluate("document.querySelector('#loss-curve').naturalWidth") == 640
            axe_check(page)
            screenshot(page, "studio-run-finished")

            page.click("text=Open the model and generate")
            page.wait_for_selector("#generate-form")
            axe_check(page)
            screenshot(page, "studio-model")
            page.check("input[name=mode][value=seeds]")
            page.fill("#id_seeds", "11, 12, 13, 14")
            page.fill("#id_truncation", "0.7")
            page.click("#generate-form button[type=submit]")
            page.wait_for_selector("#job-images")
            mark_document(page)
            page.wait_for_selector("#job-images[data-state=succeeded]", timeout=120_000)
            assert not_reloaded(page)
            assert page.locator("#job-images img").count() == 4
            page.wait_for_function(
                "[...document.querySelectorAll('#job-images img')].every(i => i.complete && i.naturalWidth > 0)",
                timeout=30_000,
            )
            axe_check(page)
            screenshot(page, "studio-generation")

            page.locator("#job-images a:has-text('Publish')").first.click()
            page.fill("#id_title", "Square at dawn")
            page.fill("#id_tags", "shapes, dawn")
            axe_check(page)
            screenshot(page, "studio-publish")
            page.click("#artwork-form button[type=submit]")
            page.wait_for_selector("#publish-form")
            page.click("#publish-form button[type=submit]")
            page.wait_for_selector("#listing-form")
            assert "Withdraw from sale" in page.inner_text("main")
            page.select_option("#id_licence_type", "personal")
            page.fill("#id_price", "twelve")
            page.click("#listing-form button[type=submit]")
            page.wait_for_selector("#id_price_errors")
            assert page.input_value("#id_price") == "twelve"
            page.fill("#id_price", "12.50")
            page.click("#listing-form button[type=submit]")
            page.wait_for_selector("#listings")
            assert "12.50 USD" in page.inner_text("#listings")
            axe_check(page)
            screenshot(page, "studio-artwork")
            listing = Listing.objects.get()
            assert (listing.price, listing.currency, listing.artwork.state) == (1250, "USD", "published")

            page.goto(f"{live_server.url}/studio/artworks/")
            axe_check(page)
            screenshot(page, "studio-artworks")
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_without_javascript_the_studio_still_generates_and_the_page_refreshes_itself(
    live_server, make_user, settings, tmp_path
):
    from tests.generation.factories import export_tiny_onnx, install_model_version
    from tests.helpers import run_queued_tasks

    settings.MEDIA_ROOT, settings.GENERATION_RUNS_ROOT = str(tmp_path / "media"), str(tmp_path / "runs")
    artist = make_user(role="artist", email="nojs@example.com")
    model = install_model_version(owner=artist, onnx_path=export_tiny_onnx(tmp_path / "onnx"))
    with chromium() as browser:
        page = browser.new_context(viewport=DESKTOP, java_script_enabled=False).new_page()
        sign_in(page, live_server.url, artist.email)
        page.goto(f"{live_server.url}/studio/models/{model.public_id}/")
        page.check("input[name=mode][value=count]")
        page.fill("#id_count", "3")
        page.click("#generate-form button[type=submit]")
        page.wait_for_selector("#job-images[data-state=queued]")
        refresh = page.locator("noscript").first.inner_html()
        assert 'http-equiv="refresh"' in refresh
        run_queued_tasks()
        page.click("#job-images >> text=Reload")
        page.wait_for_selector("#job-images[data-state=succeeded]")
        assert page.locator("#job-images img").count() == 3
        assert page.locator("noscript").count() == 0  # finished: no more refreshing
        # (axe-core needs JavaScript: the same page is checked with it in the journey above)
