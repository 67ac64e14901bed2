"""Finding 9 (rest): registering does not reveal which emails have an account, on the API or the sign-up page.
Both answer the same for a new and a taken address; the taken address's owner gets a "you already have an
account" message instead of a confirmation link, and no account is usable before its link is followed."""

import re

import pytest

from marketplace.accounts.models import User
from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db
STRONG = "a-long-and-unusual-passphrase"
LINK = re.compile(r"/signup/confirm/([0-9a-f]{32})/([0-9A-Za-z-]+)")


def link_parts(body: str) -> tuple[str, str]:
    found = LINK.search(body)
    assert found, body
    return found.group(1), found.group(2)


def _register(api, email: str):
    return api.post("/api/v1/auth/register", {"email": email, "password": STRONG, "role": "buyer"}, format="json")


def test_the_api_answers_a_taken_email_exactly_as_a_new_one(api, make_user, mailoutbox):
    victim = make_user(email="victim@example.com")
    taken, new = _register(api, "victim@example.com"), _register(api, "newcomer@example.com")
    assert taken.status_code == new.status_code == 202
    assert taken.json().keys() == new.json().keys()
    assert taken.json()["detail"].replace("victim", "X") == new.json()["detail"].replace("newcomer", "X")
    # one message each: the owner hears of the attempt, the newcomer gets the link
    assert [m.to for m in mailoutbox] == [["victim@example.com"], ["newcomer@example.com"]]
    assert "already has an account" in mailoutbox[0].body and not LINK.search(mailoutbox[0].body)
    assert LINK.search(mailoutbox[1].body)
    victim.refresh_from_db()
    assert victim.check_password(PASSWORD)  # nothing about the existing account changed


def test_the_sign_up_page_answers_a_taken_email_exactly_as_a_new_one(client, make_user, mailoutbox):
    make_user(email="victim@example.com")
    pages = [
        client.post("/signup", {"email": email, "password": STRONG, "role": "buyer"})
        for email in ("victim@example.com", "newcomer@example.com")
    ]
    assert [p.status_code for p in pages] == [200, 200]
    texts = [
        p.content.decode().replace(email, "X").split('id="signup-sent"')[1].split("</p>")[0]
        for p, email in zip(pages, ("victim@example.com", "newcomer@example.com"), strict=True)
    ]
    assert texts[0] == texts[1]
    assert not client.session.get("_auth_user_id")  # nobody was signed in


def test_an_unconfirmed_account_cannot_sign_in_and_a_link_works_once(api, mailoutbox):
    _register(api, "nia@example.com")
    login = api.post("/api/v1/auth/login", {"email": "nia@example.com", "password": STRONG}, format="json")
    assert login.status_code == 401 and login.json()["code"] == "email_unconfirmed"
    uid, token = link_parts(mailoutbox[-1].body)
    assert (
        api.post("/api/v1/auth/register/confirm", {"uid": uid, "token": token + "x"}, format="json").status_code == 400
    )
    first = api.post("/api/v1/auth/register/confirm", {"uid": uid, "token": token}, format="json")
    assert first.status_code == 201 and first.json()["token"].startswith("atk_")
    again = api.post("/api/v1/auth/register/confirm", {"uid": uid, "token": token}, format="json")
    assert again.status_code == 400 and again.json()["code"] == "invalid_confirmation"
    assert User.objects.get(email="nia@example.com").email_confirmed_at is not None


def test_registering_again_before_confirming_voids_the_earlier_link(api, mailoutbox):
    """Someone who pre-registers another person's address cannot get in: only the mailbox confirms, and the
    latest sign-up's password is the one a confirmation keeps."""
    _register(api, "nia@example.com")
    early = link_parts(mailoutbox[-1].body)
    api.post(
        "/api/v1/auth/register",
        {"email": "nia@example.com", "password": "another-long-passphrase-9", "role": "artist"},
        format="json",
    )
    late = link_parts(mailoutbox[-1].body)
    assert (
        api.post(
            "/api/v1/auth/register/confirm", dict(zip(("uid", "token"), early, strict=True)), format="json"
        ).status_code
        == 400
    )
    assert (
        api.post(
            "/api/v1/auth/register/confirm", dict(zip(("uid", "token"), late, strict=True)), format="json"
        ).status_code
        == 201
    )
    user = User.objects.get(email="nia@example.com")
    assert user.check_password("another-long-passphrase-9") and user.role == "artist"


def test_an_account_staff_add_in_the_admin_can_sign_in(client, make_user, api):
    client.force_login(make_user(role="staff"))
    response = client.post(
        "/admin/accounts/user/add/",
        {"email": "added@example.com", "role": "buyer", "password1": STRONG, "password2": STRONG},
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    login = api.post("/api/v1/auth/login", {"email": "added@example.com", "password": STRONG}, format="json")
    assert login.status_code == 200, login.json()
