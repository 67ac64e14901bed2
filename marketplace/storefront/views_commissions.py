"""Commission pages: a client posts a brief with reference images, reads the offers, accepts one and pays,
reviews deliveries, asks for a revision or accepts; an artist finds open briefs, sends an offer and delivers
(uploaded images, or drawn by one of their models).

Reads go through the commission selectors as the signed-in user (someone with no part in a commission gets
the 404 page, as the API gives a 404); writes through the commission services. Which actions a page offers
is read from the commission state table (`transitions.RULES`), the same one the services enforce.
"""

from typing import Any
from uuid import UUID

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import AtelierError
from generation import selectors as generation_selectors
from marketplace.commissions import selectors, services
from marketplace.commissions.models import CommissionState, DeliveryState, OfferState
from marketplace.commissions.transitions import ARTIST, CLIENT, rules_for
from marketplace.storefront.forms_commissions import (
    BriefForm,
    CancelForm,
    DeliveryAcceptForm,
    DeliveryGenerateForm,
    DeliveryUploadForm,
    OfferForm,
    PayForm,
    RevisionForm,
)
from marketplace.storefront.page_forms import add_service_error, bind
from marketplace.storefront.views_payments import authenticate_path
from marketplace.storefront.views_studio import signed_in_page

PAGE_SIZE = 20
POLL_SECONDS = 2


def allowed(*, action: str, role: str | None, state: str) -> bool:
    """Whether the state table lets `role` do `action` from `state`."""
    rule = rules_for(action).get(role or "")
    return rule is not None and state in rule.sources


def _is_artist(user: Any) -> bool:
    return getattr(user, "role", None) == "artist"


# --- lists and the brief form ------------------------------------------------------------------------------


@require_GET
@signed_in_page
def commission_list(request: HttpRequest) -> HttpResponse:
    role = request.GET.get("role") if request.GET.get("role") in (CLIENT, ARTIST) else None
    rows = selectors.commissions_for(user=request.user, role=role).prefetch_related("references")
    return TemplateResponse(
        request,
        "storefront/commissions/list.html",
        {
            "commissions": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
            "role": role,
            "is_artist": _is_artist(request.user),
            "open_briefs": selectors.commission_briefs_for(user=request.user).count()
            if _is_artist(request.user)
            else 0,
            "offers": list(selectors.offers_by_artist(user=request.user, state=OfferState.PENDING)[:20])
            if _is_artist(request.user)
            else [],
        },
    )


@require_GET
@signed_in_page
def brief_list(request: HttpRequest) -> HttpResponse:
    rows = selectors.commission_briefs_for(user=request.user).prefetch_related("references")
    return TemplateResponse(
        request,
        "storefront/commissions/briefs.html",
        {
            "briefs": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
            "is_artist": _is_artist(request.user),
        },
    )


@require_http_methods(["GET", "POST"])
@signed_in_page
def commission_new(request: HttpRequest) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = bind(request, BriefForm)
        if form.is_valid():
            try:
                commission = services.commission_create(client=request.user, **form.arguments())
            except AtelierError as exc:
                add_service_error(form, exc)
                status = exc.status
            else:
                return redirect("storefront:commission-page", public_id=commission.public_id)
        else:
            status = 400
    else:
        form = BriefForm(
            initial={
                "target_artist": request.GET.get("artist") or None,
                "target_model": request.GET.get("model") or None,
            }
        )
    target = None
    target_id = form["target_artist"].value()
    if target_id:
        try:
            target = selectors.artist_for_brief(public_id=UUID(str(target_id)))
        except ValueError:
            target = None
    return TemplateResponse(
        request, "storefront/commissions/new.html", {"form": form, "target_artist": target}, status=status
    )


# --- one commission ----------------------------------------------------------------------------------------


def _model_choices(user: Any) -> list[tuple[str, str]]:
    return [
        (str(version.public_id), version.name) for version in generation_selectors.model_versions_for(user=user)[:100]
    ]


def _deliveries(commission: Any, user: Any) -> list[Any]:
    if not selectors.commission_is_party(commission=commission, user=user):
        return []
    return list(selectors.deliveries_for_commission(commission=commission))


