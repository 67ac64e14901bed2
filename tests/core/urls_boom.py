"""A test URLconf: the real routes plus views that fail on purpose."""

from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView

from core.idempotency import IdempotentMixin
from core.request_body import no_body


class BoomView(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    def get(self, request):
        raise RuntimeError("secret internal detail /etc/passwd")


def plain_boom(request):
    raise RuntimeError("secret internal detail in a plain view")


class SlowCreateView(IdempotentMixin, APIView):
    """Creates a SleepJob row after a pause, so two requests with one key overlap."""

    def post(self, request):
        import time

        from tests.jobapp.models import SleepJob

        time.sleep(float(request.data.get("pause", 0)))
        job = SleepJob.objects.create(marker_path=str(request.data.get("marker", "")))
        return Response({"id": str(job.public_id)}, status=201)


class FailingCreateView(IdempotentMixin, APIView):
    def post(self, request):
        raise RuntimeError("server fault after the key was taken")


class CountingActionView(APIView):
    """A bodyless action that counts its runs."""

    authentication_classes: list = []
    permission_classes: list = []
    runs = 0

    @no_body
    def post(self, request):
        CountingActionView.runs += 1
        return Response({"runs": CountingActionView.runs})


urlpatterns = [
    path("action", CountingActionView.as_view()),
    path("boom", BoomView.as_view()),
    path("plain-boom", plain_boom),
    path("slow-create", SlowCreateView.as_view()),
    path("failing-create", FailingCreateView.as_view()),
    path("", include("config.urls")),
]
handler404 = "core.errors.handler404"
handler500 = "core.errors.handler500"
