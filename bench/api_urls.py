"""The project's URLs plus `/bench/bare`: a DRF endpoint that returns a constant JSON body through the same
middleware, authentication, permission and rendering as every API view (the baseline of bench/api.py)."""

from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401
from config.urls import urlpatterns as project_urlpatterns

BODY = {"status": "ok", "service": "atelier", "bench": "bare"}
# A constant body the size of a gallery page (20 cards): tells payload cost apart from query and serialisation.
CARD = {
    "id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    "title": "Harbour Orbit Velvet",
    "artist": {"id": "16fd2706-8baf-433b-82eb-8c7fada847da", "display_name": "Artist 42"},
    "style": "impressionist",
    "tags": ["harbour-orbit", "dawn", "mirror"],
    "preview_url": "http://127.0.0.1:8000/api/v1/artworks/7c9e6679-7425-40de-944b-e07fc1f90ae7/preview",
    "width": 1024,
    "height": 1024,
    "price": {"amount": 12_500, "currency": "USD"},
    "licence_types": ["personal", "commercial"],
    "popularity": 37,
    "provenance_status": "confirmed",
    "published_at": "2026-11-28T17:03:11.512345Z",
}
LARGE_BODY = {
    "next": "http://127.0.0.1:8000/api/v1/artworks?cursor=eyJzIjoibmV3ZXN0IiwidiI6IjIwMjYtMTEifQ",
    "previous": None,
    "results": [CARD] * 20,
}


class BareView(APIView):
    permission_classes = [AllowAny]
    body = BODY

    def get(self, request: Request) -> Response:
        return Response(self.body)


urlpatterns = [
    path("bench/bare", BareView.as_view()),
    path("bench/bare-page", BareView.as_view(body=LARGE_BODY)),
    *project_urlpatterns,
]
