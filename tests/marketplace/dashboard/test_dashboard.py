import re
from datetime import UTC

import pytest
from django.utils import timezone

from marketplace.subscriptions.selectors import payments_for
from marketplace.subscriptions.services import (
    payment_charge,
    payment_refund,
    subscription_change_plan,
    subscription_current,
)
from tests.helpers import CHROMIUM, PASSWORD


def bars(html: str, chart_id: str) -> dict[tuple[str, str], float]:
    """(series, label) → value of every bar in one chart of the page."""
    block = html.split(f'id="{chart_id}"', 1)[1].split("</svg>", 1)[0]
    found = re.findall(r'data-series="([^"]*)" data-label="([^"]*)" data-value="([^"]*)"', block)
    return {(series, label): float(value) for series, label, value in found}


@pytest.fixture
def staff_client(client, make_user):
    client.force_login(make_user(role="staff"))
    return client


@pytest.mark.django_db
def test_dashboard_is_for_staff_only(client, make_user):
    assert client.get("/dashboard/").status_code == 302
    client.force_login(make_user(role="artist"))
    response = client.get("/dashboard/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_dashboard_shows_sales_revenue_net_of_refunds_and_subscriptions(staff_client, make_user):
    buyer = make_user(role="buyer")
    today = timezone.now().strftime("%d %b")
    payment_charge(
        payer=buyer, amount=2500, currency="usd", purpose="order", reference="order:a", payment_method="tok_visa"
    )
    refunded = payment_charge(
        payer=buyer, amount=1000, currency="usd", purpose="order", reference="order:b", payment_method="tok_visa"
    )
    payment_refund(payment=refunded, amount=400)
    subscription_current(user=make_user(role="artist"))
    upgrader = make_user(role="artist")
    subscription_change_plan(user=upgrader, plan="pro", payment_method="tok_visa")
    upgrade_paid = sum(p.amount for p in payments_for(user=upgrader))
    html = staff_client.get("/dashboard/").content.decode()
    assert bars(html, "chart-sales")[("orders", today)] == 2
    assert bars(html, "chart-revenue")[("order (USD)", today)] == pytest.approx(31.00)
    assert bars(html, "chart-revenue")[("subscription (USD)", today)] == pytest.approx(upgrade_paid / 100)
    total = re.search(r'id="tile-revenue">.*?class="value">\s*([\d.,]+) USD', html, re.S).group(1)
    assert float(total.replace(",", "")) == pytest.approx(31.00 + upgrade_paid / 100)
    subscriptions = {label: value for (_, label), value in bars(html, "chart-subscriptions").items()}
    assert subscriptions == {"Free": 1, "Pro": 1, "Studio": 0}


@pytest.mark.django_db
def test_dashboard_counts_jobs_by_state_and_reports_the_chain_down(staff_client, settings):
    from provenance.chain.anvil import free_port

    settings.CHAIN_RPC_URL = f"http://127.0.0.1:{free_port()}"
    html = staff_client.get("/dashboard/").content.decode()
    jobs = bars(html, "chart-jobs")
    assert {series for series, _ in jobs} == {"training runs", "generation jobs", "webhook deliveries"}
    assert all(value == 0 for value in jobs.values())
    assert 'class="down"' in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_dashboard_renders_its_charts_in_chromium(live_server, make_user, tmp_path):
    from playwright.sync_api import sync_playwright

    staff = make_user(role="staff", email="staff@example.com")
    payment_charge(
        payer=make_user(), amount=1200, currency="usd", purpose="order", reference="order:c", payment_method="tok_visa"
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1800})
            page.goto(f"{live_server.url}/dashboard/")
            page.fill("#id_username", staff.email)
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_selector("#dashboard svg.chart", timeout=30_000)
            charts = page.locator("#dashboard svg.chart")
            assert charts.count() == 4
            for index in range(4):
                box = charts.nth(index).bounding_box()
                assert box["width"] > 300 and box["height"] > 80
            tallest = page.locator("#chart-sales rect.bar[data-value='1']")
            assert tallest.count() == 1 and tallest.bounding_box()["height"] > 50
            assert page.inner_text("#tile-sales .value").strip() == "1"
            page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
        finally:
            browser.close()


@pytest.mark.django_db
def test_recent_runs_show_when_they_started_not_when_they_were_queued(staff_client, make_user):
    from datetime import datetime

    from generation.models import Dataset, TrainingRun

    artist = make_user(role="artist")
    dataset = Dataset.objects.create(owner=artist, name="set", dataset_hash="0" * 64)
    queued_at = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    TrainingRun.objects.create(
        owner=artist, dataset=dataset, config={}, queued_at=queued_at, started_at=datetime(2026, 1, 2, 5, 6, tzinfo=UTC)
    )
    TrainingRun.objects.create(owner=artist, dataset=dataset, config={}, queued_at=queued_at)
    table = staff_client.get("/dashboard/").content.decode().split('id="training-runs"', 1)[1].split("</table>")[0]
    assert "2026-01-02 05:06" in table and "queued 2026-01-02 03:04" in table
