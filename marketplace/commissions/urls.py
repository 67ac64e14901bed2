from django.urls import path

from marketplace.commissions import api

urlpatterns = [
    path("commissions", api.CommissionListCreateView.as_view(), name="commission-list"),
    path("commission-briefs", api.CommissionBriefListView.as_view(), name="commission-brief-list"),
    path("commissions/<uuid:public_id>", api.CommissionDetailView.as_view(), name="commission-detail"),
    path("commissions/<uuid:public_id>/history", api.CommissionHistoryView.as_view(), name="commission-history"),
    path("commissions/<uuid:public_id>/cancel", api.CommissionCancelView.as_view(), name="commission-cancel"),
    path(
        "commissions/<uuid:public_id>/references/<int:index>",
        api.CommissionReferenceFileView.as_view(),
        name="commission-reference",
    ),
    path(
        "commissions/<uuid:public_id>/offers", api.CommissionOfferListCreateView.as_view(), name="commission-offer-list"
    ),
    path(
        "commissions/<uuid:public_id>/deliveries",
        api.CommissionDeliveryListCreateView.as_view(),
        name="commission-delivery-list",
    ),
    path("commission-offers", api.OfferListView.as_view(), name="commission-offer-mine"),
    path("commission-offers/<uuid:public_id>", api.OfferDetailView.as_view(), name="commission-offer-detail"),
    path("commission-offers/<uuid:public_id>/accept", api.OfferAcceptView.as_view(), name="commission-offer-accept"),
    path("commission-offers/<uuid:public_id>/decline", api.OfferDeclineView.as_view(), name="commission-offer-decline"),
    path(
        "commission-offers/<uuid:public_id>/withdraw", api.OfferWithdrawView.as_view(), name="commission-offer-withdraw"
    ),
    path("commission-deliveries/<uuid:public_id>", api.DeliveryDetailView.as_view(), name="commission-delivery-detail"),
    path(
        "commission-deliveries/<uuid:public_id>/accept",
        api.DeliveryAcceptView.as_view(),
        name="commission-delivery-accept",
    ),
    path(
        "commission-deliveries/<uuid:public_id>/request-revision",
        api.DeliveryRevisionView.as_view(),
        name="commission-delivery-request-revision",
    ),
    path(
        "commission-deliveries/<uuid:public_id>/images/<int:index>",
        api.DeliveryImageFileView.as_view(),
        name="commission-delivery-image",
    ),
]
