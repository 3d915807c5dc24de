from decimal import Decimal

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from learntrace.catalog.models import Category, Choice, Course, CourseKind, CreditClass, Question, Quiz
from learntrace.catalog.video_length import lengths_agree, video_seconds
from learntrace.core.files import local_copy
from learntrace.core.templatetags.learntrace import clock

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


# The fields that only some kinds of course have; every other field is common to all four.
KIND_FIELDS = {
    "video_file": {CourseKind.VIDEO},
    "no_skipping": {CourseKind.VIDEO},
    "external_url": {CourseKind.VIDEO, CourseKind.LIVE},
    "completion_threshold": {CourseKind.VIDEO, CourseKind.DOCUMENT},
    "document_file": {CourseKind.DOCUMENT},
    "location": {CourseKind.OFFLINE},
}
# What a field holds when its kind is not chosen (a file False: cleared).
NOT_OF_THIS_KIND = {"video_file": False, "no_skipping": False, "external_url": "", "document_file": False,
                    "location": ""}


class CourseForm(forms.ModelForm):
    external_url = forms.URLField(label=_("external video or meeting URL"), required=False, max_length=200,
                                  assume_scheme="https")
    duration_minutes = forms.DecimalField(
        label=_("duration (minutes)"), min_value=Decimal("0.1"), max_value=Decimal("100000"), decimal_places=1,
        required=False,
        help_text=_("Length of the video or meeting; for a document, the minimum reading time. "
                    "For a video file, leave it empty: it is read from the file."),
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
            # In tenths, as the field takes them (an unchanged length keeps its seconds, see clean).
            self.initial["duration_minutes"] = (Decimal(self.instance.duration_seconds) / 60).quantize(
                Decimal("0.1"))
        self.fields["video_file"].widget.attrs["accept"] = "video/webm,video/mp4"
        for name in ("external_url", "duration_minutes"):  # declared here, so not capitalised as the model's are
            self.fields[name].label = capfirst(self.fields[name].label)
        self.fields["document_file"].widget.attrs["accept"] = "application/pdf"

    def fieldsets(self) -> list[dict]:
        """The form in groups: what every course has, then one group per kind's own fields, which the
        page hides while another kind is chosen (all are shown without JavaScript)."""
        groups = [
            (_("Course"), "", ["title", "description", "kind", "category", "duration_minutes"]),
            (_("Video"), "video", ["video_file", "no_skipping"]),
            (_("Online address (video or live meeting)"), "video live", ["external_url"]),
            (_("Document"), "document", ["document_file"]),
            (_("Completion (video or document)"), "video document", ["completion_threshold"]),
            (_("Offline meeting"), "offline", ["location"]),
            (_("Credits"), "", ["credits", "credit_class", "project_number", "credit_hours"]),
            (_("Publishing"), "", ["is_published"]),
        ]
        return [{"legend": legend, "kinds": kinds, "fields": [self[name] for name in names]}
                for legend, kinds, names in groups]

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
        if kind:
            # Another kind's fields may have been filled before the kind was changed: they are not kept,
            # and what was wrong with them (in a group the page hides) does not stop the save.
            for name, kinds in KIND_FIELDS.items():
                if kind not in kinds and name in NOT_OF_THIS_KIND:
                    cleaned[name] = NOT_OF_THIS_KIND[name]
                    self._errors.pop(name, None)
        has_video = cleaned.get("video_file") or cleaned.get("external_url")
        if kind == CourseKind.VIDEO and not has_video:
            self.add_error("video_file", _("A video course needs a video file or an external URL."))
        if kind == CourseKind.DOCUMENT and not cleaned.get("document_file"):
            self.add_error("document_file", _("A document course needs a PDF."))
        if cleaned.get("credits") and not cleaned.get("credit_class"):
            self.add_error("credit_class", _("Say which class of credits the course awards."))
        seconds = self._duration_seconds(kind, cleaned)
        if seconds is not None:
            self.instance.duration_seconds = seconds
        return cleaned

    def _duration_seconds(self, kind, cleaned) -> int | None:
        """The course's length in seconds. For a video file it is the file's own length, which a length
        typed by hand must agree with; a file whose length cannot be read keeps the typed length (there
        is no other). A length left as it was keeps its exact seconds (the field shows tenths of minutes)."""
        if "duration_minutes" in self.errors:
            return None
        minutes = cleaned.get("duration_minutes")
        typed_by_hand = not self.instance.pk or "duration_minutes" in self.changed_data
        if minutes is None:
            typed = None
        else:
            typed = int(minutes * 60) if typed_by_hand else self.instance.duration_seconds
        read = self._video_file_seconds(cleaned) if kind == CourseKind.VIDEO else None
        if read is not None:
            if typed_by_hand and typed is not None and not lengths_agree(typed, read):
                self.add_error("duration_minutes", _(
                    "The video lasts %(read)s, but the duration typed is %(typed)s. Leave the duration empty "
                    "to take the video's own.") % {"read": clock(round(read)), "typed": clock(typed)})
                return None
            return max(1, round(read))
        if typed is None and kind:
            if kind == CourseKind.VIDEO and cleaned.get("video_file"):
                message = _("The length of this video could not be read from the file: type its duration.")
            else:
                message = _("Type the duration.")
            self.add_error("duration_minutes", message)
        return typed

    def _video_file_seconds(self, cleaned) -> float | None:
        upload = cleaned.get("video_file")
        if upload and hasattr(upload, "content_type"):  # a new upload
            return video_seconds(upload.file)
        # The stored video, read again only when its course's duration is being changed.
        if upload and "duration_minutes" in self.changed_data:
            try:
                with local_copy(upload.name) as path, path.open("rb") as stored:  # hachoir seeks in a file
                    return video_seconds(stored)
            except OSError:
                return None
        return None


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
