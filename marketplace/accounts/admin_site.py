"""The admin site: password login through the lockout, a throttle on login POSTs per client address, and TOTP
two-factor (django-otp) — offered to every staff user with a device, required of all staff when
ADMIN_REQUIRE_OTP is on (the default in production). Devices are enrolled with `manage.py staff_totp`."""

from typing import Any

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.sites import AdminSite
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django_otp import devices_for_user, user_has_device
from django_otp.admin import OTPAdminAuthenticationForm
from rest_framework.settings import api_settings

from core.client_ip import client_ip


def otp_required() -> bool:
    return bool(settings.ADMIN_REQUIRE_OTP)


class AtelierAdminAuthenticationForm(OTPAdminAuthenticationForm):
    """The password first (through the lockout); then a token, asked of anyone with a device or when required."""

    def clean(self) -> dict[str, Any]:
        self.cleaned_data = AdminAuthenticationForm.clean(self)
        user = self.get_user()
        if user is not None and (otp_required() or user_has_device(user)):
            if not user_has_device(user):
                raise self.get_invalid_login_error()  # required but not enrolled: same answer as a bad password
            self.clean_otp(user)
        return self.cleaned_data

    def _chosen_device(self, user: Any) -> Any:
        """The device picked in the form, or the user's only one (staff have one authenticator)."""
        chosen = super()._chosen_device(user)
        if chosen is None:
            devices = list(devices_for_user(user, confirmed=True))
            chosen = devices[0] if len(devices) == 1 else None
        return chosen


def _login_rate() -> tuple[int, int]:
    rate = api_settings.DEFAULT_THROTTLE_RATES.get("login") or "20/min"
    count, period = rate.split("/")
    return int(count), {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]


class AtelierAdminSite(AdminSite):
    login_form = AtelierAdminAuthenticationForm
    login_template = "otp/admin111/login.html"

    def has_permission(self, request: HttpRequest) -> bool:
        if not super().has_permission(request):
            return False
        user = request.user
        if otp_required() or user_has_device(user):
            return bool(getattr(user, "is_verified", lambda: False)())
        return True

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        if request.method == "POST":
            limit, period = _login_rate()
            window = int(timezone.now().timestamp()) // period
            key = f"admin-login:{client_ip(request)}:{window}"
            cache.add(key, 0, timeout=period)
            if cache.incr(key) > limit:
                response = HttpResponse(
                    "Too many login attempts; try again later.", status=429, content_type="text/plain"
                )
                response["Retry-After"] = str(period - int(timezone.now().timestamp()) % period)
                return response
        return super().login(request, extra_context)
