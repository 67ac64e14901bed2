from django.apps import AppConfig


class GalleryConfig(AppConfig):
    name = "marketplace.gallery"
    label = "gallery"
    verbose_name = "Gallery"
