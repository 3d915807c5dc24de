from django.contrib import admin
from django.urls import include, path

from learntrace.api import views as api_views
from learntrace.api.v1 import api as api_v1
from learntrace.certificates.api import router as certificates_api

# Certificates sit above the API app, so they join the API here, before its URLs are built.
api_v1.add_router("/", certificates_api)

# The API comes first: the player's beat (every 15 s from every learner) resolves at the first
# prefix instead of after every page's (see BENCHMARKS.md, "API beat and page beat").
urlpatterns = [
    path("api/v1/", api_v1.urls),  # its own namespace, "api-v1"
    path("", include("learntrace.home.urls")),
    path("accounts/", include("learntrace.accounts.urls")),
    path("accounts/platforms/", include("learntrace.platforms.urls")),
    path("accounts/sso/", include("learntrace.sso.urls")),
    path("org/", include("learntrace.org.urls")),
    path("directory/", include("learntrace.directory.urls")),
    path("catalog/", include("learntrace.catalog.urls")),
    path("plans/", include("learntrace.plans.urls")),
    path("tracking/", include("learntrace.tracking.urls")),
    path("checkin/", include("learntrace.checkin.urls")),
    path("checkin/online/", include("learntrace.onlineattendance.urls")),
    path("exams/", include("learntrace.exams.urls")),
    path("certificates/", include("learntrace.certificates.urls")),
    path("evidence/", include("learntrace.evidence.urls")),
    path("records/", include("learntrace.records.urls")),
    path("records/", include("learntrace.trainingfile.urls")),
    path("compliance/", include("learntrace.compliance.urls")),
    path("credits/", include("learntrace.creditrules.urls")),
    path("credits/declarations/", include("learntrace.declarations.urls")),
    path("notify/", include("learntrace.notify.urls")),
    path("webhooks/", include("learntrace.webhooks.urls")),
    path("reports/", include("learntrace.reports.urls")),
    path("api/", include("learntrace.api.urls")),
    path("xapi/extensions/<slug:name>", api_views.extension, name="xapi_extension"),  # our extension IRIs
    path("admin/", admin.site.urls),
]

handler404 = "learntrace.core.files.not_found"  # says why when a file is missing on this server
handler500 = "learntrace.home.views.server_error"  # a database outage answers 503, see core/unavailable.py
