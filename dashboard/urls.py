"""The dashboard's pages (server-rendered from templates/dashboard/)."""

from __future__ import annotations

from django.urls import path

from dashboard import views, worklist_views

app_name = "dashboard"

urlpatterns = [
    path("", views.campaign_list, name="campaign_list"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/start/", views.campaign_start, name="campaign_start"),
    path("campaigns/<int:pk>/pause/", views.campaign_pause_view, name="campaign_pause"),
    path("campaigns/<int:pk>/upload/", views.campaign_upload, name="campaign_upload"),
    path("calls/<int:pk>/", views.call_detail, name="call_detail"),
    path("calls/<int:pk>/recording", views.call_recording, name="call_recording"),
    path("leads/", worklist_views.lead_list, name="lead_list"),
    path("leads/export.csv", worklist_views.lead_export, name="lead_export"),
    path("leads/add-to-campaign/", worklist_views.leads_campaign_add, name="leads_campaign_add"),
    path("leads/<int:pk>/", views.lead_detail, name="lead_detail"),
    path("leads/<int:pk>/notes/", worklist_views.lead_note_add, name="lead_note_add"),
    path("live/", views.live_monitor, name="live"),
    path("campaigns/<int:pk>/test-call/", views.test_call, name="test_call"),
]
