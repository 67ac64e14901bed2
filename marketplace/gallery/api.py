"""Gallery HTTP API: browse (public), artworks, previews, signed downloads, listings, orders, sales, licences.

Views parse input, call a selector or a service, and shape the answer; the rules live in services.
"""

import io
from typing import Any

from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.client_ip import client_ip
from core.idempotency import IdempotentMixin
from core.permissions import HasScope, IsStaff, WritesNeedRole
from core.renderers import AnyMediaRenderer
from core.request_body import no_body
from core.schema import PROBLEM, summaries
from core.uploads import upload_size_check
from marketplace.gallery import browse_cache, conf, selectors, services
from marketplace.gallery.previews import PREVIEW_CONTENT_TYPE
from marketplace.gallery.serializers import (
    ArtworkCreateSerializer,
    ArtworkDetailSerializer,
    ArtworkSummarySerializer,
    ArtworkUpdateSerializer,
    BrowsePageSerializer,
    BrowseQuerySerializer,
    DownloadUrlSerializer,
    LicenceGrantSerializer,
    ListingCreateSerializer,
    ListingSerializer,
    ListingUpdateSerializer,
    OrderCreateSerializer,
    OrderPaymentSerializer,
    OrderPaySerializer,
    OrderRefundSerializer,
    OrderSerializer,
    SaleSerializer,
    browse_cards_page_json,
    browse_query_parse,
)

TAGS = ["gallery"]


