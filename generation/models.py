"""Generation rows: datasets and their images, training runs, model versions, generation jobs and their images.

`TrainingRun` and `GenerationJob` are `core.jobs` job rows (state, attempts, heartbeat); the fields added here
are progress and outcome. `settled_at` marks a finished job whose side effects (quota refund, domain event)
have been recorded, so the worker and the periodic reconciler never settle it twice.
"""

from django.conf import settings
from django.db import models

from core.jobs import JobState
from core.models import BaseModel, JobMixin


class DatasetState(models.TextChoices):
    PROCESSING = "processing"  # the raw upload waits for its decoding job
    READY = "ready"
    FAILED = "failed"


class TrainingState(models.TextChoices):
    """core.jobs.JobState plus `paused`: a run stopped at a checkpoint boundary on request (owner, staff, drain)
    that nothing works on until it is resumed; not finished, so it is neither settled nor swept."""

    QUEUED = JobState.QUEUED.value
    RUNNING = JobState.RUNNING.value
    SUCCEEDED = JobState.SUCCEEDED.value
    FAILED = JobState.FAILED.value
    CANCELLED = JobState.CANCELLED.value
    PAUSED = "paused"


class Dataset(BaseModel):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="gan_datasets")
    name = models.CharField(max_length=200)
    image_count = models.PositiveIntegerField(default=0)
    total_bytes = models.PositiveBigIntegerField(default=0)  # of the re-encoded images we store
    # sha256 over the sorted image sha256s (generation.gan.data.dataset_hash): names the set of images.
    dataset_hash = models.CharField(max_length=64, db_index=True)
    class_names = models.JSONField(default=list)  # the class folders, sorted; [] when there were none
    upload_report = models.JSONField(default=dict)  # {"rejected": [...], "duplicates": [...]} of the upload
    # generation.gan.periodicity's score of the images (a patterned set gets periodic maps in its plans);
    # null until the first plan measures it (datasets_periodicity)
    periodicity = models.FloatField(null=True, blank=True)
    # a fine-tune's dataset version: its parent dataset's images plus the kept images of this model version
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="versions")
    parent_model_version = models.ForeignKey(
        "ModelVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="derived_datasets"
    )
    # False (the default): only the dataset's hashes are shown with its provenance record; True: the image
    # hashes and class names are shown too, so anyone holding the images can check the dataset hash
    contents_public = models.BooleanField(default=False)
    state = models.CharField(max_length=16, choices=DatasetState.choices, default=DatasetState.READY)
    failure_code = models.CharField(max_length=64, blank=True)  # the error code an upload used to answer with
    failure_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.image_count} images)"

    @property
    def storage_prefix(self) -> str:
        return f"generation/datasets/{self.public_id}"


class DatasetImage(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="images")
    file = models.FileField(max_length=300)
    sha256 = models.CharField(max_length=64)  # of the stored (re-encoded) file
    original_sha256 = models.CharField(max_length=64)  # of the bytes as uploaded
    original_name = models.CharField(max_length=255)
    label = models.CharField(max_length=255, blank=True)  # the class folder; "" when there were none
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size_bytes = models.PositiveIntegerField()

    class Meta:
        ordering = ["label", "sha256"]
        constraints = [models.UniqueConstraint(fields=["dataset", "sha256"], name="dataset_image_unique_sha256")]

    def __str__(self) -> str:
        return self.original_name


class DatasetProcessing(BaseModel, JobMixin):
    """The job that decodes, de-duplicates and re-encodes an upload's raw files (generation.tasks)."""

    job_task_path = "generation.tasks.run_dataset_processing"

    dataset = models.OneToOneField(Dataset, on_delete=models.CASCADE, related_name="processing")
    # [{"name": as uploaded, "file": the raw bytes' storage name}], deleted once the job has finished
    uploads = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"processing {self.dataset_id} ({self.state})"


