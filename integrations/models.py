"""Connections, the inbound log, canonical events, the outbox and mappings."""

import dataclasses
import re
import string
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from integrations.edi.writer import (
    BASIC_CHARACTERS,
    EXTENDED_CHARACTERS,
    Profile,
    X12WriteError,
)


class Connection(models.Model):
    """One external system instance the hub talks to."""

    class Kind(models.TextChoices):
        ERP = "erp", "ERP"
        WMS = "wms", "WMS"
        TMS = "tms", "TMS"
        CARRIER = "carrier", "Carrier"
        PARTNER = "partner", "Partner"

    class Protocol(models.TextChoices):
        HTTP_JSON = "http_json", "HTTP JSON"
        X12_FILE = "x12_file", "X12 file"
        CSV_FILE = "csv_file", "CSV file"
        EDIFACT = "edifact", "EDIFACT file"

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    protocol = models.CharField(
        max_length=10, choices=Protocol.choices, default=Protocol.HTTP_JSON
    )
    scac = models.CharField(
        max_length=4,
        blank=True,
        help_text="For a carrier connection: the carrier's SCAC.",
    )
    base_url = models.URLField(
        blank=True, help_text="Where outbound messages are POSTed."
    )
    inbound_secret = models.CharField(
        max_length=200,
        blank=True,
        help_text="Shared secret for signed inbound webhooks.",
    )
    outbound_secret = models.CharField(
        max_length=200,
        blank=True,
        help_text="Secret the hub signs outbound messages with.",
    )
    previous_inbound_secret = models.CharField(
        max_length=200,
        blank=True,
        help_text="The secret before the last rotation, still accepted until "
        "the overlap window ends.",
    )
    inbound_secret_rotated_at = models.DateTimeField(null=True, blank=True)
    secret_overlap_seconds = models.PositiveIntegerField(
        default=24 * 3600,
        help_text="How long the previous inbound secret stays valid after a rotation.",
    )

    class OutboundAuth(models.TextChoices):
        NONE = "none", "None"
        API_KEY = "api_key", "API key header"
        HMAC = "hmac", "HMAC signature (Standard Webhooks)"
        OAUTH2 = "oauth2", "OAuth2 client credentials"

    outbound_auth = models.CharField(
        max_length=10,
        choices=OutboundAuth.choices,
        default=OutboundAuth.HMAC,
        help_text="How outbound requests prove who sent them; the secret is "
        "the outbound secret (API key, HMAC key or OAuth2 client secret).",
    )
    api_key_header = models.CharField(max_length=60, blank=True, default="X-Api-Key")
    oauth_token_url = models.URLField(blank=True)
    oauth_client_id = models.CharField(max_length=200, blank=True)
    oauth_scope = models.CharField(max_length=200, blank=True)
    timeout_seconds = models.FloatField(default=5.0)
    max_attempts = models.PositiveSmallIntegerField(default=8)
    retry_base_seconds = models.PositiveIntegerField(
        default=30, help_text="First retry delay; each later one doubles, with jitter."
    )
    retry_max_seconds = models.PositiveIntegerField(
        default=6 * 3600, help_text="The longest wait between two attempts."
    )
    ack_window_minutes = models.PositiveIntegerField(
        default=0,
        help_text="Minutes an acknowledgement (an X12 997) may take before a "
        "delayed-acknowledgement case opens; 0 means none is expected.",
    )
    queue = models.CharField(
        max_length=60,
        blank=True,
        help_text="Celery queue for this connection's outbound messages; "
        "empty means outbox.<code>.",
    )
    breaker_threshold = models.PositiveSmallIntegerField(
        default=5, help_text="Consecutive failed sends that open the circuit breaker."
    )
    breaker_reset_seconds = models.PositiveIntegerField(
        default=30, help_text="How long an open breaker waits before one trial send."
    )
    enabled = models.BooleanField(
        default=True,
        help_text="Off: the hub neither accepts messages from this system nor "
        "sends any to it.",
    )
    sending_enabled = models.BooleanField(
        default=True,
        help_text="Off: nothing is sent to this system, while its inbound "
        "messages are still accepted. Turned off when the destination answers "
        "410 Gone; turn it on again once the base URL is fixed. Messages held "
        "meanwhile then go out; replay the dead ones.",
    )

    # How the hub writes X12 for this partner; each blank setting takes the
    # writer's default (integrations.edi.writer.Profile).
    class X12Qualifier(models.TextChoices):
        DUNS = "01", "01 D-U-N-S number"
        SCAC = "02", "02 SCAC"
        UCC_COMMUNICATIONS = "08", "08 UCC EDI communications id"
        X121 = "09", "09 X.121 (CCITT)"
        PHONE = "12", "12 Phone number"
        DUNS_SUFFIX = "14", "14 D-U-N-S number with suffix"
        DUNS_CHARACTER_SUFFIX = "16", "16 D-U-N-S number with 4-character suffix"
        HIN = "20", "20 Health industry number"
        FEDERAL_TAX_ID = "30", "30 U.S. federal tax id"
        NAIC = "33", "33 NAIC company code"
        MUTUALLY_DEFINED = "ZZ", "ZZ Mutually defined"

    class X12Usage(models.TextChoices):
        PRODUCTION = "P", "P Production"
        TEST = "T", "T Test"
        INFORMATION = "I", "I Information"

    x12_sender_qualifier = models.CharField(
        "sender id qualifier (ISA05)",
        max_length=2,
        blank=True,
        choices=X12Qualifier,
        help_text="Blank: ZZ.",
    )
    x12_sender_id = models.CharField(
        "sender id (ISA06, GS02)",
        max_length=15,
        blank=True,
        help_text="The hub's id as this partner knows it. Blank: WAYBILL.",
    )
    x12_receiver_qualifier = models.CharField(
        "receiver id qualifier (ISA07)",
        max_length=2,
        blank=True,
        choices=X12Qualifier,
        help_text="Blank: ZZ.",
    )
    x12_receiver_id = models.CharField(
        "receiver id (ISA08, GS03)",
        max_length=15,
        blank=True,
        help_text="The partner's id. Blank: its SCAC, else the connection code.",
    )
    x12_element_separator = models.CharField(
        "element separator", max_length=1, blank=True, help_text="Blank: *"
    )
    x12_component_separator = models.CharField(
        "component separator (ISA16)", max_length=1, blank=True, help_text="Blank: :"
    )
    x12_segment_terminator = models.CharField(
        "segment terminator", max_length=1, blank=True, help_text="Blank: ~"
    )
    x12_repetition_separator = models.CharField(
        "repetition separator (ISA11 from 00402)",
        max_length=1,
        blank=True,
        help_text="Blank: ^",
    )
    x12_isa_version = models.CharField(
        "ISA version (ISA12)", max_length=5, blank=True, help_text="Blank: 00401."
    )
    x12_gs_version = models.CharField(
        "GS version (GS08)", max_length=12, blank=True, help_text="Blank: 004010."
    )
    x12_usage = models.CharField(
        "usage (ISA15)",
        max_length=1,
        blank=True,
        choices=X12Usage,
        help_text="Blank: P.",
    )
    x12_extended_characters = models.BooleanField(
        "extended character set",
        default=False,
        help_text="Write lower case and %@[]_{}\\|<>#$ too. Off: the basic "
        "character set every partner reads (upper case).",
    )
    x12_one_line = models.BooleanField(
        "no line breaks",
        default=False,
        help_text="Write the interchange as one line. Off: a new line after "
        "each segment terminator.",
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    @property
    def queue_name(self) -> str:
        """Return the Celery queue that carries this connection's outbound messages."""
        return self.queue or f"outbox.{self.code}"

    def clean(self) -> None:
        """Refuse an X12 profile that cannot give a valid interchange."""
        if any(
            len(getattr(self, field)) > self._meta.get_field(field).max_length
            for field in _X12_OPTIONS
        ):
            # Django's field check names the value that is too long; the
            # checks below assume each value fits its field.
            return

        errors = _x12_separator_errors(self)
        if not errors:
            errors.update(_x12_id_errors(self))
        errors.update(_x12_version_errors(self))
        if errors:
            raise ValidationError(errors)

        # The writer has the last word; the checks above exist to name the
        # field and say what would do instead.
        options = self.x12_writer_options()
        try:
            Profile(**{"sender_id": "X", "receiver_id": "X", **options})
        except X12WriteError as exc:
            raise ValidationError(str(exc)) from exc

    def x12_writer_options(self) -> dict[str, Any]:
        """Return the X12 settings given, as keyword arguments of a Profile."""
        options: dict[str, Any] = {
            "extended": self.x12_extended_characters,
            "line_break": not self.x12_one_line,
        }
        for field, option in _X12_OPTIONS.items():
            value = getattr(self, field)
            if value != "":
                options[option] = value

        return options

    def x12_separators(self) -> dict[str, str]:
        """Return each separator's character, the writer's default if blank."""
        return {
            field: getattr(self, field) or _WRITER_DEFAULTS[_X12_OPTIONS[field]]
            for field in _X12_SEPARATOR_FIELDS
        }


# Profile keyword arguments by the Connection field that gives them.
_X12_OPTIONS = {
    "x12_sender_qualifier": "sender_qualifier",
    "x12_sender_id": "sender_id",
    "x12_receiver_qualifier": "receiver_qualifier",
    "x12_receiver_id": "receiver_id",
    "x12_element_separator": "element",
    "x12_component_separator": "component",
    "x12_segment_terminator": "segment",
    "x12_repetition_separator": "repetition",
    "x12_isa_version": "isa_version",
    "x12_gs_version": "gs_version",
    "x12_usage": "usage",
}
_X12_SEPARATOR_FIELDS = (
    "x12_element_separator",
    "x12_component_separator",
    "x12_segment_terminator",
    "x12_repetition_separator",
)
# What a blank setting means: the writer's own default for it.
_WRITER_DEFAULTS = {field.name: field.default for field in dataclasses.fields(Profile)}
# Qualifiers whose ids have a fixed form, with that form in words.
_QUALIFIED_IDS = {
    "01": (re.compile(r"[0-9]{9}"), "a D-U-N-S number of 9 digits"),
    "02": (re.compile(r"[A-Z]{2,4}"), "a SCAC of 2 to 4 letters"),
    "12": (re.compile(r"[0-9]{10}"), "a phone number of 10 digits"),
    "14": (re.compile(r"[0-9]{13}"), "a D-U-N-S number and suffix of 13 digits"),
}
_ISA_VERSION = re.compile(r"[0-9]{5}")
_GS_VERSION = re.compile(r"[0-9A-Z]{1,12}")


def _x12_separator_errors(connection: Connection) -> dict[str, str]:
    """Name each separator that is not punctuation or repeats another."""
    errors = {}
    for field in _X12_SEPARATOR_FIELDS:
        value = getattr(connection, field)
        if value and (len(value) != 1 or value not in string.punctuation):
            errors[field] = (
                f"{value!r} cannot separate X12 data: use one punctuation "
                "character that is not a letter, a digit or a space, "
                "such as * | ~ or '."
            )
    if errors:
        return errors

    first_field: dict[str, str] = {}
    for field, char in connection.x12_separators().items():
        other = first_field.setdefault(char, field)
        if other == field:
            continue
        # Blame the separator someone typed, not the default it collides with.
        blamed, named = (field, other) if getattr(connection, field) else (other, field)
        label = connection._meta.get_field(named).verbose_name
        default = "" if getattr(connection, named) else ", by default"
        errors[blamed] = (
            f"{char!r} is already the {label}{default}; the four separators "
            "must differ."
        )

    return errors


def _x12_id_errors(connection: Connection) -> dict[str, str]:
    """Name each id that its qualifier or the writer cannot take."""
    errors = {}
    for side in ("sender", "receiver"):
        value = getattr(connection, f"x12_{side}_id")
        qualifier = getattr(connection, f"x12_{side}_qualifier")
        problem = _x12_id_problem(connection, value, qualifier)
        if problem:
            errors[f"x12_{side}_id"] = problem

    return errors


def _x12_id_problem(connection: Connection, value: str, qualifier: str) -> str:
    pattern, form = _QUALIFIED_IDS.get(qualifier, (None, ""))
    if not value:
        return f"Qualifier {qualifier} needs {form}: give one." if pattern else ""
    if len(value) < 2:
        # GS02 and GS03 are 2 to 15 characters; ISA06/08 are padded to 15.
        return "An interchange id has 2 to 15 characters."
    if pattern and not pattern.fullmatch(value):
        return f"Qualifier {qualifier} needs {form}, not {value!r}."
    extended = connection.x12_extended_characters
    allowed = EXTENDED_CHARACTERS if extended else BASIC_CHARACTERS
    allowed -= frozenset(connection.x12_separators().values())
    unusable = sorted({char for char in value if char not in allowed})
    if unusable:
        listed = " ".join(unusable)
        character_set = (
            "extended character set" if extended else "basic character set (upper case)"
        )
        return f"{listed} cannot appear in an id in the {character_set}."
    if value != " ".join(value.split()):
        return "An id cannot begin or end with a space or hold two in a row."

    return ""


def _x12_version_errors(connection: Connection) -> dict[str, str]:
    errors = {}
    isa, gs = connection.x12_isa_version, connection.x12_gs_version
    if isa and not _ISA_VERSION.fullmatch(isa):
        errors["x12_isa_version"] = "ISA12 is five digits, such as 00401 or 00501."
    if gs and not _GS_VERSION.fullmatch(gs):
        errors["x12_gs_version"] = (
            "GS08 is up to 12 upper-case letters and digits, such as 004010 "
            "or 005010VICS."
        )

    return errors


class CircuitBreaker(models.Model):
    """A connection's breaker, in the database so every worker shares it."""

    class State(models.TextChoices):
        CLOSED = "closed", "Closed"
        OPEN = "open", "Open"
        HALF_OPEN = "half_open", "Half open"

    connection = models.OneToOneField(
        Connection, on_delete=models.CASCADE, related_name="breaker"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.CLOSED)
    failures = models.PositiveIntegerField(default=0)
    open_until = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.connection.code}: {self.state}"


