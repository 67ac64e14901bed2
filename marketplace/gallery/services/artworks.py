"""Artworks: creation from the artist's generated images or uploads, edits, publishing (near-duplicate check and
provenance registration in one transaction), withdrawal, and the view counter behind popularity."""

import re
import uuid
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.errors import Conflict, Forbidden, InvalidInput, InvalidTransition
from core.events import event_emit
from core.uploads import image_clean
from marketplace.gallery import conf, credentials, locks, ports
from marketplace.gallery.browse_cache import browse_changed
from marketplace.gallery.cards import card_text
from marketplace.gallery.errors import GalleryError
from marketplace.gallery.models import Artwork, ArtworkSource, ArtworkState, ArtworkTag, GrantState, LicenceType
from marketplace.gallery.previews import mark_original, render_preview
from provenance.fingerprints.watermark import MIN_SIDE as INVISIBLE_MIN_SIDE

MAX_TAGS = 20
TAG_MAX_LENGTH = 40
_TAG = re.compile(r"^[a-z0-9][a-z0-9 _-]*$")
_STYLE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
VIEW_WEIGHT, SALE_WEIGHT = 1, 25  # popularity = views + 25 × sales, kept in one indexed column
VIEW_DEDUPE_SECONDS = 24 * 3600  # a viewer counts once a day per work

# action -> (states it may start from, state it leads to)
ARTWORK_TRANSITIONS = {
    "publish": ((ArtworkState.DRAFT, ArtworkState.WITHDRAWN), ArtworkState.PUBLISHED),
    "withdraw": ((ArtworkState.PUBLISHED,), ArtworkState.WITHDRAWN),
}


def _require_artist(user: Any) -> None:
    if getattr(user, "role", None) != "artist":
        raise Forbidden("Only artists create artworks.", code=GalleryError.ARTIST_ONLY)


def tags_normalise(tags: Sequence[str]) -> list[str]:
    """Lower-case, trimmed, de-duplicated (first spelling kept), at most MAX_TAGS."""
    out: list[str] = []
    for raw in tags:
        tag = " ".join(str(raw).split()).lower()
        if not tag:
            continue
        if len(tag) > TAG_MAX_LENGTH or not _TAG.match(tag):
            raise InvalidInput(
                f"Tag {raw!r} must be 1-{TAG_MAX_LENGTH} letters, digits, spaces, '-' or '_'.", field="tags"
            )
        if tag not in out:
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise InvalidInput(f"At most {MAX_TAGS} tags.", field="tags")
    return out


def _style_normalise(style: str) -> str:
    style = style.strip().lower().replace(" ", "-")
    if style and not _STYLE.match(style):
        raise InvalidInput("Style must be a single word or hyphenated slug (letters, digits, '-', '_').", field="style")
    return style


