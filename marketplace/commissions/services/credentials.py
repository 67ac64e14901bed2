"""Content Credentials of delivered commission images, signed as they are served: the delivering artist, the
model version behind a generated delivery, and a training-and-mining entry of notAllowed (a commission grants
no training rights). Deliveries have no provenance record, so the Atelier assertion names the commission."""

from typing import Any

from marketplace.commissions import ports
from marketplace.commissions.models import Delivery, DeliveryImage
from marketplace.commissions.services._files import open_file
from provenance.credentials.c2pa_manifests import SOURCE_GENERATED, SOURCE_UPLOADED, ManifestSpec, Reference


def _references(delivery: Delivery) -> tuple[Reference, ...]:
    job = delivery.generation_job
    if job is None:
        return ()
    version = job.model_version
    return (
        Reference(
            kind="model_version",
            title=f"Atelier model version {version.public_id}",
            sha256=version.onnx_sha256,
            identifier=str(version.public_id),
            media_type="application/onnx",
        ),
        Reference(kind="dataset", title="Atelier dataset", sha256=version.dataset_hash),
    )


def delivery_image_read(*, delivery: Delivery, image: DeliveryImage) -> bytes:
    """The delivered PNG as served to the client or the artist (with its manifest unless signing is off)."""
    with open_file(image.file.name) as handle:
        data = handle.read()
    artist: Any = delivery.artist
    generated = delivery.generation_job_id is not None or image.generated_image_id is not None
    atelier = ports.credential_record_assertion(
        content_sha256=image.sha256,
        asset="commission_delivery",
        commission_id=str(delivery.commission.public_id),
        delivery_id=str(delivery.public_id),
        seed=image.seed,
    )
    spec = ManifestSpec(
        title=delivery.commission.title or f"Commission delivery {delivery.number}",
        digital_source_type=SOURCE_GENERATED if generated else SOURCE_UPLOADED,
        author_name=artist.display_name or "Atelier artist",
        author_url=ports.public_url(f"/artists/{artist.public_id}"),
        atelier=atelier,
        references=_references(delivery) if generated else (),
    )
    signed = ports.credential_sign(data=data, spec=spec)
    return data if signed is None else signed.data
