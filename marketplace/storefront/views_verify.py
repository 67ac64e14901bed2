"""Verify a file or a hash, for a person: the same selectors, limits and throttle as the public verify API
(POST /api/v1/verify, GET /api/v1/verify/<sha256>), and the API's own serialized result, shown in words.

The result is rendered from VerificationSerializer's data, so the page shows exactly what the API answers and
fields added to it later are simply not shown until the template names them."""

import json
from types import SimpleNamespace
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from rest_framework.throttling import ScopedRateThrottle

from core.errors import AtelierError, Conflict, NotFound
from marketplace.gallery.ports import artwork_id_of_subject
from marketplace.storefront.artwork_page import _people
from marketplace.storefront.errors import pages_errors
from provenance import conf, selectors
from provenance.api import MULTIPART_OVERHEAD
from provenance.certificates import certificate_for
from provenance.proofs.encoding import normalize_sha256
from provenance.serializers import VerificationSerializer

THROTTLE_VIEW = SimpleNamespace(throttle_scope="verify")


class VerifyForm(forms.Form):
    file = forms.FileField(
        required=False,
        label="Choose an image",
        help_text="PNG, JPEG or WEBP, exactly as you have it. It is checked, not kept.",
    )
    sha256 = forms.CharField(
        required=False,
        max_length=80,
        label="Or paste its sha256",
        widget=forms.TextInput(
            attrs={"spellcheck": "false", "autocomplete": "off", "placeholder": "64 hexadecimal characters"}
        ),
    )

    def clean_sha256(self) -> str:
        typed = self.cleaned_data["sha256"].strip()
        if typed and normalize_sha256(typed) is None:
            raise forms.ValidationError("A sha256 is 64 hexadecimal characters (0-9, a-f), optionally after 0x.")
        return normalize_sha256(typed) if typed else ""

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.errors and not data.get("file") and not data.get("sha256"):
            raise forms.ValidationError("Choose a file or paste a sha256 to check.")
        return data


def _throttle_wait(request: HttpRequest) -> int | None:
    throttle = ScopedRateThrottle()
    if throttle.allow_request(request, THROTTLE_VIEW):
        return None
    return max(int(throttle.wait() or 1), 1)


def _shown(result: dict[str, Any]) -> dict[str, Any]:
    """The API's answer, plus the public names of the people and artworks it refers to."""
    data = VerificationSerializer(result).data
    match = data.get("match") or {}
    refs = {(match.get("record") or {}).get("owner", "")}
    refs |= {entry.get("to_ref") or "" for entry in match.get("owner_history") or []}
    refs |= {entry.get("from_ref") or "" for entry in match.get("owner_history") or []}
    people = {ref: user.display_name or "an Atelier user" for ref, user in _people(refs).items()}
    for entry in match.get("owner_history") or []:
        entry["to_name"] = people.get(entry.get("to_ref"), entry.get("to_ref"))
        entry["from_name"] = people.get(entry.get("from_ref"), entry.get("from_ref"))
    if match.get("record"):
        match["record"]["owner_name"] = people.get(match["record"].get("owner"), match["record"].get("owner"))
        match["record"]["artwork_id"] = artwork_id_of_subject(match["record"].get("subject") or "")
    credentials = data.get("content_credentials") or {}
    entries = credentials.get("training_mining")
    entry = entries.get("c2pa.ai_training") if isinstance(entries, dict) else None
    credentials["training_use"] = entry.get("use") if isinstance(entry, dict) else None
    if credentials.get("record"):
        credentials["record"]["artwork_id"] = artwork_id_of_subject(credentials["record"].get("subject") or "")
    for near in data.get("perceptual_matches") or []:
        near["record"]["artwork_id"] = artwork_id_of_subject(near["record"].get("subject") or "")
    return data


