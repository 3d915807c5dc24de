from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from learntrace.catalog.models import Category, Choice, Course, CourseKind, CreditClass, Question, Quiz

MAX_VIDEO_BYTES = 2 * 1024 ** 3


class NamedForm(forms.ModelForm):
    class Meta:
        fields = ["code", "name", "name_en", "is_active"]


class CategoryForm(NamedForm):
    class Meta(NamedForm.Meta):
        model = Category


class CreditClassForm(NamedForm):
    class Meta(NamedForm.Meta):
        model = CreditClass


class CourseForm(forms.ModelForm):
    external_url = forms.URLField(label=_("external video or meeting URL"), required=False, max_length=200,
                                  assume_scheme="https")
    duration_minutes = forms.DecimalField(
        label=_("duration (minutes)"), min_value=Decimal("0.1"), max_value=Decimal("100000"), decimal_places=1,
        help_text=_("Length of the video or meeting; for a document, the minimum reading time."),
    )

    class Meta:
        model = Course
        fields = ["title", "description", "kind", "category", "duration_minutes", "completion_threshold",
                  "no_skipping", "credits", "credit_class", "project_number", "credit_hours", "video_file",
                  "external_url", "document_file",
                  "location", "is_published"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(is_active=True)
        self.fields["credit_class"].queryset = CreditClass.objects.filter(is_active=True)
        if self.instance.pk:
            self.initial["duration_minutes"] = Decimal(self.instance.duration_seconds) / 60
        self.fields["video_file"].widget.attrs["accept"] = "video/webm,video/mp4"
        self.fields["document_file"].widget.attrs["accept"] = "application/pdf"

    def clean_video_file(self):
        upload = self.cleaned_data.get("video_file")
        if upload and hasattr(upload, "content_type"):
            if upload.name.rsplit(".", 1)[-1].lower() not in {"mp4", "webm", "m4v", "ogv"}:
                raise forms.ValidationError(_("Upload an MP4 or WebM video."))
            if upload.size > MAX_VIDEO_BYTES:
                raise forms.ValidationError(_("The video is larger than 2 GB."))
        return upload

    def clean_document_file(self):
        upload = self.cleaned_data.get("document_file")
        if upload and hasattr(upload, "content_type"):
            head = upload.read(5)
            upload.seek(0)
            if head != b"%PDF-":
                raise forms.ValidationError(_("This is not a PDF file."))
        return upload

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        has_video = cleaned.get("video_file") or cleaned.get("external_url")
        if kind == CourseKind.VIDEO and not has_video:
            self.add_error("video_file", _("A video course needs a video file or an external URL."))
        if kind == CourseKind.DOCUMENT and not cleaned.get("document_file"):
            self.add_error("document_file", _("A document course needs a PDF."))
        if cleaned.get("credits") and not cleaned.get("credit_class"):
            self.add_error("credit_class", _("Say which class of credits the course awards."))
        if cleaned.get("duration_minutes") is not None:
            self.instance.duration_seconds = int(cleaned["duration_minutes"] * 60)
        return cleaned


class QuizForm(forms.ModelForm):
    class Meta:
        model = Quiz
        fields = ["pass_mark", "attempts_allowed"]


class QuestionForm(forms.Form):
    """A question with up to six answers, at least one of them correct."""

    CHOICES = 6
    text = forms.CharField(label=_("question"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    kind = forms.ChoiceField(label=_("kind"), choices=Question.Kind.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for i in range(self.CHOICES):
            self.fields[f"choice_{i}"] = forms.CharField(label=_("answer %(n)d") % {"n": i + 1},
                                                         required=False, max_length=500)
            self.fields[f"correct_{i}"] = forms.BooleanField(label=_("correct"), required=False)

    def choice_rows(self):
        return [(self[f"choice_{i}"], self[f"correct_{i}"]) for i in range(self.CHOICES)]

    def clean(self):
        cleaned = super().clean()
        answers = [(cleaned.get(f"choice_{i}", "").strip(), cleaned.get(f"correct_{i}", False))
                   for i in range(self.CHOICES)]
        if any(correct and not text for text, correct in answers):
            raise forms.ValidationError(_("An answer marked correct has no text."))
        answers = [(text, correct) for text, correct in answers if text]
        if len(answers) < 2:
            raise forms.ValidationError(_("Give at least two answers."))
        correct = sum(1 for _text, is_correct in answers if is_correct)
        if correct == 0:
            raise forms.ValidationError(_("Mark at least one answer as correct."))
        if cleaned.get("kind") == Question.Kind.SINGLE and correct != 1:
            raise forms.ValidationError(_("A single-choice question has exactly one correct answer."))
        cleaned["answers"] = answers
        return cleaned

    def save(self, quiz: Quiz) -> Question:
        question = Question.objects.create(quiz=quiz, text=self.cleaned_data["text"], kind=self.cleaned_data["kind"],
                                           position=quiz.questions.count() + 1)
        Choice.objects.bulk_create([
            Choice(question=question, text=text, is_correct=correct, position=i)
            for i, (text, correct) in enumerate(self.cleaned_data["answers"])
        ])
        return question
