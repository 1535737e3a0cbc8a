"""Master data copied from the ERP: items, units, warehouses, carriers."""

from decimal import Decimal

from django.db import models


class Unit(models.Model):
    """A unit of measure; quantities are kept in an item's base unit."""

    code = models.CharField(max_length=8, unique=True)
    name = models.CharField(max_length=60)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Item(models.Model):
    """An item of the ERP's item master."""

    sku = models.CharField(max_length=40, unique=True)
    description = models.CharField(max_length=200)
    base_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    weight_kg = models.DecimalField(max_digits=10, decimal_places=3)
    length_cm = models.DecimalField(max_digits=8, decimal_places=1)
    width_cm = models.DecimalField(max_digits=8, decimal_places=1)
    height_cm = models.DecimalField(max_digits=8, decimal_places=1)
    hazmat = models.BooleanField(default=False)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weight_kg__gt=0), name="item_weight_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.sku


class UnitConversion(models.Model):
    """How many base units one ``from_unit`` holds, optionally per item."""

    item = models.ForeignKey(
        Item,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="conversions",
    )
    from_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    to_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    factor = models.DecimalField(max_digits=18, decimal_places=6)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["item", "from_unit", "to_unit"], name="unit_conversion_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(factor__gt=Decimal("0")),
                name="unit_conversion_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"1 {self.from_unit} = {self.factor} {self.to_unit}"


class Warehouse(models.Model):
    """A ship-from location; its time zone reads local times it reports."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=120)
    time_zone = models.CharField(max_length=64)
    city = models.CharField(max_length=80, blank=True)
    state = models.CharField(max_length=40, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class ItemAvailability(models.Model):
    """The WMS's latest available quantity of an item at a warehouse."""

    item = models.ForeignKey(
        Item, on_delete=models.CASCADE, related_name="availability"
    )
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.CASCADE, related_name="availability"
    )
    quantity = models.DecimalField(max_digits=14, decimal_places=3)
    as_of = models.DateTimeField()

    class Meta:
        verbose_name_plural = "item availability"
        constraints = [
            models.UniqueConstraint(
                fields=["item", "warehouse"], name="item_availability_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item} @ {self.warehouse}: {self.quantity}"


class Carrier(models.Model):
    """A carrier, keyed by its SCAC."""

    scac = models.CharField(max_length=4, unique=True)
    name = models.CharField(max_length=120)
    tracking_url_template = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.scac})"


class CarrierService(models.Model):
    """A service level a carrier sells (ground, express, LTL...)."""

    carrier = models.ForeignKey(
        Carrier, on_delete=models.CASCADE, related_name="services"
    )
    code = models.CharField(max_length=30)
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["carrier", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "code"], name="carrier_service_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.carrier.scac} {self.name}"