class ReadPublicly(BasePermission):
    """Reads are public (browse, published works, previews); writes need a signed-in user."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.method in SAFE_METHODS or bool(request.user and request.user.is_authenticated)


class GalleryScoped:
    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = {"GET": {"gallery:read"}, "POST": {"gallery:write"}, "PATCH": {"gallery:write"}}


class PublicGalleryScoped(GalleryScoped):
    permission_classes = [ReadPublicly, HasScope]


def _detail(request: Request, artwork: Any, *, code: int = status.HTTP_200_OK) -> Response:
    listings = list(selectors.listings_for_artwork(user=request.user, artwork=artwork))
    data = ArtworkDetailSerializer(artwork, context={"request": request, "listings": listings}).data
    return Response(data, status=code)


# --- artworks ----------------------------------------------------------------------------------------------


class ArtworkListCreateView(IdempotentMixin, PublicGalleryScoped, APIView):
    permission_classes = [*PublicGalleryScoped.permission_classes, WritesNeedRole.of("artist")]
    parser_classes = [JSONParser, MultiPartParser]  # an image upload, or JSON naming a generated image

    @extend_schema(
        parameters=[BrowseQuerySerializer],
        responses={200: BrowsePageSerializer, 400: PROBLEM},
        tags=TAGS,
        auth=[],
        operation_id="artworks_browse",
        summary="Browse and search published artworks (public)",
        description="Filters combine (AND). Pages are keyset cursors: follow `next` / `previous`.",
    )
    def get(self, request: Request) -> HttpResponse:
        url = request.build_absolute_uri()
        key = browse_cache.page_key(url=url)
        body = browse_cache.page_get(key) if key else None
        if body is None:
            query = browse_query_parse(request.query_params)
            page = selectors.artworks_browse_cards(
                filters=query.filters, cursor=query.cursor, page_size=query.page_size
            )
            body = browse_cards_page_json(page, url=url, base_url=f"{request.scheme}://{request.get_host()}")
            if key:
                browse_cache.page_set(key, body)
        return HttpResponse(body, content_type="application/json")

    @extend_schema(
        request={"multipart/form-data": ArtworkCreateSerializer, "application/json": ArtworkCreateSerializer},
        responses={201: ArtworkDetailSerializer, 400: PROBLEM, 403: PROBLEM, 404: PROBLEM, 409: PROBLEM, 413: PROBLEM},
        tags=TAGS,
        summary="Create a draft artwork from an upload or one of your generated images",
    )
    def post(self, request: Request) -> Response:
        payload = ArtworkCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        common = {
            "artist": request.user,
            "title": data["title"],
            "description": data["description"],
            "tags": data["tags"],
            "style": data["style"],
        }
        if "file" in data:
            upload = data["file"]
            upload_size_check(upload, max_bytes=conf.get("GALLERY_MAX_UPLOAD_BYTES"))
            raw = b"".join(upload.chunks())
            artwork = services.artwork_create_from_upload(raw=raw, filename=upload.name, **common)
        else:
            artwork = services.artwork_create_from_generated(generated_image_id=data["generated_image"], **common)
        artwork = selectors.artwork_get_own(user=request.user, public_id=artwork.public_id)
        return _detail(request, artwork, code=status.HTTP_201_CREATED)


class MyArtworksView(GalleryScoped, generics.GenericAPIView):
    serializer_class = ArtworkSummarySerializer

    def get_queryset(self):
        return selectors.artworks_of_artist(user=self.request.user)

    @extend_schema(
        responses={200: ArtworkSummarySerializer(many=True)}, tags=TAGS, summary="Your own artworks, in every state"
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ArtworkSummarySerializer(page, many=True, context={"request": request}).data)


@summaries(patch="Edit your artwork's title, description, tags or style")
class ArtworkDetailView(PublicGalleryScoped, APIView):
    @extend_schema(
        responses={200: ArtworkDetailSerializer, 404: PROBLEM},
        tags=TAGS,
        auth=[],
        summary="A published artwork (public), or your own draft",
    )
    def get(self, request: Request, public_id) -> Response:
        artwork = selectors.artwork_get_visible(user=request.user, public_id=public_id)
        services.artwork_record_view(artwork=artwork, viewer=request.user, viewer_address=client_ip(request))
        return _detail(request, artwork)

    @extend_schema(
        request=ArtworkUpdateSerializer,
        responses={200: ArtworkDetailSerializer, 400: PROBLEM, 404: PROBLEM, 409: PROBLEM},
        tags=TAGS,
    )
    def patch(self, request: Request, public_id) -> Response:
        artwork = selectors.artwork_get_own(user=request.user, public_id=public_id)
        payload = ArtworkUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.artwork_update(artist=request.user, artwork=artwork, **payload.validated_data)
        return _detail(request, selectors.artwork_get_own(user=request.user, public_id=public_id))


class ArtworkPublishView(GalleryScoped, APIView):
    @extend_schema(
        request=None,
        responses={200: ArtworkDetailSerializer, 404: PROBLEM, 409: PROBLEM, 429: PROBLEM},
        tags=TAGS,
        summary="Publish: near-duplicate check, then provenance registration",
        description="409 `near_duplicate` names the matching record of another owner in `record`. A "
        "first publish spends one unit of the plan's `publication` quota (429 "
        "`quota_exceeded` when spent); publishing a withdrawn work again does not.",
    )
    @no_body
    def post(self, request: Request, public_id) -> Response:
        artwork = selectors.artwork_get_own(user=request.user, public_id=public_id)
        services.artwork_publish(artist=request.user, artwork=artwork)
        return _detail(request, selectors.artwork_get_own(user=request.user, public_id=public_id))


@summaries(post="Withdraw your published artwork from sale (licences already sold stay valid)")
class ArtworkWithdrawView(GalleryScoped, APIView):
    @extend_schema(request=None, responses={200: ArtworkDetailSerializer, 404: PROBLEM, 409: PROBLEM}, tags=TAGS)
    @no_body
    def post(self, request: Request, public_id) -> Response:
        artwork = selectors.artwork_get_own(user=request.user, public_id=public_id)
        services.artwork_withdraw(artist=request.user, artwork=artwork)
        return _detail(request, selectors.artwork_get_own(user=request.user, public_id=public_id))


class ArtworkPreviewView(PublicGalleryScoped, APIView):
    renderer_classes = [JSONRenderer, AnyMediaRenderer]

    @extend_schema(
        responses={(200, PREVIEW_CONTENT_TYPE): OpenApiResponse(OpenApiTypes.BINARY), 404: PROBLEM},
        tags=TAGS,
        auth=[],
        summary="The watermarked preview (public)",
    )
    def get(self, request: Request, public_id) -> FileResponse:
        artwork = selectors.artwork_get_visible(user=request.user, public_id=public_id)
        response = FileResponse(artwork.preview.open("rb"), content_type=PREVIEW_CONTENT_TYPE)
        public = artwork.state == "published"
        response["Cache-Control"] = "public, max-age=3600" if public else "private, max-age=60"
        return response


class ArtworkDownloadUrlView(GalleryScoped, APIView):
    required_scopes = {"GET": {"gallery:read"}, "POST": {"gallery:read"}}

    def _issue(self, request: Request, public_id) -> Response:
        artwork = selectors.artwork_get_visible(user=request.user, public_id=public_id)
        link = services.download_link_issue(user=request.user, artwork=artwork)
        url = request.build_absolute_uri(f"/api/v1/downloads/{link.token}")
        return Response(DownloadUrlSerializer({"url": url, "expires_at": link.expires_at}).data)

    @extend_schema(
        request=None,
        responses={200: DownloadUrlSerializer, 403: PROBLEM, 404: PROBLEM},
        tags=TAGS,
        summary="A signed link to the original (licence holders and the artist)",
    )
    @no_body
    def post(self, request: Request, public_id) -> Response:
        return self._issue(request, public_id)

    @extend_schema(
        responses={200: DownloadUrlSerializer, 403: PROBLEM, 404: PROBLEM},
        tags=TAGS,
        summary="A signed link to the original (licence holders and the artist)",
    )
    def get(self, request: Request, public_id) -> Response:
        return self._issue(request, public_id)


class DownloadView(APIView):
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer, AnyMediaRenderer]

    @extend_schema(
        responses={
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY),
            302: OpenApiResponse(
                description="media in object storage: a presigned URL of the "
                "original, expiring with the link at the latest"
            ),
            403: PROBLEM,
            404: PROBLEM,
            410: PROBLEM,
        },
        tags=TAGS,
        auth=[],
        summary="Download an original through a signed link",
        description="The token is the credential; 410 once it expired, 403 if tampered with.",
    )
    def get(self, request: Request, token: str) -> FileResponse | HttpResponseRedirect:
        download = services.download_original(token=token, requester=request.user)
        if download.url is not None:  # signing off, media in a bucket: the client fetches it from there, briefly
            redirect = HttpResponseRedirect(download.url)
            redirect["Cache-Control"] = "private, no-store"
            return redirect
        response = FileResponse(
            io.BytesIO(download.data or b""), content_type="image/png", as_attachment=True, filename=download.filename
        )
        response["Cache-Control"] = "private, no-store"
        return response


# --- listings ----------------------------------------------------------------------------------------------


@summaries(get="The licences on offer for an artwork, with their terms and prices")
class ArtworkListingsView(PublicGalleryScoped, APIView):
    @extend_schema(responses={200: ListingSerializer(many=True), 404: PROBLEM}, tags=TAGS, auth=[])
    def get(self, request: Request, public_id) -> Response:
        artwork = selectors.artwork_get_visible(user=request.user, public_id=public_id)
        listings = selectors.listings_for_artwork(user=request.user, artwork=artwork).select_related("artwork")
        return Response(ListingSerializer(listings, many=True).data)

    @extend_schema(
        request=ListingCreateSerializer,
        responses={201: ListingSerializer, 400: PROBLEM, 402: PROBLEM, 404: PROBLEM, 409: PROBLEM},
        tags=TAGS,
        summary="Offer a licence (commercial and exclusive need a plan that allows them)",
    )
    def post(self, request: Request, public_id) -> Response:
        artwork = selectors.artwork_get_own(user=request.user, public_id=public_id)
        payload = ListingCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        listing = services.listing_create(artist=request.user, artwork=artwork, **payload.validated_data)
        return Response(ListingSerializer(listing).data, status=status.HTTP_201_CREATED)


@summaries(get="One listing: licence type, terms, price and state", patch="Change a listing's price")
class ListingDetailView(PublicGalleryScoped, APIView):
    @extend_schema(responses={200: ListingSerializer, 404: PROBLEM}, tags=TAGS, auth=[])
    def get(self, request: Request, public_id) -> Response:
        return Response(ListingSerializer(selectors.listing_get_visible(user=request.user, public_id=public_id)).data)

    @extend_schema(
        request=ListingUpdateSerializer,
        responses={200: ListingSerializer, 400: PROBLEM, 404: PROBLEM, 409: PROBLEM},
        tags=TAGS,
    )
    def patch(self, request: Request, public_id) -> Response:
        listing = selectors.listing_get_own(user=request.user, public_id=public_id)
        payload = ListingUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        listing = services.listing_update_price(artist=request.user, listing=listing, **payload.validated_data)
        return Response(ListingSerializer(listing).data)


@summaries(post="Stop offering a listing; orders already paid are kept")
class ListingCloseView(GalleryScoped, APIView):
    @extend_schema(request=None, responses={200: ListingSerializer, 404: PROBLEM, 409: PROBLEM}, tags=TAGS)
    @no_body
    def post(self, request: Request, public_id) -> Response:
        listing = selectors.listing_get_own(user=request.user, public_id=public_id)
        return Response(ListingSerializer(services.listing_close(artist=request.user, listing=listing)).data)


# --- orders ------------------------------------------------------------------------------------------------


def _paid_response(request: Request, result: services.OrderPayment, *, created: bool) -> Response:
    order = selectors.order_get(user=request.user, public_id=result.order.public_id)
    data = OrderPaymentSerializer(order, context={"payment": result.payment}).data
    if created:
        code = status.HTTP_201_CREATED
    elif result.payment is None:
        code = status.HTTP_200_OK
    else:
        code = status.HTTP_202_ACCEPTED if order.state == "pending" else status.HTTP_200_OK
    return Response(data, status=code)


class OrderListCreateView(IdempotentMixin, GalleryScoped, generics.GenericAPIView):
    serializer_class = OrderSerializer

    def get_queryset(self):
        return selectors.orders_for(user=self.request.user)

    @extend_schema(responses={200: OrderSerializer(many=True)}, tags=TAGS, summary="Your orders")
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(OrderSerializer(page, many=True).data)

    @extend_schema(
        request=OrderCreateSerializer,
        responses={
            201: OrderPaymentSerializer,
            200: OrderPaymentSerializer,
            400: PROBLEM,
            402: PROBLEM,
            404: PROBLEM,
            409: PROBLEM,
            503: PROBLEM,
        },
        tags=TAGS,
        summary="Order a licence (honours Idempotency-Key); pays at once with payment_method",
        description="Your own unpaid order for the same listing is returned (200) rather than a new one "
        "(201), so a declined card is retried on the same order. An unpaid order reserves "
        "nothing: an exclusive licence goes to the first payment that succeeds.",
    )
    def post(self, request: Request) -> Response:
        payload = OrderCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        listing = selectors.listing_get_visible(user=request.user, public_id=payload.validated_data["listing"])
        placed = services.order_place(buyer=request.user, listing=listing)
        method = payload.validated_data.get("payment_method")
        result = services.OrderPayment(order=placed.order, payment=None)
        if method:
            result = services.order_pay(buyer=request.user, order=placed.order, payment_method=method)
        return _paid_response(request, result, created=placed.created)


@summaries(get="One of your orders, with its payment state")
class OrderDetailView(GalleryScoped, APIView):
    @extend_schema(responses={200: OrderSerializer, 404: PROBLEM}, tags=TAGS)
    def get(self, request: Request, public_id) -> Response:
        return Response(OrderSerializer(selectors.order_get(user=request.user, public_id=public_id)).data)


class OrderPayView(IdempotentMixin, GalleryScoped, APIView):
    @extend_schema(
        request=OrderPaySerializer,
        responses={
            200: OrderPaymentSerializer,
            202: OrderPaymentSerializer,
            402: PROBLEM,
            404: PROBLEM,
            409: PROBLEM,
            503: PROBLEM,
        },
        tags=TAGS,
        summary="Pay a pending order (202 while the payment needs the buyer's action)",
    )
    def post(self, request: Request, public_id) -> Response:
        order = selectors.order_get(user=request.user, public_id=public_id)
        payload = OrderPaySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        result = services.order_pay(buyer=request.user, order=order, **payload.validated_data)
        return _paid_response(request, result, created=False)


@summaries(post="Cancel your unpaid order")
class OrderCancelView(GalleryScoped, APIView):
    @extend_schema(request=None, responses={200: OrderSerializer, 404: PROBLEM, 409: PROBLEM}, tags=TAGS)
    @no_body
    def post(self, request: Request, public_id) -> Response:
        order = selectors.order_get(user=request.user, public_id=public_id)
        services.order_cancel(order=order, actor=request.user, note="cancelled by the buyer")
        return Response(OrderSerializer(selectors.order_get(user=request.user, public_id=public_id)).data)


class OrderRefundView(GalleryScoped, APIView):
    permission_classes = [*GalleryScoped.permission_classes, IsStaff]

    @extend_schema(
        request=OrderRefundSerializer,
        responses={200: OrderSerializer, 403: PROBLEM, 404: PROBLEM, 409: PROBLEM, 422: PROBLEM},
        tags=TAGS,
        summary="Refund an order (support staff); a fulfilled exclusive is a 409",
    )
    def post(self, request: Request, public_id) -> Response:
        order = selectors.order_get_for_staff(user=request.user, public_id=public_id)
        payload = OrderRefundSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        order = services.order_refund(order=order, actor=request.user, reason=payload.validated_data["reason"])
        return Response(
            OrderSerializer(selectors.order_get_for_staff(user=request.user, public_id=order.public_id)).data
        )


class SalesView(GalleryScoped, generics.GenericAPIView):
    serializer_class = SaleSerializer

    def get_queryset(self):
        return selectors.sales_for(user=self.request.user)

    @extend_schema(responses={200: SaleSerializer(many=True)}, tags=TAGS, summary="Orders for your artworks")
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(SaleSerializer(page, many=True).data)


class LicenceListView(GalleryScoped, generics.GenericAPIView):
    serializer_class = LicenceGrantSerializer

    def get_queryset(self):
        return selectors.grants_for(user=self.request.user)

    @extend_schema(responses={200: LicenceGrantSerializer(many=True)}, tags=TAGS, summary="Your licences")
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(LicenceGrantSerializer(page, many=True).data)
