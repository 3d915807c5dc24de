"""The admin's attention settings of a course or plan, and questions placed at moments of a video."""

import re

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from learntrace.catalog.models import Course, CourseKind, Question
from learntrace.tracking.models import AttentionRule, PlacedQuestion


class CourseAttentionForm(forms.ModelForm):
    class Meta:
        model = AttentionRule
        fields = ["idle_minutes", "random_questions", "on_wrong"]

    def __init__(self, *args, course: Course, **kwargs):
        super().__init__(*args, **kwargs)
        if course.kind != CourseKind.VIDEO:  # questions are asked at moments of a video
            del self.fields["random_questions"]
            del self.fields["on_wrong"]


class PlanAttentionForm(forms.ModelForm):
    class Meta:
        model = AttentionRule
        fields = ["idle_minutes"]


MOMENT = re.compile(r"^(?:(\d{1,3}):)?(\d{1,5})$")


class PlacedQuestionForm(forms.Form):
    question = forms.ModelChoiceField(label=gettext_lazy("question"), queryset=Question.objects.none())
    moment = forms.CharField(label=gettext_lazy("moment (minutes:seconds)"), max_length=10,
                             widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "12:30"}))

    def __init__(self, *args, course: Course, **kwargs):
        super().__init__(*args, **kwargs)
        self.course = course
        self.fields["question"].queryset = Question.objects.filter(quiz__course=course)

    def clean_question(self):
        question = self.cleaned_data["question"]
        if not question.choices.filter(is_correct=True).exists():
            raise forms.ValidationError(_("This question has no correct answer to check."))
        return question

    def clean_moment(self):
        match = MOMENT.match(self.cleaned_data["moment"].strip())
        if not match:
            raise forms.ValidationError(_("Write the moment as minutes:seconds, for example 12:30."))
        minutes, seconds = int(match.group(1) or 0), int(match.group(2))
        if match.group(1) is not None and seconds >= 60:
            raise forms.ValidationError(_("Write the moment as minutes:seconds, for example 12:30."))
        at_seconds = minutes * 60 + seconds
        if not 0 < at_seconds < self.course.duration_seconds:
            raise forms.ValidationError(_("The moment must be within the video."))
        if PlacedQuestion.objects.filter(course=self.course, at_seconds=at_seconds).exists():
            raise forms.ValidationError(_("A question is already placed at this moment."))
        return at_seconds
