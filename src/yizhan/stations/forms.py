"""Station page forms. They check the shape of the input; the services check the rules.

Choice lists come from the view (the communities the user may act in, the catalogue's services
in use, the merchant accounts beneath the user's area), so a form offers only what the user may
act on. Forms that a phone may send twice (check-in, walk-ins) carry a hidden idempotency key
made when the page is drawn: a double tap counts once.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from yizhan.areas.choices import AreaLevel
from yizhan.areas.models import Area
from yizhan.core.errors import ApplicationError
from yizhan.core.geo import CRS
from yizhan.people.models import User
from yizhan.stations import exchange
from yizhan.stations import hours as hours_module
from yizhan.stations.choices import FunctionalZone, StationKind, StationStatus

HOURS_HELP = _(
    "One line or clause per group of days, e.g. 周一至周五 08:00-20:00；周六、周日 09:00-18:00. "
    "Days: 周一…周日, 每天, 工作日, 1-5 or Mon-Fri; several periods: 08:00-12:00,14:00-18:00; "
    "past midnight: 22:00-02:00; 24小时 alone for always open; 周日 休息 closes a day. "
    "Empty: hours not published (never shown as open). Special days (holidays) are kept."
)
CRS_CHOICES = [
    (CRS.WGS84.value, _("WGS-84 (GPS, phone location)")),
    (CRS.GCJ02.value, _("GCJ-02 (Amap, Tencent maps)")),
    (CRS.BD09.value, _("BD-09 (Baidu maps)")),
]


def new_key() -> str:
    """A fresh idempotency key for a form drawn now."""
    return str(uuid.uuid4())


class KeyField(forms.CharField):
    """The hidden idempotency key (the service checks its shape)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(widget=forms.HiddenInput, max_length=100, **kwargs)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class AreaChoiceField(forms.ModelChoiceField):
    """An area by its code, labelled with its street for communities."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(queryset=Area.objects.none(), to_field_name="code", **kwargs)

    def label_from_instance(self, obj: Area) -> str:
        if obj.level == AreaLevel.COMMUNITY and obj.parent_id:
            return f"{obj.parent.name} · {obj.name}"
        return obj.name


class MerchantChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name or obj.username} ({obj.username})"


class HoursField(forms.CharField):
    """The weekly schedule in its text form, parsed to ``hours.Hours`` (week only)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Opening hours"))
        kwargs.setdefault("help_text", HOURS_HELP)
        super().__init__(
            max_length=500,
            required=False,
            widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
            **kwargs,
        )

    def clean(self, value: Any) -> hours_module.Hours:
        text = super().clean(value)
        try:
            return hours_module.parse_text(text)
        except ApplicationError as exc:
            raise forms.ValidationError(str(exc.message)) from None


def services_field() -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=_("Services"), required=False, widget=forms.CheckboxSelectMultiple
    )


