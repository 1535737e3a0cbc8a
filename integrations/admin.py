"""Admin for connections, the message log, canonical events and code mappings.

Inbound messages, canonical events and outbound messages are the audit
trail: the admin shows them read-only, never adds or deletes them, and
changes them only through the replay services.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from simple_history.admin import SimpleHistoryAdmin

from api.models import WebhookSubscription
from integrations.mappings import code_mapping_key, inbound_blocked_by
from integrations.models import (
    AckWatch,
    CanonicalEvent,
    CircuitBreaker,
    CodeMapping,
    Connection,
    InboundMessage,
    OutboxMessage,
    X12ControlNumbers,
)
from integrations.outbox import outbox_message_replay
from integrations.rotation import connection_rotate_inbound_secret
from integrations.services import inbound_message_replay
from shipments.admin import ReadOnlyAdminMixin

logger = logging.getLogger(__name__)

# Bodies are kept up to the inbound size limit (10 MB by default); a page
# that large helps nobody, so the detail page shows the head of the body.
RAW_BODY_DISPLAY_BYTES = 256 * 1024
ERROR_COLUMN_CHARS = 80


def _pre(text: str) -> SafeString:
    return format_html('<pre class="raw-text">{}</pre>', text)


def _pretty_json(value: Any) -> SafeString:
    return _pre(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False))


class AuditTrailAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Show audit rows read-only: no add, no change form, no delete."""

    # The tables grow without end; counting all of them on every page costs
    # more than the number is worth.
    show_full_result_count = False

    def has_replay_permission(self, request: HttpRequest) -> bool:
        """Let whoever may change the model's rows replay them."""
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")


def _run_replay(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    replay: Callable[..., int],
) -> None:
    """Call a replay service for the selected rows, then record and report it."""
    ids = list(queryset.values_list("pk", flat=True))
    count = replay(message_ids=ids)

    LogEntry.objects.log_actions(
        user_id=request.user.pk,
        queryset=queryset,
        action_flag=CHANGE,
        change_message="Replayed from the admin.",
    )
    logger.info(
        "admin replay of %s %s message(s)",
        count,
        modeladmin.opts.model_name,
        extra={"actor": request.user.get_username(), "message_ids": ids},
    )

    modeladmin.message_user(
        request,
        f"Replayed {count} of {len(ids)} selected message(s).",
        messages.SUCCESS,
    )


# Below the dispatch task's soft time limit, with room for an OAuth2 token fetch.
_MAX_TIMEOUT_SECONDS = 60


# The X12 profile fields, a row each as the admin shows them.
_X12_PROFILE_ROWS = [
    ("x12_sender_qualifier", "x12_sender_id"),
    ("x12_receiver_qualifier", "x12_receiver_id"),
    (
        "x12_element_separator",
        "x12_component_separator",
        "x12_segment_terminator",
        "x12_repetition_separator",
    ),
    ("x12_isa_version", "x12_gs_version", "x12_usage"),
    ("x12_extended_characters", "x12_one_line"),
]


