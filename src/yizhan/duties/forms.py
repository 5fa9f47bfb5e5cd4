"""Duties page forms. They check the shape of the input; the services check the rules.

The rider's post list comes from the view (the posts they hold), the staff's community list
from their scope, so a form only offers what the user may act on.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from yizhan.duties.choices import DutyKind
from yizhan.people.models import Post
from yizhan.points.forms import KeyField

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
MAX_PHOTO_BYTES = 10 * 1024 * 1024


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format=DATETIME_FORMAT, **kwargs)


def when_field(label: Any, *, required: bool, help_text: Any = "") -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        help_text=help_text,
        input_formats=[DATETIME_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=DateTimeInput(),
    )


class PostChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Post) -> str:
        return str(obj)


class DutyForm(forms.Form):
    post = PostChoiceField(queryset=Post.objects.none(), label=_("Post"))
    kind = forms.ChoiceField(label=_("Kind"), choices=DutyKind.choices)
    started_at = when_field(_("Start (or the time of the act)"), required=True)
    ended_at = when_field(
        _("End"), required=False, help_text=_("Patrols and mediations only; at most 12 hours.")
    )
    place = forms.CharField(label=_("Place"), max_length=200)
    lat = forms.FloatField(required=False, widget=forms.HiddenInput)
    lng = forms.FloatField(required=False, widget=forms.HiddenInput)
    crs = forms.ChoiceField(
        required=False,
        choices=[("wgs84", "WGS-84"), ("gcj02", "GCJ-02"), ("bd09", "BD-09")],
        widget=forms.HiddenInput,
    )
    note = forms.CharField(
        label=_("Note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    photo = forms.FileField(label=_("Photo"), required=False)
    idempotency_key = KeyField()

    def __init__(self, *args: Any, posts, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["post"].queryset = posts

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if photo and photo.size > MAX_PHOTO_BYTES:
            raise forms.ValidationError(_("The photo is too large (at most 10 MB)."))
        return photo


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class ConfirmForm(forms.Form):
    duty = forms.IntegerField(
        label=_("Duty number"), min_value=1, help_text=_("The rider shows it to you.")
    )
    code = forms.CharField(label=_("Your 6-digit code"), max_length=20)


class AreaChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.name


class GiftCodeForm(forms.Form):
    community = AreaChoiceField(queryset=None, label=_("Community"))
    household = forms.CharField(
        label=_("Household"), max_length=100, help_text=_("e.g. 3-2-501, Grandma Wang")
    )

    def __init__(self, *args: Any, communities, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities
