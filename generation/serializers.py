"""Generation HTTP shapes. Inputs are strict (unknown keys are a 400); outputs list their fields."""

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import StrictSerializer
from generation.gan.budget import PRESETS
from generation.gan.config import GANConfig, field_specs
from generation.gan.noise import MAX_SEED
from generation.models import Dataset, GeneratedImage, GenerationJob, ModelVersion, TrainingRun
from generation.selectors import generated_image_lineage
from generation.services.curation import VERDICT_CHOICES


@extend_schema_field({"type": "string", "description": "queued, running, succeeded, failed or cancelled"})
class JobStateField(serializers.CharField):
    """A job row's state. Typed without an enum: TrainingRun and GenerationJob share core.jobs.JobState, which
    drf-spectacular cannot name without an ENUM_NAME_OVERRIDES entry in settings."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)


@extend_schema_field(
    {
        "type": "string",
        "description": "queued, running, paused (at a checkpoint, until resumed), succeeded, failed or cancelled",
    }
)
class TrainingStateField(JobStateField):
    """A training run's state: the job states plus `paused`."""


def _url(serializer: serializers.Serializer, name: str, public_id: Any) -> str:
    path = reverse(name, kwargs={"public_id": public_id})
    request = serializer.context.get("request")
    return request.build_absolute_uri(path) if request is not None else path


# --- datasets ----------------------------------------------------------------------------------------------


class DatasetCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)
    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True),
        allow_empty=False,
        help_text="One zip archive (class subfolders become labels) or several images.",
    )
    contents_public = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Show the image hashes and class names with the dataset's provenance record, so anyone holding "
        "the images can check its hash. Default false: only the dataset's hashes are shown.",
    )


class FileIssueSerializer(serializers.Serializer):
    name = serializers.CharField()
    reason = serializers.CharField()


class DuplicateSerializer(serializers.Serializer):
    name = serializers.CharField()
    duplicate_of = serializers.CharField()


class UploadReportSerializer(serializers.Serializer):
    rejected = FileIssueSerializer(many=True)
    duplicates = DuplicateSerializer(many=True)

    def to_representation(self, report: dict) -> dict:
        # a dataset made outside the upload service (admin, a migration) has an empty report: nothing rejected
        return super().to_representation({"rejected": [], "duplicates": [], **(report or {})})


class DatasetSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    state = serializers.CharField(
        read_only=True,
        help_text="processing (its upload is being decoded), ready, or failed (see failure_code, failure_reason)",
    )
    upload_report = UploadReportSerializer(read_only=True)
    parent = serializers.UUIDField(
        source="parent.public_id",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="A fine-tune's dataset version: the dataset it extends.",
    )
    parent_model = serializers.UUIDField(
        source="parent_model_version.public_id",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="The model version whose kept images it adds.",
    )

    class Meta:
        model = Dataset
        fields = [
            "id",
            "name",
            "state",
            "failure_code",
            "failure_reason",
            "image_count",
            "total_bytes",
            "dataset_hash",
            "class_names",
            "upload_report",
            "parent",
            "parent_model",
            "contents_public",
            "created_at",
        ]
        read_only_fields = fields


class DatasetCreatedSerializer(DatasetSerializer):
    rejected = FileIssueSerializer(many=True, read_only=True, source="upload_report.rejected")
    duplicates = DuplicateSerializer(many=True, read_only=True, source="upload_report.duplicates")

    class Meta(DatasetSerializer.Meta):
        fields = [*DatasetSerializer.Meta.fields, "rejected", "duplicates"]
        read_only_fields = fields


# --- training runs -----------------------------------------------------------------------------------------


def _config_schema_field(name: str, spec: dict[str, Any]) -> serializers.Field:
    """One documented GANConfig field: its meaning, default and bounds or choices, as OpenAPI shows them."""
    bounds = ""
    if "minimum" in spec:
        bounds = f"; from {spec['minimum']:g} to {spec['maximum']:g}"
    if "choices" in spec:
        bounds = f"; one of {', '.join(map(str, spec['choices']))}"
    if "choices_each" in spec:
        bounds = f"; comma-separated ops from {', '.join(spec['choices_each'])}"
    common = {
        "required": False,
        "default": spec["default"],
        "help_text": f"{spec['doc'][0].upper()}{spec['doc'][1:]} (default {spec['default']!r}{bounds}).",
    }
    if "choices" in spec:
        return serializers.ChoiceField(choices=spec["choices"], **common)
    numeric = {"min_value": spec["minimum"], "max_value": spec["maximum"]} if "minimum" in spec else {}
    if spec["type"] == "int":
        return serializers.IntegerField(**{k: int(v) for k, v in numeric.items()}, **common)
    if spec["type"] == "float":
        return serializers.FloatField(**numeric, **common)
    if spec["type"] == "bool":
        return serializers.BooleanField(**common)
    return serializers.CharField(allow_blank=True, **common)


