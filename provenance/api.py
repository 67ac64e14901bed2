"""Public verification API: anyone may check a file or a hash, or fetch a record's certificate (throttled)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import InvalidInput, NotFound, PayloadTooLarge
from core.schema import PROBLEM
from core.throttling import ScopedRateThrottle
from provenance import conf, selectors
from provenance.certificates import certificate_for
from provenance.errors import ProvenanceError
from provenance.proofs.encoding import normalize_sha256
from provenance.serializers import VerificationSerializer, VerifyUploadSerializer

MULTIPART_OVERHEAD = 64 * 1024


class PublicVerifyView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "verify"


class VerifyUploadView(PublicVerifyView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": VerifyUploadSerializer},
        responses={200: VerificationSerializer, 400: PROBLEM, 413: PROBLEM, 429: PROBLEM},
        tags=["provenance"],
        auth=[],
        summary="Verify a file: sha256 and PDQ matches, and its C2PA Content Credentials",
    )
    def post(self, request: Request) -> Response:
        max_bytes = conf.get("PROVENANCE_VERIFY_MAX_BYTES")
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if declared.isdigit() and int(declared) > max_bytes + MULTIPART_OVERHEAD:  # refuse before reading it
            raise PayloadTooLarge(f"The upload is {declared} bytes; the limit is {max_bytes} bytes.")
        payload = VerifyUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        upload = payload.validated_data["file"]
        if upload.size > max_bytes:
            raise PayloadTooLarge(f"The file is {upload.size} bytes; the limit is {max_bytes} bytes.")
        result = selectors.verification_by_upload(raw=upload.read(), name=upload.name or "file")
        return Response(VerificationSerializer(result).data)


SHA256_PATTERN = r"^(0x)?[0-9a-fA-F]{64}$"


class VerifyHashView(PublicVerifyView):
    @extend_schema(
        responses={200: VerificationSerializer, 400: PROBLEM, 404: PROBLEM, 429: PROBLEM},
        parameters=[
            OpenApiParameter(
                "sha256",
                str,
                OpenApiParameter.PATH,
                pattern=SHA256_PATTERN,
                description="The file's sha256: 64 hex digits, 0x optional.",
            )
        ],
        tags=["provenance"],
        auth=[],
        summary="Verify a sha256: the record, checked against the chain",
    )
    def get(self, request: Request, sha256: str) -> Response:
        digest = normalize_sha256(sha256)
        if digest is None:
            raise InvalidInput(
                "The hash must be a sha256 digest: 64 hexadecimal characters.",
                field="sha256",
                code=ProvenanceError.INVALID_SHA256,
            )
        result = selectors.verification_by_sha256(sha256=digest)
        if result is None:
            raise NotFound(f"No provenance record for sha256 {digest}.", code=ProvenanceError.NOT_REGISTERED)
        return Response(VerificationSerializer(result).data)


class CertificateView(PublicVerifyView):
    @extend_schema(
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="The certificate (JSON)"),
            404: PROBLEM,
            409: PROBLEM,
            429: PROBLEM,
        },
        tags=["provenance"],
        auth=[],
        summary="A self-contained certificate, checkable with only an RPC endpoint",
    )
    def get(self, request: Request, public_id) -> Response:
        record = selectors.record_by_public_id(public_id=public_id)
        if record is None:
            raise NotFound("No such provenance record.")
        return Response(certificate_for(record=record))
