"""Event and hand-out page forms. They check the shape of the input; the services the rules.

Choice lists come from the view (the areas the user may organise for, the stations of their
streets), so a form only offers what the user may act on.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yizhan.areas.models import Area
from yizhan.events.choices import Audience, EventKind
from yizhan.rewards.forms import AreaChoiceField, StationChoiceField, when_field
from yizhan.stations.models import Station


class EventFields(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=EventKind.choices)
    description = forms.CharField(
        label=_("Description"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    audience = forms.ChoiceField(label=_("For"), choices=Audience.choices)
    starts_at = when_field(_("Starts"), required=True)
    ends_at = when_field(_("Ends"), required=True)
    capacity = forms.IntegerField(
        label=_("Places"), min_value=1, widget=forms.NumberInput(attrs={"inputmode": "numeric"})
    )
    station = StationChoiceField(
        queryset=Station.objects.none(),
        label=_("Venue: a station"),
        required=False,
        empty_label=_("Not at a station"),
    )
    address = forms.CharField(label=_("… or an address"), max_length=200, required=False)
    lat = forms.FloatField(label=_("Latitude"), required=False, widget=forms.HiddenInput)
    lng = forms.FloatField(label=_("Longitude"), required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, stations, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["station"].queryset = stations


class EventForm(EventFields):
    organiser = AreaChoiceField(queryset=Area.objects.none(), label=_("Organised by"))

    field_order = ["organiser", "title", "kind"]

    def __init__(self, *args: Any, areas, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organiser"].queryset = areas


class AttendanceForm(forms.Form):
    code = forms.CharField(
        label=_("Rider's code or phone"),
        max_length=40,
        help_text=_("The 6 digits on the rider's event page, the text of its QR, or a phone."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autofocus": True, "spellcheck": "false"}
        ),
    )


class DistributionForm(forms.Form):
    area = AreaChoiceField(queryset=Area.objects.none(), label=_("Area"))
    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(label=_("Description"), max_length=500, required=False)
    items = forms.CharField(
        label=_("Items and stock"),
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "夏凉被: 50\n小风扇: 30"}),
        help_text=_("One item a line: its name, a colon, how many are in stock."),
    )

    def __init__(self, *args: Any, areas, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas

    def clean_items(self) -> list[tuple[str, int]]:
        rows = []
        for line in self.cleaned_data["items"].splitlines():
            if not line.strip():
                continue
            name, sep, number = line.replace("：", ":").rpartition(":")
            number = number.strip()
            if not sep or not name.strip() or not number.isdigit():
                raise forms.ValidationError(
                    _("Write each line as “item: number”, e.g. 夏凉被: 50.")
                )
            rows.append((name.strip(), int(number)))
        if not rows:
            raise forms.ValidationError(_("A hand-out needs at least one item."))
        return rows


class CallOffForm(forms.Form):
    reason = forms.CharField(
        label=_("Why it is called off"),
        max_length=300,
        help_text=_("Everyone signed up or waiting is told this."),
    )


class RestockForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("hand-out", "Item"), max_length=50)
    change = forms.IntegerField(
        label=_("Add"), help_text=_("Below zero to take items away (never below none left).")
    )


class ReceiptForm(forms.Form):
    """The rider's phone and, per item of the hand-out, how many they receive."""

    phone = forms.CharField(label=_("Rider's phone"), max_length=20)

    def __init__(self, *args: Any, items, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            self.fields[f"item_{item.pk}"] = forms.IntegerField(
                label=item.name, min_value=0, max_value=1000, required=False, initial=0
            )

    def quantities(self) -> dict[int, int]:
        return {
            item.pk: self.cleaned_data[f"item_{item.pk}"]
            for item in self.items
            if self.cleaned_data.get(f"item_{item.pk}")
        }