# The engine's config as an OpenAPI component, built from its own field docs: it documents the API; the
# values themselves are validated by GANConfig (whose errors name the field), and planned by the budget.
GANConfigSerializer = type(
    "GANConfigSerializer",
    (serializers.Serializer,),
    {name: _config_schema_field(name, spec) for name, spec in field_specs().items()},
)


@extend_schema_field(GANConfigSerializer)
class GANConfigField(serializers.DictField):
    pass


class TrainingRunCreateSerializer(StrictSerializer):
    dataset = serializers.UUIDField()
    preset = serializers.ChoiceField(
        choices=list(PRESETS),
        required=False,
        help_text="quick, standard or best: Atelier picks architecture, resolution, width, batch and steps for "
        "the training device (default standard when neither a config nor a budget is given).",
    )
    budget_minutes = serializers.FloatField(
        required=False,
        min_value=0.1,
        max_value=GANConfig.BOUNDS["budget_minutes"][1],
        help_text="Minutes of training: the run is sized to finish in them and stops there (checkpoint, "
        "export). Capped by your plan's max_training_minutes.",
    )
    config = GANConfigField(
        required=False,
        default=dict,
        help_text="Overrides of the plan (with a preset or budget) or of the engine's defaults (without): any "
        "GANConfig field, each documented with its default and bounds.",
    )


class FineTuneSerializer(StrictSerializer):
    fresh_discriminator = serializers.BooleanField(
        default=False, help_text="Start D (and its optimiser) afresh instead of from the parent's checkpoint."
    )
    freeze_d_blocks = serializers.IntegerField(
        default=0,
        min_value=0,
        max_value=8,
        help_text="Freeze D's first this many blocks (from the image inward), as in Freeze-D; 0 = none.",
    )
    budget_minutes = serializers.FloatField(
        required=False,
        min_value=0.1,
        max_value=GANConfig.BOUNDS["budget_minutes"][1],
        help_text="Minutes of training (planned steps); without it a quarter of the parent's steps.",
    )
    config = GANConfigField(
        required=False,
        default=dict,
        help_text="Overrides of the parent's config (schedule, learning rates, ...); its architecture is kept.",
    )


class TrainingPlanSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(
        choices=["budget", "explicit"],
        help_text="budget: planned from a preset/time budget; explicit: config as given.",
    )
    preset = serializers.CharField(allow_null=True)
    device = serializers.CharField(help_text="The torch device the training worker runs on.")
    images_per_second = serializers.FloatField(help_text="Training images/s expected on that device.")
    measured = serializers.BooleanField(help_text="From a timed probe on the device (else the engine's table).")
    steps = serializers.IntegerField()
    minutes = serializers.FloatField(help_text="The training budget (or, without one, the estimated minutes).")
    estimated_minutes = serializers.FloatField(help_text="steps x batch / images_per_second.")
    summary = serializers.CharField(help_text='e.g. "about 120 images/s here, about 1,350 steps in 3 minutes".')
    periodic_maps = serializers.IntegerField(
        default=0,
        help_text="Periodic maps the plan gave the generator because the dataset is a periodic pattern "
        "(config.periodic_channels; 0 for other sets and for runs planned before this existed).",
    )
    work = serializers.IntegerField(help_text="steps x batch x resolution^2 x channels: what the plan caps.")


class TrainingEstimateSerializer(serializers.Serializer):
    plan = TrainingPlanSerializer()
    config = GANConfigSerializer(help_text="The full config the run would train with.")
    time_limit_seconds = serializers.FloatField(
        allow_null=True, help_text="The worker's hard stop (budget plus a margin); null without a budget."
    )


class TrainingProgressSerializer(serializers.Serializer):
    step = serializers.IntegerField()
    total_steps = serializers.IntegerField()
    fraction = serializers.FloatField()
    checkpoint_step = serializers.IntegerField(allow_null=True)
    start_steps = serializers.ListField(child=serializers.IntegerField())
    losses = serializers.DictField(child=serializers.FloatField())
    images_per_second = serializers.FloatField(allow_null=True)
    eta_seconds = serializers.FloatField(allow_null=True)
    augment_p = serializers.FloatField(
        allow_null=True, help_text="ADA's augmentation probability at the last report (null: no ADA)."
    )
    ada_signal = serializers.FloatField(allow_null=True, help_text="ADA's overfitting signal r_t = E[sign(D(real))].")


class TrainingRunSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    dataset = serializers.UUIDField(source="dataset.public_id", read_only=True)
    progress = serializers.SerializerMethodField()
    sample_grid_url = serializers.SerializerMethodField()
    loss_curve_url = serializers.SerializerMethodField()
    model_version = serializers.SerializerMethodField()
    error = serializers.CharField(source="last_error", read_only=True)
    state = TrainingStateField()
    config = GANConfigSerializer(read_only=True)
    plan = serializers.SerializerMethodField(help_text="The budget plan and its estimate (null for old runs).")
    stop_reason = serializers.CharField(read_only=True, help_text="completed, budget or time_limit (plan ceiling).")

    class Meta:
        model = TrainingRun
        fields = [
            "id",
            "dataset",
            "state",
            "cancel_requested",
            "pause_requested",
            "paused_at",
            "config",
            "plan",
            "time_limit_seconds",
            "stop_reason",
            "progress",
            "sample_grid_url",
            "loss_curve_url",
            "model_version",
            "attempts",
            "error",
            "units_refunded",
            "created_at",
            "started_at",
            "heartbeat_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(TrainingPlanSerializer(allow_null=True))
    def get_plan(self, run: TrainingRun) -> dict[str, Any] | None:
        return run.plan or None

    @extend_schema_field(TrainingProgressSerializer)
    def get_progress(self, run: TrainingRun) -> dict[str, Any]:
        return {
            "step": run.step,
            "total_steps": run.total_steps,
            "fraction": round(run.step / run.total_steps, 4) if run.total_steps else 0.0,
            "checkpoint_step": run.checkpoint_step,
            "start_steps": run.start_steps,
            "losses": run.losses,
            "images_per_second": run.images_per_second,
            "eta_seconds": run.eta_seconds,
            "augment_p": run.augment_p,
            "ada_signal": run.ada_signal,
        }

    @extend_schema_field(OpenApiTypes.URI)
    def get_sample_grid_url(self, run: TrainingRun) -> str | None:
        return _url(self, "training-run-sample-grid", run.public_id) if run.sample_grid else None

    @extend_schema_field(OpenApiTypes.URI)
    def get_loss_curve_url(self, run: TrainingRun) -> str | None:
        return _url(self, "training-run-loss-curve", run.public_id) if run.loss_curve else None

    @extend_schema_field(OpenApiTypes.UUID)
    def get_model_version(self, run: TrainingRun) -> str | None:
        version = getattr(run, "model_version", None)
        return str(version.public_id) if version is not None else None


# --- model versions ----------------------------------------------------------------------------------------


class ParitySerializer(serializers.Serializer):
    passed = serializers.BooleanField()
    max_abs_diff = serializers.FloatField()
    tolerance = serializers.FloatField()


class LineageSerializer(serializers.Serializer):
    training_run = serializers.UUIDField()
    dataset = serializers.UUIDField()
    dataset_hash = serializers.CharField()
    config = serializers.DictField()
    step = serializers.IntegerField()
    parent_model = serializers.UUIDField(allow_null=True, help_text="The model version this one fine-tuned.")
    parent_dataset = serializers.UUIDField(allow_null=True, help_text="The dataset its dataset version extends.")


class ModelVersionSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    parity = serializers.SerializerMethodField()
    lineage = serializers.SerializerMethodField()
    provider = serializers.CharField(source="last_provider", read_only=True)
    onnx_url = serializers.SerializerMethodField()
    sample_grid_url = serializers.SerializerMethodField()

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "name",
            "resolution",
            "latent_dim",
            "conditional",
            "num_classes",
            "class_names",
            "onnx_sha256",
            "onnx_size",
            "onnx_url",
            "sample_grid_url",
            "parity",
            "metrics",
            "lineage",
            "provider",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ParitySerializer)
    def get_parity(self, version: ModelVersion) -> dict[str, Any]:
        return {
            "passed": version.parity_passed,
            "max_abs_diff": version.parity_max_abs_diff,
            "tolerance": version.parity_tolerance,
        }

    @extend_schema_field(LineageSerializer)
    def get_lineage(self, version: ModelVersion) -> dict[str, Any]:
        run = version.training_run
        parent_dataset = run.dataset.parent_id and run.dataset.parent.public_id
        return {
            "training_run": str(run.public_id),
            "dataset": str(run.dataset.public_id),
            "dataset_hash": version.dataset_hash,
            "config": version.config,
            "step": version.step,
            "parent_model": str(run.init_from.public_id) if run.init_from_id else None,
            "parent_dataset": str(parent_dataset) if parent_dataset else None,
        }

    @extend_schema_field(OpenApiTypes.URI)
    def get_sample_grid_url(self, version: ModelVersion) -> str | None:
        run = version.training_run
        return _url(self, "training-run-sample-grid", run.public_id) if run.sample_grid else None

    @extend_schema_field(OpenApiTypes.URI)
    def get_onnx_url(self, version: ModelVersion) -> str:
        return _url(self, "model-version-onnx", version.public_id)


