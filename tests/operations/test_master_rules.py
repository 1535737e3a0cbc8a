"""Mappings and lane rules refuse values that could never work."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from integrations.models import CodeMapping
from masterdata.models import Carrier, CarrierService
from operations.models import LaneFallbackRule

pytestmark = pytest.mark.django_db


def test_a_mapping_to_an_unknown_status_is_refused_with_the_known_ones(seeded):
    mapping = CodeMapping(
        source="carrier-crx",
        category="shipment_status",
        external_code="ZZZ",
        canonical_value="In Transit",
    )

    with pytest.raises(ValidationError) as refused:
        mapping.full_clean()

    [message] = refused.value.message_dict["canonical_value"]
    assert message.startswith("'In Transit' is not a known shipment status: ")
    assert "in_transit" in message


@pytest.mark.parametrize(
    ("category", "value"),
    [
        ("shipment_status", "in_transit"),
        ("exception_reason", "weather"),
        ("location", "DC-EAST"),
        ("carrier", "RDWY"),
        ("unit", "CS"),
    ],
)
def test_known_canonical_values_are_accepted(seeded, category, value):
    CodeMapping(
        source="carrier-crx",
        category=category,
        external_code="Q1",
        canonical_value=value,
    ).full_clean()


def test_a_location_mapping_to_a_warehouse_that_does_not_exist_is_refused(seeded):
    with pytest.raises(ValidationError):
        CodeMapping(
            source="edi-x12",
            category="location",
            external_code="W9",
            canonical_value="DC-NORTH",
        ).full_clean()


def test_a_lane_rule_is_normalised_to_the_codes_addresses_use(seeded):
    rule = LaneFallbackRule(
        destination_country="us",
        destination_state="oh",
        carrier=Carrier.objects.get(scac="RDWY"),
    )

    rule.full_clean()

    assert (rule.destination_country, rule.destination_state) == ("US", "OH")


def test_a_lane_rule_with_another_carriers_service_is_refused(seeded):
    rule = LaneFallbackRule(
        destination_country="US",
        carrier=Carrier.objects.get(scac="RDWY"),
        service=CarrierService.objects.get(carrier__scac="UPSN", code="EXPRESS"),
    )

    with pytest.raises(ValidationError) as refused:
        rule.full_clean()

    assert refused.value.message_dict["service"] == [
        "UPSN Express is a service of United Parcel (UPSN), not of Roadway Freight "
        "(RDWY)."
    ]


def test_a_lane_rule_country_must_be_a_two_letter_code(seeded):
    rule = LaneFallbackRule(
        destination_country="USA", carrier=Carrier.objects.get(scac="RDWY")
    )

    with pytest.raises(ValidationError) as refused:
        rule.full_clean()

    assert (
        "Give the two-letter ISO code, e.g. US."
        in (refused.value.message_dict["destination_country"])
    )
