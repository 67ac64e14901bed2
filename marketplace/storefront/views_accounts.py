"""Sign up, sign in, sign out and passwords: Django's auth views with the account services behind their forms,
and session authentication (with CSRF) for every page. The API keeps its tokens and API keys."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from core.errors import AtelierError
from marketplace.accounts import services
from marketplace.storefront.forms_accounts import (
    LoginForm,
    PasswordChangeForm,
    ResetRequestForm,
    ResetSetPasswordForm,
    SignupForm,
)

TEMPLATES = "storefront/accounts/"


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return str(reverse_lazy("storefront:home"))


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(_safe_next(request))
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and form.save(base_url=request.build_absolute_uri("/")):
        # the same page for a new address and a taken one (the mail differs): sign-up tells nobody who is here
        return TemplateResponse(request, TEMPLATES + "signup_sent.html", {"email": form.cleaned_data["email"]})
    return TemplateResponse(
        request,
        TEMPLATES + "signup.html",
        {"form": form, "next": _safe_next(request)},
        status=400 if form.errors else 200,
    )


@csrf_protect
@never_cache
def signup_confirm(request: HttpRequest, uid: str, token: str) -> HttpResponse:
    """GET shows a button (mail scanners that open links confirm nothing); POST confirms and signs in."""
    if request.method != "POST":
        return TemplateResponse(request, TEMPLATES + "signup_confirm.html", {})
    try:
        user = services.user_confirm_email(uid=uid, token=token)
    except AtelierError as error:
        return TemplateResponse(request, TEMPLATES + "signup_confirm.html", {"invalid": error.detail}, status=400)
    login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
    messages.success(request, "Welcome to Atelier — your account is ready.")
    return redirect("/studio/" if user.is_artist else str(reverse_lazy("storefront:home")))


class LoginPage(auth_views.LoginView):
    template_name = TEMPLATES + "login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form):  # a refused sign-in is a 400 with the form, as every bad form is
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class LogoutPage(auth_views.LogoutView):
    next_page = reverse_lazy("storefront:home")


class PasswordChangePage(auth_views.PasswordChangeView):
    template_name = TEMPLATES + "password_change.html"
    form_class = PasswordChangeForm
    success_url = reverse_lazy("storefront:password_change_done")


class PasswordChangeDonePage(auth_views.PasswordChangeDoneView):
    template_name = TEMPLATES + "password_change_done.html"


class PasswordResetPage(auth_views.PasswordResetView):
    template_name = TEMPLATES + "password_reset.html"
    form_class = ResetRequestForm
    email_template_name = TEMPLATES + "password_reset_email.txt"
    subject_template_name = TEMPLATES + "password_reset_subject.txt"
    success_url = reverse_lazy("storefront:password_reset_done")


class PasswordResetDonePage(auth_views.PasswordResetDoneView):
    template_name = TEMPLATES + "password_reset_done.html"


class PasswordResetConfirmPage(auth_views.PasswordResetConfirmView):
    template_name = TEMPLATES + "password_reset_confirm.html"
    form_class = ResetSetPasswordForm
    success_url = reverse_lazy("storefront:password_reset_complete")


class PasswordResetCompletePage(auth_views.PasswordResetCompleteView):
    template_name = TEMPLATES + "password_reset_complete.html"
