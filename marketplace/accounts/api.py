"""Accounts HTTP API: register, login/logout, me, profile picture, password, API keys."""

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.client_ip import client_ip
from core.errors import InvalidInput, NotFound
from core.idempotency import IdempotentMixin
from core.permissions import HasScope
from core.renderers import AnyMediaRenderer
from core.request_body import no_body
from core.schema import PROBLEM, summaries
from core.throttling import ScopedRateThrottle
from core.uploads import upload_size_check
from marketplace.accounts import selectors, services
from marketplace.accounts.avatars import AVATAR_CONTENT_TYPE, AVATAR_MAX_BYTES
from marketplace.accounts.models import AuthToken
from marketplace.accounts.permissions import LoginTokenRequired
from marketplace.accounts.serializers import (
    ApiKeyCreatedSerializer,
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    AvatarUploadSerializer,
    LoginSerializer,
    PasswordChangeSerializer,
    ProfileUpdateSerializer,
    RegisterAcceptedSerializer,
    RegisterConfirmSerializer,
    RegisterSerializer,
    TokenSerializer,
    UserSerializer,
)


def _token_body(issued: services.IssuedToken) -> dict:
    return TokenSerializer(
        {"token": issued.secret, "expires_at": issued.token.expires_at, "user": issued.token.user}
    ).data


class RegisterView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "register"

    @extend_schema(
        request=RegisterSerializer,
        responses={202: RegisterAcceptedSerializer, 400: PROBLEM},
        tags=["accounts"],
        summary="Start a sign-up: a confirmation link goes to the address",
        description="The answer is the same for a new address and one that already has an account "
        '(whose owner gets a "you already have an account" message instead). Follow the '
        "link, or POST its uid and token to /auth/register/confirm, to sign in.",
    )
    def post(self, request: Request) -> Response:
        payload = RegisterSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.user_register(**payload.validated_data, base_url=request.build_absolute_uri("/"))
        email = payload.validated_data["email"].lower()
        return Response(
            RegisterAcceptedSerializer(
                {
                    "detail": f"We sent a message to {email}: follow its link to finish signing up.",
                    "email": email,
                }
            ).data,
            status=status.HTTP_202_ACCEPTED,
        )


class RegisterConfirmView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "register"

    @extend_schema(
        request=RegisterConfirmSerializer,
        responses={201: TokenSerializer, 400: PROBLEM},
        tags=["accounts"],
        summary="Finish a sign-up with the emailed link's uid and token; signs in",
    )
    def post(self, request: Request) -> Response:
        payload = RegisterConfirmSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        user = services.user_confirm_email(**payload.validated_data)
        issued = services.token_issue(user=user, user_agent=request.headers.get("User-Agent", ""))
        return Response(_token_body(issued), status=status.HTTP_201_CREATED)


@summaries(post="Sign in with email and password: a bearer token for the API")
class LoginView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(request=LoginSerializer, responses={200: TokenSerializer}, tags=["accounts"])
    def post(self, request: Request) -> Response:
        payload = LoginSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        issued = services.auth_login(
            **payload.validated_data,
            client_address=client_ip(request),
            user_agent=request.headers.get("User-Agent", ""),
        )
        return Response(_token_body(issued))


