"""Pages of the artist studio (/studio/…) and of commissions (/commissions/…). Included at the site root."""

from django.urls import path

from marketplace.storefront import views_commissions as commissions
from marketplace.storefront import views_studio as studio

urlpatterns = [
    path("studio/", studio.studio_home, name="studio"),
    path("studio/datasets/", studio.dataset_list, name="studio-datasets"),
    path("studio/datasets/<uuid:public_id>/", studio.dataset_detail, name="studio-dataset"),
    path("studio/training/", studio.training_list, name="studio-training"),
    path("studio/training/new", studio.training_new, name="studio-training-new"),
    path("studio/training/estimate", studio.training_estimate, name="studio-training-estimate"),
    path("studio/training/<uuid:public_id>/", studio.training_detail, name="studio-run"),
    path("studio/training/<uuid:public_id>/progress", studio.training_progress, name="studio-run-progress"),
    path("studio/models/", studio.model_list, name="studio-models"),
    path("studio/models/<uuid:public_id>/", studio.model_detail, name="studio-model"),
    path("studio/models/<uuid:public_id>/generate", studio.model_generate, name="studio-model-generate"),
    path("studio/models/<uuid:public_id>/fine-tune", studio.model_fine_tune, name="studio-model-fine-tune"),
    path("studio/generations/", studio.job_list, name="studio-jobs"),
    path("studio/generations/<uuid:public_id>/", studio.job_detail, name="studio-job"),
    path("studio/generations/<uuid:public_id>/images", studio.job_images, name="studio-job-images"),
    path("studio/images/<uuid:public_id>/publish", studio.image_publish, name="studio-image-publish"),
    path("studio/images/<uuid:public_id>/curation", studio.image_curate, name="studio-image-curate"),
    path("studio/artworks/", studio.artwork_list, name="studio-artworks"),
    path("studio/artworks/<uuid:public_id>/", studio.artwork_detail, name="studio-artwork"),
    path(
        "studio/artworks/<uuid:public_id>/publish",
        studio.artwork_action,
        {"action": "publish"},
        name="studio-artwork-publish",
    ),
    path(
        "studio/artworks/<uuid:public_id>/withdraw",
        studio.artwork_action,
        {"action": "withdraw"},
        name="studio-artwork-withdraw",
    ),
    path("studio/artworks/<uuid:public_id>/listings", studio.listing_create, name="studio-listing-create"),
    path(
        "studio/listings/<uuid:public_id>/close",
        studio.listing_action,
        {"action": "close"},
        name="studio-listing-close",
    ),
    path(
        "studio/listings/<uuid:public_id>/price",
        studio.listing_action,
        {"action": "price"},
        name="studio-listing-price",
    ),
    path("commissions/", commissions.commission_list, name="commissions"),
    path("commissions/new", commissions.commission_new, name="commission-new"),
    path("commissions/briefs", commissions.brief_list, name="commission-briefs"),
    path("commissions/<uuid:public_id>/", commissions.commission_detail, name="commission-page"),
    path(
        "commissions/<uuid:public_id>/deliveries", commissions.commission_deliveries, name="commission-page-deliveries"
    ),
    path("commissions/<uuid:public_id>/cancel", commissions.commission_cancel, name="commission-page-cancel"),
    path("commissions/<uuid:public_id>/offer", commissions.offer_create, name="commission-page-offer"),
    path(
        "commissions/<uuid:public_id>/deliver/upload",
        commissions.delivery_create,
        {"source": "upload"},
        name="commission-page-deliver-upload",
    ),
    path(
        "commissions/<uuid:public_id>/deliver/model",
        commissions.delivery_create,
        {"source": "model"},
        name="commission-page-deliver-model",
    ),
    path(
        "commissions/offers/<uuid:public_id>/accept",
        commissions.offer_action,
        {"action": "accept"},
        name="commission-page-offer-accept",
    ),
    path(
        "commissions/offers/<uuid:public_id>/decline",
        commissions.offer_action,
        {"action": "decline"},
        name="commission-page-offer-decline",
    ),
    path(
        "commissions/offers/<uuid:public_id>/withdraw",
        commissions.offer_action,
        {"action": "withdraw"},
        name="commission-page-offer-withdraw",
    ),
    path(
        "commissions/deliveries/<uuid:public_id>/accept",
        commissions.delivery_review,
        {"action": "accept"},
        name="commission-page-delivery-accept",
    ),
    path(
        "commissions/deliveries/<uuid:public_id>/revision",
        commissions.delivery_review,
        {"action": "revision"},
        name="commission-page-delivery-revision",
    ),
]
