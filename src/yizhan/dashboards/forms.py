"""The dashboard's period selector. The form checks the shape; ``kpis.Period.parse`` the rules
(an end before the start, a range too long, dates out of range), and its refusal is shown on
the field it names with a 400."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yizhan.dashboards.kpis import PERIOD_KIND_LABELS, Period, PeriodError
from yizhan.points.forms import DateInput


class PeriodForm(forms.Form):
    """``?kind=month&anchor=2026-04`` or ``?kind=custom&start=…&end=…`` (all optional: this
    month by default)."""

    kind = forms.ChoiceField(
        label=pgettext_lazy("dashboard", "Period"),
        choices=list(PERIOD_KIND_LABELS.items()),
        required=False,
    )
    anchor = forms.CharField(
        label=_("Which one"),
        required=False,
        max_length=20,
        help_text=_("A date inside it, or 2026-04, 2026-Q2, 2026, 2026-W15; empty: now."),
    )
    start = forms.DateField(label=_("From"), required=False, widget=DateInput())
    end = forms.DateField(label=_("To"), required=False, widget=DateInput())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].error_messages["invalid_choice"] = _(
            "Unknown period. Choose week, month, quarter, year or custom."
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        kind = data.get("kind") or "month"
        try:
            data["period"] = Period.parse(
                kind,
                anchor=data.get("anchor") or None,
                start=data.get("start") if kind == "custom" else None,
                end=data.get("end") if kind == "custom" else None,
            )
        except PeriodError as exc:
            field = exc.field if exc.field in self.fields else None
            self.add_error(field, str(exc.message))
        return data


def period_from(params: Any) -> tuple[PeriodForm, Period | None]:
    """The form bound to a query string and its period (None when the input is refused)."""
    data = params.copy() if hasattr(params, "copy") else dict(params)
    if not data.get("kind"):
        data["kind"] = "month"  # what an empty query shows, so the selector says so too
    form = PeriodForm(data)
    if form.is_valid():
        return form, form.cleaned_data["period"]
    return form, None
