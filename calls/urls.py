"""The dashboard's pages (server-rendered from templates/dashboard/)."""

from __future__ import annotations

from django.urls import path

from calls import views

app_name = "dashboard"

urlpatterns = [
    path("live/", views.live_monitor, name="live"),
]
