"""Admin for outbound webhooks: endpoints with their events and secret, the delivery log and a replay action."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import pluralize
from django.utils.html import format_html

from calls.admin import CappedPaginator
from integrations.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from integrations.webhooks.services import webhook_delivery_replay, webhook_endpoint_secret_rotate

if TYPE_CHECKING:
    _EndpointForm = forms.ModelForm[WebhookEndpoint]
    _EndpointAdmin = admin.ModelAdmin[WebhookEndpoint]
    _DeliveryAdmin = admin.ModelAdmin[WebhookDelivery]
else:
    # django-stubs makes these generic for mypy; Django's own are not subscriptable at run time.
    _EndpointForm = forms.ModelForm
    _EndpointAdmin = _DeliveryAdmin = admin.ModelAdmin


class WebhookEndpointForm(_EndpointForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "events", "is_active"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(_EndpointAdmin):
    form = WebhookEndpointForm
    list_display = ["name", "url", "events_display", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "url"]
    readonly_fields = ["secret", "created_at"]
    actions = ["rotate_secret"]

    @admin.display(description="Events")
    def events_display(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.events or []) or "—"

    @admin.action(description="Give selected endpoints a new signing secret", permissions=["change"])
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        endpoints = [webhook_endpoint_secret_rotate(endpoint=endpoint) for endpoint in queryset]
        self.message_user(
            request,
            f"{len(endpoints)} endpoint{pluralize(len(endpoints))} now sign with a new secret; "
            "update the receivers before the next event.",
            messages.WARNING,
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(_DeliveryAdmin):
    list_display = [
        "created_at", "event", "endpoint", "status", "attempts", "response_code", "next_retry_at", "replay_of_id",
    ]  # fmt: skip
    list_filter = ["status", "event", "endpoint"]
    list_select_related = ["endpoint"]
    search_fields = ["=event_id"]
    date_hierarchy = "created_at"
    paginator = CappedPaginator
    show_full_result_count = False
    readonly_fields = [
        "endpoint", "event", "event_id", "status", "attempts", "response_code", "response_body", "error",
        "next_retry_at", "last_attempt_at", "delivered_at", "replay_of", "created_at", "payload_pretty",
    ]  # fmt: skip
    exclude = ["payload"]
    actions = ["replay"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: WebhookDelivery | None = None) -> bool:
        return False

    @admin.display(description="Payload")
    def payload_pretty(self, obj: WebhookDelivery) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, sort_keys=True))

    def has_replay_permission(self, request: HttpRequest) -> bool:
        # The log itself is read-only, so replaying needs its own check.
        return request.user.has_perm("integrations.change_webhookdelivery")

    @admin.action(description="Replay selected deliveries (send the same event again)", permissions=["replay"])
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        replays = [webhook_delivery_replay(delivery=delivery) for delivery in queryset.select_related("endpoint")]
        self.message_user(
            request, f"{len(replays)} deliver{pluralize(len(replays), 'y,ies')} queued again.", messages.SUCCESS
        )
