"""Sign-up, sign-in and password forms of the pages. They parse what was typed; the account services judge it
(password rules, duplicate emails, the login lockout), exactly as for the API."""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms

from core.client_ip import client_ip
from core.errors import AtelierError
from marketplace.accounts import services
from marketplace.accounts.models import Role, User
from marketplace.storefront.page_forms import add_service_error


class SignupForm(forms.Form):
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    display_name = forms.CharField(
        max_length=80,
        required=False,
        label="Display name",
        help_text="Shown on your artworks and profile. Your email never is.",
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )
    password = forms.CharField(
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters; not a common or all-numeric password.",
    )
    role = forms.ChoiceField(
        label="I am here to",
        widget=forms.RadioSelect,
        initial=Role.BUYER,
        choices=[
            (Role.BUYER, "Buy licences and commission art"),
            (Role.ARTIST, "Train models and sell my art (artist)"),
        ],
    )

    def save(self, *, base_url: str) -> bool:
        """True when the sign-up was started (a message is on its way), False with the refusal on the form."""
        try:
            services.user_register(
                email=self.cleaned_data["email"],
                password=self.cleaned_data["password"],
                display_name=self.cleaned_data["display_name"],
                role=self.cleaned_data["role"],
                base_url=base_url,
            )
        except AtelierError as error:
            add_service_error(self, error)
            return False
        return True


class LoginForm(forms.Form):
    """Django's LoginView form contract (get_user, request), checked by the same lockout as the API's login."""

    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
    )
    password = forms.CharField(strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))

    def __init__(self, request: Any = None, *args: Any, **kwargs: Any) -> None:
        self.request = request
        self.user_cache: User | None = None
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        try:
            self.user_cache = services.auth_check_credentials(
                email=data["username"], password=data["password"], client_address=client_ip(self.request)
            )
        except AtelierError as error:
            raise forms.ValidationError(error.detail, code=error.code) from None
        self.user_cache.backend = settings.AUTHENTICATION_BACKENDS[0]  # checked above, under the lockout
        return data

    def get_user(self) -> User:
        if self.user_cache is None:  # Django's LoginView calls this only after is_valid()
            raise RuntimeError("get_user() before a successful clean()")
        return self.user_cache


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """Django's form (current password, the new one twice, the same validators), saved by the account service,
    so a page's change revokes the API tokens as the API's does."""

    def save(self, commit: bool = True) -> User:
        return services.user_set_password(user=self.user, new_password=self.cleaned_data["new_password1"])


class ResetRequestForm(auth_forms.PasswordResetForm):
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class ResetSetPasswordForm(auth_forms.SetPasswordForm):
    """The reset link's form, saved by the account service (login tokens and API keys revoked too)."""

    def save(self, commit: bool = True) -> User:
        return services.user_set_password(
            user=self.user, new_password=self.cleaned_data["new_password1"], revoke_api_keys=True
        )
