"""Everything Yizhan holds about one account, as JSON and as an Excel workbook.

The data is described once, as a list of :class:`Section` values (one per kind of record: the
account, the rider profile, post claims, reports …), each with its own query and its columns.
Both formats walk that list: the JSON is written as a stream of chunks (one row at a time), the
workbook with openpyxl in ``write_only`` mode into a temporary file, so memory stays flat
whatever the rider's history. Every section is one query (plus one per ``prefetch_related``
lookup, per chunk of :data:`CHUNK` rows): the number of queries does not grow with the number of
rows.

Column headings are the models' own field names (``verbose_name``), already translated, so the
workbook has Chinese headings in the Chinese interface; JSON keys are the stable code names.
Sections whose model does not exist (the consent records, until the people app has them) are
left out.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.apps import apps
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
FORMAT_NAME = "yizhan.personal-data/1"
#: Rows fetched per query when a section is read (and per prefetch).
CHUNK = 2000
NUMBER_FORMATS = {
    "int": "#,##0",
    "float": "0.000000",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm:ss",
}


@dataclass
class Subject:
    """The account an export (or an erasure) is about, with the ids its sections filter on."""

    user: Any
    profile: Any  # people.RiderProfile or None

    @property
    def profile_id(self) -> int | None:
        return self.profile.pk if self.profile is not None else None


def subject_for(user: Any) -> Subject:
    from yizhan.people.models import RiderProfile

    profile = (
        RiderProfile.objects.select_related("community", "grid").filter(user_id=user.pk).first()
    )
    return Subject(user=user, profile=profile)


@dataclass
class Column:
    key: str
    label: Any
    get: Callable[[Any], Any]
    kind: str = "text"  # text, int, float, bool, date, datetime


@dataclass
class Section:
    key: str
    title: Any
    rows: Callable[[Subject], Iterable[Any]]
    columns: list[Column] = field(default_factory=list)


# --- building columns from the models ---------------------------------------------------------


def _kind(model_field: models.Field) -> str:
    if isinstance(model_field, models.DateTimeField):
        return "datetime"
    if isinstance(model_field, models.DateField):
        return "date"
    if isinstance(model_field, models.BooleanField):
        return "bool"
    if isinstance(model_field, models.FloatField | models.DecimalField):
        return "float"
    if isinstance(model_field, models.IntegerField):
        return "int"
    return "text"


def _resolve(obj: Any, path: list[str]) -> Any:
    for part in path:
        if obj is None:
            return None
        obj = getattr(obj, part)
    return obj


def col(model: type[models.Model], path: str, *, label: Any = None, key: str = "") -> Column:
    """A column for ``path`` (``"status"``, ``"event.title"``): its heading is the verbose name
    of the first field on ``model``; a field with choices gives its display value; a file field
    its URL; a related object its ``str``."""
    parts = path.split(".")
    first = model._meta.get_field(parts[0])
    target_model, target = model, first
    for part in parts[1:]:
        target_model = target.related_model
        target = target_model._meta.get_field(part)
    kind = _kind(target)

    def get(obj: Any) -> Any:
        owner = _resolve(obj, parts[:-1])
        if owner is None:
            return None
        if getattr(target, "choices", None):
            return getattr(owner, f"get_{target.name}_display")()
        value = getattr(owner, target.name)
        if isinstance(target, models.FileField):
            return file_url(value)
        if isinstance(value, models.Model):
            return str(value)
        return value

    if label is None:
        label = _("Number") if first.primary_key else first.verbose_name
    return Column(key or path.replace(".", "_"), label, get, kind)


def file_url(value: Any) -> str:
    """The URL of a stored file, or '' when there is none."""
    if not value:
        return ""
    try:
        return value.url
    except ValueError:
        return ""


def cols(model: type[models.Model], *paths: str) -> list[Column]:
    return [col(model, path) for path in paths]


def _chunked(queryset: QuerySet) -> Iterator[Any]:
    return queryset.iterator(chunk_size=CHUNK)


# --- the sections ------------------------------------------------------------------------------


def _account_rows(subject: Subject) -> list:
    return [subject.user]


def _profile_rows(subject: Subject) -> list:
    return [subject.profile] if subject.profile is not None else []


def _by_profile(model_label: str, field_name: str = "rider", *related: str, prefetch=()):
    def rows(subject: Subject) -> Iterable[Any]:
        if subject.profile is None:
            return []
        model = apps.get_model(model_label)
        qs = model.objects.filter(**{f"{field_name}_id": subject.profile_id})
        qs = qs.select_related(*related).prefetch_related(*prefetch).order_by("pk")
        return _chunked(qs)

    return rows


def _by_user(model_label: str, field_name: str, *related: str, prefetch=()):
    def rows(subject: Subject) -> Iterable[Any]:
        model = apps.get_model(model_label)
        qs = model.objects.filter(**{f"{field_name}_id": subject.user.pk})
        qs = qs.select_related(*related).prefetch_related(*prefetch).order_by("pk")
        return _chunked(qs)

    return rows


def _report_photos(report: Any) -> str:
    from yizhan.privacy.photos import display_url

    return "\n".join(url for url in (display_url(photo) for photo in report.photos.all()) if url)


def _receipt_items(receipt: Any) -> str:
    return "; ".join(f"{line.item.name} × {line.quantity}" for line in receipt.lines.all())


def _entry_rows(subject: Subject) -> Iterable[Any]:
    from yizhan.points.models import Entry

    qs = (
        Entry.objects.filter(account__owner_id=subject.user.pk)
        .select_related("posting", "account__street")
        .order_by("created_at", "pk")
    )
    return _chunked(qs)


def _meeting_rows(subject: Subject) -> Iterable[Any]:
    from yizhan.appeals.models import Meeting

    return _chunked(Meeting.objects.filter(riders=subject.user.pk).order_by("held_on", "pk"))


def _audit_rows(subject: Subject) -> Iterable[Any]:
    from yizhan.core.models import AuditEntry

    about = Q(actor_id=subject.user.pk) | Q(
        target_type="people.user", target_id=str(subject.user.pk)
    )
    if subject.profile is not None:
        about |= Q(target_type="people.riderprofile", target_id=str(subject.profile_id))
    qs = AuditEntry.objects.filter(about).select_related("actor").order_by("created_at", "pk")
    return _chunked(qs)


def _audit_actor(subject_id: int) -> Callable[[Any], str]:
    def get(entry: Any) -> str:
        # Who acted, by role only: the names of staff are their personal data, not the rider's.
        if entry.actor_id is None:
            return _("The system")
        if entry.actor_id == subject_id:
            return _("You")
        return entry.actor.get_role_display()

    return get


def consent_model() -> type[models.Model] | None:
    """The people app's consent records, if it has them (``people.Consent``)."""
    try:
        return apps.get_model("people", "Consent")
    except LookupError:
        return None


