"""Points page forms. They check the shape of the input; the services check the rules.

Choice lists come from selectors and the view (riders beneath the user's area, the streets they
look after), so a form only offers what the user may act on. Forms that write carry a hidden
idempotency key made when the page is drawn: a double tap, or a resend after a flaky network,
takes effect once.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from yizhan.areas.models import Area
from yizhan.people.forms import RiderChoiceField
from yizhan.people.models import RiderProfile
from yizhan.points.choices import Activity, PostingKind, SeasonKind


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


class LedgerFilterForm(forms.Form):
    """The staff ledger search (a GET form; a bad value is dropped, never an error page)."""

    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("Any kind"))] + PostingKind.choices
    )
    activity = forms.ChoiceField(
        label=_("Activity"),
        required=False,
        choices=[("", _("Any activity"))] + Activity.choices,
    )
    q = forms.CharField(label=_("Name, phone or reason"), max_length=50, required=False)
    since = forms.DateField(label=_("From"), required=False, widget=DateInput())
    until = forms.DateField(label=_("To"), required=False, widget=DateInput())

    def filters(self) -> dict[str, Any]:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {key: data.get(key) or None for key in ("kind", "activity", "q", "since", "until")}


class ReverseForm(forms.Form):
    reason = forms.CharField(label=_("Reason for the correction"), max_length=200)
    idempotency_key = KeyField()


class AwardForm(forms.Form):
    rider = RiderChoiceField(queryset=RiderProfile.objects.none(), label=_("Rider"))
    amount = forms.IntegerField(
        label=_("Points"), widget=forms.NumberInput(attrs={"inputmode": "numeric"})
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        help_text=_("The rider sees it in their points history."),
    )
    evidence = forms.CharField(
        label=_("Evidence"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What shows it happened: a record number, where the photos are, a witness."),
    )
    idempotency_key = KeyField()

    def __init__(self, *args: Any, riders, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rider"].queryset = riders


class DecisionNoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class StreetField(forms.ModelChoiceField):
    """A street among those the page offers, by its code."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            queryset=Area.objects.none(), to_field_name="code", widget=forms.HiddenInput, **kwargs
        )


class RuleForm(forms.Form):
    street = StreetField()
    activity = forms.ChoiceField(label=_("Activity"), choices=Activity.choices)
    category = forms.CharField(
        label=_("Report category code"),
        max_length=64,
        required=False,
        help_text=_("Only for verified hazard reports; empty: any category."),
    )
    points = forms.IntegerField(label=_("Points per unit"))
    daily_cap = forms.IntegerField(
        label=_("Daily cap"), required=False, help_text=_("Empty: no cap.")
    )
    weekly_cap = forms.IntegerField(
        label=_("Weekly cap"), required=False, help_text=_("Empty: no cap.")
    )
    is_active = forms.BooleanField(label=_("In force"), required=False, initial=True)

    def __init__(self, *args: Any, streets, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["street"].queryset = streets


class SettingsForm(forms.Form):
    street = StreetField()
    approval_threshold = forms.IntegerField(
        label=_("Second approval above"),
        help_text=_("A manual award of more points than this waits for a second staff member."),
    )
    expiry_enabled = forms.BooleanField(label=_("Points expire"), required=False)
    expiry_month = forms.TypedChoiceField(
        label=_("Expiry month"), coerce=int, choices=[(m, str(m)) for m in range(1, 13)]
    )
    expiry_day = forms.IntegerField(label=_("Expiry day"))
    # The review rules for manual awards (docs/oversight.md): 0 turns a rule off; left empty,
    # a rule stays as it is.
    review_repeat_count = forms.IntegerField(
        label=_("Hold repeat awards from the n-th"),
        required=False,
        min_value=0,
        help_text=_("The n-th award by one staff member to one person within the window (0: off)."),
    )
    review_window_hours = forms.IntegerField(
        label=_("Repeat window (hours)"), required=False, min_value=1
    )
    review_large_amount = forms.IntegerField(
        label=_("Hold awards of at least (points)"), required=False, min_value=0
    )
    review_new_member_days = forms.IntegerField(
        label=_("Hold awards to people registered less than (days)"),
        required=False,
        min_value=0,
    )
    review_burst_count = forms.IntegerField(
        label=_("Hold the n-th award by one staff member in a burst"),
        required=False,
        min_value=0,
    )
    review_burst_minutes = forms.IntegerField(
        label=_("Burst window (minutes)"), required=False, min_value=1
    )

    def __init__(self, *args: Any, streets, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["street"].queryset = streets


class LeaderboardForm(forms.Form):
    """Season and area of a leaderboard (a GET form; a bad value falls back to the default)."""

    season = forms.ChoiceField(label=_("Season"), choices=SeasonKind.choices, required=False)
    area = forms.ChoiceField(label=_("Area"), required=False)

    def __init__(self, *args: Any, areas: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = areas

    def choice(self, default_area: str) -> tuple[str, str]:
        """(season kind, area code): the valid choices, else this month and ``default_area``."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return data.get("season") or SeasonKind.MONTH, data.get("area") or default_area
