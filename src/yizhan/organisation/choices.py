from django.db import models
from django.utils.translation import gettext_lazy as _


class Stage(models.TextChoices):
    """The five stages of the pipeline, in order (``STAGE_ORDER``)."""

    APPLICANT = "applicant", _("Applicant (入党申请)")
    ACTIVIST = "activist", _("Activist (积极分子)")
    CANDIDATE = "candidate", _("Candidate for admission (发展对象)")
    PROBATIONARY = "probationary", _("Probationary member (预备党员)")
    FULL = "full", _("Full member (正式党员)")


STAGE_ORDER: tuple[str, ...] = tuple(Stage.values)

#: The record's date field of each stage.
STAGE_DATE_FIELD = {
    Stage.APPLICANT: "applied_on",
    Stage.ACTIVIST: "activist_on",
    Stage.CANDIDATE: "candidate_on",
    Stage.PROBATIONARY: "probationary_on",
    Stage.FULL: "full_on",
}


class RecordStatus(models.TextChoices):
    OPEN = "open", _("In the pipeline")
    ADMITTED = "admitted", _("Admitted (full member)")
    CLOSED = "closed", _("Closed")


#: A person has at most one record in these states (a closed one does not stop a new application).
LIVE_STATUSES = (RecordStatus.OPEN, RecordStatus.ADMITTED)


class EntryKind(models.TextChoices):
    OPENED = "opened", _("Application recorded")
    ADVANCED = "advanced", _("Advanced")
    CLOSED = "closed", _("Closed")
    TRANSFERRED = "transferred", _("Transferred")


def next_stage(stage: str) -> str | None:
    index = STAGE_ORDER.index(stage)
    return STAGE_ORDER[index + 1] if index + 1 < len(STAGE_ORDER) else None
