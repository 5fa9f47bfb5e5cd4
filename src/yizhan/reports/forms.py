"""Report page forms. They check the shape of the input; the services check the rules.

The rider's report form is camera-first: a multiple file input that opens the back camera on a
phone (``capture="environment"``), the place (the phone's location, a pin moved on the map, typed
coordinates, or — without JavaScript — the community), the category offered for that place, a
short text and an optional building / unit / floor. It carries a hidden idempotency key made
when the page is drawn, so a double tap files one report.

Choice lists come from the view (the place's categories, the departments a report may go to,
the communities and streets in the user's scope), so a form offers only what the user may act
on.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from yizhan.core.geo import CRS
from yizhan.reports import services
from yizhan.reports.choices import DeadlineUnit, Family, ReportStatus
from yizhan.reports.models import Category

CRS_CHOICES = [
    (CRS.WGS84.value, _("WGS-84 (GPS, phone location)")),
    (CRS.GCJ02.value, _("GCJ-02 (Amap, Tencent maps)")),
    (CRS.BD09.value, _("BD-09 (Baidu maps)")),
]
YES_NO = [("yes", _("Yes")), ("no", _("No"))]


def new_key() -> str:
    """A fresh idempotency key for a form drawn now."""
    return str(uuid.uuid4())


class KeyField(forms.CharField):
    """The hidden idempotency key (the service checks its shape)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(widget=forms.HiddenInput, max_length=100, **kwargs)


class CameraInput(forms.FileInput):
    """Several photos at once; on a phone it opens the back camera first, and site.js adds a
    button under it that opens the album instead (``data-album``)."""

    allow_multiple_selected = True

    def __init__(self, attrs: dict | None = None) -> None:
        base = {
            "accept": "image/*",
            "capture": "environment",
            "multiple": True,
            "data-album": _("Choose from the album instead"),
        }
        super().__init__({**base, **(attrs or {})})


class PhotosField(forms.FileField):
    """Up to ``services.MAX_PHOTOS`` files; ``core.images`` decides what is a photo."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", CameraInput())
        kwargs.setdefault("label", _("Photos"))
        super().__init__(**kwargs)
        self.error_messages["required"] = _("Please add at least one photo.")

    def clean(self, data: Any, initial: Any = None) -> list:
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if not files:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return []
        if len(files) > services.MAX_PHOTOS:
            raise forms.ValidationError(
                _("At most %(n)s photos, please.") % {"n": services.MAX_PHOTOS},
                code="too_many_photos",
            )
        return [super(PhotosField, self).clean(f, initial) for f in files]


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def note_field(label: Any = None, *, required: bool = False, limit: int = 500, **kw: Any):
    return forms.CharField(
        label=label or _("Note"),
        max_length=limit,
        required=required,
        widget=forms.Textarea(attrs={"rows": 2}),
        **kw,
    )


class CategoryChoiceField(forms.ModelChoiceField):
    """Any active category validates (the service says when it is another street's); the
    select shows only the categories of the place, grouped by family."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            queryset=Category.objects.filter(is_active=True),
            empty_label=_("Choose what it is"),
            error_messages={
                "required": _("Please choose a category."),
                "invalid_choice": _("Please choose a category."),
            },
            **kwargs,
        )

    def label_from_instance(self, obj: Category) -> str:
        return obj.label


def grouped_choices(categories: list[Category], empty: Any) -> list:
    """``[("", empty), (family label, [(pk, label), …]), …]`` in the categories' order."""
    families = dict(Family.choices)
    groups: dict[str, list] = {}
    for category in categories:
        groups.setdefault(category.family, []).append((category.pk, category.label))
    return [("", empty)] + [(str(families.get(f, f)), items) for f, items in groups.items()]


