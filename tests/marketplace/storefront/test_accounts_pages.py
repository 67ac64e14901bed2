"""Sign up, sign in (with the API's lockout), sign out (POST), password change and reset through the pages:
session authentication with CSRF, the account services behind every form."""

import re

import pytest
from django.core import mail
from django.test import Client

from marketplace.accounts.models import AuthToken, User
from marketplace.accounts.services import token_issue
from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-brand-new-long-passphrase"


def _confirm(client, mailbox):
    from tests.security.test_signup_enumeration import link_parts

    uid, token = link_parts(mailbox[-1].body)
    assert client.get(f"/signup/confirm/{uid}/{token}").status_code == 200  # a button, nothing done yet
    return client.post(f"/signup/confirm/{uid}/{token}")


def test_sign_up_as_a_buyer_confirms_by_mail_signs_in_and_lands_home(client, mailoutbox):
    response = client.post(
        "/signup", {"email": "New@Example.com", "display_name": "Nia", "password": PASSWORD, "role": "buyer"}
    )
    assert response.status_code == 200 and "Check your email" in response.content.decode()
    response = _confirm(client, mailoutbox)
    assert response.status_code == 302 and response["Location"] == "/"
    user = User.objects.get(email="new@example.com")
    assert user.role == "buyer" and user.display_name == "Nia"
    assert "Nia" in client.get("/").content.decode()  # signed in: the account menu


def test_sign_up_as_an_artist_goes_to_the_studio(client, mailoutbox):
    client.post("/signup", {"email": "art@example.com", "password": PASSWORD, "role": "artist"})
    response = _confirm(client, mailoutbox)
    assert response.status_code == 302 and response["Location"] == "/studio/"


def test_bad_sign_up_shows_field_errors_and_keeps_what_was_typed(client, make_user):
    response = client.post(
        "/signup", {"email": "x@example.com", "display_name": "Kept Name", "password": "1234567890", "role": "buyer"}
    )
    html = response.content.decode()
    assert response.status_code == 400 and 'value="x@example.com"' in html and 'value="Kept Name"' in html
    response = client.post("/signup", {"email": "x@example.com", "password": "1234567890", "role": "staff"})
    html = response.content.decode()
    assert response.status_code == 400 and "Select a valid choice" in html
    response = client.post("/signup", {"email": "x@example.com", "password": "short", "role": "buyer"})
    assert response.status_code == 400 and "too short" in response.content.decode()
    assert not User.objects.filter(email="x@example.com").exists()


def test_sign_in_and_out(client, make_user):
    user = make_user(email="me@example.com")
    response = client.post(
        "/login?next=/gallery", {"username": "me@example.com", "password": PASSWORD, "next": "/gallery"}
    )
    assert response.status_code == 302 and response["Location"] == "/gallery"
    assert client.get("/").wsgi_request.user == user
    assert client.get("/logout").status_code == 405  # sign out is a POST (a link cannot sign anyone out)
    assert client.post("/logout").status_code == 302
    assert not client.get("/").wsgi_request.user.is_authenticated


def test_sign_in_refuses_an_outside_next(client, make_user):
    make_user(email="me@example.com")
    response = client.post(
        "/login", {"username": "me@example.com", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response["Location"] == "/"


def test_wrong_password_rerenders_with_the_email_kept_and_locks_like_the_api(client, make_user, settings):
    settings.LOGIN_MAX_FAILURES = 2
    make_user(email="me@example.com")
    for _ in range(2):
        response = client.post("/login", {"username": "me@example.com", "password": "wrong-password"})
        assert response.status_code == 400 and "Invalid email or password" in response.content.decode()
        assert 'value="me@example.com"' in response.content.decode()
    response = client.post("/login", {"username": "me@example.com", "password": PASSWORD})
    assert response.status_code == 400 and "Too many failed logins" in response.content.decode()
    api = client.post(
        "/api/v1/auth/login", {"email": "me@example.com", "password": PASSWORD}, content_type="application/json"
    )
    assert api.status_code == 429  # the same lock, whichever door was used


def test_pages_need_the_csrf_token_and_a_failure_is_a_page(make_user):
    make_user(email="me@example.com")
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(
        "/login", {"username": "me@example.com", "password": PASSWORD}, HTTP_ACCEPT="text/html,application/xhtml+xml"
    )
    html = response.content.decode()
    assert response.status_code == 403 and "This form has expired" in html and "<h1>" in html
    form = browser.get("/login").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    response = browser.post(
        "/login", {"username": "me@example.com", "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


def test_password_change_revokes_api_tokens_and_keeps_this_session(client, make_user):
    user = make_user(email="me@example.com")
    token_issue(user=user)
    client.force_login(user)
    other = Client()
    other.force_login(user)
    response = client.post(
        "/account/password", {"old_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 200 and "incorrectly" in response.content.decode()
    response = client.post(
        "/account/password", {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/account/password/done"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD) and not AuthToken.objects.filter(user=user).exists()
    assert client.get("/").wsgi_request.user.is_authenticated  # this session kept
    assert not other.get("/").wsgi_request.user.is_authenticated  # every other one ended


def test_password_change_needs_sign_in(client):
    response = client.get("/account/password")
    assert response.status_code == 302 and response["Location"].startswith("/login?next=")


def test_password_reset_by_email_link(client, make_user):
    user = make_user(email="me@example.com")
    token_issue(user=user)
    assert client.post("/password-reset", {"email": "me@example.com"}).status_code == 302
    assert client.post("/password-reset", {"email": "nobody@example.com"}).status_code == 302  # no enumeration
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["me@example.com"] and "Reset your Atelier password" in message.subject
    link = re.search(r"http://testserver(/password-reset/\S+)", message.body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200 and "Choose a new password" in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0]
    response = client.post(set_url, {"new_password1": "short", "new_password2": "short"})
    assert response.status_code == 200 and "too short" in response.content.decode()
    response = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/password-reset/complete"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD) and not AuthToken.objects.filter(user=user).exists()
    assert "no longer works" in client.get(link, follow=True).content.decode()  # used once


def test_the_api_still_uses_tokens_not_the_page_session_without_csrf(client, make_user):
    """A page session cannot be used by another site to write through the API: DRF's session auth demands
    the CSRF token."""
    user = make_user(role="artist")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    response = browser.patch("/api/v1/me", {"display_name": "pwned"}, content_type="application/json")
    assert response.status_code == 403
    user.refresh_from_db()
    assert user.display_name != "pwned"
