"""How the site renders form fields: Django's templates, with a tick box inside its label."""

from __future__ import annotations

import re

from django import forms
from django.utils import translation

from yizhan.appeals.forms import AppealForm
from yizhan.reports.forms import HandleForm, ReopenForm, ReportForm, VerifyForm


class HelpedForm(forms.Form):
    agree = forms.BooleanField(label="I agree", help_text="Read the notice first.")


def test_a_checkbox_sits_inside_its_label_without_a_colon():
    with translation.override("en"):
        html = AppealForm()["anonymous"].as_field_group()
    label = re.search(r'<label class="inline" for="id_anonymous">(.*?)</label>', html, re.S)
    assert label, html
    assert 'type="checkbox"' in label.group(1)
    assert "only the body handling it sees my name" in label.group(1)
    assert ":</label>" not in html  # no label suffix after a tick box's words


def test_a_checkbox_keeps_its_help_text_and_errors():
    form = HelpedForm(data={})
    html = form["agree"].as_field_group()
    assert 'id="id_agree_helptext"' in html and "Read the notice first." in html
    assert re.search(r'aria-describedby="[^"]*\bid_agree_helptext\b', html), html
    assert "errorlist" in html  # required and not ticked


def test_other_fields_render_as_django_does():
    with translation.override("en"):
        html = AppealForm()["topic"].as_field_group()
    assert re.search(r'<label for="id_topic">[^<]*:</label>', html), html
    assert "<select" in html


def test_every_photo_field_that_opens_the_camera_offers_the_album():
    """site.js puts 从相册选择 under each camera input that says ``data-album``: the rider's
    report, the handler's after photos, the verifier's and the reopener's."""
    for form_class in (ReportForm, ReopenForm, VerifyForm, HandleForm):
        html = str(form_class.base_fields["photos"].widget.render("photos", None))
        assert 'capture="environment"' in html, form_class
        assert 'data-album="' in html, form_class
