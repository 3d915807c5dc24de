from pathlib import Path

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from learntrace.org.importing import valid_national_id
from learntrace.org.models import Department, Employee, Role


class DepartmentForm(forms.ModelForm):
    class Meta:
        model = Department
        fields = ["code", "name", "parent", "employer", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        parents = Department.objects.filter(is_active=True)
        if self.instance.pk:
            parents = parents.exclude(path__startswith=self.instance.path)
        self.fields["parent"].queryset = parents
        self.fields["parent"].label_from_instance = lambda d: f"{'— ' * d.depth}{d.name} ({d.code})"


class EmployeeForm(forms.ModelForm):
    tags = forms.CharField(label=_("tags"), required=False, help_text=_("Separate tags with commas."))
    # Not a model field of the form: the stored number is never sent back to the browser.
    new_national_id = forms.CharField(
        label=_("national ID number"), required=False, max_length=18,
        help_text=_("Stored encrypted and shown masked. Leave empty to keep the current number."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    clear_national_id = forms.BooleanField(label=_("remove the national ID number"), required=False)

    class Meta:
        model = Employee
        fields = ["employee_no", "name", "department", "position", "level", "tags", "email", "mobile",
                  "dingtalk_user_id", "wecom_user_id", "feishu_user_id", "hire_date", "is_active"]
        widgets = {"hire_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.filter(is_active=True)
        self.fields["department"].label_from_instance = lambda d: f"{'— ' * d.depth}{d.name} ({d.code})"
        self.initial["tags"] = ", ".join(self.instance.tag_list)
        if not self.instance.pk:
            del self.fields["clear_national_id"]

    def clean_tags(self):
        return Employee.join_tags(self.cleaned_data["tags"].replace("，", ",").split(","))

    def clean_new_national_id(self):
        value = self.cleaned_data["new_national_id"].strip().upper()
        if value and not valid_national_id(value):
            raise forms.ValidationError(_("Not a valid 18-character national ID number."))
        return value

    def save(self, commit=True):
        employee = super().save(commit=False)
        if self.cleaned_data.get("clear_national_id"):
            employee.national_id = ""
        elif self.cleaned_data.get("new_national_id"):
            employee.national_id = self.cleaned_data["new_national_id"]
        return employee


class RoleGrantForm(forms.Form):
    role = forms.ChoiceField(label=_("role"), choices=[(r.value, r.label) for r in Role if r != Role.LEARNER])
    department = forms.ModelChoiceField(
        label=_("department"), queryset=Department.objects.filter(is_active=True), required=False,
        help_text=_("Only for department heads: they see this department and everything under it."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].label_from_instance = lambda d: f"{'— ' * d.depth}{d.name} ({d.code})"

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("role") == Role.DEPARTMENT_HEAD and not cleaned.get("department"):
            self.add_error("department", _("A department head needs a department."))
        return cleaned


class ImportUploadForm(forms.Form):
    file = forms.FileField(label=_("file (.xlsx or .csv)"))
    deactivate_missing = forms.BooleanField(
        label=_("This file is the whole organisation: deactivate active employees who are not in it"),
        required=False,
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in {".xlsx", ".csv"}:
            raise forms.ValidationError(_("Only .xlsx and .csv files can be imported."))
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than %(mb)d MB.")
                                        % {"mb": settings.IMPORT_MAX_BYTES // (1024 * 1024)})
        return upload


class EmployeeFilterForm(forms.Form):
    q = forms.CharField(label=_("search"), required=False)
    department = forms.ModelChoiceField(label=_("department"), queryset=Department.objects.none(), required=False,
                                        empty_label=_("all departments"))
    level = forms.ChoiceField(label=_("level"), required=False)
    status = forms.ChoiceField(label=_("status"), required=False, choices=[
        ("active", _("active")), ("inactive", _("inactive")), ("all", _("all")),
    ])

    def __init__(self, *args, departments=None, **kwargs):
        super().__init__(*args, **kwargs)
        from learntrace.org.models import Level

        self.fields["level"].choices = [("", _("all levels")), *Level.choices]
        self.fields["department"].queryset = departments if departments is not None else Department.objects.all()
        self.fields["department"].label_from_instance = lambda d: f"{'— ' * d.depth}{d.name}"
