"""Lists (filters, parties only) and the staff admin."""

import pytest

from tests.marketplace.commissions.helpers import offer, post_brief


@pytest.mark.django_db
def test_my_commissions_filter_by_role_and_state(client_api, artist_client, awarded, brief):
    assert brief["id"] == awarded["id"]
    other = post_brief(client_api).json()
    mine = client_api.get("/api/v1/commissions").json()
    assert {item["id"] for item in mine["results"]} == {awarded["id"], other["id"]}
    assert [item["id"] for item in client_api.get("/api/v1/commissions?state=open").json()["results"]] == [other["id"]]
    assert client_api.get("/api/v1/commissions?role=artist").json()["count"] == 0
    assert [item["id"] for item in artist_client.get("/api/v1/commissions?role=artist").json()["results"]] == [
        awarded["id"]
    ]
    bad = client_api.get("/api/v1/commissions?state=finished")
    assert bad.status_code == 400 and "state" in bad.json()["errors"]


@pytest.mark.django_db
def test_open_briefs_list_excludes_ones_own_and_overdue_briefs(make_user, client_for, client_api, artist_client):
    from datetime import timedelta

    from django.utils import timezone

    from marketplace.commissions.models import Commission

    own = post_brief(artist_client).json()
    due_soon = post_brief(client_api, deadline=(timezone.now() + timedelta(days=1)).isoformat()).json()
    later = post_brief(client_api).json()
    overdue = post_brief(client_api).json()
    Commission.objects.filter(public_id=overdue["id"]).update(due_at=timezone.now() - timedelta(seconds=1))
    listed = [item["id"] for item in artist_client.get("/api/v1/commission-briefs").json()["results"]]
    assert listed == [due_soon["id"], later["id"]] and own["id"] not in listed
    assert (
        offer(artist_client, due_soon["id"], delivery_by=(timezone.now() + timedelta(hours=5)).isoformat()).status_code
        == 201
    )


@pytest.mark.django_db
def test_staff_see_commissions_in_the_admin(client, make_user, awarded):
    client.force_login(make_user(role="staff"))
    assert client.get("/admin/commissions/commission/").status_code == 200
    from marketplace.commissions.models import Commission

    page = client.get(f"/admin/commissions/commission/{Commission.objects.get().pk}/change/")
    assert page.status_code == 200 and b"payment_succeeded" in page.content
