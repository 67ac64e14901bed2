"""Signed, expiring download links for originals. A token names the artwork and the user it was issued to and
is signed with SECRET_KEY (TimestampSigner); holding is checked again when the file is served, so a licence
revoked by a refund stops a link issued before it. With media in a bucket the link answers with a presigned URL
of the object that expires no later than the link itself (and within STORAGE_PRESIGNED_TTL_SECONDS)."""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core import signing
from django.utils import timezone
from django.utils.text import slugify

from core.errors import AtelierError, Forbidden, NotFound
from core.media import media_presigned_url
from marketplace.gallery import conf, credentials
from marketplace.gallery.errors import GalleryError
from marketplace.gallery.models import Artwork
from marketplace.gallery.selectors import artwork_is_holder

SALT = "atelier.gallery.download"


class DownloadLinkExpired(AtelierError):
    status, code, title = 410, GalleryError.DOWNLOAD_LINK_EXPIRED, "Download link expired"


@dataclass(frozen=True)
class DownloadLink:
    token: str
    expires_at: datetime


def download_link_issue(*, user: Any, artwork: Artwork) -> DownloadLink:
    if not artwork_is_holder(user=user, artwork=artwork):
        raise Forbidden(
            "Only the artist and licence holders can download the original.", code=GalleryError.NOT_A_LICENCE_HOLDER
        )
    token = signing.TimestampSigner(salt=SALT).sign_object({"a": str(artwork.public_id), "u": str(user.public_id)})
    ttl = timedelta(seconds=conf.get("GALLERY_DOWNLOAD_URL_TTL_SECONDS"))
    return DownloadLink(token=token, expires_at=timezone.now() + ttl)


def download_link_resolve(*, token: str, requester: Any = None) -> Artwork:
    """The artwork a valid token grants; 410 once expired, 403 when tampered with, presented by another signed-in
    user, or when the user no longer holds a licence."""
    return _resolve(token=token, requester=requester)[0]


@dataclass(frozen=True)
class OriginalDownload:
    artwork: Artwork
    filename: str
    data: bytes | None = None  # the original with Content Credentials for the token's user...
    url: str | None = None  # ...or, with signing off and media in a bucket, a presigned URL of the stored file


def download_original(*, token: str, requester: Any = None) -> OriginalDownload:
    """What a valid token delivers. With C2PA signing on, the original passes through here to get Content
    Credentials stating the token user's licence (marketplace/gallery/credentials.py), so it is never a
    presigned URL of the unsigned file; with signing off, a bucket's presigned URL when media is in one."""
    artwork, user = _resolve(token=token, requester=requester)
    filename = f"{slugify(artwork.title) or 'artwork'}-{str(artwork.public_id)[:8]}.png"
    if not credentials.signing_enabled():
        url = download_presigned_url(token=token, artwork=artwork, filename=filename)
        if url is not None:
            return OriginalDownload(artwork=artwork, filename=filename, url=url)
    with artwork.original.open("rb") as handle:
        original = handle.read()
    return OriginalDownload(
        artwork=artwork,
        filename=filename,
        data=credentials.original_sign(artwork=artwork, user=user, original=original),
    )


def _resolve(*, token: str, requester: Any) -> tuple[Artwork, Any]:
    signer = signing.TimestampSigner(salt=SALT)
    try:
        claims = signer.unsign_object(token, max_age=conf.get("GALLERY_DOWNLOAD_URL_TTL_SECONDS"))
    except signing.SignatureExpired:
        raise DownloadLinkExpired("This download link has expired; ask for a new one.") from None
    except signing.BadSignature:
        raise Forbidden("This download link is not valid.", code=GalleryError.DOWNLOAD_LINK_INVALID) from None
    user = get_user_model().objects.filter(public_id=claims.get("u"), is_active=True).first()
    artwork = Artwork.objects.filter(public_id=claims.get("a")).first()
    if user is None or artwork is None:
        raise NotFound("The file of this link no longer exists.")
    if getattr(requester, "is_authenticated", False) and requester.pk != user.pk:
        raise Forbidden("This download link was issued to another account.", code=GalleryError.DOWNLOAD_LINK_NOT_YOURS)
    if not artwork_is_holder(user=user, artwork=artwork):
        raise Forbidden("The licence for this download is no longer held.", code=GalleryError.NOT_A_LICENCE_HOLDER)
    return artwork, user


def download_link_seconds_left(*, token: str) -> int:
    """Whole seconds before a (valid) token expires; 0 once it has."""
    signer = signing.TimestampSigner(salt=SALT)
    issued = signing.b62_decode(signing.Signer.unsign(signer, token).rsplit(signer.sep, 1)[1])
    return max(0, int(issued + conf.get("GALLERY_DOWNLOAD_URL_TTL_SECONDS") - time.time()))


def download_presigned_url(*, token: str, artwork: Artwork, filename: str) -> str | None:
    """A presigned GET of the artwork's original for a token `download_link_resolve` accepted, expiring with the
    token at the latest; None when media is on the filesystem (the link serves the file itself)."""
    left = download_link_seconds_left(token=token)
    if left < 1:
        raise DownloadLinkExpired("This download link has expired; ask for a new one.")
    return media_presigned_url(name=artwork.original.name, expires_in=left, filename=filename, content_type="image/png")
