from pathlib import Path

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import StrictSerializer
from marketplace.accounts.models import ApiKey, Role, User
from marketplace.accounts.scopes import DEFAULT_API_KEY_SCOPES, SCOPES


def avatar_path(user: User) -> str | None:
    """The path of a user's profile picture (None without one), versioned by the file's content hash."""
    if not user.avatar:
        return None
    version = Path(user.avatar.name).stem.rsplit("-", 1)[-1]
    return f"{reverse('user-avatar', kwargs={'public_id': user.public_id})}?v={version}"


@extend_schema_field({"type": "string", "format": "uri", "nullable": True})
class AvatarUrlField(serializers.Field):
    """The public URL of a user's profile picture (null without one). The file name's content hash rides along
    as `?v=`, so a new picture gets a new URL and the old one can be cached for long."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, user: User) -> str | None:
        path = avatar_path(user)
        if path is None:
            return None
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class UserSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    avatar = AvatarUrlField()

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "role",
            "display_name",
            "bio",
            "avatar",
            "open_to_commissions",
            "is_staff",
            "created_at",
        ]
        read_only_fields = fields


class PublicUserSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    avatar = AvatarUrlField()

    class Meta:
        model = User
        fields = ["id", "display_name", "role", "avatar"]
        read_only_fields = fields


class RegisterSerializer(StrictSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)
    display_name = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    role = serializers.ChoiceField(choices=[Role.ARTIST, Role.BUYER], default=Role.BUYER)


class RegisterAcceptedSerializer(serializers.Serializer):
    detail = serializers.CharField(read_only=True)
    email = serializers.EmailField(read_only=True)


class RegisterConfirmSerializer(StrictSerializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)


class LoginSerializer(StrictSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True)
    expires_at = serializers.DateTimeField(read_only=True)
    user = UserSerializer(read_only=True)


class ProfileUpdateSerializer(StrictSerializer):
    display_name = serializers.CharField(max_length=80, required=False, allow_blank=True)
    bio = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    open_to_commissions = serializers.BooleanField(required=False)


class AvatarUploadSerializer(StrictSerializer):
    file = serializers.FileField(help_text="PNG, JPEG or WEBP; cropped to a 256 px square and stored as PNG.")


class PasswordChangeSerializer(StrictSerializer):
    current_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)
    revoke_api_keys = serializers.BooleanField(
        default=False,
        help_text="Also revoke every API key (do this if you change the password because it leaked: "
        "keys are independent of the password and survive the change otherwise).",
    )


class ApiKeySerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    active = serializers.BooleanField(source="is_active", read_only=True)

    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "scopes", "created_at", "last_used_at", "expires_at", "revoked_at", "active"]
        read_only_fields = fields


class ApiKeyCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(SCOPES)),
        default=lambda: list(DEFAULT_API_KEY_SCOPES),
        max_length=len(SCOPES),
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(read_only=True, help_text="The secret. Shown once; store it now.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields
