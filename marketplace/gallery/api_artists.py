"""Public artist profiles: the list of artists with published work, and one artist's profile (bio, picture,
models their works come from, open to commissions). No emails, ever: the serializers list what is shown."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.schema import PROBLEM
from marketplace.gallery import selectors
from marketplace.gallery.serializers import ArtistProfileSerializer, ArtistSummarySerializer

TAGS = ["gallery"]


class ArtistListView(generics.GenericAPIView):
    permission_classes = [AllowAny]
    serializer_class = ArtistSummarySerializer

    def get_queryset(self):
        return selectors.artists_public()

    @extend_schema(
        responses={200: ArtistSummarySerializer(many=True)},
        tags=TAGS,
        auth=[],
        summary="Artists with published work, best-selling first (public)",
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class ArtistDetailView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        responses={200: ArtistProfileSerializer, 404: PROBLEM}, tags=TAGS, auth=[], summary="An artist's public profile"
    )
    def get(self, request: Request, public_id) -> Response:
        artist = selectors.artist_public_profile(public_id=public_id)
        models = selectors.artist_models_on_sale(artist=artist)
        return Response(ArtistProfileSerializer(artist, context={"request": request, "models": models}).data)
