"""The dashboard's pages (server-rendered from templates/dashboard/)."""

from __future__ import annotations

from django.urls import path

from dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.campaign_list, name="campaign_list"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign_detail"),
    path("calls/<int:pk>/", views.call_detail, name="call_detail"),
    path("calls/<int:pk>/recording", views.call_recording, name="call_recording"),
    path("leads/<int:pk>/", views.lead_detail, name="lead_detail"),
    path("live/", views.live_monitor, name="live"),
    path("campaigns/<int:pk>/test-call/", views.test_call, name="test_call"),
]