def _title_normalise(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise InvalidInput("A title is required.", field="title")
    return title


def _search_text(artwork: Artwork) -> str:
    return "\n".join([artwork.title, artwork.description, " ".join(artwork.tags)]).lower()


def _set_tags(artwork: Artwork, tags: list[str]) -> None:
    artwork.tags = tags
    ArtworkTag.objects.filter(artwork=artwork).exclude(tag__in=tags).delete()
    ArtworkTag.objects.bulk_create([ArtworkTag(artwork=artwork, tag=tag) for tag in tags], ignore_conflicts=True)


def _store(name: str, data: bytes) -> str:
    return default_storage.save(name, ContentFile(data))


def _create(
    *,
    artist: Any,
    original: bytes,
    width: int,
    height: int,
    source: str,
    title: str,
    description: str,
    tags: Sequence[str],
    style: str,
    generated_image: Any = None,
    lineage: dict | None = None,
) -> Artwork:
    title, tags, style = _title_normalise(title), tags_normalise(tags), _style_normalise(style)
    # the invisible watermark goes into the original once, before it is hashed: the registered bytes are the
    # marked bytes, so a delivered copy still verifies exactly; its key is stored with the work (and the record)
    key = ports.watermark_key_for(original) if min(width, height) >= INVISIBLE_MIN_SIDE else None
    if key is not None:
        original = mark_original(original, key=key)
    hashes = ports.file_hashes(raw=original)
    public_id = uuid.uuid4()
    # files first (no transaction can roll a file back), then the rows; a failed insert removes the files
    preview = render_preview(original, watermark_key=key)
    names = [
        _store(f"gallery/originals/{public_id}.png", original),
        _store(f"gallery/previews/{public_id}.jpg", preview),
    ]
    try:
        with transaction.atomic():
            duplicate = Artwork.objects.filter(artist=artist, content_sha256=hashes.sha256).first()
            if duplicate is not None:
                raise Conflict(
                    "You already have an artwork with exactly this image.",
                    code=GalleryError.DUPLICATE_ARTWORK,
                    artwork=str(duplicate.public_id),
                )
            artwork = Artwork(
                public_id=public_id,
                artist=artist,
                owner=artist,
                title=title,
                description=description.strip(),
                tags=tags,
                style=style,
                source=source,
                generated_image=generated_image,
                lineage=lineage or {},
                original=names[0],
                preview=names[1],
                width=width,
                height=height,
                content_sha256=hashes.sha256,
                pdq=hashes.pdq,
                pdq_quality=hashes.pdq_quality,
                watermark_key=key.hex() if key is not None else "",
                original_watermarked=key is not None,
            )
            artwork.search_text, artwork.card = _search_text(artwork), card_text(artwork)
            artwork.save()
            _set_tags(artwork, tags)
            event_emit(
                type="artwork.created",
                user=artist,
                payload={"artwork": str(public_id), "source": source, "content_sha256": hashes.sha256},
            )
    except (Conflict, IntegrityError) as exc:
        for name in names:
            default_storage.delete(name)
        if isinstance(exc, IntegrityError):  # the same image raced in twice
            raise Conflict("This image is already an artwork.", code=GalleryError.DUPLICATE_ARTWORK) from None
        raise
    return artwork


def artwork_create_from_upload(
    *,
    artist: Any,
    raw: bytes,
    filename: str,
    title: str,
    description: str = "",
    tags: Sequence[str] = (),
    style: str = "",
) -> Artwork:
    """A draft from an uploaded image: validated and re-encoded like dataset uploads (core.uploads)."""
    _require_artist(artist)
    clean = image_clean(raw=raw, name=filename or "file", max_bytes=conf.get("GALLERY_MAX_UPLOAD_BYTES"))
    return _create(
        artist=artist,
        original=clean.data,
        width=clean.width,
        height=clean.height,
        source=ArtworkSource.UPLOAD,
        title=title,
        description=description,
        tags=tags,
        style=style,
    )


def artwork_create_from_generated(
    *,
    artist: Any,
    generated_image_id: UUID,
    title: str,
    description: str = "",
    tags: Sequence[str] = (),
    style: str = "",
) -> Artwork:
    """A draft from one of the artist's own generated images, keeping its lineage (model version, seed, params)."""
    _require_artist(artist)
    source = ports.generated_image(user=artist, public_id=generated_image_id)
    lineage = {"generated_image": str(source.image.public_id), **source.lineage}
    return _create(
        artist=artist,
        original=source.original,
        width=source.image.width,
        height=source.image.height,
        source=ArtworkSource.GENERATED,
        title=title,
        description=description,
        tags=tags,
        style=style,
        generated_image=source.image,
        lineage=lineage,
    )


def artwork_update(
    *,
    artist: Any,
    artwork: Artwork,
    title: str | None = None,
    description: str | None = None,
    tags: Sequence[str] | None = None,
    style: str | None = None,
) -> Artwork:
    with transaction.atomic():
        locked = locks.lock_artwork(artwork.pk)
        _require_owned_by_artist(locked, artist)
        _apply_edit(locked, title=title, description=description, tags=tags, style=style)
    return locked


def artwork_moderate(
    *, artwork: Artwork, title: str | None = None, description: str | None = None, style: str | None = None
) -> Artwork:
    """A staff edit (the admin's change form): the same normalising, search text and card as the artist's own
    edit, without the ownership check."""
    with transaction.atomic():
        locked = locks.lock_artwork(artwork.pk)
        _apply_edit(locked, title=title, description=description, style=style)
    return locked


def artwork_text_check(*, title: str | None = None, style: str | None = None) -> None:
    """Raise the InvalidInput an edit with these values would raise (for forms that validate before saving)."""
    if title is not None:
        _title_normalise(title)
    if style is not None:
        _style_normalise(style)


def _apply_edit(
    locked: Artwork,
    *,
    title: str | None,
    description: str | None,
    style: str | None,
    tags: Sequence[str] | None = None,
) -> None:
    if title is not None:
        locked.title = _title_normalise(title)
    if description is not None:
        locked.description = description.strip()
    if style is not None:
        locked.style = _style_normalise(style)
    if tags is not None:
        _set_tags(locked, tags_normalise(tags))
    locked.search_text, locked.card = _search_text(locked), card_text(locked)
    locked.save()
    browse_changed()


def _require_owned_by_artist(artwork: Artwork, artist: Any) -> None:
    if artwork.owner_id != artist.pk:
        raise Conflict(
            "The work now belongs to the buyer of its exclusive licence.", code=GalleryError.OWNERSHIP_TRANSFERRED
        )


def _check_transition(artwork: Artwork, action: str) -> ArtworkState:
    sources, target = ARTWORK_TRANSITIONS[action]
    if artwork.state not in sources:
        raise InvalidTransition(entity="artwork", state=artwork.state, action=action)
    return target


def _own_earlier_artwork(artist: Any, matches: list[ports.Match]) -> Artwork | None:
    for match in matches:
        public_id = ports.artwork_id_of_subject(match.record.subject)
        if public_id:
            earlier = Artwork.objects.filter(public_id=public_id, artist=artist).first()
            if earlier is not None:
                return earlier
    return None


def artwork_publish(*, artist: Any, artwork: Artwork) -> Artwork:
    """Publish: a near-duplicate of another owner's registered work blocks it (409 naming the record); the
    artist's own earlier work is allowed and linked as `derived_from`; the provenance record is written in this
    same transaction, so a published artwork always has one. A first publish also signs the public preview's
    Content Credentials (they name the record) into a new file, swapped in by the same transaction."""
    signed_preview: list[str] = []  # a file written for this publish, removed again if it rolls back
    try:
        return _publish(artist=artist, artwork=artwork, signed_preview=signed_preview)
    except BaseException:
        for name in signed_preview:
            default_storage.delete(name)
        raise


def _sign_preview(artwork: Artwork, record: Any, signed_preview: list[str]) -> None:
    with artwork.preview.open("rb") as handle:
        preview = handle.read()
    signed = credentials.preview_sign(artwork=artwork, record=record, preview=preview)
    if signed is None:  # PROVENANCE_C2PA_SIGNING is off
        return
    signed_preview.append(_store(f"gallery/previews/{artwork.public_id}-c2pa.jpg", signed.data))
    unsigned = artwork.preview.name
    artwork.preview = signed_preview[-1]
    ports.preview_credential_record(record=record, signed=signed)
    transaction.on_commit(lambda: default_storage.delete(unsigned))


def _publish(*, artist: Any, artwork: Artwork, signed_preview: list[str]) -> Artwork:
    with transaction.atomic():
        locked = locks.lock_artwork(artwork.pk)
        target = _check_transition(locked, "publish")
        _require_owned_by_artist(locked, artist)
        if locked.provenance_record_id is None:  # a first publish: a new record for the signer to anchor
            ports.publication_quota_consume(artist=artist, artwork_public_id=locked.public_id)
            ports.registration_lock()  # else two near-identical works published at once could both pass
            matches = ports.similar_records(
                content_sha256=locked.content_sha256,
                pdq=locked.pdq,
                pdq_quality=locked.pdq_quality,
                width=locked.width,
                height=locked.height,
            )
            mine = ports.user_ref(artist)
            blocking = [match for match in matches if match.record.owner != mine]
            if blocking:
                raise Conflict(
                    "This image matches a registered work of another owner.",
                    code=GalleryError.NEAR_DUPLICATE,
                    record=ports.match_summary(blocking[0]),
                    matches=[ports.match_summary(match) for match in blocking[:5]],
                )
            record = ports.record_register(artwork=locked)
            if record.subject != ports.artwork_subject(locked.public_id):
                raise Conflict(
                    "This exact image is already registered under another subject.",
                    code=GalleryError.ALREADY_REGISTERED,
                    record=ports.match_summary(ports.Match(record, 0)),
                )
            locked.provenance_record = record
            locked.derived_from = _own_earlier_artwork(artist, matches)
            _sign_preview(locked, record, signed_preview)
        now = timezone.now()
        locked.state, locked.published_at = target, locked.published_at or now
        locked.card = card_text(locked)
        locked.save()
        browse_changed()
        event_emit(
            type="artwork.published",
            user=artist,
            payload={
                "artwork": str(locked.public_id),
                "derived_from": str(locked.derived_from.public_id) if locked.derived_from else None,
                "provenance_record": str(locked.provenance_record.public_id),
            },
        )
    return locked


def artwork_withdraw(*, artist: Any, artwork: Artwork) -> Artwork:
    """Hide a published work from browse and stop its sales; licences already granted stay valid."""
    with transaction.atomic():
        locked = locks.lock_artwork(artwork.pk)
        if (
            locked.owner_id != locked.artist_id
            or locked.grants.filter(licence_type=LicenceType.EXCLUSIVE, state=GrantState.ACTIVE).exists()
        ):
            raise Conflict(
                "The exclusive licence of this work was sold; its owner holds it now, so it cannot be withdrawn.",
                code=GalleryError.EXCLUSIVE_SOLD,
            )
        locked.state = _check_transition(locked, "withdraw")
        locked.withdrawn_at = timezone.now()
        locked.save(update_fields=["state", "withdrawn_at", "updated_at"])
        browse_changed()
        event_emit(type="artwork.withdrawn", user=artist, payload={"artwork": str(locked.public_id)})
    return locked


def artwork_record_view(*, artwork: Artwork, viewer: Any, viewer_address: str = "") -> None:
    """Count a view of a published work by someone other than its artist, once per viewer (the user, or the
    client address when signed out) per VIEW_DEDUPE window, so reloads and scripts cannot buy popularity.
    One cache add and one UPDATE, no read."""
    if artwork.state != ArtworkState.PUBLISHED or getattr(viewer, "pk", None) == artwork.artist_id:
        return
    who = f"u{viewer.pk}" if getattr(viewer, "pk", None) else f"a{viewer_address or 'unknown'}"
    if not cache.add(f"gallery:viewed:{artwork.pk}:{who}", 1, timeout=VIEW_DEDUPE_SECONDS):
        return
    Artwork.objects.filter(pk=artwork.pk).update(
        view_count=F("view_count") + 1, popularity=F("popularity") + VIEW_WEIGHT
    )


def artwork_record_sale(*, artwork_pk: int, delta: int) -> None:
    Artwork.objects.filter(pk=artwork_pk).update(
        sales_count=F("sales_count") + delta, popularity=F("popularity") + delta * SALE_WEIGHT
    )
    browse_changed()