class InboundMessage(models.Model):
    """A raw message as received, kept whatever becomes of it."""

    class State(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        NEEDS_ATTENTION = "needs_attention", "Needs attention"
        FAILED = "failed", "Failed"

    connection = models.ForeignKey(
        Connection, on_delete=models.PROTECT, related_name="inbound_messages"
    )
    message_id = models.CharField(max_length=200)
    body = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=100)
    filename = models.CharField(max_length=255, blank=True)
    state = models.CharField(
        max_length=20, choices=State.choices, default=State.RECEIVED
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When a failed message is tried again."
    )
    queued_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker was last asked to process it."
    )
    error = models.TextField(blank=True)
    blocked_by = models.CharField(
        max_length=200,
        blank=True,
        db_index=True,
        help_text="What keeps the message in needs attention, as a key such as "
        "mapping:<source>:<category>:<external code>; replay by this key once "
        "the cause is fixed.",
    )
    correlation_id = models.CharField(max_length=60, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "message_id"], name="inbound_message_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["connection", "sha256"], name="inbound_message_hash"),
            models.Index(fields=["state", "received_at"], name="inbound_message_state"),
            models.Index(fields=["correlation_id"], name="inbound_message_correlation"),
        ]

    def __str__(self) -> str:
        return f"{self.connection.code}/{self.message_id}"