class StationFields(forms.Form):
    """What staff say about a station, shared by the create and the edit form."""

    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=StationKind.choices)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    lat = forms.FloatField(
        label=_("Latitude"), widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"})
    )
    lng = forms.FloatField(
        label=_("Longitude"),
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    crs = forms.ChoiceField(
        label=_("Coordinates from"),
        choices=CRS_CHOICES,
        initial=CRS.WGS84.value,
        help_text=_("Points picked on the map or from a phone are WGS-84."),
    )
    host_name = forms.CharField(
        label=_("Host"),
        max_length=100,
        required=False,
        help_text=_("The shop or unit that hosts it."),
    )
    merchant = MerchantChoiceField(
        queryset=User.objects.none(),
        label=_("Host merchant account"),
        required=False,
        empty_label=_("None"),
        help_text=_("A caring corner's merchant keeps its services, hours and status up to date."),
    )
    contact_name = forms.CharField(label=_("Contact person"), max_length=50, required=False)
    contact_phone = forms.CharField(
        label=_("Contact phone"),
        max_length=20,
        required=False,
        help_text=_("A public service number, shown to everyone."),
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    zones = forms.MultipleChoiceField(
        label=_("Functional zones"),
        required=False,
        choices=FunctionalZone.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    services = services_field()
    hours = HoursField()
    status = forms.ChoiceField(
        label=_("Status"), choices=StationStatus.choices, initial=StationStatus.OPEN
    )
    status_note = forms.CharField(
        label=_("Status note"),
        max_length=200,
        required=False,
        help_text=_("Why it is suspended, or anything riders should know."),
    )

    def __init__(self, *args: Any, services, merchants, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["services"].choices = services
        self.fields["merchant"].queryset = merchants


class StationCreateForm(StationFields):
    community = AreaChoiceField(label=_("Community"))

    field_order = ["name", "kind", "community"]

    def __init__(self, *args: Any, communities, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities


class StationEditForm(StationFields):
    pass


class ExceptionForm(forms.Form):
    day = forms.DateField(label=_("Date"), widget=DateInput())
    closed = forms.BooleanField(label=_("Closed all day"), required=False)
    periods = forms.CharField(
        label=_("Open on that day"),
        max_length=100,
        required=False,
        help_text=_("e.g. 10:00-16:00 or 08:00-12:00,14:00-18:00 (leave empty when closed)."),
    )


class ExceptionRemoveForm(forms.Form):
    day = forms.DateField(widget=forms.HiddenInput)


class PhotoForm(forms.Form):
    # A plain file field: core.images decides what is a photo, with its own messages.
    photo = forms.FileField(
        label=_("Photo"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    caption = forms.CharField(label=_("Caption"), max_length=100, required=False)


class InspectionForm(forms.Form):
    """One pass / fail answer (and an optional note) per item of the street's checklist."""

    inspected_on = forms.DateField(label=_("Inspected on"), widget=DateInput())
    note = forms.CharField(
        label=_("Note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, items, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            self.fields[f"item_{item.pk}"] = forms.TypedChoiceField(
                label=item.text,
                choices=[("yes", _("Passed")), ("no", _("Not passed"))],
                coerce=lambda v: v == "yes",
                widget=forms.RadioSelect,
                error_messages={"required": _("Passed or not?")},
            )
            self.fields[f"note_{item.pk}"] = forms.CharField(
                label=_("Note"), max_length=200, required=False
            )

    def rows(self) -> list[tuple[Any, Any, Any]]:
        """(item, its answer field, its note field) for the template."""
        return [(item, self[f"item_{item.pk}"], self[f"note_{item.pk}"]) for item in self.items]

    def results(self) -> tuple[dict[int, bool], dict[int, str]]:
        data = self.cleaned_data
        answers = {item.pk: data[f"item_{item.pk}"] for item in self.items}
        notes = {item.pk: data[f"note_{item.pk}"] for item in self.items if data[f"note_{item.pk}"]}
        return answers, notes


class ChecklistItemForm(forms.Form):
    street = AreaChoiceField(label=_("Street"), widget=forms.HiddenInput)
    standard = forms.CharField(label=_("Standard"), max_length=50, initial="6+6")
    text = forms.CharField(label=_("Item"), max_length=200)
    sort_order = forms.IntegerField(
        label=_("Order"), min_value=0, max_value=999, initial=0, required=False
    )

    def clean_sort_order(self) -> int:
        return self.cleaned_data.get("sort_order") or 0

    def __init__(self, *args: Any, streets, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["street"].queryset = streets


class ChecklistToggleForm(forms.Form):
    is_active = forms.BooleanField(required=False)


class FilterForm(forms.Form):
    """The console list's filters (a GET form; an invalid value is dropped, never an error)."""

    q = forms.CharField(label=_("Name, address or host"), max_length=50, required=False)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("Any kind"))] + StationKind.choices
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status"))] + StationStatus.choices
    )
    community = forms.ChoiceField(label=_("Community"), required=False)

    def __init__(self, *args: Any, communities, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = [("", _("Anywhere in my area"))] + [
            (c.code, c.name) for c in communities
        ]

    def filters(self) -> dict[str, str | None]:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {key: data.get(key) or None for key in ("q", "kind", "status", "community")}


class MerchantStationForm(forms.Form):
    """What the host merchant keeps up to date on their phone (services.MERCHANT_FIELDS)."""

    status = forms.ChoiceField(
        label=_("Today"),
        choices=StationStatus.choices,
        widget=forms.RadioSelect,
    )
    status_note = forms.CharField(
        label=_("Note for riders"),
        max_length=200,
        required=False,
        help_text=_("e.g. closed for renovation until the 10th."),
    )
    services = services_field()
    hours = HoursField()
    contact_name = forms.CharField(label=_("Contact person"), max_length=50, required=False)
    contact_phone = forms.CharField(
        label=_("Contact phone"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
    )

    def __init__(self, *args: Any, services, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["services"].choices = services


class WalkInForm(forms.Form):
    people = forms.IntegerField(
        label=_("People served"),
        initial=1,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 1}),
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=200,
        required=False,
        help_text=_("e.g. 3 riders charged their phones."),
    )
    idempotency_key = KeyField()


class CheckInForm(forms.Form):
    idempotency_key = KeyField()
    #: When the code was scanned, for a check-in the phone kept offline and sends later.
    scanned_at = forms.DateTimeField(required=False, widget=forms.HiddenInput)


class StationImportForm(forms.Form):
    """A spreadsheet to import (console page and back office); the import checks the rows."""

    file = forms.FileField(
        label=_("Spreadsheet (.xlsx or .csv)"),
        help_text=_("At most %(mb)s MB and %(rows)s stations.")
        % {"mb": exchange.MAX_FILE_BYTES // (1024 * 1024), "rows": f"{exchange.MAX_ROWS:,}"},
    )
    keep_good_rows = forms.BooleanField(
        label=_("Keep the good rows"),
        required=False,
        help_text=_(
            "Write the rows without errors even when other rows have some. Without this, one bad "
            "row means nothing is written."
        ),
    )
    dry_run = forms.BooleanField(
        label=_("Only check (dry run)"),
        required=False,
        help_text=_("Check every row and show the report, without writing anything."),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > exchange.MAX_FILE_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)s MB: split it into several files.")
                % {"mb": exchange.MAX_FILE_BYTES // (1024 * 1024)}
            )
        return upload