def _commission_page(
    request: HttpRequest,
    commission: Any,
    *,
    forms: dict[str, Any] | None = None,
    error: str | None = None,
    status: int = 200,
    template: str = "detail",
) -> HttpResponse:
    user = request.user
    commission = selectors.commissions_visible_to(user=user).prefetch_related("references").get(pk=commission.pk)
    role = selectors.commission_role(commission=commission, user=user)
    state = commission.state
    offers = list(selectors.offers_for_commission(user=user, commission=commission))
    deliveries = _deliveries(commission, user)
    forms = forms or {}
    own_pending = next(
        (offer for offer in offers if offer.artist_id == user.pk and offer.state == OfferState.PENDING), None
    )
    may_deliver = allowed(action="deliver", role=role, state=state) and commission.artist_id == user.pk
    latest = deliveries[-1] if deliveries else None
    reviewing = (
        allowed(action="accept_delivery", role=role, state=state)
        and latest is not None
        and latest.state == DeliveryState.DELIVERED
    )
    models = _model_choices(user) if may_deliver else []
    context = {
        "commission": commission,
        "role": role,
        "offers": offers,
        "deliveries": deliveries,
        "error": error,
        "references": list(selectors.commission_references(commission=commission)),
        "history": list(selectors.commission_history(commission=commission, user=user)),
        "is_client": role == CLIENT,
        "waiting_payment": selectors.payment_waiting_for_client(user=user, commission=commission),
        "own_pending_offer": own_pending,
        "may_offer": role == ARTIST
        and state == CommissionState.OPEN
        and own_pending is None
        and commission.artist_id is None,
        "may_accept_offers": allowed(action="accept_offer", role=role, state=state),
        "may_cancel": allowed(action="cancel", role=role, state=state),
        "may_deliver": may_deliver,
        "reviewing": latest if reviewing else None,
        "revisions_left": max(commission.revisions_allowed - commission.revisions_used, 0),
        "generating": any(delivery.state == DeliveryState.GENERATING for delivery in deliveries),
        "poll_seconds": POLL_SECONDS,
        "offer_form": forms.get("offer") or OfferForm(currency=commission.currency),
        "pay_forms": {str(offer.public_id): forms.get(f"pay:{offer.public_id}") or PayForm() for offer in offers},
        "cancel_form": forms.get("cancel") or CancelForm(),
        "upload_form": forms.get("upload") or DeliveryUploadForm(),
        "generate_form": forms.get("generate")
        or DeliveryGenerateForm(
            models=models,
            initial={"model": str(commission.target_model.public_id)} if commission.target_model_id else None,
        ),
        "has_models": bool(models),
        "revision_form": forms.get("revision") or RevisionForm(),
        "accept_delivery_form": forms.get("accept_delivery") or DeliveryAcceptForm(),
    }
    name = "_deliveries.html" if template == "deliveries" else "detail.html"
    return TemplateResponse(request, f"storefront/commissions/{name}", context, status=status)


@require_GET
@signed_in_page
def commission_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _commission_page(request, selectors.commission_get(user=request.user, public_id=public_id))


