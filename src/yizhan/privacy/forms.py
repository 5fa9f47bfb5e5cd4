"""The delete-my-account form: the password again, and an explicit confirmation."""

from django import forms
from django.utils.translation import gettext_lazy as _


class DeleteForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label=_("I understand: my account is deleted for good and I cannot log in with it again."),
        required=True,
    )
