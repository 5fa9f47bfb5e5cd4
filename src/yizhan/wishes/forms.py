"""Wish page forms. They check the shape of the input; the services check the rules."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from yizhan.points.forms import KeyField
from yizhan.wishes.choices import WishCategory


class WishForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"), choices=WishCategory.choices)
    # The service checks the length too (and says so); the form keeps a larger net so a
    # too-long text gets the service's message with the limit.
    text = forms.CharField(
        label=_("Your wish"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 300}),
        help_text=_("Up to 300 characters. Your name and phone are not shown on the wall."),
    )
    photo = forms.FileField(
        label=_("Photo (optional)"),
        required=False,
        help_text=_("Only you and the staff see it; please no faces."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )
    idempotency_key = KeyField()


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 300}),
    )


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 300}),
    )


class FulfilForm(NoteForm):
    photo = forms.FileField(
        label=_("Photo (optional)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )


class WallForm(forms.Form):
    community = forms.CharField(label=_("Community code"), max_length=32)
