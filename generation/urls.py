from django.urls import path

from generation import api

urlpatterns = [
    path("datasets", api.DatasetListCreateView.as_view(), name="dataset-list"),
    path("datasets/<uuid:public_id>", api.DatasetDetailView.as_view(), name="dataset-detail"),
    path("training-runs", api.TrainingRunListCreateView.as_view(), name="training-run-list"),
    path("training-runs/estimate", api.TrainingRunEstimateView.as_view(), name="training-run-estimate"),
    path("training-runs/<uuid:public_id>", api.TrainingRunDetailView.as_view(), name="training-run-detail"),
    path("training-runs/<uuid:public_id>/cancel", api.TrainingRunCancelView.as_view(), name="training-run-cancel"),
    path("training-runs/<uuid:public_id>/pause", api.TrainingRunPauseView.as_view(), name="training-run-pause"),
    path("training-runs/<uuid:public_id>/resume", api.TrainingRunResumeView.as_view(), name="training-run-resume"),
    path(
        "training-runs/<uuid:public_id>/sample-grid",
        api.TrainingRunSampleGridView.as_view(),
        name="training-run-sample-grid",
    ),
    path(
        "training-runs/<uuid:public_id>/loss-curve",
        api.TrainingRunLossCurveView.as_view(),
        name="training-run-loss-curve",
    ),
    path("models", api.ModelVersionListView.as_view(), name="model-version-list"),
    path("models/<uuid:public_id>", api.ModelVersionDetailView.as_view(), name="model-version-detail"),
    path("models/<uuid:public_id>/fine-tune", api.ModelVersionFineTuneView.as_view(), name="model-version-fine-tune"),
    path("models/<uuid:public_id>/onnx", api.ModelVersionOnnxView.as_view(), name="model-version-onnx"),
    path("generation-jobs", api.GenerationJobListCreateView.as_view(), name="generation-job-list"),
    path("generation-jobs/<uuid:public_id>", api.GenerationJobDetailView.as_view(), name="generation-job-detail"),
    path(
        "generation-jobs/<uuid:public_id>/cancel", api.GenerationJobCancelView.as_view(), name="generation-job-cancel"
    ),
    path("generated-images", api.GeneratedImageListView.as_view(), name="generated-image-list"),
    path(
        "generated-images/<uuid:public_id>/curation",
        api.GeneratedImageCurationView.as_view(),
        name="generated-image-curation",
    ),
    path("generated-images/<uuid:public_id>", api.GeneratedImageDetailView.as_view(), name="generated-image-detail"),
    path(
        "generated-images/<uuid:public_id>/original",
        api.GeneratedImageOriginalView.as_view(),
        name="generated-image-original",
    ),
    path(
        "generated-images/<uuid:public_id>/preview",
        api.GeneratedImagePreviewView.as_view(),
        name="generated-image-preview",
    ),
]
