"""Generation HTTP API: datasets, training runs, model versions, generation jobs, generated images.

Files (sample grids, loss curves, ONNX models, images) are private: served only through these authenticated
views, after the selector has checked ownership.
"""

from pathlib import Path
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFilesSent
from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import InvalidInput, NotFound, PayloadTooLarge
from core.idempotency import IdempotentMixin
from core.permissions import HasRole, HasScope
from core.renderers import AnyMediaRenderer
from core.request_body import no_body
from core.schema import PROBLEM, summaries
from core.serializers import query_values
from generation import selectors, services
from generation.serializers import (
    CurationSerializer,
    DatasetCreatedSerializer,
    DatasetCreateSerializer,
    DatasetSerializer,
    FineTuneSerializer,
    GeneratedImageDetailSerializer,
    GeneratedImageListQuerySerializer,
    GeneratedImageSerializer,
    GenerationJobCreateSerializer,
    GenerationJobDetailSerializer,
    GenerationJobSerializer,
    ModelVersionSerializer,
    TrainingEstimateSerializer,
    TrainingRunCreateSerializer,
    TrainingRunSerializer,
)
from generation.services.curation import generated_image_curate
from generation.services.finetuning import fine_tune_create


class ArtistWrites(BasePermission):
    """Reads for every authenticated user (of their own objects); uploads and training for artists."""

    message = HasRole.message

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.method in SAFE_METHODS or HasRole.of("artist")().has_permission(request, view)


class GenerationScoped:
    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = {"GET": {"generation:read"}, "POST": {"generation:write"}, "DELETE": {"generation:write"}}


class FileView(GenerationScoped, APIView):
    renderer_classes = [JSONRenderer, AnyMediaRenderer]


def _file(handle: Any, *, content_type: str, filename: str, attachment: bool = False) -> FileResponse:
    response = FileResponse(handle, content_type=content_type, as_attachment=attachment, filename=filename)
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _binary(media_type: str, tags: list[str], description: str) -> Any:
    return extend_schema(
        responses={(200, media_type): OpenApiResponse(OpenApiTypes.BINARY, description=description), 404: PROBLEM},
        tags=tags,
    )


# --- datasets ----------------------------------------------------------------------------------------------


class UploadLimitsMixin:
    """Django refuses oversized multipart bodies with SuspiciousOperation subclasses, which would otherwise
    surface as 500s: they are the client's 413 (too many files, too big) or 400."""

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, (TooManyFilesSent, RequestDataTooBig)):
            exc = PayloadTooLarge(f"The upload is too large: {exc}.")
        elif isinstance(exc, SuspiciousOperation):
            exc = InvalidInput("The upload could not be read.")
        return super().handle_exception(exc)


@summaries(
    get="Your datasets, newest first",
    post="Upload a dataset: one zip (class folders become labels) or several images",
)
class DatasetListCreateView(UploadLimitsMixin, IdempotentMixin, GenerationScoped, generics.GenericAPIView):
    permission_classes = [*GenerationScoped.permission_classes, ArtistWrites]
    parser_classes = [MultiPartParser]  # images or one zip
    serializer_class = DatasetSerializer

    def get_queryset(self):
        return selectors.datasets_for(user=self.request.user)

    @extend_schema(responses={200: DatasetSerializer(many=True)}, tags=["datasets"])
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(DatasetSerializer(page, many=True).data)

    @extend_schema(
        request={"multipart/form-data": DatasetCreateSerializer},
        responses={202: DatasetCreatedSerializer, 400: PROBLEM, 413: PROBLEM},
        tags=["datasets"],
        description="Accepts the upload after bounded checks (sizes, the zip directory, the image "
        "headers) and answers 202 with the dataset `processing`; a job decodes it and "
        "the dataset becomes `ready`, or `failed` with `failure_code` (no_usable_images, "
        "plan_limit_exceeded, …) and the per-file `upload_report`.",
    )
    def post(self, request: Request) -> Response:
        payload = DatasetCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        upload = services.dataset_create(
            owner=request.user,
            name=payload.validated_data["name"],
            files=payload.validated_data["files"],
            contents_public=payload.validated_data["contents_public"],
        )
        location = reverse("dataset-detail", kwargs={"public_id": upload.dataset.public_id})
        return Response(
            DatasetCreatedSerializer(upload.dataset).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": location},
        )


