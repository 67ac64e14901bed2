"""Re-encrypt every encrypted field under the first of FIELD_ENCRYPTION_KEYS (after a new key was put first);
then the old keys can be dropped from the list."""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from core.crypto import EncryptedTextField
from core.locks import lock_rows


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options) -> None:
        for model in apps.get_models():
            names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if not names:
                continue
            count = 0
            with transaction.atomic():
                # read decrypts with any key, the update encrypts with the first
                for row in lock_rows(model._default_manager.all()).values("pk", *names).iterator():
                    model._default_manager.filter(pk=row.pop("pk")).update(**row)
                    count += 1
            self.stdout.write(f"{model._meta.label}: {count} row(s) re-encrypted")
