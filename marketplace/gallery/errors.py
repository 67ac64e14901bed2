"""The problem+json `code`s the gallery app raises (artworks, listings, orders, downloads)."""

from enum import StrEnum, unique


@unique
class GalleryError(StrEnum):
    ALREADY_ORDERED = "already_ordered"
    ALREADY_REGISTERED = "already_registered"
    ARTIST_ONLY = "artist_only"
    ARTWORK_NOT_ON_SALE = "artwork_not_on_sale"
    CHECKOUT_IN_PROGRESS = "checkout_in_progress"
    CURRENCY_MISMATCH = "currency_mismatch"
    DOWNLOAD_LINK_EXPIRED = "download_link_expired"
    DOWNLOAD_LINK_INVALID = "download_link_invalid"
    DOWNLOAD_LINK_NOT_YOURS = "download_link_not_yours"
    DUPLICATE_ARTWORK = "duplicate_artwork"
    EXCLUSIVE_NOT_REFUNDABLE = "exclusive_not_refundable"
    EXCLUSIVE_RESERVED = "exclusive_reserved"
    EXCLUSIVE_SOLD = "exclusive_sold"
    EXCLUSIVE_UNAVAILABLE = "exclusive_unavailable"
    INVALID_CURSOR = "invalid_cursor"
    LICENCES_OUTSTANDING = "licences_outstanding"
    LISTING_CLOSED = "listing_closed"
    LISTING_EXISTS = "listing_exists"
    NEAR_DUPLICATE = "near_duplicate"
    NOT_A_LICENCE_HOLDER = "not_a_licence_holder"
    OWN_ARTWORK = "own_artwork"
    OWNERSHIP_TRANSFERRED = "ownership_transferred"
    PAYMENT_MISSING = "payment_missing"
    PLAN_UPGRADE_REQUIRED = "plan_upgrade_required"
    TOO_MANY_OPEN_ORDERS = "too_many_open_orders"
