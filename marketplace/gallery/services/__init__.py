"""Write services of the gallery. Other apps import from here: `from marketplace.gallery import services`."""

from marketplace.gallery.services.artworks import (
    artwork_create_from_generated,
    artwork_create_from_upload,
    artwork_moderate,
    artwork_publish,
    artwork_record_view,
    artwork_text_check,
    artwork_update,
    artwork_withdraw,
)
from marketplace.gallery.services.downloads import (
    DownloadLink,
    download_link_issue,
    download_link_resolve,
    download_original,
    download_presigned_url,
)
from marketplace.gallery.services.listings import listing_close, listing_create, listing_update_price
from marketplace.gallery.services.order_states import TRANSITIONS as ORDER_TRANSITIONS
from marketplace.gallery.services.order_states import order_check_transition, order_transition
from marketplace.gallery.services.orders import (
    PLATFORM_FEE_BPS,
    OrderPayment,
    OrderPlacement,
    order_cancel,
    order_create,
    order_for_payment,
    order_pay,
    order_payment_failed,
    order_payment_succeeded,
    order_place,
    order_refund,
    orders_expire_stale,
    platform_fee,
)

__all__ = [
    "ORDER_TRANSITIONS",
    "PLATFORM_FEE_BPS",
    "DownloadLink",
    "OrderPayment",
    "OrderPlacement",
    "artwork_create_from_generated",
    "artwork_create_from_upload",
    "artwork_moderate",
    "artwork_publish",
    "artwork_record_view",
    "artwork_text_check",
    "artwork_update",
    "artwork_withdraw",
    "download_link_issue",
    "download_link_resolve",
    "download_original",
    "download_presigned_url",
    "listing_close",
    "listing_create",
    "listing_update_price",
    "order_cancel",
    "order_check_transition",
    "order_create",
    "order_for_payment",
    "order_pay",
    "order_payment_failed",
    "order_payment_succeeded",
    "order_place",
    "order_refund",
    "order_transition",
    "orders_expire_stale",
    "platform_fee",
]
