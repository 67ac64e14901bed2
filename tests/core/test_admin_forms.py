"""Every admin change form, as a superuser sees it: which columns (and inline columns) it lets staff edit. Rows
that services own (state machines, money, hashes, chain) must be read-only there; the admin's actions call the
services instead. A new editable field fails this test until it is added below on purpose."""

import pytest
from django.contrib import admin
from django.test import RequestFactory

EDITABLE = {
    "accounts.user": {
        "avatar",
        "bio",
        "display_name",
        "email",
        "email_confirmed_at",
        "groups",
        "is_active",
        "is_staff",
        "is_superuser",
        "password",
        "role",
        "user_permissions",
    },
    "accounts.apikey": {"name"},
    "auth.group": {"name", "permissions"},
    # django-otp's own admin, with OTP_ADMIN_HIDE_SENSITIVE_DATA: no key once a device exists
    "otp_totp.totpdevice": {
        "confirmed",
        "digits",
        "drift",
        "name",
        "step",
        "t0",
        "throttling_failure_count",
        "throttling_failure_timestamp",
        "tolerance",
        "user",
    },
    "commissions.commission": {"description", "style", "title"},
    "gallery.artwork": {"description", "style", "title"},
    "subscriptions.plan": {
        "allows_commercial_licences",
        "currency",
        "description",
        "generations_per_period",
        "is_public",
        "max_dataset_bytes",
        "max_dataset_images",
        "max_resolution",
        "max_training_minutes",
        "max_training_work",
        "name",
        "period",
        "price",
        "publications_per_period",
        "rank",
        "training_runs_per_period",
        "trial_days",
    },
    "webhooks.webhookendpoint": {"description"},
}


def _editable(model_admin, request) -> set[str]:
    obj = model_admin.model()
    if not model_admin.has_change_permission(request, obj):
        return set()
    fields = set(model_admin.get_form(request, obj, change=True).base_fields)
    for formset, inline in model_admin.get_formsets_with_inlines(request, obj):
        if inline.has_change_permission(request, obj) or inline.has_add_permission(request, obj):
            fields |= {f"{inline.model._meta.model_name}.{name}" for name in formset.form.base_fields}
    return fields


@pytest.mark.django_db
def test_admin_change_forms_edit_only_what_no_service_owns(make_user):
    request = RequestFactory().get("/admin/")
    request.user = make_user(role="staff")
    found = {str(model._meta): _editable(model_admin, request) for model, model_admin in admin.site._registry.items()}
    editable = {label: fields for label, fields in found.items() if fields}
    assert editable == {label: fields for label, fields in EDITABLE.items() if fields}
