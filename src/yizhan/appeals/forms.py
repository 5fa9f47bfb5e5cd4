"""Page forms for appeals and joint meetings. They check the shape of the input; the services
check the rules. Choice lists come from the view (the bodies of the appeal's area, the areas the
user may organise, …), so a form offers only what the user may act on."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yizhan.appeals.choices import AppealStatus, DeliveryKind, Difficulty, Topic
from yizhan.appeals.models import Appeal
from yizhan.appeals.services import DEFAULT_DEADLINE_DAYS, MAX_DEADLINE_DAYS
from yizhan.people.models import Department, User
from yizhan.points.forms import KeyField


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


def _text(label: str, *, limit: int, required: bool = True, rows: int = 0) -> forms.CharField:
    widget = forms.Textarea(attrs={"rows": rows}) if rows else None
    return forms.CharField(
        label=label, max_length=limit, required=required, strip=True, widget=widget
    )


class AppealForm(forms.Form):
    difficulty = forms.ChoiceField(label=_("Which difficulty"), choices=Difficulty.choices)
    topic = forms.ChoiceField(label=_("Topic"), choices=Topic.choices)
    text = _text(_("What is it about?"), limit=1000, rows=5)
    anonymous = forms.BooleanField(
        label=_("Anonymous: only the body handling it sees my name"), required=False
    )
    idempotency_key = KeyField()


class RateForm(forms.Form):
    stars = forms.TypedChoiceField(
        label=_("How good is the answer? (1-5)"),
        choices=[(n, str(n)) for n in range(5, 0, -1)],
        coerce=int,
    )
    comment = _text(_("Comment"), limit=500, required=False, rows=2)


class BodyChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Department) -> str:
        return f"{obj.name} ({obj.area.name})"


class RouteForm(forms.Form):
    body = BodyChoiceField(queryset=Department.objects.none(), label=_("Responsible body"))
    days = forms.IntegerField(
        label=_("Deadline (working days)"),
        min_value=1,
        max_value=MAX_DEADLINE_DAYS,
        initial=DEFAULT_DEADLINE_DAYS,
    )
    note = _text(_("Note to the body"), limit=500, required=False, rows=2)

    def __init__(self, *args: Any, bodies, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["body"].queryset = bodies


class AnswerForm(forms.Form):
    text = _text(_("Answer"), limit=2000, rows=4)


class DeliveryForm(forms.Form):
    kind = forms.ChoiceField(label=_("Delivery (四送)"), choices=DeliveryKind.choices)
    note = _text(_("What was given"), limit=500)


class CloseForm(forms.Form):
    note = _text(_("Why it is closed (the rider is told)"), limit=500, rows=2)


class QueueFilterForm(forms.Form):
    difficulty = forms.ChoiceField(
        label=_("Difficulty"), choices=[("", _("All"))] + Difficulty.choices, required=False
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("All"))] + AppealStatus.choices, required=False
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)


class PersonChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.name or obj.username


class AreaChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.name


class MeetingForm(forms.Form):
    title = _text(_("Title"), limit=100)
    held_on = forms.DateField(label=_("Date"), widget=DateInput())
    place = _text(_("Place"), limit=200)
    area = AreaChoiceField(queryset=None, label=_("Organiser"))
    bodies = forms.ModelMultipleChoiceField(
        queryset=Department.objects.none(), label=_("Bodies taking part"), required=False
    )
    riders = PersonChoiceField(
        queryset=User.objects.none(), label=_("Rider representatives"), required=False
    )

    def __init__(self, *args: Any, areas, bodies, riders, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas
        self.fields["bodies"].queryset = bodies
        self.fields["riders"].queryset = riders


class ParticipantsForm(forms.Form):
    bodies = forms.ModelMultipleChoiceField(
        queryset=Department.objects.none(), label=_("Bodies taking part"), required=False
    )
    riders = PersonChoiceField(
        queryset=User.objects.none(), label=_("Rider representatives"), required=False
    )

    def __init__(self, *args: Any, bodies, riders, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["bodies"].queryset = bodies
        self.fields["riders"].queryset = riders


class AppealChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Appeal) -> str:
        return f"#{obj.pk} {obj.get_difficulty_display()}: {obj.text[:40]}"


class AgendaForm(forms.Form):
    appeal = AppealChoiceField(
        queryset=Appeal.objects.none(), label=_("Unresolved appeal"), required=False
    )
    text = _text(_("Item (or a note on the appeal)"), limit=500, required=False)

    def __init__(self, *args: Any, appeals, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["appeal"].queryset = appeals


class MinutesForm(forms.Form):
    minutes = _text(_("Minutes"), limit=10000, rows=8)


class DecisionForm(forms.Form):
    text = _text(pgettext_lazy("meeting", "Decision"), limit=500)
    owner_body = BodyChoiceField(
        queryset=Department.objects.none(), label=_("Owner: a body"), required=False
    )
    owner_name = _text(_("… or a person's name"), limit=100, required=False)
    due_on = forms.DateField(label=_("Due"), widget=DateInput(), required=False)
    agenda_item = forms.ModelChoiceField(queryset=None, label=_("On agenda item"), required=False)

    def __init__(self, *args: Any, bodies, items, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner_body"].queryset = bodies
        self.fields["agenda_item"].queryset = items


class FollowUpForm(forms.Form):
    note = _text(_("Progress note"), limit=500)
    done = forms.BooleanField(label=_("Done"), required=False)