@require_GET
@signed_in_page
def commission_deliveries(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The deliveries part of the page, polled while one is still being generated (parties only)."""
    commission = selectors.commission_party_get(user=request.user, public_id=public_id)
    return _commission_page(request, commission, template="deliveries")


@require_POST
@signed_in_page
def commission_cancel(request: HttpRequest, public_id: UUID) -> HttpResponse:
    commission = selectors.commission_get(user=request.user, public_id=public_id)
    form = bind(request, CancelForm)
    if form.is_valid():
        try:
            services.commission_cancel(commission=commission, actor=request.user, note=form.cleaned_data["note"])
        except AtelierError as exc:
            return _commission_page(request, commission, error=str(exc.detail), status=exc.status)
        return redirect("storefront:commission-page", public_id=commission.public_id)
    return _commission_page(request, commission, forms={"cancel": form}, status=400)


@require_POST
@signed_in_page
def offer_create(request: HttpRequest, public_id: UUID) -> HttpResponse:
    commission = selectors.commission_get(user=request.user, public_id=public_id)
    form = bind(request, OfferForm, currency=commission.currency)
    if not form.is_valid():
        return _commission_page(request, commission, forms={"offer": form}, status=400)
    data = form.cleaned_data
    try:
        services.offer_create(
            commission=commission,
            artist=request.user,
            price=data["price"],
            delivery_by=data["delivery_by"],
            message=data.get("message", ""),
            revisions=data["revisions"],
        )
    except AtelierError as exc:
        add_service_error(form, exc)
        return _commission_page(request, commission, forms={"offer": form}, status=exc.status)
    return redirect("storefront:commission-page", public_id=commission.public_id)


@require_POST
@signed_in_page
def offer_action(request: HttpRequest, public_id: UUID, action: str) -> HttpResponse:
    """Accept (and pay), decline or withdraw an offer."""
    offer = selectors.offer_get(user=request.user, public_id=public_id)
    commission = selectors.commission_get(user=request.user, public_id=offer.commission.public_id)
    if action == "accept":
        form = bind(request, PayForm)
        if not form.is_valid():
            return _commission_page(request, commission, forms={f"pay:{offer.public_id}": form}, status=400)
        page = reverse("storefront:commission-page", kwargs={"public_id": commission.public_id})
        try:
            accepted = services.offer_accept(
                offer=offer,
                client=request.user,
                payment_method=form.cleaned_data["payment_method"],
                return_url=request.build_absolute_uri(page),
            )
        except AtelierError as exc:
            add_service_error(form, exc, fields={"payment_method": "payment_method"})
            if exc.status == 402:  # a decline: the brief is open again and the same offer can be paid
                form.add_error(None, "Nothing was charged. Choose another card and try again.")
            return _commission_page(request, commission, forms={f"pay:{offer.public_id}": form}, status=exc.status)
        waiting = selectors.payment_waiting_for_client(user=request.user, commission=accepted)
        if waiting is not None:
            return redirect(authenticate_path(waiting.public_id))
        return redirect(page)
    try:
        if action == "decline":
            services.offer_decline(offer=offer, client=request.user)
        else:
            services.offer_withdraw(offer=offer, artist=request.user)
    except AtelierError as exc:
        return _commission_page(request, commission, error=str(exc.detail), status=exc.status)
    return redirect("storefront:commission-page", public_id=commission.public_id)


@require_POST
@signed_in_page
def delivery_create(request: HttpRequest, public_id: UUID, source: str) -> HttpResponse:
    """Deliver uploaded images, or images drawn by one of the artist's models."""
    commission = selectors.commission_get(user=request.user, public_id=public_id)
    if source == "upload":
        form, key = bind(request, DeliveryUploadForm), "upload"
    else:
        form, key = bind(request, DeliveryGenerateForm, models=_model_choices(request.user)), "generate"
    if not form.is_valid():
        return _commission_page(request, commission, forms={key: form}, status=400)
    data = form.cleaned_data
    try:
        if source == "upload":
            services.delivery_upload(
                commission=commission, artist=request.user, files=data["images"], note=data.get("note", "")
            )
        else:
            services.delivery_generate(
                commission=commission,
                artist=request.user,
                model=UUID(data["model"]),
                count=data["count"],
                seed=data.get("seed"),
                note=data.get("note", ""),
            )
    except AtelierError as exc:
        add_service_error(form, exc)
        return _commission_page(request, commission, forms={key: form}, status=exc.status)
    return redirect("storefront:commission-page", public_id=commission.public_id)


@require_POST
@signed_in_page
def delivery_review(request: HttpRequest, public_id: UUID, action: str) -> HttpResponse:
    """The client accepts a delivery (the artist is paid) or asks for a revision."""
    delivery = selectors.delivery_get(user=request.user, public_id=public_id)
    commission = selectors.commission_get(user=request.user, public_id=delivery.commission.public_id)
    if action == "accept":
        form, key = bind(request, DeliveryAcceptForm), "accept_delivery"
    else:
        form, key = bind(request, RevisionForm), "revision"
    if not form.is_valid():
        return _commission_page(request, commission, forms={key: form}, status=400)
    try:
        if action == "accept":
            services.delivery_accept(delivery=delivery, client=request.user, note=form.cleaned_data["note"])
        else:
            services.delivery_request_revision(
                delivery=delivery,
                client=request.user,
                note=form.cleaned_data["note"],
                deadline=form.cleaned_data.get("deadline"),
            )
    except AtelierError as exc:
        add_service_error(form, exc)
        return _commission_page(request, commission, forms={key: form}, status=exc.status)
    return redirect("storefront:commission-page", public_id=commission.public_id)
