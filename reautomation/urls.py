from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from common.api_errors import api_not_found
from reautomation.api import api
from reautomation.login_throttle import ThrottledAdminAuthenticationForm, ThrottledAuthenticationForm
from reautomation.viewer_zone import viewer_zone_set
from reautomation.views import healthz

admin.site.site_header = "REAutomation"
admin.site.site_title = "REAutomation admin"
admin.site.index_title = "Leads, campaigns and calls"
admin.site.login_form = ThrottledAdminAuthenticationForm

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    # The unversioned paths: the same views, kept for the integrations written against them (docs/api.md).
    # Reversing "api:..." gives the /api/v1/ path, and openapi.json lists each operation once, under it.
    path("api/", include((api.urls[0], "ninja"), namespace="api-unversioned")),
    # Last under api/: any other api/ path answers a JSON 404 rather than a redirect or an HTML page.
    re_path(r"^api/", api_not_found),
    path("twilio/", include("integrations.twilio.urls")),
    path("calendar/", include("integrations.calendar.urls")),
    path("dashboard/", include("dashboard.urls")),
    path(
        "accounts/login/", auth_views.LoginView.as_view(authentication_form=ThrottledAuthenticationForm), name="login"
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/timezone/", viewer_zone_set, name="viewer_zone"),
    path("", RedirectView.as_view(pattern_name="dashboard:campaign_list", permanent=False)),
]
