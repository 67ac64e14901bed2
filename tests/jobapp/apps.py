from django.apps import AppConfig


class JobAppConfig(AppConfig):
    """A test-only app with a domain job row, to exercise core's job plumbing with a real worker."""

    name = "tests.jobapp"
    label = "jobapp"
