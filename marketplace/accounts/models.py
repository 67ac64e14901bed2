"""Users (email login, roles), login tokens and API keys. Secrets are stored only as sha256 digests."""

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone

from core.models import BaseModel


class Role(models.TextChoices):
    ARTIST = "artist"
    BUYER = "buyer"
    STAFF = "staff"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **fields) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        fields.setdefault("role", Role.BUYER)
        fields.setdefault("email_confirmed_at", timezone.now())  # made by staff or scripts; sign-up confirms
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.update(is_staff=True, is_superuser=True, role=Role.STAFF)
        fields.setdefault("email_confirmed_at", timezone.now())
        return self._create(email, password, **fields)

    def get_by_natural_key(self, email: str) -> "User":
        return self.get(email__iexact=email)


class User(BaseModel, AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)  # always stored lower-cased (UserManager, services)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.BUYER)
    display_name = models.CharField(max_length=80, blank=True)
    avatar = models.ImageField(upload_to="avatars/", blank=True)
    bio = models.TextField(max_length=2000, blank=True)
    open_to_commissions = models.BooleanField(default=True, help_text="Artists: shown on the public profile.")
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    email_confirmed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the owner of the address followed the sign-up link; no sign-in before."
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    def __str__(self) -> str:
        return self.email

    @property
    def is_artist(self) -> bool:
        return self.role == Role.ARTIST


class AuthToken(BaseModel):
    """A login token (`atk_…`): one per login, revoked on logout and on password change."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="auth_tokens")
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=16, db_index=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class ApiKey(BaseModel):
    """An API key (`atl_…`) for commission clients and integrations: shown once, stored hashed, scoped."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"
        verbose_name_plural = "API keys"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class LoginLockout(models.Model):
    """Failed-login counters, keyed by a digest so the table holds neither emails nor addresses in clear:
    one per (email, client address) and one per email (the global ceiling). Rows exist for unknown emails
    too, so a lockout answers the same whether the account exists or not (lockout.py)."""

    key = models.CharField(max_length=64, unique=True)
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField(default=timezone.now)
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.key[:12]}… {self.failures} failures"
