from django.contrib import admin

from learntrace.core.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "actor", "action", "object_type", "object_id", "summary"]
    list_filter = ["action", "object_type"]

    def has_change_permission(self, request, obj=None):
        return False  # the audit trail is read-only, even for superusers

    def has_delete_permission(self, request, obj=None):
        return False
