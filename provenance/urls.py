from django.urls import path

from provenance import api

urlpatterns = [
    path("verify", api.VerifyUploadView.as_view(), name="provenance-verify"),
    path("verify/<str:sha256>", api.VerifyHashView.as_view(), name="provenance-verify-hash"),
    path("provenance/<uuid:public_id>/certificate", api.CertificateView.as_view(), name="provenance-certificate"),
]
