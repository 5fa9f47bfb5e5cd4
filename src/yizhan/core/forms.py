"""The site's form rendering: Django's own templates, with a tick box inside its label."""

from __future__ import annotations

from django.forms.renderers import DjangoTemplates


class FormRenderer(DjangoTemplates):
    """Django's default renderer whose field template puts a checkbox inside its label."""

    field_template_name = "core/forms/field.html"