@summaries(post="Sign out: the token used for this request stops working")
class LogoutView(APIView):
    @extend_schema(request=None, responses={204: None}, tags=["accounts"])
    @no_body
    def post(self, request: Request) -> Response:
        if not isinstance(request.auth, AuthToken):
            raise InvalidInput("Logout revokes a login token; revoke API keys under /api/v1/api-keys.")
        services.auth_logout(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


@summaries(
    get="Your account: email, role, display name, bio, profile picture",
    patch="Change your display name, bio or commission availability",
)
class MeView(APIView):
    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = {"GET": {"profile:read"}, "PATCH": {"profile:write"}}

    @extend_schema(responses={200: UserSerializer}, tags=["accounts"])
    def get(self, request: Request) -> Response:
        return Response(UserSerializer(request.user, context={"request": request}).data)

    @extend_schema(request=ProfileUpdateSerializer, responses={200: UserSerializer}, tags=["accounts"])
    def patch(self, request: Request) -> Response:
        payload = ProfileUpdateSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        user = services.user_update_profile(user=request.user, **payload.validated_data)
        return Response(UserSerializer(user, context={"request": request}).data)


class MeAvatarView(APIView):
    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = {"PUT": {"profile:write"}, "DELETE": {"profile:write"}}
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": AvatarUploadSerializer},
        responses={200: UserSerializer, 400: PROBLEM, 413: PROBLEM},
        tags=["accounts"],
        summary="Set your profile picture",
    )
    def put(self, request: Request) -> Response:
        payload = AvatarUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        upload = payload.validated_data["file"]
        upload_size_check(upload, max_bytes=AVATAR_MAX_BYTES)
        user = services.user_set_avatar(user=request.user, raw=b"".join(upload.chunks()), filename=upload.name)
        return Response(UserSerializer(user, context={"request": request}).data)

    @extend_schema(
        request=None, responses={200: UserSerializer}, tags=["accounts"], summary="Remove your profile picture"
    )
    def delete(self, request: Request) -> Response:
        user = services.user_remove_avatar(user=request.user)
        return Response(UserSerializer(user, context={"request": request}).data)


class UserAvatarView(APIView):
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer, AnyMediaRenderer]

    @extend_schema(
        responses={(200, AVATAR_CONTENT_TYPE): OpenApiResponse(OpenApiTypes.BINARY), 404: PROBLEM},
        tags=["accounts"],
        auth=[],
        summary="A user's profile picture (public)",
    )
    def get(self, request: Request, public_id) -> FileResponse:
        user = selectors.user_public_get(public_id=public_id)
        if user is None or not user.avatar:
            raise NotFound("No such profile picture.")
        response = FileResponse(user.avatar.open("rb"), content_type=AVATAR_CONTENT_TYPE)
        response["Cache-Control"] = "public, max-age=86400"
        return response


@summaries(post="Change your password (needs the current one); optionally revoke your API keys")
class PasswordChangeView(APIView):
    permission_classes = [LoginTokenRequired]

    @extend_schema(request=PasswordChangeSerializer, responses={200: TokenSerializer}, tags=["accounts"])
    def post(self, request: Request) -> Response:
        payload = PasswordChangeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        issued = services.user_change_password(
            user=request.user, **payload.validated_data, user_agent=request.headers.get("User-Agent", "")
        )
        return Response(_token_body(issued))


@summaries(
    get="Your API keys (never their secrets)",
    post="Create an API key with scopes; its secret is shown once, in this answer",
)
class ApiKeyListCreateView(IdempotentMixin, generics.GenericAPIView):
    serializer_class = ApiKeySerializer
    permission_classes = [LoginTokenRequired]
    secret_fields = ("key",)

    def get_queryset(self):
        return selectors.api_keys_for(user=self.request.user)

    @extend_schema(responses={200: ApiKeySerializer(many=True), 403: PROBLEM}, tags=["api-keys"])
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ApiKeySerializer(page, many=True).data)

    @extend_schema(
        request=ApiKeyCreateSerializer,
        responses={201: ApiKeyCreatedSerializer, 403: PROBLEM, 409: PROBLEM},
        tags=["api-keys"],
    )
    def post(self, request: Request) -> Response:
        payload = ApiKeyCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        issued = services.api_key_create(user=request.user, **payload.validated_data)
        body = ApiKeyCreatedSerializer(issued.api_key).data | {"key": issued.secret}
        return Response(body, status=status.HTTP_201_CREATED)


@summaries(get="One of your API keys", delete="Revoke an API key; requests with it fail from now on")
class ApiKeyDetailView(APIView):
    permission_classes = [LoginTokenRequired]

    @extend_schema(responses={200: ApiKeySerializer, 403: PROBLEM, 404: PROBLEM}, tags=["api-keys"])
    def get(self, request: Request, public_id) -> Response:
        return Response(ApiKeySerializer(selectors.api_key_get(user=request.user, public_id=public_id)).data)

    @extend_schema(responses={200: ApiKeySerializer, 403: PROBLEM, 404: PROBLEM}, tags=["api-keys"])
    def delete(self, request: Request, public_id) -> Response:
        key = services.api_key_revoke(api_key=selectors.api_key_get(user=request.user, public_id=public_id))
        return Response(ApiKeySerializer(key).data)