def _user_field(model: type[models.Model]) -> str | None:
    from yizhan.people.models import User

    for model_field in model._meta.concrete_fields:
        if model_field.is_relation and model_field.related_model is User:
            if model_field.name in ("user", "rider", "account", "owner", "subject"):
                return model_field.name
    for model_field in model._meta.concrete_fields:
        if model_field.is_relation and model_field.related_model is User:
            return model_field.name
    return None


def _consent_section() -> Section | None:
    model = consent_model()
    if model is None:
        return None
    owner = _user_field(model)
    if owner is None:
        return None
    columns = [
        col(model, f.name)
        for f in model._meta.concrete_fields
        if f.name not in ("id", owner) and not f.is_relation
    ]
    return Section(
        "consents", model._meta.verbose_name_plural, _by_user(model._meta.label, owner), columns
    )


def sections(subject: Subject) -> list[Section]:
    """Every kind of record about the subject, in the order the export shows them."""
    from yizhan.appeals.models import Appeal, Meeting
    from yizhan.core.models import AuditEntry
    from yizhan.duties.models import Duty
    from yizhan.events.models import Receipt, Signup
    from yizhan.honours.models import Nomination
    from yizhan.notifications.models import Notification
    from yizhan.organisation.models import PipelineRecord
    from yizhan.people.models import ApiToken, PostClaim, RiderProfile, TeamMembership, User
    from yizhan.points.models import Entry, PointsAccount, Posting
    from yizhan.reports.models import Report, Witness
    from yizhan.rewards.models import Redemption
    from yizhan.stations.models import Station, Visit
    from yizhan.wishes.models import Wish, WishClaim

    phone = Column(
        "phone", User._meta.get_field("phone_masked").verbose_name, lambda user: user.phone
    )
    found: list[Section | None] = [
        Section(
            "account",
            User._meta.verbose_name_plural,
            _account_rows,
            [
                *cols(User, "id", "username", "name"),
                phone,
                *cols(User, "role", "area.name", "language", "date_joined", "last_login"),
            ],
        ),
        Section(
            "rider",
            RiderProfile._meta.verbose_name_plural,
            _profile_rows,
            cols(
                RiderProfile,
                "platform",
                "occupation",
                "vehicle",
                "work_lat",
                "work_lng",
                "work_address",
                "community.name",
                "grid.name",
                "status",
                "rejection_reason",
                "decided_at",
                "consent_at",
                "created_at",
            ),
        ),  # fmt: skip
        _consent_section(),
        Section(
            "post_claims",
            PostClaim._meta.verbose_name_plural,
            _by_profile("people.PostClaim", "rider", "post__community"),
            cols(PostClaim, "post", "status", "note", "reason", "created_at", "decided_at"),
        ),
        Section(
            "teams",
            TeamMembership._meta.verbose_name_plural,
            _by_profile("people.TeamMembership", "rider", "team"),
            cols(TeamMembership, "team.name", "role", "joined_at"),
        ),
        Section(
            "duties",
            Duty._meta.verbose_name_plural,
            _by_profile("duties.Duty", "rider", "post__community"),
            cols(
                Duty,
                "id",
                "post",
                "kind",
                "started_at",
                "ended_at",
                "minutes",
                "place",
                "lat",
                "lng",
                "note",
                "photo",
                "status",
                "reason",
                "points",
            ),
        ),  # fmt: skip
        Section(
            "reports",
            Report._meta.verbose_name_plural,
            _by_user("reports.Report", "reporter", "category", prefetch=("photos",)),
            [
                *cols(
                    Report,
                    "id",
                    "created_at",
                    "category.name",
                    "status",
                    "urgent",
                    "address",
                    "building",
                    "unit",
                    "floor",
                    "description",
                    "lat",
                    "lng",
                    "rejection_reason",
                    "closed_at",
                ),
                Column("photos", _("Photos"), _report_photos),
            ],
        ),  # fmt: skip
        Section(
            "witnessed",
            _("Reports I also saw"),
            _by_user("reports.Witness", "user", "report"),
            [
                Column("report_id", Report._meta.verbose_name, lambda w: w.report_id, "int"),
                col(
                    Witness,
                    "report.description",
                    label=Report._meta.get_field("description").verbose_name,
                ),
                col(Witness, "created_at"),
            ],
        ),  # fmt: skip
        Section(
            "points_accounts",
            PointsAccount._meta.verbose_name_plural,
            _by_user("points.PointsAccount", "owner", "street"),
            cols(PointsAccount, "street.name", "kind", "balance", "created_at"),
        ),
        Section(
            "points_entries",
            Entry._meta.verbose_name_plural,
            _entry_rows,
            [
                col(Entry, "created_at"),
                col(Entry, "account.street.name", label=PointsAccount._meta.verbose_name),
                col(Entry, "amount"),
                col(Entry, "posting.kind", label=Posting._meta.get_field("kind").verbose_name),
                col(
                    Entry,
                    "posting.activity",
                    label=Posting._meta.get_field("activity").verbose_name,
                ),
                col(Entry, "posting.reason", label=Posting._meta.get_field("reason").verbose_name),
                col(
                    Entry,
                    "posting.source_type",
                    label=Posting._meta.get_field("source_type").verbose_name,
                ),
                col(
                    Entry,
                    "posting.source_id",
                    label=Posting._meta.get_field("source_id").verbose_name,
                ),
            ],
        ),  # fmt: skip
        Section(
            "redemptions",
            Redemption._meta.verbose_name_plural,
            _by_user("rewards.Redemption", "user", "reward", "station"),
            cols(
                Redemption,
                "id",
                "created_at",
                "reward.name",
                "station.name",
                "cost",
                "status",
                "pickup_code",
                "expires_at",
                "closed_at",
            ),
        ),  # fmt: skip
        Section(
            "wishes",
            Wish._meta.verbose_name_plural,
            _by_user("wishes.Wish", "rider", "community"),
            cols(
                Wish,
                "id",
                "created_at",
                "community.name",
                "category",
                "text",
                "photo",
                "status",
                "rejection_reason",
                "fulfilled_at",
                "confirmed_at",
            ),
        ),  # fmt: skip
        Section(
            "wish_claims",
            WishClaim._meta.verbose_name_plural,
            _by_user("wishes.WishClaim", "claimer", "wish"),
            [
                Column("wish_id", Wish._meta.verbose_name, lambda c: c.wish_id, "int"),
                *cols(WishClaim, "status", "note", "photo", "created_at", "ended_at"),
            ],
        ),
        Section(
            "appeals",
            Appeal._meta.verbose_name_plural,
            _by_user("appeals.Appeal", "rider", "body"),
            cols(
                Appeal,
                "id",
                "created_at",
                "difficulty",
                "topic",
                "text",
                "anonymous",
                "status",
                "body.name",
                "answer",
                "answered_at",
                "rating",
                "rating_comment",
                "closed_at",
            ),
        ),  # fmt: skip
        Section(
            "meetings",
            Meeting._meta.verbose_name_plural,
            _meeting_rows,
            cols(Meeting, "title", "held_on", "place"),
        ),
        Section(
            "event_signups",
            Signup._meta.verbose_name_plural,
            _by_user("events.Signup", "user", "event"),
            cols(
                Signup,
                "event.title",
                "event.starts_at",
                "status",
                "queued_at",
                "checked_in_at",
                "check_in_method",
                "points_status",
                "cancelled_at",
            ),
        ),  # fmt: skip
        Section(
            "welfare",
            Receipt._meta.verbose_name_plural,
            _by_user("events.Receipt", "user", "distribution", prefetch=("lines__item",)),
            [
                *cols(Receipt, "distribution.name", "created_at"),
                Column("items", _("Items"), _receipt_items),
            ],
        ),
        Section(
            "station_visits",
            Visit._meta.verbose_name_plural,
            _by_user("stations.Visit", "rider", "station"),
            [
                col(Visit, "created_at"),
                col(Visit, "station.name", label=Station._meta.verbose_name),
                *cols(Visit, "kind", "day", "people", "note"),
            ],
        ),
        Section(
            "honours",
            Nomination._meta.verbose_name_plural,
            _by_profile("honours.Nomination", "rider", "title"),
            cols(Nomination, "title.name", "status", "reason", "created_at", "decided_at"),
        ),
        Section(
            "organisation",
            PipelineRecord._meta.verbose_name_plural,
            _by_profile("organisation.PipelineRecord", "rider", "branch"),
            cols(
                PipelineRecord,
                "branch.name",
                "stage",
                "status",
                "applied_on",
                "activist_on",
                "candidate_on",
                "probationary_on",
                "full_on",
                "closed_on",
                "close_reason",
            ),
        ),  # fmt: skip
        Section(
            "notifications",
            Notification._meta.verbose_name_plural,
            _by_user("notifications.Notification", "recipient"),
            cols(Notification, "created_at", "kind", "title", "body", "url", "read_at"),
        ),
        Section(
            "api_tokens",
            ApiToken._meta.verbose_name_plural,
            _by_user("people.ApiToken", "user"),
            cols(
                ApiToken,
                "name",
                "scope",
                "prefix",
                "created_at",
                "expires_at",
                "last_used_at",
                "revoked_at",
            ),
        ),  # fmt: skip
        Section(
            "audit",
            AuditEntry._meta.verbose_name_plural,
            _audit_rows,
            [
                col(AuditEntry, "created_at"),
                col(AuditEntry, "action"),
                Column(
                    "actor",
                    AuditEntry._meta.get_field("actor").verbose_name,
                    _audit_actor(subject.user.pk),
                ),
                col(AuditEntry, "target_type"),
                col(AuditEntry, "target_id"),
                Column(
                    "data",
                    AuditEntry._meta.get_field("data").verbose_name,
                    lambda e: json.dumps(e.data, ensure_ascii=False, sort_keys=True),
                ),
            ],
        ),  # fmt: skip
    ]
    return [section for section in found if section is not None]


