"""The size cap of each upload route, from each app's own setting (read at call time). core.body_limits adds
multipart overhead and refuses bigger bodies before they are read; see UPLOAD_ROUTE_LIMITS in settings."""


def avatar() -> int:
    from marketplace.accounts.avatars import AVATAR_MAX_BYTES

    return AVATAR_MAX_BYTES


def artwork() -> int:
    from marketplace.gallery import conf

    return conf.get("GALLERY_MAX_UPLOAD_BYTES")


def verification() -> int:
    from provenance import conf

    return conf.get("PROVENANCE_VERIFY_MAX_BYTES")


def dataset() -> int:
    from generation import conf

    return conf.get("GENERATION_DATASET_MAX_BYTES")


def commission_brief() -> int:
    from marketplace.commissions import conf

    return conf.get("COMMISSION_MAX_REFERENCES") * conf.get("COMMISSION_IMAGE_MAX_BYTES")


def commission_delivery() -> int:
    from marketplace.commissions import conf

    return conf.get("COMMISSION_MAX_DELIVERY_IMAGES") * conf.get("COMMISSION_IMAGE_MAX_BYTES")
