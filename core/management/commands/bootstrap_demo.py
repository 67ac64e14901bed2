"""First-start setup for `make run`: a demo staff user whose credentials are printed (and kept in var/)."""

import json
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

DEMO_STAFF_EMAIL = "admin@atelier.localhost"


class Command(BaseCommand):
    help = "Create the demo staff user on first start and print its credentials."

    def handle(self, *args: Any, **options: Any) -> None:
        path = settings.VAR_DIR / "demo-credentials.json"
        credentials = json.loads(path.read_text()) if path.exists() else {}
        User = get_user_model()
        staff = credentials.get("staff")
        if not staff or not User.objects.filter(email=staff["email"]).exists():
            staff = {"email": DEMO_STAFF_EMAIL, "password": secrets.token_urlsafe(12)}
            user = User.objects.filter(email=DEMO_STAFF_EMAIL).first()
            if user is None:
                User.objects.create_superuser(email=staff["email"], password=staff["password"],
                                              display_name="Atelier staff")
            else:
                user.set_password(staff["password"])
                user.save()
            credentials["staff"] = staff
            path.write_text(json.dumps(credentials, indent=2))
            path.chmod(0o600)
        self.stdout.write("Demo accounts (also in var/demo-credentials.json):")
        for role, account in credentials.items():
            self.stdout.write(f"  {role:<7} {account['email']}  password: {account['password']}")