class ConnectionForm(forms.ModelForm):
    """Edit a connection without ever sending a secret back to the browser."""

    # Declared to read a URL typed without a scheme as https, as Django 6 will.
    base_url = forms.URLField(
        required=False,
        assume_scheme="https",
        help_text=Connection._meta.get_field("base_url").help_text,
    )

    oauth_token_url = forms.URLField(
        required=False,
        assume_scheme="https",
        help_text="Where the hub obtains OAuth2 client-credentials tokens.",
    )

    inbound_secret = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Shared secret for signed inbound webhooks. "
        "Leave blank to keep the current one.",
    )
    outbound_secret = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="The API key, HMAC key or OAuth2 client secret, as the "
        "outbound authentication needs. Leave blank to keep the current one.",
    )

    class Meta:
        model = Connection
        fields = [
            "code",
            "name",
            "kind",
            "protocol",
            "scac",
            "base_url",
            "inbound_secret",
            "secret_overlap_seconds",
            "outbound_auth",
            "outbound_secret",
            "api_key_header",
            "oauth_token_url",
            "oauth_client_id",
            "oauth_scope",
            "timeout_seconds",
            "max_attempts",
            "retry_base_seconds",
            "retry_max_seconds",
            "ack_window_minutes",
            "queue",
            "breaker_threshold",
            "breaker_reset_seconds",
            "enabled",
            "sending_enabled",
            *(name for row in _X12_PROFILE_ROWS for name in row),
        ]

    def clean_inbound_secret(self) -> str:
        typed = self.cleaned_data["inbound_secret"]
        current = self.instance.inbound_secret
        if typed and current and typed != current:
            # A secret typed in is a rotation too: senders still signing with
            # the old one keep working for the overlap window.
            self.instance.previous_inbound_secret = current
            self.instance.inbound_secret_rotated_at = timezone.now()
        return typed or current

    def clean_timeout_seconds(self) -> float:
        timeout = self.cleaned_data["timeout_seconds"]
        if not 0.1 <= timeout <= _MAX_TIMEOUT_SECONDS:
            # The send runs inside a task with a time limit; a timeout outside
            # these bounds either cannot work or outlives the task.
            raise forms.ValidationError(
                f"Give a timeout between 0.1 and {_MAX_TIMEOUT_SECONDS} seconds."
            )
        return timeout

    def clean_outbound_secret(self) -> str:
        return self.cleaned_data["outbound_secret"] or self.instance.outbound_secret

    def clean_api_key_header(self) -> str:
        header = self.cleaned_data["api_key_header"]
        if header and not _HEADER_NAME.fullmatch(header):
            raise forms.ValidationError(
                "A header name has letters, digits and hyphens only."
            )
        return header

    def clean_queue(self) -> str:
        queue = self.cleaned_data["queue"]
        if not queue:
            return queue
        if not _QUEUE_NAME.fullmatch(queue):
            raise forms.ValidationError(
                "A queue name has lower-case letters, digits, dots, hyphens and "
                "underscores, and starts with a letter or digit."
            )
        if queue in _SHARED_QUEUES:
            # Outbound sends on these would wait behind inbound processing
            # and beat tasks, which per-destination queues exist to prevent.
            raise forms.ValidationError(
                f"{queue} carries the hub's own tasks; choose an outbox queue "
                "such as outbox.<name>."
            )
        return queue

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self._check_retry_policy(cleaned)
        if cleaned.get("base_url"):
            self._check_outbound_credentials(cleaned)
        return cleaned

    def _check_retry_policy(self, cleaned: dict[str, Any]) -> None:
        base = cleaned.get("retry_base_seconds")
        longest = cleaned.get("retry_max_seconds")
        if base is not None and base < 1:
            self.add_error("retry_base_seconds", "Wait at least one second.")
        elif base is not None and longest is not None and longest < base:
            self.add_error(
                "retry_max_seconds", "The longest wait cannot be below the first."
            )

    def _check_outbound_credentials(self, cleaned: dict[str, Any]) -> None:
        mode = cleaned.get("outbound_auth")
        if mode == Connection.OutboundAuth.NONE:
            return
        if not cleaned.get("outbound_secret"):
            self.add_error("outbound_secret", f"{_AUTH_LABELS[mode]} needs a secret.")
        if mode == Connection.OutboundAuth.OAUTH2:
            for name in ("oauth_token_url", "oauth_client_id"):
                if not cleaned.get(name):
                    self.add_error(name, "OAuth2 client credentials need this.")


_HEADER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
_QUEUE_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")
_SHARED_QUEUES = frozenset({"celery", "inbound"})
_AUTH_LABELS = dict(Connection.OutboundAuth.choices)


