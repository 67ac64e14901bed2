from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.health import healthz
from core.metrics import metrics_view

# Django tries patterns in order: the gallery (public browse, the hottest path) goes first. The apps' prefixes do
# not overlap (tests/config/test_api_surface.py), so the order changes nothing else.
api_v1 = [
    path("", include("marketplace.gallery.urls")),
    path("", include("marketplace.accounts.urls")),
    path("", include("marketplace.subscriptions.urls")),
    path("", include("marketplace.commissions.urls")),
    path("", include("marketplace.webhooks.urls")),
    path("", include("generation.urls")),
    path("", include("provenance.urls")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("dashboard/", include("marketplace.dashboard.urls")),
    path("admin/", admin.site.urls),
    path("", include("marketplace.storefront.urls", namespace="storefront")),
]

handler400 = "marketplace.storefront.errors.handler400"
handler403 = "marketplace.storefront.errors.handler403"
handler404 = "marketplace.storefront.errors.handler404"
handler500 = "marketplace.storefront.errors.handler500"
