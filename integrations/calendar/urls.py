from __future__ import annotations

from django.urls import path

from integrations.calendar import views

urlpatterns = [
    path("invites/<str:token>.ics", views.invite, name="calendar-invite"),
    path("feeds/<str:token>.ics", views.feed, name="calendar-feed"),
]