class WebhookSubscriptionInline(admin.TabularInline):
    model = WebhookSubscription
    extra = 0
    fields = ["account", "event_type", "active", "created_at"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["account"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookSubscription]:
        queryset = super().get_queryset(request)
        return queryset.select_related("partner", "account")


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    form = ConnectionForm
    readonly_fields = ["inbound_secret_rotated_at", "previous_secret_valid_until"]
    actions = ["rotate_inbound_secret"]
    list_display = [
        "code",
        "name",
        "kind",
        "protocol",
        "base_url",
        "enabled",
        "sending_enabled",
        "has_inbound_secret",
        "has_outbound_secret",
        "breaker_state",
    ]
    list_filter = ["kind", "protocol", "enabled", "sending_enabled"]
    list_select_related = ["breaker"]
    search_fields = ["code", "name", "scac"]
    inlines = [WebhookSubscriptionInline]

    def get_fieldsets(
        self, request: HttpRequest, obj: Connection | None = None
    ) -> list[tuple[str | None, dict[str, Any]]]:
        """Show the X12 partner profile apart, folded, at the end."""
        x12 = {name for row in _X12_PROFILE_ROWS for name in row}
        fields = [name for name in self.get_fields(request, obj) if name not in x12]
        return [
            (None, {"fields": fields}),
            (
                "X12 partner profile",
                {
                    "classes": ["collapse"],
                    "description": "How interchanges for this partner are "
                    "written. Leave a setting blank for the default shown.",
                    "fields": _X12_PROFILE_ROWS,
                },
            ),
        ]

    @admin.display(boolean=True, description="Inbound secret")
    def has_inbound_secret(self, obj: Connection) -> bool:
        return bool(obj.inbound_secret)

    @admin.display(boolean=True, description="Outbound secret")
    def has_outbound_secret(self, obj: Connection) -> bool:
        return bool(obj.outbound_secret)

    @admin.display(description="Breaker")
    def breaker_state(self, obj: Connection) -> str:
        try:
            return obj.breaker.state
        except CircuitBreaker.DoesNotExist:
            # A connection gets its breaker row on its first failed send.
            return CircuitBreaker.State.CLOSED

    def save_model(
        self, request: HttpRequest, obj: Connection, form: forms.ModelForm, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        if change and "sending_enabled" in form.changed_data and obj.sending_enabled:
            self.message_user(
                request,
                f"Sending to {obj.code} is on again: held messages go out at the "
                "next sweep. Replay its dead messages to send them too.",
                messages.SUCCESS,
            )
        if not change or {"queue", "code"} & set(form.changed_data):
            # Workers read their queue list when they start; until a restart
            # this connection's messages wait in the broker (and the database).
            self.message_user(
                request,
                f"Outbound messages of {obj.code} now travel on {obj.queue_name}. "
                "Workers consume it from their next start: restart them with "
                "the layout `manage.py worker_queues --layout` prints (one worker "
                "per line).",
                messages.WARNING,
            )

    @admin.display(description="Previous inbound secret valid until")
    def previous_secret_valid_until(self, obj: Connection) -> dt.datetime | None:
        return _previous_valid_until(obj)

    @admin.action(description="Rotate inbound secret", permissions=["change"])
    def rotate_inbound_secret(
        self, request: HttpRequest, queryset: QuerySet
    ) -> TemplateResponse:
        """Rotate each selected connection's secret and show the new ones once."""
        rotated = []
        for pk in queryset.order_by("pk").values_list("pk", flat=True):
            connection, secret = connection_rotate_inbound_secret(connection_id=pk)
            self.log_change(request, connection, "Rotated the inbound secret.")
            rotated.append(
                {
                    "connection": connection,
                    "secret": secret,
                    "previous_valid_until": _previous_valid_until(connection),
                }
            )
        logger.info(
            "admin rotated %s inbound secret(s)",
            len(rotated),
            extra={"actor": request.user.get_username()},
        )

        context = {
            **self.admin_site.each_context(request),
            "title": "New inbound secrets",
            "rotated": rotated,
        }
        response = TemplateResponse(
            request, "admin/integrations/connection/secret_rotated.html", context
        )
        # The page holds secrets: no browser or proxy may keep a copy.
        response["Cache-Control"] = "no-store"
        return response


def _previous_valid_until(connection: Connection) -> dt.datetime | None:
    if not (
        connection.previous_inbound_secret and connection.inbound_secret_rotated_at
    ):
        return None
    overlap = dt.timedelta(seconds=connection.secret_overlap_seconds)
    return connection.inbound_secret_rotated_at + overlap


@admin.register(X12ControlNumbers)
class X12ControlNumbersAdmin(admin.ModelAdmin):
    list_display = ["connection", "last_interchange", "last_group", "last_transaction"]
    list_select_related = ["connection"]
    search_fields = ["connection__code"]


@admin.register(AckWatch)
class AckWatchAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "connection",
        "group_control",
        "interchange_control",
        "functional_id",
        "state",
        "sent_at",
        "due_at",
        "acknowledged_at",
    ]
    list_filter = ["state", "connection"]
    list_select_related = ["connection"]
    search_fields = ["group_control", "interchange_control", "connection__code"]


@admin.register(CircuitBreaker)
class CircuitBreakerAdmin(admin.ModelAdmin):
    list_display = ["connection", "state", "failures", "open_until", "changed_at"]
    list_filter = ["state"]
    list_select_related = ["connection"]
    search_fields = ["connection__code"]
    readonly_fields = ["changed_at"]


class CanonicalEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CanonicalEvent
    fk_name = "inbound_message"
    extra = 0
    fields = ["type", "subject", "time", "state", "error"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[CanonicalEvent]:
        queryset = super().get_queryset(request)
        return queryset.select_related("inbound_message__connection")


@admin.register(InboundMessage)
class InboundMessageAdmin(AuditTrailAdmin):
    list_display = [
        "received_at",
        "connection",
        "message_id",
        "state",
        "attempts",
        "short_error",
        "filename",
        "correlation_id",
    ]
    list_filter = ["state", "connection"]
    list_select_related = ["connection"]
    search_fields = ["=message_id", "=correlation_id", "=sha256", "filename"]
    date_hierarchy = "received_at"
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "connection",
                    "message_id",
                    "state",
                    "attempts",
                    "correlation_id",
                    "received_at",
                    "processed_at",
                    "next_attempt_at",
                    "queued_at",
                    "error_text",
                ]
            },
        ),
        (
            "Raw message",
            {
                "fields": [
                    "content_type",
                    "filename",
                    "sha256",
                    "body_check",
                    "raw_body",
                ]
            },
        ),
    ]
    readonly_fields = ["error_text", "body_check", "raw_body"]
    inlines = [CanonicalEventInline]
    actions = ["replay_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[InboundMessage]:
        # A body can be megabytes: the list never needs it, and the detail
        # page loads it on first use.
        return super().get_queryset(request).defer("body")

    @admin.display(description="Error")
    def short_error(self, obj: InboundMessage) -> str:
        return Truncator(obj.error).chars(ERROR_COLUMN_CHARS)

    @admin.display(description="Error")
    def error_text(self, obj: InboundMessage) -> SafeString:
        return _pre(obj.error)

    @admin.display(description="SHA-256 of the body")
    def body_check(self, obj: InboundMessage) -> str:
        digest = hashlib.sha256(bytes(obj.body)).hexdigest()
        if digest == obj.sha256:
            return f"{digest} (matches the stored hash)"
        return f"{digest} (does NOT match the stored hash)"

    @admin.display(description="Body (as UTF-8 text)")
    def raw_body(self, obj: InboundMessage) -> SafeString:
        body = bytes(obj.body)
        text = body[:RAW_BODY_DISPLAY_BYTES].decode("utf-8", errors="replace")
        if len(body) > RAW_BODY_DISPLAY_BYTES:
            note = f"First {RAW_BODY_DISPLAY_BYTES} of {len(body)} bytes."
            return format_html("<p>{}</p>{}", note, _pre(text))
        return _pre(text)

    @admin.action(description="Replay selected messages", permissions=["replay"])
    def replay_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        _run_replay(self, request, queryset, inbound_message_replay)


@admin.register(CanonicalEvent)
class CanonicalEventAdmin(AuditTrailAdmin):
    list_display = [
        "time",
        "type",
        "subject",
        "state",
        "source",
        "event_id",
        "correlation_id",
        "inbound_message",
    ]
    list_filter = ["state", "type"]
    list_select_related = ["inbound_message__connection"]
    search_fields = ["=subject", "=correlation_id", "=event_id"]
    date_hierarchy = "time"
    fields = [
        "type",
        "subject",
        "time",
        "state",
        "error",
        "source",
        "event_id",
        "correlation_id",
        "inbound_message",
        "recorded_at",
        "data_json",
    ]
    readonly_fields = ["data_json"]

    @admin.display(description="Data")
    def data_json(self, obj: CanonicalEvent) -> SafeString:
        return _pretty_json(obj.data)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(AuditTrailAdmin):
    list_display = [
        "created_at",
        "destination",
        "type",
        "subject",
        "state",
        "attempts",
        "next_attempt_at",
        "response_status",
        "short_error",
    ]
    list_filter = ["state", "destination", "type"]
    list_select_related = ["destination"]
    search_fields = ["=subject", "=correlation_id", "=idempotency_key"]
    date_hierarchy = "created_at"
    fields = [
        "destination",
        "type",
        "subject",
        "state",
        "attempts",
        "next_attempt_at",
        "queued_at",
        "response_status",
        "delivered_at",
        "idempotency_key",
        "correlation_id",
        "created_at",
        "last_error",
        "error_history",
        "payload_json",
    ]
    readonly_fields = ["error_history", "payload_json"]
    actions = ["replay_selected"]

    @admin.display(description="Last error")
    def short_error(self, obj: OutboxMessage) -> str:
        return Truncator(obj.last_error).chars(ERROR_COLUMN_CHARS)

    @admin.display(description="Payload")
    def payload_json(self, obj: OutboxMessage) -> SafeString:
        return _pretty_json(obj.payload)

    @admin.display(description="Error history")
    def error_history(self, obj: OutboxMessage) -> SafeString:
        if not obj.errors:
            return format_html("<p>{}</p>", "No failed attempts.")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td></tr>",
            ((entry.get("at", ""), entry.get("error", "")) for entry in obj.errors),
        )
        return format_html(
            '<table class="error-history"><thead><tr><th>At</th><th>Error</th>'
            "</tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    @admin.action(description="Replay selected messages", permissions=["replay"])
    def replay_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        _run_replay(self, request, queryset, outbox_message_replay)


@admin.register(CodeMapping)
class CodeMappingAdmin(SimpleHistoryAdmin):
    """Edit mappings; every change is kept and shown under History."""

    list_display = [
        "source",
        "category",
        "external_code",
        "canonical_value",
        "description",
        "updated_at",
    ]
    list_display_links = ["source"]
    list_editable = ["external_code", "canonical_value"]
    list_filter = ["source", "category"]
    search_fields = ["external_code", "canonical_value", "description"]
    history_list_display = ["canonical_value", "external_code", "description"]
    actions = ["replay_blocked"]

    def has_replay_permission(self, request: HttpRequest) -> bool:
        """Let whoever may replay inbound messages replay these."""
        return request.user.has_perm("integrations.change_inboundmessage")

    @admin.action(
        description="Replay every message this mapping blocked",
        permissions=["replay"],
    )
    def replay_blocked(self, request: HttpRequest, queryset: QuerySet) -> None:
        """Replay the needs-attention messages each selected mapping blocked."""
        keys = [code_mapping_key(mapping) for mapping in queryset]
        ids = sorted(
            {pk for key in keys for pk in _blocked_ids(key)},
        )
        count = inbound_message_replay(message_ids=ids) if ids else 0
        logger.info(
            "admin replay of %s message(s) blocked by mappings",
            count,
            extra={"actor": request.user.get_username(), "keys": keys},
        )
        for mapping in queryset:
            self.log_change(request, mapping, "Replayed the messages it blocked.")
        self.message_user(
            request,
            f"Replayed {count} message(s) blocked by {len(keys)} mapping(s).",
            messages.SUCCESS,
        )


def _blocked_ids(key: str) -> list[int]:
    return list(inbound_blocked_by(key=key).values_list("pk", flat=True))


@admin.register(CodeMapping.history.model)
class HistoricalCodeMappingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every version of every mapping: who changed what, and when."""

    list_display = [
        "history_date",
        "history_type",
        "source",
        "category",
        "external_code",
        "canonical_value",
        "history_user",
    ]
    list_filter = ["history_type", "category", "source"]
    list_select_related = ["history_user"]
    search_fields = ["external_code", "canonical_value"]
    date_hierarchy = "history_date"


# The subscriptions' partners are connections, so they are kept here beside
# them rather than in an admin module of the API app.
@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["partner", "account", "event_type", "active", "created_at"]
    list_filter = ["event_type", "active", "partner"]
    list_select_related = ["partner", "account"]
    search_fields = ["partner__code", "account__number", "account__name"]
    autocomplete_fields = ["account"]
    date_hierarchy = "created_at"

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField:
        """Offer only partner connections as subscribers."""
        if db_field.name == "partner":
            kwargs["queryset"] = Connection.objects.filter(kind=Connection.Kind.PARTNER)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
