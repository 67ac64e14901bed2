from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils import timezone

from core.admin import columns_except
from marketplace.accounts import services
from marketplace.accounts.lockout import login_lockouts_clear
from marketplace.accounts.models import ApiKey, AuthToken, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["-created_at"]
    list_display = ["email", "display_name", "role", "is_staff", "is_active", "created_at"]
    list_filter = ["role", "is_staff", "is_active"]
    search_fields = ["email", "display_name", "public_id"]
    readonly_fields = ["public_id", "created_at", "updated_at", "last_login"]
    fieldsets = [
        (None, {"fields": ["email", "password", "public_id"]}),
        ("Profile", {"fields": ["display_name", "role", "bio", "avatar"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Security", {"fields": ["email_confirmed_at", "last_login", "created_at", "updated_at"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "role", "password1", "password2"]})]
    actions = ["unlock"]

    def save_model(self, request, obj, form, change):
        if not change and obj.email_confirmed_at is None:  # staff vouch for the accounts they add
            obj.email_confirmed_at = timezone.now()
        super().save_model(request, obj, form, change)

    @admin.action(description="Unlock selected accounts")
    def unlock(self, request, queryset):
        updated = sum(login_lockouts_clear(email=user.email) for user in queryset)
        self.message_user(request, f"Cleared the lockout of {updated} accounts.")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "user", "scopes", "last_used_at", "expires_at", "revoked_at", "created_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "user__email"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        # the owner, scopes and expiry are the key holder's; staff may rename a key and revoke it (the action)
        return columns_except(self.model, editable=("name",))

    def has_add_permission(self, request) -> bool:  # secrets are created through the API, shown once
        return False

    @admin.action(description="Revoke selected keys")
    def revoke(self, request, queryset):
        for key in queryset:
            services.api_key_revoke(api_key=key)
        self.message_user(request, f"Revoked {queryset.count()} keys.")


@admin.register(AuthToken)
class AuthTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "created_at", "last_used_at", "expires_at", "user_agent"]
    search_fields = ["prefix", "user__email"]
    readonly_fields = ["prefix", "digest", "user", "created_at", "last_used_at", "expires_at", "user_agent"]

    def has_add_permission(self, request) -> bool:
        return False
