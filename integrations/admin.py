"""Admin for integrations: REST API keys, shown in full only on the page that creates them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse

from common.access import Viewer
from integrations.models import ApiKey
from integrations.scopes import (
    ACTS_FOR_NOT_ALLOWED,
    acts_for_allowed,
    scope_permissions_lacking,
    scopes_not_held_message,
)
from integrations.services import api_key_create, api_key_revoke, api_key_update

if TYPE_CHECKING:
    _ApiKeyForm = forms.ModelForm[ApiKey]
    _ApiKeyAdmin = admin.ModelAdmin[ApiKey]
else:
    # django-stubs makes these generic for mypy; Django's own are not subscriptable at run time.
    _ApiKeyForm = forms.ModelForm
    _ApiKeyAdmin = admin.ModelAdmin


class ApiKeyForm(_ApiKeyForm):
    scopes = forms.MultipleChoiceField(
        choices=ApiKey.Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="You can grant only scopes whose permissions you hold; the key stops using any its creator loses.",
    )
    # Set by ApiKeyAdmin.get_form; with nobody set, no scope can be granted.
    acting_user: Any = None

    class Meta:
        model = ApiKey
        fields = ["name", "scopes", "acts_for", "rate_limit_per_minute", "expires_at", "is_active"]

    def clean_acts_for(self) -> Any:
        acts_for = self.cleaned_data.get("acts_for")
        if not acts_for_allowed(user=self.acting_user, acts_for=acts_for):
            raise forms.ValidationError(ACTS_FOR_NOT_ALLOWED, code="acts_for_not_allowed")
        return acts_for

    def clean_scopes(self) -> list[str]:
        scopes: list[str] = self.cleaned_data["scopes"]
        missing = scope_permissions_lacking(user=self.acting_user, scopes=scopes)
        if missing:
            raise forms.ValidationError(scopes_not_held_message(missing), code="scope_not_held")
        return scopes


@admin.register(ApiKey)
class ApiKeyAdmin(_ApiKeyAdmin):
    form = ApiKeyForm
    list_display = ["name", "key_display", "scopes_display", "is_active", "last_used_at", "expires_at", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "prefix"]
    readonly_fields = ["key_display", "last_used_at", "created_by", "created_at"]
    list_select_related = ["created_by"]
    actions = ["revoke"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiKey]:
        # An agent manages the keys they made; a manager, every key.
        keys = super().get_queryset(request)
        return keys if Viewer.of(request.user).sees_all else keys.filter(created_by_id=request.user.pk)

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("name", "scopes", "acts_for", "rate_limit_per_minute", "expires_at")
        return (
            "name",
            "key_display",
            "scopes",
            "acts_for",
            "rate_limit_per_minute",
            "expires_at",
            "is_active",
            *self.readonly_fields[1:],
        )

    def get_form(self, request: HttpRequest, obj: ApiKey | None = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        # A subclass per request: the admin instantiates the class itself, so the user travels on it.
        return type(form.__name__, (form,), {"acting_user": request.user})

    @admin.display(description="Key")
    def key_display(self, obj: ApiKey) -> str:
        return f"rea_{obj.prefix}_…"

    @admin.display(description="Scopes")
    def scopes_display(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes) or "—"

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            changes = {name: getattr(obj, name) for name in form.changed_data}
            api_key_update(api_key=obj, edited_by=request.user, **changes)
            return
        created, raw_key = api_key_create(
            name=obj.name,
            scopes=obj.scopes,
            created_by=request.user,
            rate_limit_per_minute=obj.rate_limit_per_minute,
            expires_at=obj.expires_at,
            acts_for=obj.acts_for,
        )
        # The admin goes on with `obj` (change log, response_add): make it the saved row.
        for field in ApiKey._meta.concrete_fields:
            setattr(obj, field.attname, getattr(created, field.attname))
        obj._state.adding = False
        # Kept on the request only, for response_add: the key never reaches a message cookie or the session.
        request._api_key_raw = raw_key  # type: ignore[attr-defined]

    def response_add(self, request: HttpRequest, obj: ApiKey, post_url_continue: str | None = None) -> HttpResponse:
        raw_key = getattr(request, "_api_key_raw", None)
        if raw_key is None:
            return super().response_add(request, obj, post_url_continue)
        context = {**self.admin_site.each_context(request), "api_key": obj, "raw_key": raw_key, "opts": self.opts}
        response = TemplateResponse(request, "admin/integrations/apikey/created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        keys = list(queryset.filter(is_active=True))
        for api_key in keys:
            api_key_revoke(api_key=api_key)
        self.message_user(request, f"Revoked {len(keys)} key{pluralize(len(keys))}.", messages.SUCCESS)
