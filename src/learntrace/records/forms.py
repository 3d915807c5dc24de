from django.utils.translation import gettext_lazy as _

from learntrace.org.forms import ImportUploadForm


class HistoryUploadForm(ImportUploadForm):
    """The file of past training records (.xlsx or .csv); the same checks as the organisation's."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["deactivate_missing"]
        self.fields["file"].label = _("file of past training records (.xlsx or .csv)")
