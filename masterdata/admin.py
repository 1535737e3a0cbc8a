"""Admin for master data copied from the ERP: items, units, warehouses, carriers."""

from django.contrib import admin

from masterdata.models import (
    Carrier,
    CarrierService,
    Item,
    ItemAvailability,
    Unit,
    UnitConversion,
    Warehouse,
)


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = [
        "sku",
        "description",
        "base_unit",
        "weight_kg",
        "hazmat",
        "active",
    ]
    list_filter = ["active", "hazmat", "base_unit"]
    list_select_related = ["base_unit"]
    search_fields = ["sku", "description"]
    autocomplete_fields = ["base_unit"]


@admin.register(UnitConversion)
class UnitConversionAdmin(admin.ModelAdmin):
    list_display = ["from_unit", "factor", "to_unit", "item"]
    list_filter = ["from_unit", "to_unit"]
    list_select_related = ["item", "from_unit", "to_unit"]
    search_fields = ["item__sku", "from_unit__code", "to_unit__code"]
    autocomplete_fields = ["item", "from_unit", "to_unit"]


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "city", "state", "country", "time_zone", "active"]
    list_filter = ["active", "country"]
    search_fields = ["code", "name", "city", "postal_code"]


@admin.register(ItemAvailability)
class ItemAvailabilityAdmin(admin.ModelAdmin):
    list_display = ["item", "warehouse", "quantity", "as_of"]
    list_filter = ["warehouse"]
    list_select_related = ["item", "warehouse"]
    search_fields = ["item__sku", "warehouse__code"]
    autocomplete_fields = ["item", "warehouse"]
    date_hierarchy = "as_of"


class CarrierServiceInline(admin.TabularInline):
    model = CarrierService
    extra = 0
    fields = ["code", "name"]


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    list_display = ["name", "scac"]
    search_fields = ["name", "scac"]
    inlines = [CarrierServiceInline]


@admin.register(CarrierService)
class CarrierServiceAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "carrier"]
    list_filter = ["carrier"]
    list_select_related = ["carrier"]
    search_fields = ["code", "name", "carrier__scac", "carrier__name"]
    autocomplete_fields = ["carrier"]
