from django import forms
from django.utils.translation import gettext_lazy as _

from learntrace.onlineattendance.formats import MAX_FILE_BYTES
from learntrace.onlineattendance.models import OnlineMeeting


class OnlineMeetingForm(forms.ModelForm):
    class Meta:
        model = OnlineMeeting
        fields = ["platform", "meeting_number", "presence_percent"]

    def clean_meeting_number(self):
        return self.cleaned_data["meeting_number"].replace(" ", "").replace("-", "")


class ParticipantFileForm(forms.Form):
    file = forms.FileField(label=_("participant list (.xlsx or .csv, as exported by the platform)"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(_("The file is larger than %(limit)d MB; a participant list never is.")
                                        % {"limit": MAX_FILE_BYTES // (1024 * 1024)})
        return upload
