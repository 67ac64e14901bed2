"""Enrol (or replace) a staff user's TOTP device and print the otpauth:// URL for an authenticator app."""

from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from marketplace.accounts.models import User


class Command(BaseCommand):
    help = "Give a staff user a TOTP device (replacing any) and print its otpauth:// URL, once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("email")

    def handle(self, *args, email: str, **options) -> None:
        user = User.objects.filter(email__iexact=email, is_staff=True).first()
        if user is None:
            raise CommandError(f"No staff user {email!r}.")
        TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
        self.stdout.write(device.config_url)
