"""How a model version sells, side by side with the version it was fine-tuned from: the model's metrics and
sample grid (generation's data) next to its published works' views and sales (the gallery's). Generation never
imports the marketplace, so this read lives here."""

from typing import Any

from django.db.models import Count, Q, Sum
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.permissions import HasScope
from core.schema import PROBLEM, summaries
from generation import selectors as generation_selectors
from generation.models import ModelVersion
from marketplace.gallery.models import Artwork, ArtworkState, Order, OrderState


def model_version_performance(*, model_version: ModelVersion) -> dict[str, Any]:
    """Metrics and sample grid of one model version, and its works' publications, views and sales."""
    works = Artwork.objects.filter(generated_image__model_version=model_version)
    totals = works.aggregate(
        artworks=Count("id"), published=Count("id", filter=Q(state=ArtworkState.PUBLISHED)), views=Sum("view_count")
    )
    sold = (
        Order.objects.filter(artwork__in=works, state=OrderState.FULFILLED)
        .values("currency")
        .annotate(sales=Count("id"), revenue=Sum("artist_amount"))
        .order_by("currency")
    )
    run = model_version.training_run
    return {
        "model": str(model_version.public_id),
        "name": model_version.name,
        "metrics": model_version.metrics,
        "sample_grid_url": reverse("training-run-sample-grid", args=[run.public_id]) if run.sample_grid else None,
        "artworks": totals["artworks"],
        "published": totals["published"],
        "views": totals["views"] or 0,
        "sales": sum(row["sales"] for row in sold),
        "revenue": {row["currency"]: row["revenue"] for row in sold},  # the artist's share, minor units
    }


def model_version_comparison(*, user: Any, public_id: Any) -> dict[str, Any]:
    """The user's model version and the version it fine-tuned (null when it was trained from scratch)."""
    version = generation_selectors.model_version_get(user=user, public_id=public_id)
    parent = version.training_run.init_from
    return {
        "model": model_version_performance(model_version=version),
        "parent": model_version_performance(model_version=parent) if parent is not None else None,
    }


class ModelPerformanceSerializer(serializers.Serializer):
    model = serializers.UUIDField()
    name = serializers.CharField()
    metrics = serializers.DictField(help_text="FID/KID and diversity of the exported model, or why unavailable.")
    sample_grid_url = serializers.CharField(allow_null=True)
    artworks = serializers.IntegerField(help_text="Works made from its images.")
    published = serializers.IntegerField()
    views = serializers.IntegerField()
    sales = serializers.IntegerField(help_text="Fulfilled orders.")
    revenue = serializers.DictField(child=serializers.IntegerField(), help_text="Artist's share per currency.")


class ModelComparisonSerializer(serializers.Serializer):
    model = ModelPerformanceSerializer()
    parent = ModelPerformanceSerializer(allow_null=True, help_text="The version it was fine-tuned from.")


@summaries(get="How a model version's artworks sell, beside the model it was fine-tuned from")
class ModelPerformanceView(APIView):
    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = {"GET": {"gallery:read"}}

    @extend_schema(responses={200: ModelComparisonSerializer, 404: PROBLEM}, tags=["models"])
    def get(self, request: Request, public_id) -> Response:
        return Response(
            ModelComparisonSerializer(model_version_comparison(user=request.user, public_id=public_id)).data
        )
