from django.urls import path

from marketplace.gallery import api, api_artists
from marketplace.gallery.model_performance import ModelPerformanceView

urlpatterns = [
    path("artworks", api.ArtworkListCreateView.as_view(), name="artwork-list"),
    path("artworks/mine", api.MyArtworksView.as_view(), name="artwork-mine"),
    path("artworks/<uuid:public_id>", api.ArtworkDetailView.as_view(), name="artwork-detail"),
    path("artworks/<uuid:public_id>/publish", api.ArtworkPublishView.as_view(), name="artwork-publish"),
    path("artworks/<uuid:public_id>/withdraw", api.ArtworkWithdrawView.as_view(), name="artwork-withdraw"),
    path("artworks/<uuid:public_id>/preview", api.ArtworkPreviewView.as_view(), name="artwork-preview"),
    path("artworks/<uuid:public_id>/download-url", api.ArtworkDownloadUrlView.as_view(), name="artwork-download-url"),
    path("artworks/<uuid:public_id>/listings", api.ArtworkListingsView.as_view(), name="artwork-listings"),
    path("downloads/<str:token>", api.DownloadView.as_view(), name="download"),
    path("listings/<uuid:public_id>", api.ListingDetailView.as_view(), name="listing-detail"),
    path("listings/<uuid:public_id>/close", api.ListingCloseView.as_view(), name="listing-close"),
    path("orders", api.OrderListCreateView.as_view(), name="order-list"),
    path("orders/<uuid:public_id>", api.OrderDetailView.as_view(), name="order-detail"),
    path("orders/<uuid:public_id>/pay", api.OrderPayView.as_view(), name="order-pay"),
    path("orders/<uuid:public_id>/cancel", api.OrderCancelView.as_view(), name="order-cancel"),
    path("orders/<uuid:public_id>/refund", api.OrderRefundView.as_view(), name="order-refund"),
    path("sales", api.SalesView.as_view(), name="sale-list"),
    path("models/<uuid:public_id>/performance", ModelPerformanceView.as_view(), name="model-version-performance"),
    path("licences", api.LicenceListView.as_view(), name="licence-list"),
    path("artists", api_artists.ArtistListView.as_view(), name="artist-list"),
    path("artists/<uuid:public_id>", api_artists.ArtistDetailView.as_view(), name="artist-detail"),
]
