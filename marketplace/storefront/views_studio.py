"""The artist studio: datasets, training runs with live progress, model versions, generation with results as
they finish, and turning a result into a listed artwork.

Every read goes through the generation and gallery selectors as the signed-in artist (another artist's object
is a 404, as in the API) and every write through their services; a refusal is shown on the form that caused
it, with what was typed kept. Live parts are htmx partials polled by the page; without JavaScript the page
refreshes itself (a <noscript> meta refresh) and has a reload link.
"""

import math
from collections.abc import Callable
from functools import wraps
from typing import Any
from uuid import UUID

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import AtelierError, Forbidden, NotFound
from core.jobs import FINISHED_STATES
from generation import selectors as generation_selectors
from generation import services as generation_services
from generation.models import Curation, DatasetState
from generation.services.curation import VERDICT_CHOICES, generated_image_curate
from generation.services.finetuning import fine_tune_create
from marketplace.gallery import selectors as gallery_selectors
from marketplace.gallery import services as gallery_services
from marketplace.gallery.model_performance import model_version_comparison
from marketplace.storefront.forms_studio import (
    ArtworkForm,
    DatasetUploadForm,
    FineTuneForm,
    GenerateForm,
    ListingForm,
    RepriceForm,
    TrainingRunForm,
)
from marketplace.storefront.page_forms import UploadRefused, add_service_error, bind, minor_to_amount

PAGE_SIZE = 20
POLL_SECONDS = 2
ARTIST = "artist"


