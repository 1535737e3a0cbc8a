"""X12 partner profiles: per-connection ids, separators and versions."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from integrations.connectors.x12.outbound import partner_profile
from integrations.edi.writer import Profile
from integrations.models import AckWatch, Connection
from integrations.outbox import outbox_dispatch
from tests.admin.test_admin import _connection_form
from tests.integrations.test_x12_outbound import isa_time, release_b14_order

pytestmark = pytest.mark.django_db

# A partner on 00501 that knows the hub by its D-U-N-S number and itself by
# its phone number, and reads '|' between elements and "'" after segments.
CUSTOM_PROFILE = {
    "x12_sender_qualifier": "01",
    "x12_sender_id": "123456789",
    "x12_receiver_qualifier": "12",
    "x12_receiver_id": "5551234567",
    "x12_element_separator": "|",
    "x12_component_separator": ">",
    "x12_segment_terminator": "'",
    "x12_isa_version": "00501",
    "x12_gs_version": "005010",
    "x12_usage": "T",
    "x12_one_line": True,
}


@pytest.fixture
def outbound_root(settings, tmp_path) -> Path:
    settings.VAR_DIR = tmp_path
    return tmp_path / "outbound"


@pytest.fixture
def x12_wms(seeded, outbound_root) -> Connection:
    """Make the seeded WMS an X12 3PL with the custom profile."""
    Connection.objects.filter(code="wms").update(
        protocol=Connection.Protocol.X12_FILE, ack_window_minutes=60, **CUSTOM_PROFILE
    )
    return Connection.objects.get(code="wms")


def _partner(**fields) -> Connection:
    return Connection(code="x12-partner", name="Partner", kind="wms", **fields)


def test_custom_profile_writes_its_ids_and_separators_byte_for_byte(
    x12_wms, outbound_root
):
    message = release_b14_order()

    outbox_dispatch(message_id=message.pk)

    watch = AckWatch.objects.get(outbox_message=message)
    short, long = (part.replace("*", "|") for part in isa_time(watch.sent_at))
    body = (outbound_root / "wms" / "000000001-940.x12").read_bytes()
    # '*', ':' and '~' are no delimiters here: the basic set keeps '*' and
    # ':' in the data, and '~' (extended only) still becomes a space.
    assert body.decode("ascii") == (
        "ISA|00|          |00|          |01|123456789      |12|5551234567     "
        f"|{short}|^|00501|000000001|0|T|>'"
        f"GS|OW|123456789|5551234567|{long}|1|X|005010'"
        "ST|940|0001'"
        "W05|N|SO-B14'"
        "N1|ST|MULLER & SOHNE *NORD* HALLE 3'"
        "N3|HAUPTSTRASSE 5:7 B'"
        "N4|KOLN||50667|DE'"
        "N1|SF||ZZ|DC-EAST'"
        "N9|11|ZETA'"
        "G62|10|20300115'"
        "LX|1'"
        "W01|1|EA||SK|SKU-A'"
        "W76|1'"
        "SE|12|0001'"
        "GE|1|1'"
        "IEA|1|000000001'"
    )


def test_tilde_terminator_with_line_breaks_is_written_as_chosen(x12_wms, outbound_root):
    Connection.objects.filter(pk=x12_wms.pk).update(
        x12_segment_terminator="~", x12_one_line=False
    )
    message = release_b14_order()

    outbox_dispatch(message_id=message.pk)

    watch = AckWatch.objects.get(outbox_message=message)
    short, long = (part.replace("*", "|") for part in isa_time(watch.sent_at))
    lines = (outbound_root / "wms" / "000000001-940.x12").read_text().splitlines()
    assert lines[:2] == [
        "ISA|00|          |00|          |01|123456789      |12|5551234567     "
        f"|{short}|^|00501|000000001|0|T|>~",
        f"GS|OW|123456789|5551234567|{long}|1|X|005010~",
    ]
    assert lines[-1] == "IEA|1|000000001~"


def test_blank_profile_keeps_the_writers_defaults():
    connection = _partner(scac="RDWY")

    assert partner_profile(connection) == Profile(
        sender_id="WAYBILL", receiver_id="RDWY"
    )


def test_default_receiver_id_is_cleaned_with_the_partners_own_separators():
    connection = _partner(x12_element_separator="-", x12_usage="T")

    profile = partner_profile(connection)

    assert (profile.receiver_id, profile.element, profile.usage) == (
        "X12 PARTNER",
        "-",
        "T",
    )


def test_valid_custom_profile_passes_model_validation():
    connection = _partner(**CUSTOM_PROFILE)

    connection.full_clean()

    assert connection.x12_writer_options() == {
        "sender_qualifier": "01",
        "sender_id": "123456789",
        "receiver_qualifier": "12",
        "receiver_id": "5551234567",
        "element": "|",
        "component": ">",
        "segment": "'",
        "isa_version": "00501",
        "gs_version": "005010",
        "usage": "T",
        "extended": False,
        "line_break": False,
    }


@pytest.mark.parametrize(
    ("fields", "field", "error"),
    [
        (
            {"x12_element_separator": "a"},
            "x12_element_separator",
            "'a' cannot separate X12 data: use one punctuation character that "
            "is not a letter, a digit or a space, such as * | ~ or '.",
        ),
        (
            {"x12_segment_terminator": "\n"},
            "x12_segment_terminator",
            "'\\n' cannot separate X12 data: use one punctuation character that "
            "is not a letter, a digit or a space, such as * | ~ or '.",
        ),
        (
            {"x12_element_separator": ":"},
            "x12_element_separator",
            "':' is already the component separator (ISA16), by default; the "
            "four separators must differ.",
        ),
        (
            {"x12_element_separator": "|", "x12_segment_terminator": "|"},
            "x12_segment_terminator",
            "'|' is already the element separator; the four separators must differ.",
        ),
        (
            {"x12_element_separator": "||"},
            "x12_element_separator",
            "Ensure this value has at most 1 character (it has 2).",
        ),
        (
            {"x12_receiver_qualifier": "12", "x12_receiver_id": "555-1234"},
            "x12_receiver_id",
            "Qualifier 12 needs a phone number of 10 digits, not '555-1234'.",
        ),
        (
            {"x12_receiver_qualifier": "12"},
            "x12_receiver_id",
            "Qualifier 12 needs a phone number of 10 digits: give one.",
        ),
        (
            {"x12_receiver_qualifier": "99"},
            "x12_receiver_qualifier",
            "Value '99' is not a valid choice.",
        ),
        (
            {"x12_sender_id": "Acme"},
            "x12_sender_id",
            "c e m cannot appear in an id in the basic character set (upper case).",
        ),
        (
            {"x12_sender_id": "ACME|CO", "x12_element_separator": "|"},
            "x12_sender_id",
            "| cannot appear in an id in the basic character set (upper case).",
        ),
        (
            {"x12_sender_id": "A"},
            "x12_sender_id",
            "An interchange id has 2 to 15 characters.",
        ),
        (
            {"x12_sender_id": "ACME LOGISTICS CO"},
            "x12_sender_id",
            "Ensure this value has at most 15 characters (it has 17).",
        ),
        (
            {"x12_sender_id": "ACME  CO"},
            "x12_sender_id",
            "An id cannot begin or end with a space or hold two in a row.",
        ),
        (
            {"x12_isa_version": "4010"},
            "x12_isa_version",
            "ISA12 is five digits, such as 00401 or 00501.",
        ),
        (
            {"x12_gs_version": "004010vics"},
            "x12_gs_version",
            "GS08 is up to 12 upper-case letters and digits, such as 004010 or "
            "005010VICS.",
        ),
    ],
)
def test_unusable_profile_is_refused_by_model_validation(fields, field, error):
    connection = _partner(**fields)

    with pytest.raises(ValidationError) as refused:
        connection.full_clean()

    assert refused.value.message_dict == {field: [error]}


def _change_url(connection: Connection) -> str:
    return reverse("admin:integrations_connection_change", args=[connection.pk])


def test_admin_shows_the_profile_folded_under_its_own_heading(admin_client):
    connection = Connection.objects.create(code="x12-partner", name="P", kind="wms")

    page = admin_client.get(_change_url(connection))

    assert page.status_code == 200
    assert (
        '<fieldset class="module aligned collapse" '
        'aria-labelledby="fieldset-0-1-heading">'
    ) in page.text
    assert ">X12 partner profile</h2>" in page.text
    assert 'name="x12_receiver_id"' in page.text


def test_admin_form_refuses_a_repeated_separator_with_a_readable_message(
    admin_client,
):
    connection = Connection.objects.create(code="x12-partner", name="P", kind="wms")
    form = _connection_form(
        connection, sending_enabled="on", x12_component_separator="*"
    )

    response = admin_client.post(_change_url(connection), form)

    connection.refresh_from_db()
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "x12_component_separator": [
            "'*' is already the element separator, by default; the four "
            "separators must differ."
        ]
    }
    assert connection.x12_component_separator == ""


def test_admin_form_saves_a_custom_profile(admin_client):
    connection = Connection.objects.create(code="x12-partner", name="P", kind="wms")
    changes = {**CUSTOM_PROFILE, "x12_one_line": "on"}
    form = _connection_form(connection, sending_enabled="on", **changes)

    response = admin_client.post(_change_url(connection), form)

    connection.refresh_from_db()
    assert response.status_code == 302
    assert partner_profile(connection) == Profile(
        sender_id="123456789",
        receiver_id="5551234567",
        sender_qualifier="01",
        receiver_qualifier="12",
        element="|",
        component=">",
        segment="'",
        isa_version="00501",
        gs_version="005010",
        usage="T",
        line_break=False,
    )