# --- values ------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A value JSON can hold: local ISO times, text for lazy strings and decimals."""
    if isinstance(value, dt.datetime):
        return (timezone.localtime(value) if timezone.is_aware(value) else value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def row_values(section: Section, obj: Any) -> list[Any]:
    return [column.get(obj) for column in section.columns]


# --- JSON --------------------------------------------------------------------------------------


def json_chunks(subject: Subject, *, now: dt.datetime | None = None) -> Iterator[str]:
    """The whole export as JSON text, in chunks (one row at a time)."""
    now = now or timezone.now()
    head = {
        "format": FORMAT_NAME,
        "generated_at": _plain(now),
        "account_id": subject.user.pk,
    }
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "sections": {'
    for index, section in enumerate(sections(subject)):
        meta = json.dumps(
            {
                "title": str(section.title),
                "columns": {c.key: str(c.label) for c in section.columns},
            },
            ensure_ascii=False,
        )
        yield ("," if index else "") + json.dumps(section.key) + ": " + meta[:-1] + ', "rows": ['
        for number, obj in enumerate(section.rows(subject)):
            values = row_values(section, obj)
            record = {c.key: _plain(v) for c, v in zip(section.columns, values, strict=True)}
            yield ("," if number else "") + json.dumps(record, ensure_ascii=False)
        yield "]}"
    yield "}}"


def write_json(subject: Subject, out: IO[str]) -> None:
    for chunk in json_chunks(subject):
        out.write(chunk)


# --- Excel -------------------------------------------------------------------------------------

_BAD_SHEET_CHARS = str.maketrans({c: " " for c in "[]:*?/\\"})


def _excel_value(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return value.replace(tzinfo=None)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, int | float | dt.date | str):
        if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
            return "'" + value  # never a formula (CSV/Excel injection)
        return value
    return str(value)


def write_xlsx(subject: Subject, out: IO[bytes]) -> None:
    """One sheet per section, headings in bold, the header row frozen, number and date cells."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    workbook.properties.title = _("My data in Yizhan")
    bold = Font(bold=True)
    used: set[str] = set()
    for section in sections(subject):
        name = str(section.title).translate(_BAD_SHEET_CHARS)[:31] or section.key[:31]
        base, n = name, 2
        while name in used:
            suffix = f" {n}"
            name, n = base[: 31 - len(suffix)] + suffix, n + 1
        used.add(name)
        sheet = workbook.create_sheet(name)
        sheet.freeze_panes = "A2"
        for index, column in enumerate(section.columns, start=1):
            width = 40 if column.kind == "text" else 20
            sheet.column_dimensions[get_column_letter(index)].width = width
        header = []
        for column in section.columns:
            cell = WriteOnlyCell(sheet, value=str(column.label))
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for obj in section.rows(subject):
            cells = []
            for column, value in zip(section.columns, row_values(section, obj), strict=True):
                cell = WriteOnlyCell(sheet, value=_excel_value(column.kind, value))
                if column.kind in NUMBER_FORMATS and value is not None:
                    cell.number_format = NUMBER_FORMATS[column.kind]
                cells.append(cell)
            sheet.append(cells)
    workbook.save(out)


def xlsx_file(subject: Subject) -> IO[bytes]:
    """The workbook in a temporary file (spooled to disk past 4 MB), rewound for reading."""
    out = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)
    write_xlsx(subject, out)
    out.seek(0)
    return out


def filename(subject: Subject, ext: str, *, now: dt.datetime | None = None) -> str:
    day = timezone.localdate(now or timezone.now()).isoformat()
    return f"yizhan-my-data-{subject.user.pk}-{day}.{ext}"
