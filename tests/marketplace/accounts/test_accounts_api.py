import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from marketplace.accounts.models import ApiKey, AuthToken, User
from tests.helpers import PASSWORD

STRONG = "a-long-and-unusual-passphrase"


def register(api, **fields):
    body = {"email": "new@example.com", "password": STRONG, "display_name": "New", "role": "artist"} | fields
    return api.post("/api/v1/auth/register", body, format="json")


def login(api, email, password=PASSWORD):
    return api.post("/api/v1/auth/login", {"email": email, "password": password}, format="json")


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def confirm_from_mail(api, mailbox) -> dict:
    """Follow the confirmation link of the last message, through the API."""
    from tests.security.test_signup_enumeration import link_parts

    uid, token = link_parts(mailbox[-1].body)
    confirmed = api.post("/api/v1/auth/register/confirm", {"uid": uid, "token": token}, format="json")
    assert confirmed.status_code == 201, confirmed.json()
    return confirmed.json()


@pytest.mark.django_db
def test_register_confirm_then_login_then_me_with_the_token(api, mailoutbox):
    created = register(api, email="Artist@Example.com")
    assert created.status_code == 202 and created.json()["email"] == "artist@example.com"
    refused = login(api, "ARTIST@example.com", STRONG)
    assert refused.status_code == 401 and refused.json()["code"] == "email_unconfirmed"
    assert confirm_from_mail(api, mailoutbox)["user"]["email"] == "artist@example.com"
    token = login(api, "ARTIST@example.com", STRONG).json()["token"]
    me = bearer(token).get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["role"] == "artist"
    assert "password" not in me.json()


@pytest.mark.django_db
def test_register_rejects_weak_password_and_writes_nothing(api):
    response = register(api, password="password")
    assert response.status_code == 400
    assert "password" in response.json()["errors"]
    assert not User.objects.exists()


@pytest.mark.django_db
def test_register_cannot_choose_staff_role(api):
    response = register(api, role="staff")
    assert response.status_code == 400
    assert "role" in response.json()["errors"]


@pytest.mark.django_db
def test_register_rejects_writable_field_abuse(api):
    response = register(api, is_staff=True)
    assert response.status_code == 400
    assert not User.objects.filter(is_staff=True).exists()


@pytest.mark.django_db
def test_duplicate_email_differing_in_case_makes_no_second_account(api, make_user, mailoutbox):
    make_user(email="taken@example.com")
    response = register(api, email="TAKEN@example.com")
    assert response.status_code == 202
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1
    assert mailoutbox[-1].subject == "You already have an Atelier account"


@pytest.mark.django_db
def test_wrong_password_and_unknown_email_look_the_same(api, user):
    wrong = login(api, user.email, "nope-nope-nope")
    unknown = login(api, "ghost@example.com", "nope-nope-nope")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


@pytest.mark.django_db
def test_logout_revokes_only_that_token(api, user):
    first = login(api, user.email).json()["token"]
    second = login(api, user.email).json()["token"]
    assert bearer(first).post("/api/v1/auth/logout").status_code == 204
    assert bearer(first).get("/api/v1/me").status_code == 401
    assert bearer(second).get("/api/v1/me").status_code == 200


@pytest.mark.django_db
def test_password_change_revokes_every_token_and_issues_a_new_one(api, user):
    tokens = [login(api, user.email).json()["token"] for _ in range(2)]
    response = bearer(tokens[0]).post(
        "/api/v1/auth/password", {"current_password": PASSWORD, "new_password": STRONG}, format="json"
    )
    assert response.status_code == 200
    assert all(bearer(t).get("/api/v1/me").status_code == 401 for t in tokens)
    assert bearer(response.json()["token"]).get("/api/v1/me").status_code == 200
    assert login(api, user.email, STRONG).status_code == 200


@pytest.mark.django_db
def test_password_change_with_wrong_current_password_changes_nothing(user_client, user):
    response = user_client.post(
        "/api/v1/auth/password", {"current_password": "wrong-one-here", "new_password": STRONG}, format="json"
    )
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.django_db
def test_patch_me_changes_profile_but_not_protected_fields(user_client, user):
    ok = user_client.patch("/api/v1/me", {"display_name": "Ada", "bio": "paints"}, format="json")
    assert ok.status_code == 200 and ok.json()["display_name"] == "Ada"
    abuse = user_client.patch("/api/v1/me", {"is_staff": True, "role": "staff", "email": "x@y.z"}, format="json")
    assert abuse.status_code == 400
    assert set(abuse.json()["errors"]) == {"is_staff", "role", "email"}
    user.refresh_from_db()
    assert (user.is_staff, user.role, user.display_name) == (False, "buyer", "Ada")


@pytest.mark.django_db
def test_api_key_is_shown_once_stored_hashed_and_authenticates(user_client, user):
    created = user_client.post("/api/v1/api-keys", {"name": "ci", "scopes": ["profile:read"]}, format="json")
    assert created.status_code == 201
    secret = created.json()["key"]
    stored = ApiKey.objects.get(user=user)
    assert secret.startswith(stored.prefix) and secret not in (stored.digest, stored.prefix)
    listed = user_client.get("/api/v1/api-keys").json()["results"]
    assert listed[0]["prefix"] == stored.prefix and "key" not in listed[0]
    me = bearer(secret).get("/api/v1/me")
    assert me.status_code == 200 and me.json()["email"] == user.email
    stored.refresh_from_db()
    assert stored.last_used_at is not None


