from __future__ import annotations

from django.urls import path

from integrations.twilio import views

app_name = "twilio"
urlpatterns = [
    path("voice/", views.voice, name="voice"),
    path("status/", views.status, name="status"),
    path("amd/", views.amd, name="amd"),
    path("voicemail/<int:call_id>/<str:token>.wav", views.voicemail_audio, name="voicemail_audio"),
]
