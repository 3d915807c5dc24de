from django import forms
from django.utils.translation import gettext_lazy as _

from learntrace.catalog.models import Category
from learntrace.exams.models import BankQuestion, Exam, ExamItem, ExamRule, QuestionBank, QuestionKind
from learntrace.org.forms import ImportUploadForm

CHOICE_ROWS = 6


class BankForm(forms.ModelForm):
    class Meta:
        model = QuestionBank
        fields = ["name", "category", "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(is_active=True)


class QuestionForm(forms.ModelForm):
    """A question with, by its kind, up to six options, the truth, or the accepted answers."""

    truth = forms.ChoiceField(label=_("correct answer"), required=False,
                              choices=[("", "—"), ("true", _("True")), ("false", _("False"))])
    accepted = forms.CharField(label=_("accepted answers"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                               help_text=_("One per line; compared ignoring case, spaces and full-width forms."))

    class Meta:
        model = BankQuestion
        fields = ["kind", "text", "difficulty", "explanation", "is_active"]
        widgets = {"text": forms.Textarea(attrs={"rows": 3}), "explanation": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        existing = list(self.instance.choices.all()) if self.instance.pk else []
        for n in range(CHOICE_ROWS):
            choice = existing[n] if n < len(existing) else None
            self.fields[f"choice_{n}"] = forms.CharField(label=_("option %(letter)s") % {"letter": "ABCDEF"[n]},
                                                         max_length=500, required=False,
                                                         initial=choice.text if choice else "")
            self.fields[f"correct_{n}"] = forms.BooleanField(label=_("correct"), required=False,
                                                             initial=bool(choice and choice.is_correct))
        if self.instance.pk and self.instance.kind == QuestionKind.TRUE_FALSE and self.instance.answers:
            self.fields["truth"].initial = "true" if self.instance.answers[0] else "false"
        if self.instance.pk and self.instance.kind == QuestionKind.FILL_IN:
            self.fields["accepted"].initial = "\n".join(self.instance.answers)

    def main_fields(self):
        return [self[name] for name in ("kind", "text", "difficulty", "truth", "accepted", "explanation", "is_active")]

    def choice_rows(self):
        return [(self[f"choice_{n}"], self[f"correct_{n}"]) for n in range(CHOICE_ROWS)]

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        self.choices = []
        if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            self.choices = [(data[f"choice_{n}"].strip(), data[f"correct_{n}"]) for n in range(CHOICE_ROWS)
                            if data.get(f"choice_{n}", "").strip()]
            right = sum(correct for _text, correct in self.choices)
            if len(self.choices) < 2:
                raise forms.ValidationError(_("A choice question needs at least two options."))
            if right == 0 or (kind == QuestionKind.SINGLE and right != 1):
                raise forms.ValidationError(_("Mark one correct option (a multiple-choice question: at least one)."))
            self.instance.answers = []
        elif kind == QuestionKind.TRUE_FALSE:
            if not data.get("truth"):
                self.add_error("truth", _("Say whether the statement is true or false."))
            self.instance.answers = [data.get("truth") == "true"]
        elif kind == QuestionKind.FILL_IN:
            accepted = [line.strip() for line in data.get("accepted", "").splitlines() if line.strip()]
            if not accepted:
                self.add_error("accepted", _("Give at least one accepted answer."))
            self.instance.answers = accepted
        return data


class ExamForm(forms.ModelForm):
    class Meta:
        model = Exam
        fields = ["title", "description", "mode", "time_limit_minutes", "pass_mark", "attempts_allowed",
                  "leave_limit", "shuffle_choices", "review", "opens_at", "closes_at", "is_published"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3}),
                   "opens_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
                   "closes_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")}

    def clean(self):
        data = super().clean()
        if data.get("opens_at") and data.get("closes_at") and data["closes_at"] <= data["opens_at"]:
            self.add_error("closes_at", _("The exam must close after it opens."))
        return data


class ItemForm(forms.ModelForm):
    class Meta:
        model = ExamItem
        fields = ["question", "points"]

    def __init__(self, *args, exam=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["question"].queryset = BankQuestion.objects.filter(is_active=True).exclude(
            pk__in=exam.items.values("question_id")).select_related("bank")
        self.fields["question"].label = _("question")
        self.fields["question"].label_from_instance = lambda q: f"{q.bank.name} · {q.text[:80]}"


class RuleForm(forms.ModelForm):
    class Meta:
        model = ExamRule
        fields = ["category", "difficulty", "count", "points"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(is_active=True)
        self.fields["difficulty"].required = False


class QuestionUploadForm(ImportUploadForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["deactivate_missing"]
        self.fields["file"].label = _("file of questions (.xlsx or .csv)")
