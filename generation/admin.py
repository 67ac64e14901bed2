"""Admin: datasets, training runs (with their sample grid and loss curve), model versions, generation jobs.

Job rows change state only through the services (cancel settles refunds; retry requeues), never by editing.
"""

from django.contrib import admin, messages
from django.http import FileResponse, Http404, HttpRequest
from django.urls import path, reverse
from django.utils.html import format_html

from core.admin import ReadOnlyAdmin
from core.errors import AtelierError
from generation import services
from generation.models import Dataset, DatasetImage, GeneratedImage, GenerationJob, ModelVersion, TrainingRun
from generation.selectors import training_run_image_open

JOB_FIELDS = [
    "state",
    "attempts",
    "max_attempts",
    "queued_at",
    "started_at",
    "heartbeat_at",
    "finished_at",
    "next_attempt_at",
    "cancel_requested",
    "worker",
    "task_id",
    "last_error",
    "settled_at",
]


class DatasetImageInline(admin.TabularInline):
    model = DatasetImage
    extra = 0
    can_delete = False
    fields = ["original_name", "label", "width", "height", "size_bytes", "sha256"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Dataset)
class DatasetAdmin(ReadOnlyAdmin):
    list_display = ["name", "owner", "state", "image_count", "total_bytes", "dataset_hash", "created_at"]
    list_filter = ["state"]
    search_fields = ["name", "owner__email", "public_id", "dataset_hash"]
    inlines = [DatasetImageInline]  # deleted only through the API's service: it refuses datasets in use


@admin.register(TrainingRun)
class TrainingRunAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "owner", "dataset", "state", "step", "total_steps", "attempts", "created_at"]
    list_filter = ["state"]
    search_fields = ["public_id", "owner__email", "dataset__name"]
    readonly_fields = [
        "public_id",
        "owner",
        "dataset",
        "config",
        "step",
        "total_steps",
        "start_steps",
        "checkpoint_step",
        "losses",
        "images_per_second",
        "eta_seconds",
        "sample_grid_image",
        "loss_curve_image",
        "units_refunded",
        "pause_requested",
        "pause_reason",
        "paused_at",
        *JOB_FIELDS,
    ]
    exclude = ["sample_grid", "loss_curve"]
    actions = ["cancel", "retry", "pause", "resume"]

    def get_urls(self):
        view = self.admin_site.admin_view(self.run_image)
        return [path("<int:pk>/image/<str:kind>/", view, name="generation_trainingrun_image"), *super().get_urls()]

    def run_image(self, request: HttpRequest, pk: int, kind: str) -> FileResponse:
        run = TrainingRun.objects.filter(pk=pk).first()
        handle = None if run is None else training_run_image_open(run=run, kind=kind)
        if handle is None:
            raise Http404
        return FileResponse(handle, content_type="image/png")

    def _image(self, run: TrainingRun, kind: str):
        if not getattr(run, kind):
            return "—"
        url = reverse("admin:generation_trainingrun_image", args=[run.pk, kind])
        return format_html('<img src="{}" style="max-width: 640px; image-rendering: pixelated">', url)

    @admin.display(description="Sample grid")
    def sample_grid_image(self, run: TrainingRun):
        return self._image(run, "sample_grid")

    @admin.display(description="Loss curve")
    def loss_curve_image(self, run: TrainingRun):
        return self._image(run, "loss_curve")

    @admin.action(description="Cancel selected runs (refunds the training unit)")
    def cancel(self, request, queryset):
        _apply(self, request, queryset, services.training_run_cancel, "run", "Cancelled")

    @admin.action(description="Retry selected failed or cancelled runs (resumes from the checkpoint)")
    def retry(self, request, queryset):
        _apply(self, request, queryset, services.training_run_retry, "run", "Requeued")

    @admin.action(description="Pause selected runs at their next checkpoint (queued runs at once)")
    def pause(self, request, queryset):
        _apply(
            self,
            request,
            queryset,
            lambda run: services.training_run_pause(run=run, reason="staff"),
            "run",
            "Paused or asked to pause",
        )

    @admin.action(description="Resume selected paused runs from their checkpoint")
    def resume(self, request, queryset):
        _apply(self, request, queryset, services.training_run_resume, "run", "Resumed")


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "owner",
        "resolution",
        "step",
        "parity_passed",
        "parity_max_abs_diff",
        "last_provider",
        "created_at",
    ]
    search_fields = ["name", "owner__email", "public_id", "onnx_sha256", "dataset_hash"]
    readonly_fields = [
        "public_id",
        "owner",
        "training_run",
        "name",
        "onnx_file",
        "onnx_sha256",
        "onnx_size",
        "parity_passed",
        "parity_max_abs_diff",
        "parity_tolerance",
        "metrics",
        "dataset_hash",
        "config",
        "step",
        "latent_dim",
        "resolution",
        "conditional",
        "num_classes",
        "class_names",
        "last_provider",
        "created_at",
    ]


@admin.register(GenerationJob)
class GenerationJobAdmin(ReadOnlyAdmin):
    list_display = [
        "public_id",
        "owner",
        "model_version",
        "state",
        "count",
        "produced",
        "provider",
        "batch_jobs",
        "created_at",
    ]
    list_filter = ["state", "provider"]
    search_fields = ["public_id", "owner__email", "batch_id"]
    readonly_fields = [
        "public_id",
        "owner",
        "model_version",
        "count",
        "seeds",
        "truncation",
        "class_label",
        "interpolation",
        "produced",
        "provider",
        "batch_id",
        "batch_jobs",
        "units_refunded",
        *JOB_FIELDS,
    ]
    actions = ["cancel", "retry"]

    @admin.action(description="Cancel selected jobs (refunds unused units)")
    def cancel(self, request, queryset):
        _apply(self, request, queryset, services.generation_job_cancel, "job", "Cancelled")

    @admin.action(description="Retry selected failed or cancelled jobs")
    def retry(self, request, queryset):
        _apply(self, request, queryset, services.generation_job_retry, "job", "Requeued")


@admin.register(GeneratedImage)
class GeneratedImageAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "owner", "job", "index", "seed", "truncation", "class_label", "provider"]
    search_fields = ["public_id", "owner__email", "sha256"]
    readonly_fields = [
        "public_id",
        "owner",
        "job",
        "model_version",
        "index",
        "seed",
        "interpolation",
        "truncation",
        "class_label",
        "provider",
        "original",
        "preview",
        "sha256",
        "width",
        "height",
        "created_at",
    ]


def _apply(model_admin, request, queryset, action, keyword: str, verb: str) -> None:
    done = 0
    for row in queryset:
        try:
            action(**{keyword: row})
            done += 1
        except AtelierError as exc:
            model_admin.message_user(request, f"{row}: {exc.detail}", level=messages.WARNING)
    model_admin.message_user(request, f"{verb} {done} of {queryset.count()}.")
