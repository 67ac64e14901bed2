from django.contrib import admin

from marketplace.demo.models import DemoRun


@admin.register(DemoRun)
class DemoRunAdmin(admin.ModelAdmin):
    list_display = ["public_id", "step", "artist", "buyer", "created_at", "finished_at", "detail"]
    readonly_fields = [f.name for f in DemoRun._meta.fields]
