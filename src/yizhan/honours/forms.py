"""Honours page forms. They check the shape of the input; the services check the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from yizhan.people.models import RiderProfile
from yizhan.points.forms import DateInput


class TitleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60, help_text=_("e.g. 清远骑士"))
    description = forms.CharField(
        label=_("Description"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    quota = forms.IntegerField(
        label=_("Quota"), help_text=_("How many riders may hold it for the period.")
    )
    year = forms.IntegerField(
        label=_("Year"), required=False, help_text=_("A calendar year, or give the dates below.")
    )
    starts_on = forms.DateField(label=_("Period starts"), required=False, widget=DateInput())
    ends_on = forms.DateField(label=_("Period ends"), required=False, widget=DateInput())
    period = forms.CharField(
        label=_("Period label"),
        max_length=40,
        required=False,
        help_text=_("Empty: the year, or the dates."),
    )


class NominationForm(forms.Form):
    rider = forms.ModelChoiceField(queryset=RiderProfile.objects.none(), label=_("Rider"))
    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, riders, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rider"].queryset = riders
        self.fields["rider"].error_messages["invalid_choice"] = _(
            "Please choose a rider of your area."
        )


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason for rejection"), max_length=300)
