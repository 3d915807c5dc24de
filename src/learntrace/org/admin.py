from django.contrib import admin

from learntrace.org.models import Department, Employee, ImportBatch, RoleGrant


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "parent", "is_active"]
    search_fields = ["code", "name"]
    readonly_fields = ["path"]


@admin.register(Employee)
class EmployeeAdmin(admin.ModelAdmin):
    list_display = ["employee_no", "name", "department", "level", "is_active"]
    list_filter = ["level", "is_active"]
    search_fields = ["employee_no", "name"]
    raw_id_fields = ["user", "department"]
    exclude = ["national_id"]  # edited in learntrace's own form, which validates and masks it


@admin.register(RoleGrant)
class RoleGrantAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "department", "granted_at"]
    list_filter = ["role"]


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ["file_name", "status", "created_by", "created_at"]
    readonly_fields = [f.name for f in ImportBatch._meta.fields]
