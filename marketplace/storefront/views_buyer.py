"""Buyer pages: checkout (choose a licence, pay), the order page (receipt, or a retry on the same order after a
decline), the library (licences held, orders) with licence documents and fresh download links, and the
studio's sales and payouts page. Every page calls the same selectors and services as the API."""

from uuid import UUID

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.errors import AtelierError, NotFound
from marketplace.gallery import ports as gallery_ports
from marketplace.gallery import selectors, services
from marketplace.gallery.licence_terms import terms_for
from marketplace.storefront.forms_commissions import PayForm
from marketplace.storefront.page_forms import add_service_error, bind, minor_to_amount
from marketplace.storefront.views_commissions import signed_in_page
from marketplace.storefront.views_payments import after_charge
from marketplace.subscriptions import selectors as billing_selectors
from marketplace.subscriptions import services as billing_services


class CheckoutForm(PayForm):
    listing = forms.ChoiceField(widget=forms.RadioSelect, label="Licence")

    def __init__(self, *args, listings, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["listing"].choices = [(str(item.public_id), item.public_id) for item in listings]
        self.order_fields(["listing", "payment_method"])


def _listing_rows(listings) -> list[dict]:
    return [{"listing": item, "terms": terms_for(item.licence_type)} for item in listings]


def _checkout_page(request: HttpRequest, listing, form: CheckoutForm, *, status: int = 200) -> HttpResponse:
    listings = list(selectors.listings_for_artwork(user=request.user, artwork=listing.artwork))
    return render(
        request,
        "storefront/buyer/checkout.html",
        {
            "artwork": listing.artwork,
            "rows": _listing_rows(listings),
            "form": form,
            "chosen": form["listing"].value() or str(listing.public_id),
        },
        status=status,
    )


@signed_in_page
def checkout(request: HttpRequest, listing_id: UUID) -> HttpResponse:
    listing = selectors.listing_get_visible(user=request.user, public_id=listing_id)
    listings = list(selectors.listings_for_artwork(user=request.user, artwork=listing.artwork))
    if request.method != "POST":
        form = CheckoutForm(listings=listings, initial={"listing": str(listing.public_id)})
        return _checkout_page(request, listing, form)
    form = bind(request, CheckoutForm, listings=listings)
    if not form.is_valid():
        return _checkout_page(request, listing, form, status=400)
    chosen = selectors.listing_get_visible(user=request.user, public_id=form.cleaned_data["listing"])
    try:
        placed = services.order_place(buyer=request.user, listing=chosen)
    except AtelierError as exc:
        add_service_error(form, exc, fields={"listing": "listing"})
        return _checkout_page(request, listing, form, status=exc.status)
    return _pay_and_show(request, placed.order, form.cleaned_data["payment_method"])


def _pay_and_show(request: HttpRequest, order, payment_method: str) -> HttpResponse:
    """Pay, then show the order: its receipt, or, after a decline, the same order with the reason and a retry."""
    order_path = reverse("storefront:order", kwargs={"public_id": order.public_id})
    try:
        result = services.order_pay(
            buyer=request.user,
            order=order,
            payment_method=payment_method,
            return_url=request.build_absolute_uri(order_path),
        )
    except AtelierError as exc:
        messages.error(request, f"{exc.detail} Your order is kept: choose another card to try again.")
        return redirect(order_path)
    if result.payment is not None and result.payment.state == "requires_action":
        messages.info(
            request,
            "Your bank asks you to confirm this payment. Until it is confirmed the licence is not reserved for you.",
        )
        return after_charge(payment_id=result.payment.id, state=result.payment.state, done=order_path)
    return redirect(order_path)


@signed_in_page
def order_page(request: HttpRequest, public_id: UUID) -> HttpResponse:
    order = selectors.order_get(user=request.user, public_id=public_id)
    form = PayForm()
    if request.method == "POST":
        form = bind(request, PayForm)
        if form.is_valid():
            return _pay_and_show(request, order, form.cleaned_data["payment_method"])
    payment = None
    if order.payment_id is not None:
        payment = billing_selectors.payment_get(user=request.user, public_id=order.payment_id)
    return render(
        request,
        "storefront/buyer/order.html",
        {
            "order": order,
            "form": form,
            "payment": payment,
            "terms": terms_for(order.licence_type),
            "grant": getattr(order, "grant", None) if order.state == "fulfilled" else None,
        },
        status=400 if form.errors else 200,
    )


@require_POST
@signed_in_page
def order_cancel(request: HttpRequest, public_id: UUID) -> HttpResponse:
    order = selectors.order_get(user=request.user, public_id=public_id)
    try:
        services.order_cancel(order=order, actor=request.user, note="cancelled by the buyer")
    except AtelierError as exc:
        messages.error(request, str(exc.detail))
    return redirect("storefront:order", public_id=order.public_id)


@signed_in_page
def library(request: HttpRequest) -> HttpResponse:
    grants = list(selectors.grants_for(user=request.user)[:200])
    orders = list(selectors.orders_for(user=request.user)[:200])
    return render(request, "storefront/buyer/library.html", {"grants": grants, "orders": orders})


def _grant_of(request: HttpRequest, public_id: UUID):
    grant = (
        selectors.grants_for(user=request.user)
        .select_related("order__listing", "artwork__artist")
        .filter(public_id=public_id)
        .first()
    )
    if grant is None:
        raise NotFound("No such licence.")
    return grant


@signed_in_page
def licence_document(request: HttpRequest, public_id: UUID) -> HttpResponse:
    grant = _grant_of(request, public_id)
    record = gallery_ports.provenance_of(record=grant.artwork.provenance_record)
    return render(
        request,
        "storefront/buyer/licence.html",
        {
            "grant": grant,
            "order": grant.order,
            "artwork": grant.artwork,
            "holder": request.user,
            "terms": terms_for(grant.licence_type),
            "provenance": record,
        },
    )


@require_POST
@signed_in_page
def licence_download(request: HttpRequest, public_id: UUID) -> HttpResponse:
    grant = _grant_of(request, public_id)
    link = services.download_link_issue(user=request.user, artwork=grant.artwork)
    return redirect(f"/api/v1/downloads/{link.token}")


@signed_in_page
def sales(request: HttpRequest) -> HttpResponse:
    rows = list(selectors.sales_for(user=request.user)[:200])
    return render(
        request,
        "storefront/buyer/sales.html",
        {
            "sales": rows,
            "balances": billing_selectors.ledger_balance(user=request.user),
            "payouts": list(billing_selectors.payouts_for(user=request.user)[:50]),
        },
    )


@require_POST
@signed_in_page
def payout_request(request: HttpRequest) -> HttpResponse:
    currency = request.POST.get("currency", "")
    try:
        payout = billing_services.payout_request(user=request.user, currency=currency)
    except AtelierError as exc:
        messages.error(request, str(exc.detail))
    else:
        amount = minor_to_amount(payout.amount, payout.currency)
        messages.success(request, f"Payout of {amount} {payout.currency} requested: {payout.state}.")
    return redirect("storefront:sales")
