from __future__ import annotations

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from reautomation.api import api
from reautomation.views import healthz

admin.site.site_header = "REAutomation"
admin.site.site_title = "REAutomation admin"
admin.site.index_title = "Leads, campaigns and calls"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("twilio/", include("integrations.twilio.urls")),
    path("calendar/", include("integrations.calendar.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
