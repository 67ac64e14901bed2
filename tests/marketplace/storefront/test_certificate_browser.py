"""The certificate page in Debian's Chromium: a record with a dataset and a model version behind it, anchored on
a real anvil, shown with its lineage and events; axe-core finds no serious or critical violation."""

import uuid

import pytest

from tests.marketplace.storefront.browser import DESKTOP, axe_check, chromium, screenshot
from tests.provenance.conftest import anvil_mine, anvil_node, chain_settings, run_chain  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.chain, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def certified(chain_settings, run_chain, anvil_mine, make_user):  # noqa: F811
    from bench.synthetic_images import encode_png, synthetic_image
    from provenance.fingerprints.hashing import sha256_of_bytes
    from provenance.services import hash_file, lineage_record_register, record_register

    ref = f"accounts.user:{make_user(role='artist', display_name='Mira Okafor').public_id}"
    dataset = lineage_record_register(
        kind="dataset",
        subject=f"generation.dataset:{uuid.uuid4()}",
        creator=ref,
        owner=ref,
        fields={"dataset_hash": sha256_of_bytes(b"images"), "image_count": 12},
    )
    model = lineage_record_register(
        kind="model_version",
        subject=f"generation.model_version:{uuid.uuid4()}",
        creator=ref,
        owner=ref,
        parent=dataset,
        fields={
            "onnx_sha256": sha256_of_bytes(b"onnx"),
            "dataset_hash": dataset.manifest["dataset_hash"],
            "config": {"arch": "fastgan", "resolution": 64},
        },
    )
    hashes = hash_file(raw=encode_png(synthetic_image(4)))
    artwork = record_register(
        content_sha256=hashes.sha256,
        pdq=hashes.pdq,
        pdq_quality=hashes.pdq_quality,
        subject=f"gallery.artwork:{uuid.uuid4()}",
        creator=ref,
        owner=ref,
        parent=model,
    )
    run_chain("batch")
    anvil_mine(2)
    run_chain("confirm")
    return artwork, model


def test_the_certificate_page_reads_well_and_passes_axe(live_server, certified):
    artwork, model = certified
    with chromium() as browser:
        page = browser.new_page(viewport=DESKTOP)
        page.goto(f"{live_server.url}/certificates/{artwork.public_id}")
        assert page.locator("h1").inner_text() == "Provenance certificate"
        assert page.get_by_role("heading", name="Lineage").is_visible()
        assert page.locator("#lineage-heading + p + ol > li").count() == 2
        assert model.manifest["onnx_sha256"] in page.content() and "Registered to Mira Okafor" in page.content()
        axe_check(page, context="certificate")
        screenshot(page, "certificate")