def signed_in_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-out visitors go to sign in; a selector's NotFound is the 404 page, a service's Forbidden the 403
    (the API's answers, as pages), and a refused upload its own page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return sign_in_first(request)
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(str(exc.detail)) from None
        except Forbidden as exc:
            raise PermissionDenied(str(exc.detail)) from None
        except UploadRefused as refused:
            return refused_page(request, refused)

    return wrapper


def artist_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A signed-in page (above) for artists only: other signed-in users get a 403."""

    @wraps(view)
    def artists_only(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if getattr(request.user, "role", None) != ARTIST:
            raise PermissionDenied("The studio is for artists.")
        return view(request, *args, **kwargs)

    return signed_in_page(artists_only)


def sign_in_first(request: HttpRequest) -> HttpResponse:
    """The sign-in page, then back here. A polled partial whose session ended sends the whole page there (htmx
    would otherwise swap the sign-in form into the progress box)."""
    response = redirect_to_login(request.get_full_path())
    if request.headers.get("HX-Request") == "true":
        page = request.headers.get("HX-Current-URL") or request.get_full_path()
        target = redirect_to_login(page)["Location"]
        response = HttpResponse(status=204, headers={"HX-Redirect": target})
    return response


def refused_page(request: HttpRequest, refused: UploadRefused) -> HttpResponse:
    referrer = request.META.get("HTTP_REFERER", "")
    safe = url_has_allowed_host_and_scheme(
        referrer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return TemplateResponse(
        request,
        "storefront/studio/refused.html",
        {"message": refused.message, "back": referrer if safe else "/"},
        status=refused.status,
    )


def _page(request: HttpRequest, rows: Any) -> Any:
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def _render(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    return TemplateResponse(request, template, {"studio_poll_seconds": POLL_SECONDS, **context}, status=status)


def _is_live(job: Any) -> bool:
    return job.state not in FINISHED_STATES and job.state != "paused"  # a paused run changes only on resume


# --- overview ----------------------------------------------------------------------------------------------


@require_GET
@artist_page
def studio_home(request: HttpRequest) -> HttpResponse:
    user = request.user
    runs = generation_selectors.training_runs_for(user=user)
    return _render(
        request,
        "storefront/studio/home.html",
        {
            "dataset_count": generation_selectors.datasets_for(user=user).count(),
            "model_count": generation_selectors.model_versions_for(user=user).count(),
            "artwork_count": gallery_selectors.artworks_of_artist(user=user).count(),
            "active_runs": [run for run in runs.exclude(state__in=FINISHED_STATES)[:5]],
            "recent_runs": list(runs[:5]),
            "recent_jobs": list(generation_selectors.generation_jobs_for(user=user)[:5]),
        },
    )


# --- datasets ----------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@artist_page
def dataset_list(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {}
    status = 200
    form = DatasetUploadForm()
    if request.method == "POST":
        try:
            form = bind(request, DatasetUploadForm)
        except UploadRefused as refused:
            context["page_error"], status = refused.message, refused.status
        else:
            if form.is_valid():
                try:
                    upload = generation_services.dataset_create(
                        owner=request.user, name=form.cleaned_data["name"], files=form.cleaned_data["files"]
                    )
                except AtelierError as exc:
                    add_service_error(form, exc, fields={"files": "files", "name": "name"})
                    context["rejected"] = exc.extra.get("rejected", [])
                    context["duplicates"] = exc.extra.get("duplicates", [])
                    status = exc.status
                else:
                    url = reverse("storefront:studio-dataset", kwargs={"public_id": upload.dataset.public_id})
                    return redirect(f"{url}?uploaded=1")
            else:
                status = 400
    context.update(form=form, datasets=_page(request, generation_selectors.datasets_for(user=request.user)))
    return _render(request, "storefront/studio/datasets.html", context, status=status)


@require_http_methods(["GET", "POST"])
@artist_page
def dataset_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    dataset = generation_selectors.dataset_get(user=request.user, public_id=public_id)
    error, status = None, 200
    if request.method == "POST":  # the one action here: delete
        try:
            generation_services.dataset_delete(dataset=dataset)
        except AtelierError as exc:
            error, status = str(exc.detail), exc.status
        else:
            return redirect("storefront:studio-datasets")
    report = {"rejected": [], "duplicates": [], **(dataset.upload_report or {})}
    runs = generation_selectors.training_runs_for(user=request.user).filter(dataset=dataset)
    return _render(
        request,
        "storefront/studio/dataset_detail.html",
        {
            "dataset": dataset,
            "report": report,
            "uploaded": request.GET.get("uploaded") == "1",
            "error": error,
            "processing": dataset.state == DatasetState.PROCESSING,
            "failed": dataset.state == DatasetState.FAILED,
            "ready": dataset.state == DatasetState.READY,
            "unused": len(report["rejected"]) + len(report["duplicates"]),
            "runs": list(runs[:20]),
        },
        status=status,
    )


# --- training ----------------------------------------------------------------------------------------------


def _dataset_choices(user: Any) -> list[tuple[str, str]]:
    return [
        (
            str(dataset.public_id),
            f"{dataset.name} ({dataset.image_count} images)"
            if dataset.state == DatasetState.READY
            else f"{dataset.name} ({dataset.state})",
        )
        for dataset in generation_selectors.datasets_for(user=user)[:200]
    ]


@require_GET
@artist_page
def training_list(request: HttpRequest) -> HttpResponse:
    return _render(
        request,
        "storefront/studio/training.html",
        {
            "runs": _page(request, generation_selectors.training_runs_for(user=request.user)),
        },
    )


def _estimate(request: HttpRequest, form: TrainingRunForm) -> tuple[dict[str, Any] | None, int]:
    """(the plan the service would queue, 200) or (None, the refusal's status) with the refusal on the form."""
    try:
        dataset = generation_selectors.dataset_get(user=request.user, public_id=UUID(form.cleaned_data["dataset"]))
        planned = generation_services.training_run_estimate(
            owner=request.user, dataset=dataset, **form.plan_arguments()
        )
    except AtelierError as exc:
        add_service_error(form, exc, fields=TrainingRunForm.error_fields())
        return None, exc.status
    config = planned.config
    return {
        **planned.plan,
        "arch": config.arch,
        "resolution": config.resolution,
        "batch_size": config.batch_size,
        "steps": config.steps,
    }, 200


@require_http_methods(["GET", "POST"])
@artist_page
def training_new(request: HttpRequest) -> HttpResponse:
    """Start a run; "Show the estimate" (or, with JavaScript, any change of the form) shows the plan first."""
    datasets = _dataset_choices(request.user)
    context: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        form = bind(request, TrainingRunForm, datasets=datasets)
        if not form.is_valid():
            status = 400
        elif request.POST.get("action") == "estimate":
            context["estimate"], status = _estimate(request, form)
        else:
            try:
                dataset = generation_selectors.dataset_get(
                    user=request.user, public_id=UUID(form.cleaned_data["dataset"])
                )
                run = generation_services.training_run_create(
                    owner=request.user, dataset=dataset, **form.plan_arguments()
                )
            except AtelierError as exc:
                add_service_error(form, exc, fields=TrainingRunForm.error_fields())
                status = exc.status
            else:
                return redirect("storefront:studio-run", public_id=run.public_id)
    else:
        form = TrainingRunForm(datasets=datasets, initial={"dataset": request.GET.get("dataset", "")})
    context.update(form=form, has_datasets=bool(datasets))
    return _render(request, "storefront/studio/training_new.html", context, status=status)


@require_POST
@artist_page
def training_estimate(request: HttpRequest) -> HttpResponse:
    """The estimate box of the start-training form (htmx posts the form here on every change)."""
    form = bind(request, TrainingRunForm, datasets=_dataset_choices(request.user))
    estimate, status = _estimate(request, form) if form.is_valid() else (None, 400)
    return _render(
        request,
        "storefront/studio/_estimate.html",
        {"estimate": estimate, "form": form},
        status=200 if request.headers.get("HX-Request") == "true" else status,
    )


def _grid_size(config: dict[str, Any]) -> tuple[int, int]:
    """The sample grid's pixel size (generation.gan.visuals.image_grid: as square as possible, 2 px gaps)."""
    count, resolution = int(config.get("sample_count", 64)), int(config.get("resolution", 64))
    columns = math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    return columns * (resolution + 2) + 2, rows * (resolution + 2) + 2


def _run_context(run: Any) -> dict[str, Any]:
    version = getattr(run, "model_version", None) if run.state == "succeeded" else None
    width, height = _grid_size(run.config or {})
    return {
        "run": run,
        "live": _is_live(run),
        "model_version": version,
        "grid_width": width,
        "grid_height": height,
        "percent": round(100 * run.step / run.total_steps) if run.total_steps else 0,
    }


@require_http_methods(["GET", "POST"])
@artist_page
def training_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    run = generation_selectors.training_run_get(user=request.user, public_id=public_id)
    error, status = None, 200
    if request.method == "POST":  # the one action here: cancel
        try:
            generation_services.training_run_cancel(run=run)
        except AtelierError as exc:
            error, status = str(exc.detail), exc.status
        else:
            return redirect("storefront:studio-run", public_id=run.public_id)
        run = generation_selectors.training_run_get(user=request.user, public_id=public_id)
    return _render(
        request, "storefront/studio/training_detail.html", {**_run_context(run), "error": error}, status=status
    )


@require_GET
@artist_page
def training_progress(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The live part of a run's page (htmx polls it; it stops polling itself once the run has finished)."""
    run = generation_selectors.training_run_get(user=request.user, public_id=public_id)
    return _render(request, "storefront/studio/_run_progress.html", _run_context(run))


# --- models and generation ---------------------------------------------------------------------------------


@require_GET
@artist_page
def model_list(request: HttpRequest) -> HttpResponse:
    return _render(
        request,
        "storefront/studio/models.html",
        {
            "models": _page(request, generation_selectors.model_versions_for(user=request.user)),
        },
    )


def _model_page(
    request: HttpRequest,
    version: Any,
    form: GenerateForm | None = None,
    *,
    fine_tune_form: FineTuneForm | None = None,
    status: int = 200,
) -> HttpResponse:
    jobs = generation_selectors.generation_jobs_for(user=request.user).filter(model_version=version)
    width, height = _grid_size(version.training_run.config or {})
    kept = generation_selectors.generated_images_for(
        user=request.user, curation=Curation.KEEP, model_version=version
    ).count()
    form = form or GenerateForm(class_names=list(version.class_names) if version.conditional else [])
    return _render(
        request,
        "storefront/studio/model_detail.html",
        {
            "grid_width": width,
            "grid_height": height,
            "model": version,
            "form": form,
            "jobs": list(jobs[:10]),
            "run": version.training_run,
            "metrics": version.metrics or {},
            "fine_tune_form": fine_tune_form or FineTuneForm(),
            "kept_count": kept,
            "parent": version.training_run.init_from,
            "performance": model_version_comparison(user=request.user, public_id=version.public_id),
        },
        status=status,
    )


@require_GET
@artist_page
def model_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    version = generation_selectors.model_version_get(user=request.user, public_id=public_id)
    return _model_page(request, version)


@require_POST
@artist_page
def model_fine_tune(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Queue a fine-tune of this model on its dataset plus the images kept from it; then its run's page."""
    version = generation_selectors.model_version_get(user=request.user, public_id=public_id)
    form = bind(request, FineTuneForm)
    if not form.is_valid():
        return _model_page(request, version, fine_tune_form=form, status=400)
    try:
        run = fine_tune_create(owner=request.user, model_version=version, **form.arguments())
    except AtelierError as exc:
        add_service_error(form, exc, fields=FineTuneForm.ERROR_FIELDS)
        return _model_page(request, version, fine_tune_form=form, status=exc.status)
    return redirect("storefront:studio-run", public_id=run.public_id)


@require_POST
@artist_page
def model_generate(request: HttpRequest, public_id: UUID) -> HttpResponse:
    version = generation_selectors.model_version_get(user=request.user, public_id=public_id)
    form = bind(request, GenerateForm, class_names=list(version.class_names) if version.conditional else [])
    if not form.is_valid():
        return _model_page(request, version, form, status=400)
    arguments = form.arguments()
    if form.errors:
        return _model_page(request, version, form, status=400)
    try:
        job = generation_services.generation_job_create(user=request.user, model_version=version, **arguments)
    except AtelierError as exc:
        add_service_error(form, exc, fields=GenerateForm.ERROR_FIELDS)
        return _model_page(request, version, form, status=exc.status)
    return redirect("storefront:studio-job", public_id=job.public_id)


def _job_context(request: HttpRequest, job: Any) -> dict[str, Any]:
    images = list(generation_selectors.generated_images_for(user=request.user, job=job))
    return {"job": job, "images": images, "live": _is_live(job)}


@require_http_methods(["GET", "POST"])
@artist_page
def job_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    job = generation_selectors.generation_job_get(user=request.user, public_id=public_id)
    error, status = None, 200
    if request.method == "POST":  # the one action here: cancel
        try:
            generation_services.generation_job_cancel(job=job)
        except AtelierError as exc:
            error, status = str(exc.detail), exc.status
        else:
            return redirect("storefront:studio-job", public_id=job.public_id)
    return _render(
        request, "storefront/studio/job_detail.html", {**_job_context(request, job), "error": error}, status=status
    )


@require_GET
@artist_page
def job_images(request: HttpRequest, public_id: UUID) -> HttpResponse:
    job = generation_selectors.generation_job_get(user=request.user, public_id=public_id)
    return _render(request, "storefront/studio/_job_images.html", _job_context(request, job))


@require_POST
@artist_page
def image_curate(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Keep, reject or clear one generated image: the card's own controls with htmx, else back to its job."""
    image = generation_selectors.generated_image_get(user=request.user, public_id=public_id)
    verdict = request.POST.get("verdict", "")
    if verdict not in VERDICT_CHOICES:
        return _render(
            request,
            "storefront/studio/_curation.html",
            {"image": image, "error": (f"Choose one of {', '.join(VERDICT_CHOICES)}.")},
            status=400,
        )
    image = generated_image_curate(image=image, verdict=verdict)
    if request.headers.get("HX-Request") == "true":
        return _render(request, "storefront/studio/_curation.html", {"image": image})
    return redirect(
        f"{reverse('storefront:studio-job', kwargs={'public_id': image.job.public_id})}#image-{image.public_id}"
    )


@require_GET
@artist_page
def job_list(request: HttpRequest) -> HttpResponse:
    return _render(
        request,
        "storefront/studio/jobs.html",
        {
            "jobs": _page(request, generation_selectors.generation_jobs_for(user=request.user)),
        },
    )


# --- artworks and listings ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@artist_page
def image_publish(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Turn one of the artist's generated images into a draft artwork (title, description, tags, style)."""
    image = generation_selectors.generated_image_get(user=request.user, public_id=public_id)
    status = 200
    if request.method == "POST":
        form = bind(request, ArtworkForm)
        if form.is_valid():
            try:
                artwork = gallery_services.artwork_create_from_generated(
                    artist=request.user, generated_image_id=image.public_id, **form.arguments()
                )
            except AtelierError as exc:
                add_service_error(form, exc)
                status = exc.status
            else:
                return redirect("storefront:studio-artwork", public_id=artwork.public_id)
        else:
            status = 400
    else:
        form = ArtworkForm(
            initial={
                "title": f"{image.model_version.name} · seed {image.seed}"
                if image.seed is not None
                else image.model_version.name
            }
        )
    lineage = generation_selectors.generated_image_lineage(image=image)
    return _render(
        request,
        "storefront/studio/image_publish.html",
        {"image": image, "form": form, "lineage": lineage},
        status=status,
    )


@require_GET
@artist_page
def artwork_list(request: HttpRequest) -> HttpResponse:
    return _render(
        request,
        "storefront/studio/artworks.html",
        {
            "artworks": _page(request, gallery_selectors.artworks_of_artist(user=request.user)),
        },
    )


def _artwork_page(
    request: HttpRequest,
    artwork: Any,
    *,
    listing_form: ListingForm | None = None,
    reprice_forms: dict[str, RepriceForm] | None = None,
    error: str | None = None,
    status: int = 200,
) -> HttpResponse:
    listings = list(gallery_selectors.listings_for_artwork(user=request.user, artwork=artwork))
    reprice_forms = reprice_forms or {}
    rows = [
        {
            "listing": listing,
            "price": minor_to_amount(listing.price, listing.currency),
            "reprice": reprice_forms.get(str(listing.public_id))
            or RepriceForm(
                currency=listing.currency, initial={"price": minor_to_amount(listing.price, listing.currency)}
            ),
        }
        for listing in listings
    ]
    currency = next((listing.currency for listing in listings if listing.state == "active"), None)
    return _render(
        request,
        "storefront/studio/artwork_detail.html",
        {
            "artwork": artwork,
            "listings": rows,
            "error": error,
            "listing_form": listing_form or ListingForm(initial={"currency": currency} if currency else None),
            "record": artwork.provenance_record,
        },
        status=status,
    )


@require_GET
@artist_page
def artwork_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _artwork_page(request, gallery_selectors.artwork_get_own(user=request.user, public_id=public_id))


@require_POST
@artist_page
def artwork_action(request: HttpRequest, public_id: UUID, action: str) -> HttpResponse:
    """Publish or withdraw (buttons on the artwork's page)."""
    artwork = gallery_selectors.artwork_get_own(user=request.user, public_id=public_id)
    service = {"publish": gallery_services.artwork_publish, "withdraw": gallery_services.artwork_withdraw}[action]
    try:
        service(artist=request.user, artwork=artwork)
    except AtelierError as exc:
        artwork = gallery_selectors.artwork_get_own(user=request.user, public_id=public_id)
        return _artwork_page(request, artwork, error=str(exc.detail), status=exc.status)
    return redirect("storefront:studio-artwork", public_id=artwork.public_id)


@require_POST
@artist_page
def listing_create(request: HttpRequest, public_id: UUID) -> HttpResponse:
    artwork = gallery_selectors.artwork_get_own(user=request.user, public_id=public_id)
    form = bind(request, ListingForm)
    if not form.is_valid():
        return _artwork_page(request, artwork, listing_form=form, status=400)
    data = form.cleaned_data
    try:
        gallery_services.listing_create(
            artist=request.user,
            artwork=artwork,
            licence_type=data["licence_type"],
            price=data["price_minor"],
            currency=data["currency"],
        )
    except AtelierError as exc:
        add_service_error(form, exc)
        return _artwork_page(request, artwork, listing_form=form, status=exc.status)
    return redirect("storefront:studio-artwork", public_id=artwork.public_id)


@require_POST
@artist_page
def listing_action(request: HttpRequest, public_id: UUID, action: str) -> HttpResponse:
    """Close a listing, or change its price."""
    listing = gallery_selectors.listing_get_own(user=request.user, public_id=public_id)
    artwork = gallery_selectors.artwork_get_own(user=request.user, public_id=listing.artwork.public_id)
    try:
        if action == "close":
            gallery_services.listing_close(artist=request.user, listing=listing)
        else:
            form = bind(request, RepriceForm, currency=listing.currency)
            if not form.is_valid():
                return _artwork_page(request, artwork, reprice_forms={str(listing.public_id): form}, status=400)
            try:
                gallery_services.listing_update_price(
                    artist=request.user, listing=listing, price=form.cleaned_data["price"]
                )
            except AtelierError as exc:
                add_service_error(form, exc)
                return _artwork_page(request, artwork, reprice_forms={str(listing.public_id): form}, status=exc.status)
    except AtelierError as exc:
        return _artwork_page(request, artwork, error=str(exc.detail), status=exc.status)
    return redirect("storefront:studio-artwork", public_id=artwork.public_id)
