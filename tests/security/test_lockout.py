"""Finding 9: a guesser cannot lock the owner out, a spray across addresses meets a per-account ceiling, and a
login failure or lock answers the same whether the email has an account or not."""

import pytest

from tests.helpers import PASSWORD


def login(api, email, password=PASSWORD, address="198.51.100.1"):
    return api.post("/api/v1/auth/login", {"email": email, "password": password}, format="json", REMOTE_ADDR=address)


def _shape(response) -> tuple:
    body = response.json()
    return response.status_code, body["code"], body["detail"], body["title"]


@pytest.mark.django_db
def test_wrong_passwords_from_one_address_do_not_lock_the_owner_elsewhere(api, user, settings):
    for _ in range(settings.LOGIN_MAX_FAILURES):
        assert login(api, user.email, "wrong-password!", address="203.0.113.66").status_code == 401
    assert login(api, user.email, address="203.0.113.66").status_code == 429  # the guesser is stopped
    assert login(api, user.email, address="198.51.100.1").status_code == 200  # the owner is not


@pytest.mark.django_db
def test_a_spray_from_many_addresses_meets_the_per_account_ceiling(api, user, settings):
    settings.LOGIN_MAX_FAILURES_PER_ACCOUNT = 8
    codes = [login(api, user.email, "wrong-password!", address=f"203.0.113.{n}").status_code for n in range(10)]
    assert codes == [401] * 8 + [429] * 2
    assert login(api, user.email, address="198.51.100.200").status_code == 429


@pytest.mark.django_db
def test_failures_and_locks_answer_the_same_for_unknown_emails(api, user, settings):
    real = [login(api, user.email, "wrong-password!") for _ in range(settings.LOGIN_MAX_FAILURES + 1)]
    ghost = [login(api, "nobody-here@example.com", "wrong-password!") for _ in range(settings.LOGIN_MAX_FAILURES + 1)]
    assert [_shape(r) for r in real] == [_shape(r) for r in ghost]
    assert real[-1].status_code == 429 and real[-1]["Retry-After"] == ghost[-1]["Retry-After"]


@pytest.mark.django_db
def test_an_inactive_account_answers_like_a_wrong_password(api, make_user):
    inactive = make_user(is_active=False)
    assert _shape(login(api, inactive.email)) == _shape(login(api, "nobody-here@example.com"))
