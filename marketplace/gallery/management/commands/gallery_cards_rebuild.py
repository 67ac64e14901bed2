"""Re-render every artwork's pre-rendered browse card (after a bulk write that bypassed the services)."""

from django.core.management.base import BaseCommand

from marketplace.gallery.browse_cache import browse_changed
from marketplace.gallery.cards import artwork_cards_rebuild


class Command(BaseCommand):
    help = "Re-render the stored browse card of every artwork whose columns changed behind the services' back."

    def handle(self, *args, **options) -> None:
        changed = artwork_cards_rebuild()
        browse_changed()
        self.stdout.write(f"{changed} card(s) re-rendered")
