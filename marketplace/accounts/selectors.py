"""Account reads, scoped to the acting user."""

from uuid import UUID

from django.db.models import QuerySet

from core.errors import NotFound
from marketplace.accounts.models import ApiKey, Role, User


def artist_public_get(*, public_id: UUID) -> User | None:
    """An active artist by public id (to target a brief at, to filter the gallery by artist)."""
    return User.objects.filter(public_id=public_id, role=Role.ARTIST, is_active=True).first()


def user_public_get(*, public_id: UUID) -> User | None:
    """An active user by public id, for what every profile shows publicly (name, role, picture)."""
    return User.objects.filter(public_id=public_id, is_active=True).first()


def api_keys_for(*, user: User) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(user=user).order_by("-created_at")


def api_key_get(*, user: User, public_id: UUID) -> ApiKey:
    key = api_keys_for(user=user).filter(public_id=public_id).first()
    if key is None:
        raise NotFound("No such API key.")
    return key