class TrainingRun(BaseModel, JobMixin):
    job_task_path = "generation.tasks.run_training_run"

    state = models.CharField(max_length=16, choices=TrainingState.choices, default=TrainingState.QUEUED, db_index=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="gan_training_runs")
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="training_runs")
    config = models.JSONField()  # the full, validated GANConfig (GANConfig.to_dict())
    step = models.PositiveIntegerField(default=0)
    total_steps = models.PositiveIntegerField(default=0)
    start_steps = models.JSONField(default=list)  # the step each attempt started from (> 0: resumed)
    checkpoint_step = models.PositiveIntegerField(null=True, blank=True)
    # with media in a bucket: the stored copy of the latest checkpoint and its sha256 (a worker on another host
    # resumes, or fine-tunes from, that object); blank with filesystem media (the runs folder is the copy)
    checkpoint_file = models.CharField(max_length=300, blank=True)
    checkpoint_sha256 = models.CharField(max_length=64, blank=True)
    losses = models.JSONField(default=dict)
    images_per_second = models.FloatField(null=True, blank=True)
    eta_seconds = models.FloatField(null=True, blank=True)
    sample_grid = models.CharField(max_length=300, blank=True)  # relative to the run's directory
    loss_curve = models.CharField(max_length=300, blank=True)
    units_refunded = models.PositiveSmallIntegerField(default=0)
    settled_at = models.DateTimeField(null=True, blank=True)
    # the budget plan (generation.services.planning): preset, device, images/s, steps, minutes, summary, work
    plan = models.JSONField(default=dict)
    augment_p = models.FloatField(null=True, blank=True)  # ADA's augmentation probability at the last report
    ada_signal = models.FloatField(null=True, blank=True)  # ADA's r_t = E[sign(D(real))] at the last report
    # the worker's hard stop: training seconds over every attempt (the plan's ceiling); None = no ceiling
    time_limit_seconds = models.FloatField(null=True, blank=True)
    stop_reason = models.CharField(max_length=32, blank=True)  # "completed", "budget" or "time_limit"
    # a fine-tune starts from this model version's checkpoint (G, EMA, and D + optimisers unless fresh_d)
    init_from = models.ForeignKey(
        "ModelVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="fine_tunes"
    )
    fine_tune = models.JSONField(default=dict)  # {"fresh_discriminator": bool, "freeze_d_blocks": int}
    # pause: asked for while running (the worker stops at its next checkpoint boundary), or done (state paused)
    pause_requested = models.BooleanField(default=False)
    pause_reason = models.CharField(max_length=16, blank=True)  # "owner", "staff" or "drain" (who asked)
    paused_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"training run {self.public_id} ({self.state})"


class ModelVersion(BaseModel):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="gan_models")
    training_run = models.OneToOneField(TrainingRun, on_delete=models.PROTECT, related_name="model_version")
    name = models.CharField(max_length=200)
    onnx_file = models.FileField(max_length=300)
    onnx_sha256 = models.CharField(max_length=64)
    onnx_size = models.PositiveBigIntegerField()
    parity_passed = models.BooleanField()
    parity_max_abs_diff = models.FloatField()
    parity_tolerance = models.FloatField()
    metrics = models.JSONField(default=dict)  # {"available": bool, "reason"?, "fid"?, "kid"?, ...}
    # lineage
    dataset_hash = models.CharField(max_length=64, db_index=True)
    config = models.JSONField()
    step = models.PositiveIntegerField()
    latent_dim = models.PositiveIntegerField()
    resolution = models.PositiveIntegerField()
    conditional = models.BooleanField(default=False)
    num_classes = models.PositiveIntegerField(default=0)
    class_names = models.JSONField(default=list)
    last_provider = models.CharField(max_length=64, blank=True)  # the ORT provider that last ran it

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class GenerationJob(BaseModel, JobMixin):
    job_task_path = "generation.tasks.run_generation_job"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="gan_generation_jobs")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="generation_jobs")
    count = models.PositiveIntegerField()
    seeds = models.JSONField(default=list)  # one per image (seed mode); [] for interpolation
    truncation = models.FloatField(default=1.0)
    class_label = models.PositiveIntegerField(null=True, blank=True)
    interpolation = models.JSONField(null=True, blank=True)  # {"seed_a", "seed_b", "steps"}
    produced = models.PositiveIntegerField(default=0)
    provider = models.CharField(max_length=64, blank=True)
    batch_id = models.UUIDField(null=True, blank=True, db_index=True)  # shared by jobs served in one batch
    batch_jobs = models.PositiveSmallIntegerField(default=0)  # how many jobs shared that batch
    units_refunded = models.PositiveIntegerField(default=0)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["model_version", "state"], name="genjob_model_state")]

    def __str__(self) -> str:
        return f"generation job {self.public_id} ({self.state})"


class Curation(models.TextChoices):
    NONE = "", "not curated"
    KEEP = "keep", "keep"
    REJECT = "reject", "reject"


class GeneratedImage(BaseModel):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="gan_images")
    job = models.ForeignKey(GenerationJob, on_delete=models.CASCADE, related_name="images")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="images")
    index = models.PositiveIntegerField()  # position in its job
    # What regenerates it: the seed (seed mode) or the interpolation and its step, truncation and class.
    seed = models.BigIntegerField(null=True, blank=True)
    interpolation = models.JSONField(null=True, blank=True)  # {"seed_a", "seed_b", "steps", "step"}
    truncation = models.FloatField()
    class_label = models.PositiveIntegerField(null=True, blank=True)
    provider = models.CharField(max_length=64)
    original = models.FileField(max_length=300)
    preview = models.FileField(max_length=300)
    sha256 = models.CharField(max_length=64, db_index=True)  # of the original PNG
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    curation = models.CharField(max_length=8, choices=Curation.choices, blank=True, default="")  # the artist's
    curated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job_id", "index"]
        constraints = [models.UniqueConstraint(fields=["job", "index"], name="generated_image_unique_index")]

    def __str__(self) -> str:
        return f"image {self.index} of {self.job_id}"
