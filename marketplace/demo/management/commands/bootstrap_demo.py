"""First-start setup for `make run`: a demo staff user, and on an empty database the demo content (a demo
artist and buyer, a tiny model trained in the worker, published and anchored artworks). Credentials are
printed and kept in var/demo-credentials.json."""

import json
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from config.conf import PROJECT
from marketplace.demo.services import demo_bootstrap

DEMO_STAFF_EMAIL = "admin@atelier.localhost"


class Command(BaseCommand):
    help = "Create the demo staff user (and, on an empty database, the demo content); print the credentials."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--no-content", action="store_true", help="only the staff user (also: ATELIER_DEMO_CONTENT=0)"
        )

    def handle(self, *args: Any, no_content: bool, **options: Any) -> None:
        path = settings.VAR_DIR / "demo-credentials.json"
        credentials = json.loads(path.read_text()) if path.exists() else {}
        User = get_user_model()
        empty_database = not User.objects.exists()
        staff = credentials.get("staff")
        if not staff or not User.objects.filter(email=staff["email"]).exists():
            staff = {"email": DEMO_STAFF_EMAIL, "password": secrets.token_urlsafe(12)}
            user = User.objects.filter(email=DEMO_STAFF_EMAIL).first()
            if user is None:
                User.objects.create_superuser(
                    email=staff["email"], password=staff["password"], display_name="Atelier staff"
                )
            else:
                user.set_password(staff["password"])
                user.save()
            credentials["staff"] = staff
        wants_content = not no_content and PROJECT.read("ATELIER_DEMO_CONTENT") != "0"
        if empty_database and wants_content:
            for account in demo_bootstrap():
                credentials[account.role] = {"email": account.email, "password": account.password}
            self.stdout.write(
                "Demo content is on its way: the worker trains a tiny GAN (a minute or two on a CPU), "
                "then generates, publishes and anchors a handful of artworks."
            )
        path.write_text(json.dumps(credentials, indent=2))
        path.chmod(0o600)
        self.stdout.write("Demo accounts (also in var/demo-credentials.json):")
        for role, account in credentials.items():
            self.stdout.write(f"  {role:<7} {account['email']}  password: {account['password']}")
