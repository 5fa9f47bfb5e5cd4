"""Page forms. They check the shape of the input; the services check the rules.

A form never writes: the view hands its cleaned data to a service and puts a refusal back on the
form (``core.pages.form_error``). Choice lists come from selectors, so a form only offers what the
user may act on.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yizhan.areas.choices import AreaLevel
from yizhan.areas.models import Area
from yizhan.core.errors import ApplicationError
from yizhan.people.choices import (
    ConsentKind,
    Occupation,
    Platform,
    PostKind,
    RegistrationStatus,
    UnmaskReason,
    Vehicle,
)
from yizhan.people.models import RiderProfile


class AreaChoiceField(forms.ModelChoiceField):
    """Areas labelled with their parent, so two "第一网格" can be told apart."""

    def label_from_instance(self, obj: Area) -> str:
        if obj.level in (AreaLevel.COMMUNITY, AreaLevel.GRID) and obj.parent_id:
            return f"{obj.parent.name} · {obj.name}"
        return obj.name


def grouped_by_street(communities) -> list:
    """Choices for a ``<select>`` of communities, grouped by street (``<optgroup>``)."""
    groups: dict[str, list] = {}
    for area in communities:
        street = area.parent.name if area.parent_id else ""
        groups.setdefault(street, []).append((area.code, area.name))
    return [("", _("Choose your community"))] + list(groups.items())


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("Phone number or username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )

    error_messages = {
        "invalid_login": _("The phone number, username or password is not right."),
        "inactive": _("This account is disabled."),
    }

    #: The refusal of the last ``clean`` (the view answers 429 for a lockout).
    refusal: ApplicationError | None = None

    def clean(self):
        # Through the lockout (people.security), not straight to authenticate(): the same
        # counters for this page, the back office's log-in and the API's token endpoint.
        from yizhan.people import security

        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = security.login_authenticate(
                    request=self.request, username=username, password=password
                )
            except ApplicationError as exc:
                self.refusal = exc
                raise ValidationError(str(exc.message), code=exc.code) from None
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class AdminLoginForm(LoginForm, AdminAuthenticationForm):
    """The back office's log-in: the same lockout, and console accounts only."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": _("The phone number, username or password is not right."),
    }


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_("The 6 digits of your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class RegisterForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50)
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        help_text=_(
            "You log in with this number. Staff see it masked; each time they need the full "
            "number, it is logged with a reason."
        ),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        help_text=_("At least 8 characters, not only digits."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    community = forms.ModelChoiceField(
        queryset=Area.objects.none(),
        to_field_name="code",
        label=_("Community to register with"),
        help_text=_("Marking your work place on the map chooses it for you."),
    )
    platform = forms.ChoiceField(label=_("Delivery platform"), choices=Platform.choices)
    occupation = forms.ChoiceField(label=_("Occupation"), choices=Occupation.choices)
    vehicle = forms.ChoiceField(label=_("Vehicle"), choices=Vehicle.choices)
    work_lat = forms.FloatField(
        label=_("Latitude"),
        min_value=-90,
        max_value=90,
        error_messages={"required": _("Please mark where you usually work on the map.")},
        widget=forms.NumberInput(attrs={"step": "any"}),
    )
    work_lng = forms.FloatField(
        label=_("Longitude"),
        min_value=-180,
        max_value=180,
        error_messages={"required": _("Please mark where you usually work on the map.")},
        widget=forms.NumberInput(attrs={"step": "any"}),
    )
    work_address = forms.CharField(
        label=_("Usual work area"),
        max_length=200,
        required=False,
        help_text=_("For example: the shops around 清远街 and 西街."),
    )
    consent = forms.BooleanField(
        label=_("I have read and agree to the privacy notice."),
        error_messages={"required": _("Please read and agree to the privacy notice to register.")},
    )
    location_consent = forms.BooleanField(
        label=_("I also agree that Yizhan uses my location (optional)."),
        help_text=_(
            "Separate from the notice: the location where your photos were taken and your duty "
            "points are kept only with this consent. You can withdraw it at any time."
        ),
        required=False,
    )

    def __init__(self, *args: Any, communities, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["community"]
        field.queryset = communities
        field.widget.choices = grouped_by_street(communities)


class ResubmitForm(forms.Form):
    community = AreaChoiceField(
        queryset=Area.objects.none(),
        label=_("Community"),
        required=False,
        empty_label=_("Keep the same community"),
    )

    def __init__(self, *args: Any, communities, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class OptionalReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class ClaimForm(forms.Form):
    note = forms.CharField(
        label=_("A word to the staff (optional)"), max_length=200, required=False
    )


class MoveForm(forms.Form):
    grid = AreaChoiceField(queryset=Area.objects.none(), label=_("Grid"))
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)

    def __init__(self, *args: Any, grids, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["grid"].queryset = grids


class RiderFilterForm(forms.Form):
    """The staff console's rider list filters (a GET form; bad values are ignored)."""

    q = forms.CharField(label=_("Name or phone"), max_length=50, required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status"))] + RegistrationStatus.choices,
    )
    area = forms.ChoiceField(label=_("Community or grid"), required=False)
    platform = forms.ChoiceField(
        label=_("Platform"), required=False, choices=[("", _("Any platform"))] + Platform.choices
    )
    post = forms.ChoiceField(
        label=_("Post held"), required=False, choices=[("", _("Any post"))] + PostKind.choices
    )

    def __init__(self, *args: Any, areas, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = [("", _("Anywhere in my area"))] + [
            (a.code, ("\u3000" if a.level == AreaLevel.GRID else "") + a.name) for a in areas
        ]

    def filters(self) -> dict[str, str]:
        """The valid filters (an invalid one is dropped, never an error page)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {key: data.get(key) or None for key in ("q", "status", "area", "platform", "post")}


class PostCreateForm(forms.Form):
    community = AreaChoiceField(queryset=Area.objects.none(), label=_("Community"))
    kind = forms.ChoiceField(label=_("Post"), choices=PostKind.choices)
    capacity = forms.IntegerField(label=_("Capacity"), min_value=1, max_value=1000)
    description = forms.CharField(
        label=pgettext_lazy("post description", "Duties"), max_length=300, required=False
    )

    def __init__(self, *args: Any, communities, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities


class PostUpdateForm(forms.Form):
    capacity = forms.IntegerField(label=_("Capacity"), min_value=1, max_value=1000)
    is_open = forms.BooleanField(label=_("Open for claims"), required=False)
    description = forms.CharField(
        label=pgettext_lazy("post description", "Duties"), max_length=300, required=False
    )


class TeamCreateForm(forms.Form):
    name = forms.CharField(label=_("Team name"), max_length=100)
    area = AreaChoiceField(queryset=Area.objects.none(), label=_("Area"))
    description = forms.CharField(label=_("What the team does"), max_length=300, required=False)

    def __init__(self, *args: Any, areas, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas


class RiderChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: RiderProfile) -> str:
        where = obj.grid.name if obj.grid_id else obj.community.name
        return f"{obj.user.name} · {obj.user.phone_masked} · {where}"


class TeamMemberForm(forms.Form):
    rider = RiderChoiceField(queryset=RiderProfile.objects.none(), label=_("Rider"))
    leader = forms.BooleanField(label=_("Make them the leader"), required=False)

    def __init__(self, *args: Any, riders, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rider"].queryset = riders


class LeaderForm(forms.Form):
    rider = RiderChoiceField(queryset=RiderProfile.objects.none(), label=_("Leader"))

    def __init__(self, *args: Any, riders, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rider"].queryset = riders


class UnmaskForm(forms.Form):
    """Why a staff member needs a rider's full phone number (both parts are logged)."""

    reason = forms.ChoiceField(
        label=_("Why do you need the full number?"), choices=UnmaskReason.choices
    )
    note = forms.CharField(
        label=_("In a few words"),
        max_length=200,
        help_text=_("For example: calling about the post they claimed. This is logged."),
    )


class ConsentForm(forms.Form):
    kind = forms.ChoiceField(choices=ConsentKind.choices, widget=forms.HiddenInput)
