from datetime import timedelta

from django.apps import AppConfig


class GalleryConfig(AppConfig):
    name = "marketplace.gallery"
    label = "gallery"
    verbose_name = "Gallery"

    def ready(self) -> None:
        from core.scheduler import register_periodic
        from marketplace.gallery import receivers  # noqa: F401  (connects the payment signal receivers)

        register_periodic(
            name="gallery.expire_pending_orders",
            every=timedelta(minutes=5),
            task_path="marketplace.gallery.tasks.expire_pending_orders_task",
        )