class CanonicalEvent(models.Model):
    """A CloudEvents-shaped business event, stored once per source and id."""

    class State(models.TextChoices):
        APPLIED = "applied", "Applied"
        NEEDS_ATTENTION = "needs_attention", "Needs attention"

    source = models.CharField(max_length=100)
    event_id = models.CharField(max_length=200)
    type = models.CharField(max_length=60)
    subject = models.CharField(max_length=100)
    time = models.DateTimeField()
    data = models.JSONField()
    correlation_id = models.CharField(max_length=60, blank=True)
    inbound_message = models.ForeignKey(
        InboundMessage,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
    )
    state = models.CharField(
        max_length=20, choices=State.choices, default=State.APPLIED
    )
    error = models.TextField(blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["time", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "event_id"], name="canonical_event_unique"
            ),
        ]
        indexes = [
            models.Index(
                fields=["correlation_id", "time"], name="canonical_event_trace"
            ),
            models.Index(fields=["subject", "time"], name="canonical_event_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.subject} ({self.source}/{self.event_id})"


class OutboxMessage(models.Model):
    """A message the hub must send, written in the transaction that caused it."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        DEAD = "dead", "Dead"
        # Taken back by the hub (a TMS request superseded by the fallback
        # carrier): final, never sent and never replayed.
        WITHDRAWN = "withdrawn", "Withdrawn"

    destination = models.ForeignKey(
        Connection, on_delete=models.PROTECT, related_name="outbox_messages"
    )
    type = models.CharField(max_length=60)
    subject = models.CharField(max_length=100)
    payload = models.JSONField()
    idempotency_key = models.CharField(max_length=200, unique=True)
    correlation_id = models.CharField(max_length=60, blank=True)
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    queued_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker was last asked to send it."
    )
    last_error = models.TextField(blank=True)
    errors = models.JSONField(default=list, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="outbox_due"),
            models.Index(fields=["correlation_id"], name="outbox_correlation"),
        ]

    def __str__(self) -> str:
        return f"{self.type} -> {self.destination.code} ({self.state})"


class CodeMapping(models.Model):
    """An external code and the canonical value it stands for, per source."""

    class Category(models.TextChoices):
        SHIPMENT_STATUS = "shipment_status", "Shipment status"
        EXCEPTION_REASON = "exception_reason", "Exception reason"
        UNIT = "unit", "Unit of measure"
        LOCATION = "location", "Location"
        CARRIER = "carrier", "Carrier"

    source = models.CharField(
        max_length=40,
        help_text="Connection code or code list (e.g. x12-at7); '*' for any.",
    )
    category = models.CharField(max_length=20, choices=Category.choices)
    external_code = models.CharField(max_length=60)
    canonical_value = models.CharField(max_length=60)
    description = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Every change is kept (who, when, before and after), so a wrong mapping
    # can be traced to the edit that introduced it.
    history = HistoricalRecords()

    class Meta:
        ordering = ["source", "category", "external_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "category", "external_code"],
                name="code_mapping_unique",
            ),
        ]

    def __str__(self) -> str:
        code = f"{self.source}:{self.category}:{self.external_code}"
        return f"{code} -> {self.canonical_value}"

    def clean(self) -> None:
        """Refuse a canonical value the hub does not know.

        A typo here ('In Transit') would turn every message the mapping
        unblocks into a new failure instead of an applied event.
        """
        allowed = self.canonical_values(self.category)
        if allowed is not None and self.canonical_value not in allowed:
            shown = ", ".join(sorted(allowed)[:20])
            more = " ..." if len(allowed) > 20 else ""
            raise ValidationError(
                {
                    "canonical_value": f"{self.canonical_value!r} is not a known "
                    f"{self.get_category_display().lower()}: {shown}{more}"
                }
            )

    @classmethod
    def canonical_values(cls, category: str) -> set[str] | None:
        """Return the values a category maps to, or None when any text goes."""
        from masterdata.models import Carrier, Unit, Warehouse
        from shipments.models import ShipmentStatus
        from shipments.services import EXCEPTION_WORDING

        if category == cls.Category.SHIPMENT_STATUS:
            return set(ShipmentStatus.values)
        if category == cls.Category.EXCEPTION_REASON:
            return set(EXCEPTION_WORDING)
        if category == cls.Category.UNIT:
            return set(Unit.objects.values_list("code", flat=True))
        if category == cls.Category.LOCATION:
            return set(Warehouse.objects.values_list("code", flat=True))
        if category == cls.Category.CARRIER:
            return set(Carrier.objects.values_list("scac", flat=True))
        return None


class X12ControlNumbers(models.Model):
    """The last control numbers the hub used towards one X12 trading partner.

    Each outbound interchange takes the next ISA13, each group the next GS06,
    under a row lock, so numbers only ever increase per partner.
    """

    connection = models.OneToOneField(
        Connection, on_delete=models.CASCADE, related_name="x12_control_numbers"
    )
    last_interchange = models.PositiveIntegerField(default=0)
    last_group = models.PositiveIntegerField(default=0)
    last_transaction = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "X12 control numbers"

    def __str__(self) -> str:
        return f"{self.connection}: ISA {self.last_interchange}"


class AckWatch(models.Model):
    """An outbound functional group waiting for the partner's 997."""

    class State(models.TextChoices):
        WAITING = "waiting", "Waiting"
        ACCEPTED = "accepted", "Accepted"
        ACCEPTED_WITH_ERRORS = "accepted_errors", "Accepted with errors"
        REJECTED = "rejected", "Rejected"
        OVERDUE = "overdue", "Overdue"

    connection = models.ForeignKey(
        Connection, on_delete=models.PROTECT, related_name="ack_watches"
    )
    outbox_message = models.ForeignKey(
        "OutboxMessage",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ack_watches",
    )
    interchange_control = models.CharField(max_length=9)
    group_control = models.CharField(max_length=9)
    functional_id = models.CharField(max_length=2)
    transaction_sets = models.JSONField(
        default=list, blank=True, help_text="ST02 of each set in the group."
    )
    state = models.CharField(
        max_length=16, choices=State.choices, default=State.WAITING
    )
    sent_at = models.DateTimeField()
    due_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-sent_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "group_control"], name="ack_watch_group_unique"
            )
        ]
        indexes = [models.Index(fields=["state", "due_at"], name="ack_watch_due")]

    def __str__(self) -> str:
        return f"{self.connection} GS {self.group_control} ({self.state})"