@pytest.mark.django_db
def test_api_key_scopes_are_enforced(user_client):
    secret = user_client.post("/api/v1/api-keys", {"name": "ro", "scopes": ["profile:read"]}, format="json").json()[
        "key"
    ]
    assert bearer(secret).get("/api/v1/me").status_code == 200
    denied = bearer(secret).patch("/api/v1/me", {"bio": "x"}, format="json")
    assert denied.status_code == 403


@pytest.mark.django_db
def test_a_method_an_endpoint_lacks_is_405_for_a_narrow_key_too(user_client):
    """Scopes are checked per method; a method the endpoint does not have is 405, not a scope 403."""
    secret = user_client.post(
        "/api/v1/api-keys", {"name": "narrow", "scopes": ["commissions:read"]}, format="json"
    ).json()["key"]
    missing = "/api/v1/artworks/00000000-0000-0000-0000-000000000000"
    assert bearer(secret).generic("TRACE", missing).status_code == 405
    assert bearer(secret).generic("TRACE", "/api/v1/me").status_code == 405
    assert bearer(secret).get("/api/v1/me").status_code == 403  # a method it has: the scope decides


@pytest.mark.django_db
def test_unknown_scope_is_rejected(user_client):
    response = user_client.post("/api/v1/api-keys", {"name": "k", "scopes": ["root"]}, format="json")
    assert response.status_code == 400 and "scopes.0" in response.json()["errors"]


@pytest.mark.django_db
def test_revoked_api_key_stops_working(user_client):
    created = user_client.post("/api/v1/api-keys", {"name": "k"}, format="json").json()
    assert user_client.delete(f"/api/v1/api-keys/{created['id']}").json()["active"] is False
    assert bearer(created["key"]).get("/api/v1/me").status_code == 401


@pytest.mark.django_db
def test_another_users_api_key_is_404(client_for, make_user):
    alice, bob = make_user(), make_user()
    key = client_for(alice).post("/api/v1/api-keys", {"name": "k"}, format="json").json()
    assert client_for(bob).delete(f"/api/v1/api-keys/{key['id']}").status_code == 404
    assert client_for(bob).get(f"/api/v1/api-keys/{key['id']}").status_code == 404
    assert ApiKey.objects.get(public_id=key["id"]).revoked_at is None


@pytest.mark.django_db
def test_an_api_key_cannot_mint_api_keys(user_client):
    secret = user_client.post("/api/v1/api-keys", {"name": "k"}, format="json").json()["key"]
    response = bearer(secret).post("/api/v1/api-keys", {"name": "child"}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "login_token_required"


@pytest.mark.django_db
def test_account_locks_after_repeated_failures_even_for_the_right_password(api, user, settings):
    for _ in range(settings.LOGIN_MAX_FAILURES):
        assert login(api, user.email, "wrong-password!").status_code == 401
    locked = login(api, user.email)
    assert locked.status_code == 429
    assert locked.json()["code"] == "account_locked"
    assert int(locked["Retry-After"]) > 0


@pytest.mark.django_db
def test_lockout_expires(api, user, settings):
    from datetime import timedelta

    from django.utils import timezone

    from marketplace.accounts.models import LoginLockout

    for _ in range(settings.LOGIN_MAX_FAILURES):
        login(api, user.email, "wrong-password!")
    assert login(api, user.email).status_code == 429
    LoginLockout.objects.update(locked_until=timezone.now() - timedelta(seconds=1))
    assert login(api, user.email).status_code == 200


@pytest.mark.django_db
def test_success_resets_the_failure_count(api, user, settings):
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        login(api, user.email, "wrong-password!")
    assert login(api, user.email).status_code == 200
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):  # a fresh allowance after the good login
        assert login(api, user.email, "wrong-password!").status_code == 401
    assert login(api, user.email).status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_cannot_exceed_the_lockout_limit(make_user, settings):
    user = make_user()
    checked = []
    original = User.check_password

    def counting_check(self, raw):
        checked.append(raw)
        return original(self, raw)

    barrier = threading.Barrier(20)
    statuses = []

    def guess():
        barrier.wait()
        statuses.append(login(APIClient(), user.email, "wrong-password!").status_code)
        connection.close()

    User.check_password = counting_check
    try:
        threads = [threading.Thread(target=guess) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        User.check_password = original
    assert len(checked) <= settings.LOGIN_MAX_FAILURES
    assert statuses.count(401) == len(checked)
    assert statuses.count(429) == 20 - len(checked)
    assert login(APIClient(), user.email).status_code == 429


@pytest.mark.django_db
def test_expired_token_is_rejected(api, user):
    from django.utils import timezone

    token = login(api, user.email).json()["token"]
    AuthToken.objects.update(expires_at=timezone.now())
    assert bearer(token).get("/api/v1/me").status_code == 401