@summaries(
    get="One of your datasets, with what the upload rejected and why",
    delete="Delete a dataset no training run uses, with its images",
)
class DatasetDetailView(GenerationScoped, APIView):
    @extend_schema(responses={200: DatasetSerializer, 404: PROBLEM}, tags=["datasets"])
    def get(self, request: Request, public_id) -> Response:
        return Response(DatasetSerializer(selectors.dataset_get(user=request.user, public_id=public_id)).data)

    @extend_schema(responses={204: None, 404: PROBLEM, 409: PROBLEM}, tags=["datasets"])
    def delete(self, request: Request, public_id) -> Response:
        services.dataset_delete(dataset=selectors.dataset_get(user=request.user, public_id=public_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- training runs -----------------------------------------------------------------------------------------


@summaries(
    get="Your training runs, newest first",
    post="Train a GAN on one of your datasets, by preset and time budget or exact settings (202)",
)
class TrainingRunListCreateView(IdempotentMixin, GenerationScoped, generics.GenericAPIView):
    permission_classes = [*GenerationScoped.permission_classes, ArtistWrites]
    serializer_class = TrainingRunSerializer

    def get_queryset(self):
        return selectors.training_runs_for(user=self.request.user)

    @extend_schema(responses={200: TrainingRunSerializer(many=True)}, tags=["training"])
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(TrainingRunSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(
        request=TrainingRunCreateSerializer,
        responses={202: TrainingRunSerializer, 400: PROBLEM, 402: PROBLEM, 404: PROBLEM, 409: PROBLEM, 429: PROBLEM},
        tags=["training"],
    )
    def post(self, request: Request) -> Response:
        payload = TrainingRunCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        dataset = selectors.dataset_get(user=request.user, public_id=payload.validated_data["dataset"])
        data = payload.validated_data
        run = services.training_run_create(
            owner=request.user,
            dataset=dataset,
            config=data["config"],
            preset=data.get("preset"),
            budget_minutes=data.get("budget_minutes"),
        )
        run = selectors.training_run_get(user=request.user, public_id=run.public_id)
        return Response(TrainingRunSerializer(run, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


class TrainingRunEstimateView(GenerationScoped, APIView):
    """The plan a training request would get, before spending anything: the device, images/s there, the steps
    that fit the budget and the full config; the same 400s as creating the run."""

    permission_classes = [*GenerationScoped.permission_classes, ArtistWrites]

    @extend_schema(
        request=TrainingRunCreateSerializer,
        responses={200: TrainingEstimateSerializer, 400: PROBLEM, 402: PROBLEM, 404: PROBLEM, 409: PROBLEM},
        tags=["training"],
    )
    def post(self, request: Request) -> Response:
        payload = TrainingRunCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        dataset = selectors.dataset_get(user=request.user, public_id=data["dataset"])
        planned = services.training_run_estimate(
            owner=request.user,
            dataset=dataset,
            config=data["config"],
            preset=data.get("preset"),
            budget_minutes=data.get("budget_minutes"),
        )
        return Response(
            TrainingEstimateSerializer(
                {
                    "plan": planned.plan,
                    "config": planned.config.to_dict(),
                    "time_limit_seconds": planned.time_limit_seconds,
                }
            ).data
        )


@summaries(get="One training run: state, progress, losses, ETA and its plan")
class TrainingRunDetailView(GenerationScoped, APIView):
    @extend_schema(responses={200: TrainingRunSerializer, 404: PROBLEM}, tags=["training"])
    def get(self, request: Request, public_id) -> Response:
        run = selectors.training_run_get(user=request.user, public_id=public_id)
        return Response(TrainingRunSerializer(run, context={"request": request}).data)


@summaries(post="Cancel a training run; unused training units are refunded")
class TrainingRunCancelView(IdempotentMixin, GenerationScoped, APIView):
    @extend_schema(request=None, responses={200: TrainingRunSerializer, 404: PROBLEM, 409: PROBLEM}, tags=["training"])
    @no_body
    def post(self, request: Request, public_id) -> Response:
        run = services.training_run_cancel(run=selectors.training_run_get(user=request.user, public_id=public_id))
        run = selectors.training_run_get(user=request.user, public_id=run.public_id)
        return Response(TrainingRunSerializer(run, context={"request": request}).data)


class TrainingRunPauseView(IdempotentMixin, GenerationScoped, APIView):
    """Pause at the next checkpoint boundary (a queued run pauses at once); the run ends its attempt `paused`
    with its checkpoint, and resume continues exactly from there. 409 unless queued or running."""

    @extend_schema(request=None, responses={200: TrainingRunSerializer, 404: PROBLEM, 409: PROBLEM}, tags=["training"])
    @no_body
    def post(self, request: Request, public_id) -> Response:
        run = services.training_run_pause(run=selectors.training_run_get(user=request.user, public_id=public_id))
        run = selectors.training_run_get(user=request.user, public_id=run.public_id)
        return Response(TrainingRunSerializer(run, context={"request": request}).data)


class TrainingRunResumeView(IdempotentMixin, GenerationScoped, APIView):
    """Queue a paused run again (it resumes from its checkpoint), or withdraw a pause a running run has not
    reached yet. 409 otherwise."""

    @extend_schema(request=None, responses={200: TrainingRunSerializer, 404: PROBLEM, 409: PROBLEM}, tags=["training"])
    @no_body
    def post(self, request: Request, public_id) -> Response:
        run = services.training_run_resume(run=selectors.training_run_get(user=request.user, public_id=public_id))
        run = selectors.training_run_get(user=request.user, public_id=run.public_id)
        return Response(TrainingRunSerializer(run, context={"request": request}).data)


class TrainingRunImageView(FileView):
    field = ""  # "sample_grid" or "loss_curve"

    def get(self, request: Request, public_id) -> FileResponse:
        run = selectors.training_run_get(user=request.user, public_id=public_id)
        handle = selectors.training_run_image_open(run=run, kind=self.field)
        if handle is None:
            raise NotFound(f"This run has no {self.field.replace('_', ' ')} yet.")
        return _file(handle, content_type="image/png", filename=f"{run.public_id}-{self.field}.png")


@summaries(get="A training run's latest grid of samples (PNG)")
class TrainingRunSampleGridView(TrainingRunImageView):
    field = "sample_grid"

    @_binary("image/png", ["training"], "The latest grid of fixed-seed samples.")
    def get(self, request: Request, public_id) -> FileResponse:
        return super().get(request, public_id)


@summaries(get="A training run's loss curve (PNG)")
class TrainingRunLossCurveView(TrainingRunImageView):
    field = "loss_curve"

    @_binary("image/png", ["training"], "The discriminator and generator losses so far.")
    def get(self, request: Request, public_id) -> FileResponse:
        return super().get(request, public_id)


# --- model versions ----------------------------------------------------------------------------------------


@summaries(get="Your trained model versions, newest first")
class ModelVersionListView(GenerationScoped, generics.GenericAPIView):
    serializer_class = ModelVersionSerializer

    def get_queryset(self):
        return selectors.model_versions_for(user=self.request.user)

    @extend_schema(responses={200: ModelVersionSerializer(many=True)}, tags=["models"])
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ModelVersionSerializer(page, many=True, context={"request": request}).data)


@summaries(get="One model version: its training run, dataset, metrics and export check")
class ModelVersionDetailView(GenerationScoped, APIView):
    @extend_schema(responses={200: ModelVersionSerializer, 404: PROBLEM}, tags=["models"])
    def get(self, request: Request, public_id) -> Response:
        version = selectors.model_version_get(user=request.user, public_id=public_id)
        return Response(ModelVersionSerializer(version, context={"request": request}).data)


class ModelVersionFineTuneView(IdempotentMixin, GenerationScoped, APIView):
    """Fine-tune a model version on its dataset plus its kept images: a new dataset version with lineage to
    both, and a run initialised from the parent's checkpoint."""

    permission_classes = [*GenerationScoped.permission_classes, ArtistWrites]

    @extend_schema(
        request=FineTuneSerializer,
        responses={202: TrainingRunSerializer, 400: PROBLEM, 402: PROBLEM, 404: PROBLEM, 429: PROBLEM},
        tags=["models"],
    )
    def post(self, request: Request, public_id) -> Response:
        version = selectors.model_version_get(user=request.user, public_id=public_id)
        payload = FineTuneSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        run = fine_tune_create(
            owner=request.user,
            model_version=version,
            fresh_discriminator=data["fresh_discriminator"],
            freeze_d_blocks=data["freeze_d_blocks"],
            budget_minutes=data.get("budget_minutes"),
            config=data["config"],
        )
        run = selectors.training_run_get(user=request.user, public_id=run.public_id)
        return Response(TrainingRunSerializer(run, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


@summaries(get="Download a model version as ONNX")
class ModelVersionOnnxView(FileView):
    @_binary("application/octet-stream", ["models"], "The ONNX file (its sha256 is the model's onnx_sha256).")
    def get(self, request: Request, public_id) -> FileResponse:
        version = selectors.model_version_get(user=request.user, public_id=public_id)
        return _file(
            version.onnx_file.open("rb"),
            content_type="application/octet-stream",
            filename=f"{version.public_id}.onnx",
            attachment=True,
        )


# --- generation jobs and images ----------------------------------------------------------------------------


@summaries(
    get="Your generation jobs, newest first",
    post="Generate images with one of your models (202: the job runs in the background)",
)
class GenerationJobListCreateView(IdempotentMixin, GenerationScoped, generics.GenericAPIView):
    serializer_class = GenerationJobSerializer

    def get_queryset(self):
        return selectors.generation_jobs_for(user=self.request.user)

    @extend_schema(responses={200: GenerationJobSerializer(many=True)}, tags=["generation"])
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(GenerationJobSerializer(page, many=True).data)

    @extend_schema(
        request=GenerationJobCreateSerializer,
        responses={202: GenerationJobDetailSerializer, 400: PROBLEM, 402: PROBLEM, 404: PROBLEM, 429: PROBLEM},
        tags=["generation"],
    )
    def post(self, request: Request) -> Response:
        payload = GenerationJobCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        version = selectors.model_version_get(user=request.user, public_id=data.pop("model"))
        job = services.generation_job_create(user=request.user, model_version=version, **data)
        job = selectors.generation_job_get(user=request.user, public_id=job.public_id)
        return Response(
            GenerationJobDetailSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED
        )


@summaries(get="One generation job: state, progress and its images")
class GenerationJobDetailView(GenerationScoped, APIView):
    @extend_schema(responses={200: GenerationJobDetailSerializer, 404: PROBLEM}, tags=["generation"])
    def get(self, request: Request, public_id) -> Response:
        job = selectors.generation_job_get(user=request.user, public_id=public_id)
        return Response(GenerationJobDetailSerializer(job, context={"request": request}).data)


@summaries(post="Cancel a queued or running generation job")
class GenerationJobCancelView(IdempotentMixin, GenerationScoped, APIView):
    @extend_schema(
        request=None, responses={200: GenerationJobDetailSerializer, 404: PROBLEM, 409: PROBLEM}, tags=["generation"]
    )
    @no_body
    def post(self, request: Request, public_id) -> Response:
        job = selectors.generation_job_get(user=request.user, public_id=public_id)
        job = services.generation_job_cancel(job=job)
        job = selectors.generation_job_get(user=request.user, public_id=job.public_id)
        return Response(GenerationJobDetailSerializer(job, context={"request": request}).data)


@summaries(get="Images your models generated, newest first")
class GeneratedImageListView(GenerationScoped, generics.GenericAPIView):
    serializer_class = GeneratedImageSerializer

    def get_queryset(self):
        query = GeneratedImageListQuerySerializer(data=query_values(self.request.query_params))
        query.is_valid(raise_exception=True)
        params = query.validated_data
        version = (
            selectors.model_version_get(user=self.request.user, public_id=params["model"])
            if "model" in params
            else None
        )
        return selectors.generated_images_for(
            user=self.request.user, curation=params.get("curation"), model_version=version
        )

    @extend_schema(
        parameters=[GeneratedImageListQuerySerializer],
        responses={200: GeneratedImageSerializer(many=True), 400: PROBLEM, 404: PROBLEM},
        tags=["generation"],
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(GeneratedImageSerializer(page, many=True, context={"request": request}).data)


@summaries(post="Keep or reject a generated image (kept images can feed a fine-tune)")
class GeneratedImageCurationView(IdempotentMixin, GenerationScoped, APIView):
    @extend_schema(
        request=CurationSerializer,
        responses={200: GeneratedImageSerializer, 400: PROBLEM, 404: PROBLEM},
        tags=["generation"],
    )
    def post(self, request: Request, public_id) -> Response:
        image = selectors.generated_image_get(user=request.user, public_id=public_id)
        payload = CurationSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        image = generated_image_curate(image=image, verdict=payload.validated_data["verdict"])
        return Response(GeneratedImageSerializer(image, context={"request": request}).data)


@summaries(get="One generated image: its model, seed and curation verdict")
class GeneratedImageDetailView(GenerationScoped, APIView):
    @extend_schema(responses={200: GeneratedImageDetailSerializer, 404: PROBLEM}, tags=["generation"])
    def get(self, request: Request, public_id) -> Response:
        image = selectors.generated_image_get(user=request.user, public_id=public_id)
        return Response(GeneratedImageDetailSerializer(image, context={"request": request}).data)


@summaries(get="A generated image at full quality (its owner only)")
class GeneratedImageOriginalView(FileView):
    @_binary("image/png", ["generation"], "The original PNG.")
    def get(self, request: Request, public_id) -> FileResponse:
        image = selectors.generated_image_get(user=request.user, public_id=public_id)
        return _file(image.original.open("rb"), content_type="image/png", filename=Path(image.original.name).name)


@summaries(get="A generated image's small preview")
class GeneratedImagePreviewView(FileView):
    @_binary("image/webp", ["generation"], "A smaller WEBP preview.")
    def get(self, request: Request, public_id) -> FileResponse:
        image = selectors.generated_image_get(user=request.user, public_id=public_id)
        return _file(image.preview.open("rb"), content_type="image/webp", filename=Path(image.preview.name).name)
