"""Request builders and small images for the commissions tests."""

import io
from datetime import timedelta
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in Path(root).rglob("*") if path.is_file())


def future(**delta) -> str:
    return (timezone.now() + timedelta(**(delta or {"days": 10}))).isoformat()


def png(color=(200, 30, 90), size=(24, 24)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def png_bomb() -> bytes:
    out = io.BytesIO()
    Image.new("1", (20000, 20000)).save(out, format="PNG")
    return out.getvalue()


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def post_brief(api, *, references=None, **fields):
    body = {
        "title": "A fox",
        "description": "A red fox in the snow, watercolour.",
        "style": "watercolour",
        "budget": 5000,
        "currency": "USD",
        "deadline": future(days=10),
    } | fields
    if references is not None:
        body = {key: value for key, value in body.items() if value is not None}
        body["references"] = [upload(name, data) for name, data in references]
        return api.post("/api/v1/commissions", body, format="multipart")
    return api.post("/api/v1/commissions", body, format="json")


def offer(api, commission_id, **fields):
    body = {"price": 4500, "message": "I can do this.", "delivery_by": future(days=5)} | fields
    return api.post(f"/api/v1/commissions/{commission_id}/offers", body, format="json")


def accept(api, offer_id, payment_method="tok_visa", **headers):
    return api.post(
        f"/api/v1/commission-offers/{offer_id}/accept", {"payment_method": payment_method}, format="json", **headers
    )


def deliver(api, commission_id, *images, note="Here it is."):
    files = [upload(f"image{index}.png", data) for index, data in enumerate(images or (png(),))]
    return api.post(
        f"/api/v1/commissions/{commission_id}/deliveries", {"images": files, "note": note}, format="multipart"
    )


def latest_delivery_id(api, commission_id) -> str:
    return api.get(f"/api/v1/commissions/{commission_id}/deliveries").json()["results"][-1]["id"]


def request_revision(api, delivery_id, note="Warmer colours, please.", **fields):
    return api.post(
        f"/api/v1/commission-deliveries/{delivery_id}/request-revision", {"note": note} | fields, format="json"
    )


def accept_delivery(api, delivery_id):
    return api.post(f"/api/v1/commission-deliveries/{delivery_id}/accept", {}, format="json")


def cancel(api, commission_id, note=""):
    return api.post(f"/api/v1/commissions/{commission_id}/cancel", {"note": note}, format="json")


def history(api, commission_id) -> list[tuple[str, str, str]]:
    entries = api.get(f"/api/v1/commissions/{commission_id}/history").json()
    return [(entry["action"], entry["from_state"], entry["to_state"]) for entry in entries]
