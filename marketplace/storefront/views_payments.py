"""The payer's step between "pay" and "paid" when the bank asks for authentication (3-D Secure).

A charge made from a page gives the provider a return URL. Stripe then answers with the bank's page
(`Payment.action_url`), where this page sends the payer; its outcome arrives by webhook. The embedded test
provider has no bank, so this page stands in for one (`tok_requires_action`): the payer authenticates or
fails, and the payment settles as the webhook would have settled it. Either way the payer comes back to the
page the payment is for (the order, or the commission)."""

from uuid import UUID

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from core.errors import AtelierError
from marketplace.storefront.page_forms import bind
from marketplace.storefront.views_studio import signed_in_page
from marketplace.subscriptions import selectors as billing_selectors
from marketplace.subscriptions import services as billing_services
from marketplace.subscriptions.models import PaymentState

PAGE_OF_REFERENCE = {"order": "storefront:order", "commission": "storefront:commission-page"}


class AuthenticateForm(forms.Form):
    outcome = forms.ChoiceField(choices=[("authenticate", "Authenticate"), ("fail", "Fail authentication")])


def payment_return_path(payment) -> str:
    """The page a payment is for (`order:<uuid>` → the order page), or the library for anything else."""
    kind, _, public_id = payment.reference.partition(":")
    if kind in PAGE_OF_REFERENCE and public_id:
        return reverse(PAGE_OF_REFERENCE[kind], kwargs={"public_id": public_id})
    return reverse("storefront:library")


def authenticate_path(payment_id: UUID) -> str:
    return reverse("storefront:payment-authenticate", kwargs={"public_id": payment_id})


def after_charge(*, payment_id: UUID | None, state: str, done: str) -> HttpResponse:
    """Where a page goes once it has charged: the bank's step when the payment waits for the payer, else `done`."""
    if payment_id is not None and state == PaymentState.REQUIRES_ACTION:
        return redirect(authenticate_path(payment_id))
    return redirect(done)


@signed_in_page
def payment_authenticate(request: HttpRequest, public_id: UUID) -> HttpResponse:
    payment = billing_selectors.payment_get(user=request.user, public_id=public_id)
    back = payment_return_path(payment)
    if payment.state != PaymentState.REQUIRES_ACTION:
        return redirect(back)
    if payment.provider != "test":
        if payment.action_url:
            return redirect(payment.action_url)
        messages.error(request, "Your bank's confirmation page is not available here. Choose another card.")
        return redirect(back)
    form = AuthenticateForm()
    if request.method == "POST":
        form = bind(request, AuthenticateForm)
        if form.is_valid():
            try:
                settled = billing_services.payment_complete_test_action(
                    payment=payment, succeed=form.cleaned_data["outcome"] == "authenticate"
                )
            except AtelierError as exc:
                messages.error(request, str(exc.detail))
                return redirect(back)
            if settled.state == PaymentState.FAILED:
                messages.error(request, f"{settled.failure_reason} Nothing was charged: choose another card.")
            else:
                messages.success(request, "Payment confirmed.")
            return redirect(back)
    return render(
        request,
        "storefront/buyer/authenticate.html",
        {"payment": payment, "form": form, "back": back},
        status=400 if form.errors else 200,
    )
