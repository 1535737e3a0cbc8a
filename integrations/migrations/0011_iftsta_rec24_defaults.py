"""Correct the seeded EDIFACT IFTSTA code mappings to their Rec 24 meaning.

The first IFTSTA defaults read STS 17 as out for delivery, 22 as an
exception and invented status reasons AA to AF. Databases seeded with them
keep those rows, because seeding never overwrites a row that may have been
corrected in the admin. This migration fixes the rows that still hold the
old seeded value and that no person has touched: a code whose default
changed gets its new value, a code that has no default any more is
deleted. Any other row is an operator's decision and stays as it is. The
codes that are new in the tables are added by the next seeding, as usual.

The old and new values are written out here, not imported from the code
tables, so that later edits to those tables cannot change what this
migration did.
"""

from django.db import migrations
from django.utils import timezone

SOURCE = "edi-edifact"
CHANGE_REASON = "UN/CEFACT Rec 24 correction of the IFTSTA defaults"

# (category, external code): (old seeded value, new default or None).
# None means the code has no default any more: the row goes, and the code
# becomes a problem for a person. Code 21 (delivered) did not change.
CORRECTIONS = {
    ("shipment_status", "1"): ("carrier_assigned", "in_transit"),
    ("shipment_status", "5"): ("picked_up", None),
    ("shipment_status", "11"): ("in_transit", None),
    ("shipment_status", "12"): ("in_transit", None),
    ("shipment_status", "17"): ("out_for_delivery", "exception"),
    ("shipment_status", "18"): ("delivery_attempted", "exception"),
    ("shipment_status", "20"): ("available_for_pickup", "exception"),
    ("shipment_status", "22"): ("exception", "delivered"),
    ("shipment_status", "25"): ("returned_to_sender", "exception"),
    ("exception_reason", "AA"): ("consignee", None),
    ("exception_reason", "AB"): ("consignee", None),
    ("exception_reason", "AC"): ("consignee", None),
    ("exception_reason", "AD"): ("weather", None),
    ("exception_reason", "AE"): ("customs", None),
    ("exception_reason", "AF"): ("carrier", None),
}


def _holds_old_default(row):
    """Return whether a row still holds the value the old defaults seeded."""
    correction = CORRECTIONS.get((row.category, row.external_code))
    return correction is not None and correction[0] == row.canonical_value


def _untouched_ids(history, ids):
    """Return the ids among ``ids`` whose history shows no person's work.

    Seeding writes one created record without a user and never changes a
    row afterwards; only the admin does. A changed record, or one with a
    user, means a person created or edited the row, even if its value is
    back at the old default. Rows seeded before history was kept have no
    records at all and count as untouched.
    """
    touched = set(
        history.objects.filter(id__in=ids)
        .exclude(history_type="+", history_user__isnull=True)
        .values_list("id", flat=True)
    )
    return set(ids) - touched


def _record(history, row, history_type, now):
    """Write the history record of a change this migration makes."""
    history.objects.create(
        id=row.id,
        source=row.source,
        category=row.category,
        external_code=row.external_code,
        canonical_value=row.canonical_value,
        description=row.description,
        updated_at=row.updated_at,
        history_date=now,
        history_type=history_type,
        history_change_reason=CHANGE_REASON,
        history_user=None,
    )


def correct_iftsta_defaults(apps, schema_editor):
    """Update or delete the IFTSTA rows that still hold their old seeded value."""
    code_mapping = apps.get_model("integrations", "CodeMapping")
    history = apps.get_model("integrations", "HistoricalCodeMapping")
    now = timezone.now()

    # An operator's description is an edit too: seeding writes none.
    rows = code_mapping.objects.filter(
        source=SOURCE,
        category__in=["shipment_status", "exception_reason"],
        external_code__in={code for _category, code in CORRECTIONS},
        description="",
    )
    candidates = [row for row in rows if _holds_old_default(row)]
    untouched = _untouched_ids(history, [row.id for row in candidates])

    for row in candidates:
        if row.id not in untouched:
            continue
        new_value = CORRECTIONS[(row.category, row.external_code)][1]
        if new_value is None:
            _record(history, row, "-", now)
            row.delete()
            continue
        row.canonical_value = new_value
        row.save(update_fields=["canonical_value", "updated_at"])
        _record(history, row, "~", now)


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0010_connection_sending_enabled_x12_profile"),
    ]

    # Going back leaves the corrected rows alone: the old values were wrong.
    operations = [
        migrations.RunPython(correct_iftsta_defaults, migrations.RunPython.noop),
    ]
