"""Points-shop page forms. They check the shape of the input; the services check the rules.

Choice lists come from the view (the stations the user may stock or hand out at, the areas and
rewards of the street being edited), so a form only offers what the user may act on.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from yizhan.areas.choices import AreaLevel
from yizhan.areas.models import Area
from yizhan.points.choices import SeasonKind
from yizhan.points.forms import KeyField
from yizhan.rewards.models import Reward
from yizhan.stations.models import Station

MAX_PHOTO_BYTES = 5 * 1024 * 1024
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format=DATETIME_FORMAT, **kwargs)


def when_field(label: str, *, required: bool = False, help_text: str = "") -> forms.DateTimeField:
    """A local date and time (Asia/Shanghai), as the phone's date-time picker sends it."""
    return forms.DateTimeField(
        label=label,
        required=required,
        help_text=help_text,
        input_formats=[DATETIME_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=DateTimeInput(),
    )


class StationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Station) -> str:
        return obj.name


class ReserveForm(forms.Form):
    station = StationChoiceField(queryset=Station.objects.none(), label=_("Station"))
    idempotency_key = KeyField()

    def __init__(self, *args: Any, stations, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["station"].queryset = stations


class RewardFields(forms.Form):
    """What a reward says about itself, shared by the create and the edit form."""

    description = forms.CharField(
        label=_("Description"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    cost = forms.IntegerField(
        label=_("Points"), widget=forms.NumberInput(attrs={"inputmode": "numeric"})
    )
    per_rider_limit = forms.IntegerField(
        label=_("Limit per rider"), required=False, help_text=_("Empty: no limit.")
    )
    available_from = when_field(_("On offer from"), help_text=_("Empty: from now."))
    available_until = when_field(_("On offer until"), help_text=_("Empty: no end."))
    pickup_hours = forms.IntegerField(
        label=_("Hours to pick up"),
        initial=72,
        help_text=_("A reservation not picked up in this time is released."),
    )


class RewardForm(RewardFields):
    name = forms.CharField(label=_("Name"), max_length=100)
    photo = forms.ImageField(label=_("Photo"), required=False)

    field_order = ["name", "description", "photo", "cost", "per_rider_limit"]

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if photo and photo.size > MAX_PHOTO_BYTES:
            raise forms.ValidationError(_("The photo is too large (at most 5 MB)."))
        return photo


class RewardUpdateForm(RewardFields):
    is_active = forms.BooleanField(label=_("On offer"), required=False)


class StockForm(forms.Form):
    station = StationChoiceField(queryset=Station.objects.none(), label=_("Station"))
    change = forms.IntegerField(
        label=_("Items to add"),
        help_text=_("Below zero to remove items (only those not reserved)."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args: Any, stations, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["station"].queryset = stations


class AreaChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Area) -> str:
        indent = {AreaLevel.COMMUNITY: "\u3000", AreaLevel.GRID: "\u3000\u3000"}
        return indent.get(obj.level, "") + obj.name


class WindowForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    top_n = forms.IntegerField(label=_("Open to the top"), help_text=_("How many riders."))
    season_kind = forms.ChoiceField(
        label=_("Ranked by points earned in"), choices=SeasonKind.choices
    )
    ranking_area = AreaChoiceField(queryset=Area.objects.none(), label=_("Ranking within"))
    opens_at = when_field(_("Opens"), required=True)
    closes_at = when_field(_("Closes"), required=True)
    reward = forms.ModelChoiceField(
        queryset=Reward.objects.none(),
        label=_("Reward"),
        required=False,
        empty_label=_("Every reward of the street"),
    )

    def __init__(self, *args: Any, areas, rewards, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ranking_area"].queryset = areas
        self.fields["reward"].queryset = rewards


class PickupForm(forms.Form):
    station = StationChoiceField(
        queryset=Station.objects.none(), label=_("Station"), empty_label=_("Choose the station")
    )
    code = forms.CharField(
        label=_("Pickup code"),
        max_length=40,
        help_text=_("The rider's 6 digits, or the text a scanner reads from their QR code."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autofocus": True, "spellcheck": "false"}
        ),
    )

    def __init__(self, *args: Any, stations, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["station"].queryset = stations
