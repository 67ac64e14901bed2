"""Admin bases shared by the apps: rows that only services write (ledgers, jobs, chain outbox, orders…) are
read in the admin and changed through its actions, which call those services, never by editing or deleting."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def may_act_on(request, model) -> bool:
    """Staff with the model's change permission (Django's groups and per-user permissions), not every staff
    user: actions that move money or licences are for the people the operator gave that permission."""
    opts = model._meta
    return bool(request.user.is_staff and request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}"))


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


def columns_except(model, editable=()) -> list[str]:
    """Every column of `model` but those named: the read-only fields of a change form that edits only those."""
    return [field.name for field in model._meta.fields if field.name not in editable]


class ActionAdmin(ReadOnlyAdmin):
    """Rows staff change through the admin's actions (refund, cancel, mark paid…), which call services: the
    change permission is there for the actions, and every column but `editable` stays read-only on the change
    form (a subclass that edits any saves them through its service in `save_model`)."""

    editable: tuple[str, ...] = ()

    def has_change_permission(self, request, obj=None) -> bool:
        return may_act_on(request, self.model)

    def get_readonly_fields(self, request, obj=None):
        return columns_except(self.model, self.editable)
