"""Organisation page forms. They check the shape of the input; the services check the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from yizhan.areas.models import Area
from yizhan.core.masking import mask_name
from yizhan.organisation.choices import RecordStatus, Stage
from yizhan.organisation.models import Branch
from yizhan.people.models import RiderProfile, User
from yizhan.points.forms import DateInput


class SwitchForm(forms.Form):
    enabled = forms.TypedChoiceField(
        label=_("Organisation pipeline"),
        choices=[("1", _("On")), ("0", _("Off"))],
        coerce=lambda value: value == "1",
    )


class BranchForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60, help_text=_("e.g. 清远街道小哥党支部"))
    area = forms.ModelChoiceField(queryset=Area.objects.none(), label=_("Area"))

    def __init__(self, *args: Any, areas, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas
        self.fields["area"].error_messages["invalid_choice"] = _(
            "Please choose the street or one of its communities."
        )


class StaffForm(forms.Form):
    user = forms.ModelChoiceField(queryset=User.objects.none(), label=_("Console user"))

    def __init__(self, *args: Any, users, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = users
        self.fields["user"].error_messages["invalid_choice"] = _(
            "Please choose a console user of the branch's area."
        )


class RiderChoice(forms.ModelChoiceField):
    """A person, masked as in every list: 王** · 138****1234 · community."""

    def label_from_instance(self, obj: RiderProfile) -> str:
        name = mask_name(obj.user.name or obj.user.username)
        return f"{name} · {obj.user.phone_masked} · {obj.community.name}"


class OpenForm(forms.Form):
    rider = RiderChoice(queryset=RiderProfile.objects.none(), label=_("Person"))
    applied_on = forms.DateField(label=_("Application date"), widget=DateInput())
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args: Any, riders, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rider"].queryset = riders
        self.fields["rider"].error_messages["invalid_choice"] = _(
            "Please choose a verified rider of the branch's area without a record."
        )


class AdvanceForm(forms.Form):
    stage = forms.ChoiceField(label=_("Stage"), choices=Stage.choices)
    on = forms.DateField(label=_("Date"), widget=DateInput())
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class CloseForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=300, help_text=_("e.g. withdrawn, not admitted")
    )
    on = forms.DateField(label=_("Date"), widget=DateInput())


class TransferForm(forms.Form):
    branch = forms.ModelChoiceField(queryset=Branch.objects.none(), label=_("Receiving branch"))
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args: Any, branches, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches
        self.fields["branch"].error_messages["invalid_choice"] = _(
            "Please choose a branch of the same street."
        )


class FilterForm(forms.Form):
    stage = forms.ChoiceField(
        label=_("Stage"), choices=[("", _("All stages")), *Stage.choices], required=False
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("All")), *RecordStatus.choices], required=False
    )