def verify(request: HttpRequest) -> HttpResponse:
    max_bytes = conf.get("PROVENANCE_VERIFY_MAX_BYTES")
    context: dict[str, Any] = {"max_mb": max_bytes // (1024 * 1024)}
    status = 200
    if request.method == "POST":
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if declared.isdigit() and int(declared) > max_bytes + MULTIPART_OVERHEAD:  # refuse before reading it
            context["refused"] = f"The file is too large: the limit is {context['max_mb']} MB."
            return TemplateResponse(request, "storefront/verify.html", {**context, "form": VerifyForm()}, status=413)
        form = VerifyForm(request.POST, request.FILES)
    elif request.method == "GET" and request.GET.get("sha256"):
        form = VerifyForm(request.GET)
    elif request.method == "GET":
        return TemplateResponse(request, "storefront/verify.html", {**context, "form": VerifyForm()})
    else:
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})

    if not form.is_valid():
        return TemplateResponse(request, "storefront/verify.html", {**context, "form": form}, status=400)
    wait = _throttle_wait(request)
    if wait is not None:
        context["throttled"] = wait
        return TemplateResponse(
            request, "storefront/verify.html", {**context, "form": form}, status=429, headers={"Retry-After": str(wait)}
        )
    upload = form.cleaned_data.get("file")
    try:
        if upload is not None:
            if upload.size > max_bytes:
                form.add_error("file", f"The file is too large: the limit is {context['max_mb']} MB.")
                return TemplateResponse(request, "storefront/verify.html", {**context, "form": form}, status=413)
            result = selectors.verification_by_upload(raw=upload.read(), name=upload.name or "file")
            context["checked"] = {"kind": "file", "name": upload.name}
        else:
            digest = form.cleaned_data["sha256"]
            result = selectors.verification_by_sha256(sha256=digest)
            context["checked"] = {"kind": "hash", "sha256": digest}
            if result is None:
                context["not_registered"] = digest
                status = 404
    except AtelierError as error:
        form.add_error("file" if upload is not None else "sha256", error.detail)
        return TemplateResponse(
            request,
            "storefront/verify.html",
            {**context, "form": form},
            status=error.status if 400 <= error.status < 500 else 400,
        )
    if result is not None:
        context["result"] = _shown(result)
    return TemplateResponse(request, "storefront/verify.html", {**context, "form": form}, status=status)


@pages_errors
def certificate(request: HttpRequest, public_id) -> HttpResponse:
    """The record's v2 certificate as a page: the same certificate the API's JSON endpoint issues (built and
    signed by the same function), shown in words, with the JSON to download and the command that checks it."""
    if request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET"})
    wait = _throttle_wait(request)
    if wait is not None:
        return TemplateResponse(
            request, "storefront/certificate.html", {"throttled": wait}, status=429, headers={"Retry-After": str(wait)}
        )
    record = selectors.record_by_public_id(public_id=public_id)
    if record is None:
        raise NotFound("No such provenance record.")
    json_url = reverse("provenance-certificate", kwargs={"public_id": record.public_id})
    try:
        issued = certificate_for(record=record)
    except Conflict as error:  # not anchored yet: the API answers 409 too
        return TemplateResponse(
            request, "storefront/certificate.html", {"pending": error.detail, "record": record}, status=409
        )
    refs = (
        {issued["owner"]["current"]}
        | {event.get("to_ref") or "" for event in issued["events"]}
        | {event.get("from_ref") or "" for event in issued["events"]}
    )
    people = {ref: user.display_name or "an Atelier user" for ref, user in _people(refs).items()}
    for event in issued["events"]:
        event["to_name"] = people.get(event.get("to_ref"), event.get("to_ref"))
        event["from_name"] = people.get(event.get("from_ref"), event.get("from_ref")) if event.get("from_ref") else None
    return TemplateResponse(
        request,
        "storefront/certificate.html",
        {
            "certificate": issued,
            "record": record,
            "json_url": json_url,
            "owner_name": people.get(issued["owner"]["current"], issued["owner"]["current"]),
            "artwork_id": artwork_id_of_subject(record.subject),
            "pretty": json.dumps(issued, indent=2, sort_keys=True, ensure_ascii=False),
        },
    )