# --- generation jobs and images ----------------------------------------------------------------------------


class InterpolationSerializer(StrictSerializer):
    seed_a = serializers.IntegerField(min_value=0, max_value=MAX_SEED)
    seed_b = serializers.IntegerField(min_value=0, max_value=MAX_SEED)
    steps = serializers.IntegerField(min_value=2)


class GenerationJobCreateSerializer(StrictSerializer):
    model = serializers.UUIDField(help_text="A model version id.")
    count = serializers.IntegerField(min_value=1, required=False)
    seeds = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=MAX_SEED),
        required=False,
        allow_empty=False,
        help_text="One image per seed (count may be left out).",
    )
    truncation = serializers.FloatField(min_value=0.0, max_value=1.0, default=1.0)
    class_label = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    interpolation = InterpolationSerializer(
        required=False, help_text="A latent walk from seed_a to seed_b in `steps` images."
    )


class GeneratedImageSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    job = serializers.UUIDField(source="job.public_id", read_only=True)
    model = serializers.UUIDField(source="model_version.public_id", read_only=True)
    original_url = serializers.SerializerMethodField()
    preview_url = serializers.SerializerMethodField()
    curation = serializers.SerializerMethodField()

    class Meta:
        model = GeneratedImage
        fields = [
            "id",
            "job",
            "model",
            "index",
            "seed",
            "interpolation",
            "truncation",
            "class_label",
            "provider",
            "sha256",
            "width",
            "height",
            "curation",
            "curated_at",
            "original_url",
            "preview_url",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "string",
            "enum": ["keep", "reject", "none"],
            "description": "The artist's verdict: kept images can feed a fine-tune; none = not yet.",
        }
    )
    def get_curation(self, image: GeneratedImage) -> str:
        return image.curation or "none"

    @extend_schema_field(OpenApiTypes.URI)
    def get_original_url(self, image: GeneratedImage) -> str:
        return _url(self, "generated-image-original", image.public_id)

    @extend_schema_field(OpenApiTypes.URI)
    def get_preview_url(self, image: GeneratedImage) -> str:
        return _url(self, "generated-image-preview", image.public_id)


class CurationSerializer(StrictSerializer):
    verdict = serializers.ChoiceField(
        choices=list(VERDICT_CHOICES), help_text="keep (may feed a fine-tune), reject (never enters a dataset) or none."
    )


class GeneratedImageListQuerySerializer(serializers.Serializer):  # query filters (page, page_size pass by)
    curation = serializers.ChoiceField(
        choices=list(VERDICT_CHOICES),
        required=False,
        help_text="Only images with this verdict (none: not curated yet).",
    )
    model = serializers.UUIDField(required=False, help_text="Only this model version's images.")


class GeneratedImageDetailSerializer(GeneratedImageSerializer):
    lineage = serializers.SerializerMethodField()

    class Meta(GeneratedImageSerializer.Meta):
        fields = [*GeneratedImageSerializer.Meta.fields, "lineage"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_lineage(self, image: GeneratedImage) -> dict[str, Any]:
        return generated_image_lineage(image=image)


class GenerationJobSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    model = serializers.UUIDField(source="model_version.public_id", read_only=True)
    error = serializers.CharField(source="last_error", read_only=True)
    state = JobStateField()

    class Meta:
        model = GenerationJob
        fields = [
            "id",
            "model",
            "state",
            "cancel_requested",
            "count",
            "produced",
            "seeds",
            "truncation",
            "class_label",
            "interpolation",
            "provider",
            "batch_id",
            "batch_jobs",
            "attempts",
            "error",
            "units_refunded",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class GenerationJobDetailSerializer(GenerationJobSerializer):
    images = GeneratedImageSerializer(many=True, read_only=True)

    class Meta(GenerationJobSerializer.Meta):
        fields = [*GenerationJobSerializer.Meta.fields, "images"]
        read_only_fields = fields
