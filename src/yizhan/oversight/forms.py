"""The console's filter and decision forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from yizhan.areas.choices import AreaLevel
from yizhan.areas.models import Area
from yizhan.core.permissions import scope_code
from yizhan.oversight import selectors
from yizhan.oversight.services import DECISIONS

#: At most this many areas are offered in a filter's list (a district's streets and communities).
MAX_AREA_CHOICES = 500


def area_choices(user: Any) -> list[tuple[str, str]]:
    """Streets and communities beneath the account's area (one query)."""
    areas = Area.objects.filter(level__in=[AreaLevel.STREET, AreaLevel.COMMUNITY])
    if not getattr(user, "is_superuser", False):
        code = scope_code(user)
        areas = areas.filter(code__startswith=code) if code else areas.none()
    rows = areas.order_by("code").values_list("code", "name", "level")[:MAX_AREA_CHOICES]
    indent = {AreaLevel.COMMUNITY: "· "}
    return [(code, f"{indent.get(level, '')}{name}") for code, name, level in rows]


class QueueFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    flag = forms.ChoiceField(label=_("Flag"), required=False)
    area = forms.ChoiceField(label=_("Area"), required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("Everything")), *selectors.KIND_CHOICES]
        self.fields["flag"].choices = [("", _("Any flag")), *selectors.FLAG_LABELS.items()]
        self.fields["area"].choices = [("", _("All my area")), *area_choices(user)]

    def values(self) -> dict[str, str]:
        """The valid choices (a bad value is ignored, as if not chosen)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {name: data.get(name) or None for name in ("kind", "flag", "area")}


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[(d, d) for d in DECISIONS], widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason"), max_length=200)


class AuditSearchForm(forms.Form):
    actor = forms.CharField(
        label=_("Who"), required=False, max_length=150,
        help_text=_("An account id, a username or part of a name"),
    )  # fmt: skip
    action = forms.CharField(
        label=_("Action"), required=False, max_length=64,
        help_text=_("e.g. report.verified, or report. for every report action"),
    )  # fmt: skip
    target_type = forms.CharField(label=_("Object type"), required=False, max_length=64)
    target_id = forms.CharField(label=_("Object id"), required=False, max_length=64)
    area = forms.ChoiceField(label=_("Area"), required=False)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    q = forms.CharField(label=_("Text in the details"), required=False, max_length=100)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = [("", _("All my area")), *area_choices(user)]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The last day is before the first."))
        return data

    def filters(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) or None for name in self.fields}