class ReportForm(forms.Form):
    """A rider's report (随手拍)."""

    photos = PhotosField(
        help_text=_(
            "Up to %(n)s photos: JPEG, PNG, WebP or iPhone HEIC. Location and camera data are "
            "read for checking, then removed."
        )
        % {"n": services.MAX_PHOTOS},
    )
    lat = forms.FloatField(
        label=_("Latitude"),
        required=False,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    lng = forms.FloatField(
        label=_("Longitude"),
        required=False,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    crs = forms.ChoiceField(
        label=_("Coordinates from"), choices=CRS_CHOICES, initial=CRS.WGS84.value, required=False
    )
    community = forms.ChoiceField(label=_("Or: it is in the community"), required=False)
    category = CategoryChoiceField(label=_("Category"))
    description = forms.CharField(
        label=_("What is wrong?"),
        max_length=services.MAX_DESCRIPTION,
        widget=forms.Textarea(
            attrs={"rows": 3, "maxlength": services.MAX_DESCRIPTION, "enterkeyhint": "done"}
        ),
        error_messages={"required": _("Please say in a few words what is wrong.")},
    )
    address = forms.CharField(
        label=_("Where exactly"),
        max_length=200,
        required=False,
        help_text=_("A landmark, a shop, a lane: whatever helps someone find it."),
    )
    building = forms.CharField(label=_("Building"), max_length=40, required=False)
    unit = forms.CharField(label=_("Unit"), max_length=20, required=False)
    floor = forms.CharField(label=_("Floor"), max_length=20, required=False)
    idempotency_key = KeyField()
    #: When the phone made it (set by the page's script; a report kept offline is sent later).
    captured_at = forms.DateTimeField(required=False, widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, categories: list[Category], communities: list, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].widget.choices = grouped_choices(
            categories, self.fields["category"].empty_label
        )
        self.fields["community"].choices = [("", _("— use the location —"))] + [
            (c.code, f"{c.parent.name} · {c.name}" if c.parent_id else c.name) for c in communities
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        lat, lng = data.get("lat"), data.get("lng")
        if (lat is None) != (lng is None) and not self.has_error("lat"):
            self.add_error("lat", _("Give both latitude and longitude, or neither."))
        elif lat is None and lng is None and not data.get("community"):
            if not self.has_error("lat") and not self.has_error("lng"):
                self.add_error(
                    "lat",
                    _(
                        "Where is it? Use your location, tap the map, or choose the community "
                        "it is in."
                    ),
                )
        return data


class WitnessForm(forms.Form):
    """ "I saw it too": nothing to fill in."""


class ReopenForm(forms.Form):
    note = note_field(_("What is still wrong?"), required=True)
    photos = PhotosField(label=_("Photos showing it now"))


# --- the staff console -------------------------------------------------------------------------


class TriageFilterForm(forms.Form):
    """The triage list's filters (a GET form; an invalid value is dropped, never an error)."""

    status = forms.ChoiceField(label=_("Status"), required=False)
    category = forms.ChoiceField(label=_("Category"), required=False)
    area = forms.ChoiceField(label=_("Community"), required=False)
    q = forms.CharField(label=_("Words"), max_length=50, required=False)
    overdue = forms.BooleanField(label=_("Overdue"), required=False)
    urgent = forms.BooleanField(label=_("Urgent"), required=False)
    flagged = forms.BooleanField(label=_("Flagged"), required=False)

    def __init__(self, *args: Any, categories: list, communities: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [
            ("", _("To triage (submitted)")),
            ("open", _("All open")),
            ("all", _("Any status")),
            *ReportStatus.choices,
        ]
        self.fields["category"].choices = [("", _("Any category"))] + categories
        self.fields["area"].choices = [("", _("Anywhere in my area"))] + [
            (c.code, c.name) for c in communities
        ]

    def filters(self) -> dict[str, Any]:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "status": data.get("status") or "",
            "category": data.get("category") or "",
            "area": data.get("area") or "",
            "q": data.get("q") or "",
            "overdue": bool(data.get("overdue")),
            "urgent": bool(data.get("urgent")),
            "flagged": bool(data.get("flagged")),
        }


class DutyForm(forms.Form):
    on_duty = forms.BooleanField(required=False)


class AcceptForm(forms.Form):
    note = note_field()


class RejectForm(forms.Form):
    reason = note_field(
        _("Reason (the reporter sees it)"),
        required=True,
        limit=300,
        error_messages={"required": _("Please tell the reporter why it is rejected.")},
    )


class MergeForm(forms.Form):
    into = forms.IntegerField(
        label=_("Merge into report #"),
        min_value=1,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={"required": _("Which report? Give its number.")},
    )
    note = note_field()


class DepartmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.area.name})" if obj.area_id else obj.name


class DispatchForm(forms.Form):
    department = DepartmentChoiceField(
        label=_("Department"),
        queryset=None,
        error_messages={"required": _("Choose the department that should handle it.")},
    )
    deadline = forms.DateTimeField(
        label=_("Deadline"),
        required=False,
        widget=DateTimeInput(),
        help_text=_("Empty: the category's deadline, counted in working time."),
    )
    note = note_field()

    def __init__(self, *args: Any, departments: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments


class RedirectForm(forms.Form):
    department = DepartmentChoiceField(label=_("Send it to"), queryset=None)
    note = note_field(_("Why"), required=True)

    def __init__(self, *args: Any, departments: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments


class VerifyForm(forms.Form):
    passed = forms.TypedChoiceField(
        label=_("On site, is it fixed?"),
        choices=[("yes", _("Yes: fixed")), ("no", _("No: send it back (返工)"))],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": _("Fixed or not?")},
    )
    note = note_field(help_text=_("Required when you send it back."))
    photos = PhotosField(label=_("Photos from the site (optional)"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("passed") is False and not (data.get("note") or "").strip():
            self.add_error("note", _("Say what still needs doing."))
        return data


class CloseForm(forms.Form):
    note = note_field()


class StaffReopenForm(ReopenForm):
    pass


class AcknowledgeForm(forms.Form):
    pass


class PointsDecisionForm(forms.Form):
    pay = forms.TypedChoiceField(
        label=_("Pay the points?"),
        choices=[("yes", _("Pay")), ("no", _("Do not pay"))],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": _("Pay or not?")},
    )
    note = note_field(_("Why"), required=True, limit=300)


# --- the department's pages --------------------------------------------------------------------


class HandleForm(forms.Form):
    note = note_field(
        _("What was done"),
        required=True,
        error_messages={"required": _("Please say what was done.")},
    )
    photos = PhotosField(label=_("Photos after the work"))


# --- categories and settings -------------------------------------------------------------------


class CategoryFields(forms.Form):
    name = forms.CharField(label=_("Name (Chinese)"), max_length=40)
    name_en = forms.CharField(label=_("Name (English)"), max_length=60, required=False)
    description = forms.CharField(
        label=_("What belongs here"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    department = DepartmentChoiceField(label=_("Default department"), queryset=None, required=False)
    deadline_amount = forms.IntegerField(label=_("Deadline"), min_value=1, max_value=365, initial=2)
    deadline_unit = forms.ChoiceField(
        label=_("Deadline unit"), choices=DeadlineUnit.choices, initial=DeadlineUnit.WORKING_DAYS
    )
    urgent = forms.BooleanField(
        label=_("Urgent: alert the on-duty staff at once (一老一小)"), required=False
    )
    ack_minutes = forms.IntegerField(
        label=_("Minutes to acknowledge (urgent only)"), min_value=1, max_value=1440, initial=10
    )
    points = forms.IntegerField(
        label=_("Points for a verified report"),
        min_value=0,
        max_value=1000,
        required=False,
        help_text=_(
            "0: pays nothing. Empty: the street's rule for any verified report applies "
            "(when editing: the points stay as they are)."
        ),
    )
    sort_order = forms.IntegerField(
        label=_("Order"), min_value=0, max_value=32767, initial=0, required=False
    )

    def __init__(self, *args: Any, departments: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments

    def clean_sort_order(self) -> int:
        return self.cleaned_data.get("sort_order") or 0


class CategoryCreateForm(CategoryFields):
    street = forms.CharField(widget=forms.HiddenInput)
    code = forms.SlugField(
        label=_("Code"),
        max_length=40,
        help_text=_("Lower-case letters, digits and _ (e.g. flying_wire)."),
    )
    family = forms.ChoiceField(label=_("Family"), choices=Family.choices)

    field_order = ["street", "code", "name", "name_en", "family"]


class CategoryEditForm(CategoryFields):
    is_active = forms.BooleanField(label=_("In use"), required=False)


class SeedForm(forms.Form):
    street = forms.CharField(widget=forms.HiddenInput)


SETTINGS_LABELS = {
    "duplicate_radius_m": _("Duplicate radius (m)"),
    "duplicate_days": _("Duplicate window (days)"),
    "witness_share_percent": _("Witness share of the points (%)"),
    "burst_reports": _("Reports that make a burst"),
    "burst_minutes": _("Burst window (minutes)"),
    "max_photo_distance_m": _("Largest distance to the photo's GPS (m)"),
    "max_photo_age_hours": _("Oldest photo (hours)"),
}


class SettingsForm(forms.Form):
    street = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, (low, high) in services.SETTINGS_LIMITS.items():
            self.fields[name] = forms.IntegerField(
                label=SETTINGS_LABELS.get(name, name),
                min_value=low,
                max_value=high,
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )

    def changes(self) -> dict[str, int]:
        return {name: self.cleaned_data[name] for name in services.SETTINGS_LIMITS}
