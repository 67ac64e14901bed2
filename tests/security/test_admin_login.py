"""Finding 8: the admin login is counted in the same lockout as the API, throttled per client address, and
takes a TOTP code from staff with a device (required of all staff when ADMIN_REQUIRE_OTP is on)."""

import io
import time

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.throttling import ScopedRateThrottle

from tests.helpers import PASSWORD


def admin_login(client: Client, email: str, password: str = PASSWORD, token: str | None = None, address="192.0.2.5"):
    data = {"username": email, "password": password, "next": "/admin/"}
    if token is not None:
        data["otp_token"] = token
    return client.post("/admin/login/?next=/admin/", data, REMOTE_ADDR=address)


def signed_in(client: Client) -> bool:
    return client.get("/admin/").status_code == 200


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


@pytest.mark.django_db
def test_admin_failures_count_in_the_api_lockout(make_user, api, settings):
    staff = make_user(role="staff")
    client = Client()
    for _ in range(settings.LOGIN_MAX_FAILURES):
        admin_login(client, staff.email, "wrong-password!")
    admin_login(client, staff.email)  # the right password, from the guessing address: refused
    assert not signed_in(client)
    api_login = api.post(
        "/api/v1/auth/login", {"email": staff.email, "password": PASSWORD}, format="json", REMOTE_ADDR="192.0.2.5"
    )
    assert api_login.status_code == 429  # one counter for both doors


@pytest.mark.django_db
def test_admin_login_posts_are_throttled_per_address(make_user, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"login": "3/min"})
    from rest_framework.settings import api_settings

    monkeypatch.setitem(api_settings.DEFAULT_THROTTLE_RATES, "login", "3/min")
    client = Client()
    codes = [admin_login(client, f"x{n}@example.com", "wrong-password!").status_code for n in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]


@pytest.mark.django_db
def test_staff_with_a_totp_device_need_the_code(make_user):
    staff = make_user(role="staff")
    out = io.StringIO()
    call_command("staff_totp", staff.email, stdout=out)
    assert out.getvalue().startswith("otpauth://totp/")
    device = TOTPDevice.objects.get(user=staff)
    client = Client()
    admin_login(client, staff.email)
    assert not signed_in(client)
    admin_login(client, staff.email, token="000000" if current_code(device) != "000000" else "111111")
    assert not signed_in(client)
    time.sleep(1.1)  # django-otp throttles a device after a wrong code (1 s, doubling)
    admin_login(client, staff.email, token=current_code(device))
    assert signed_in(client)


@pytest.mark.django_db
def test_when_required_staff_without_a_device_cannot_sign_in(make_user, settings):
    settings.ADMIN_REQUIRE_OTP = True
    staff = make_user(role="staff")
    client = Client()
    admin_login(client, staff.email)
    assert not signed_in(client)
    client.force_login(staff)  # even a session made elsewhere is not enough without a verified device
    assert not signed_in(client)


@pytest.mark.django_db
def test_the_admin_never_shows_a_devices_secret_to_other_staff(make_user):
    owner, other = make_user(role="staff"), make_user(role="staff")
    device = TOTPDevice.objects.create(user=owner, name="authenticator", confirmed=True)
    client = Client()
    client.force_login(other)
    page = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")
    assert page.status_code == 200 and "authenticator" in page.content.decode()
    assert device.key not in page.content.decode()
    assert client.get(f"/admin/otp_totp/totpdevice/{device.pk}/config/").status_code == 403  # the QR code
