"""The monthly brief (月度简报) of an area as a PDF, made with reportlab and its own charts.

A cover (area, month), the headline numbers with last month beside them, charts (reports per
day, reports by category, the child areas side by side), the top riders, the overdue hazards
and the appeals. Chinese renders because the PDF embeds a subset of WenQuanYi Micro Hei
(``fonts/``; TrueType outlines, which reportlab can embed; see ``fonts/make_subset.py``).

Made on demand (the dashboard page and the API) and by the scheduled job
:func:`monthly_briefs`, which on the first days of a month stores last month's brief of every
street as ``briefs/<area code>/<yyyy-mm>.pdf`` in the private storage of the report originals
(``reports.storage.private_storage``: a folder outside MEDIA_ROOT that nothing serves, or with
``S3_BUCKET`` the bucket's private prefix), through the Storage API only, so every app node and
worker sees the same briefs and none is public; the console streams one to those who may see
the area (``views.stored_brief``). A brief appears whole or not at all (:func:`store_brief`).
Briefs an earlier version stored under ``MEDIA_ROOT/briefs`` are moved by ``manage.py
move_briefs`` (:func:`move_media_briefs`); the job itself makes last month's briefs only, not
older missing ones. A month with no data gives an honest brief that says so, with zeros, never
an error.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import logging
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage
from django.utils import timezone, translation
from django.utils.translation import pgettext

from yizhan.dashboards.exports import NUMERIC, Table, breakdown_table, format_value, row_kind
from yizhan.dashboards.kpis import DashboardData, Metric

logger = logging.getLogger("yizhan.dashboards")

FONT_NAME = "YizhanCJK"
FONT_FILE = Path(__file__).resolve().parent / "fonts" / "wqy-microhei-subset.ttf"
#: The scheduled job makes last month's briefs on days 1 to this of a month.
BRIEF_DAYS = 5
# \Z, not $: "$" also matches before a final newline, which a URL can carry (%0A).
_MONTH = re.compile(r"\A\d{4}-\d{2}\Z")
_CODE = re.compile(r"\A\d{6,15}\Z")

#: Headline numbers the brief prints, in this order (keys of ``kpis.METRICS``).
BRIEF_METRICS = (
    "stations",
    "corners",
    "coverage",
    "riders_verified",
    "riders_with_posts",
    "riders_new",
    "reports",
    "reports_closed",
    "on_time_rate",
    "close_hours",
    "overdue",
    "points_issued",
    "points_redeemed",
    "rewards_exchanged",
    "wishes_posted",
    "wishes_fulfilled",
    "appeals",
    "appeals_answered",
    "answer_hours",
    "events_held",
    "attendance",
    "visits",
    "honours",
)
APPEAL_METRICS = ("appeals", "appeals_answered", "answer_hours")
COLOURS = ("#0b57d0", "#b42318", "#1a7f37", "#9a6700", "#8250df")


# --- the font ----------------------------------------------------------------------------------

_registered = False


def register_font() -> str:
    """Register the embedded CJK font with reportlab once; its name."""
    global _registered
    if not _registered:
        from reportlab.lib.fonts import addMapping
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        pdfmetrics.registerFont(TTFont(FONT_NAME, str(FONT_FILE)))
        for bold in (0, 1):  # one weight: "bold" text uses the same face
            for italic in (0, 1):
                addMapping(FONT_NAME, bold, italic, FONT_NAME)
        _registered = True
    return FONT_NAME


# --- building blocks -----------------------------------------------------------------------


def _styles() -> dict[str, Any]:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.styles import ParagraphStyle

    font = register_font()
    base = ParagraphStyle("base", fontName=font, fontSize=10, leading=15, wordWrap="CJK")
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=12),
        "cell": ParagraphStyle("cell", parent=base, fontSize=9, leading=12),
        "muted": ParagraphStyle(
            "muted", parent=base, fontSize=9, textColor=colors.HexColor("#57606a")
        ),
        "h1": ParagraphStyle(
            "h1", parent=base, fontSize=16, leading=22, spaceBefore=6, spaceAfter=8
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontSize=12.5,
            leading=18,
            spaceBefore=10,
            spaceAfter=4,
            textColor=colors.HexColor("#8f1c13"),
        ),
        "cover_title": ParagraphStyle(
            "cover_title",
            parent=base,
            fontSize=30,
            leading=40,
            alignment=TA_CENTER,
            textColor=colors.HexColor("#b42318"),
        ),
        "cover": ParagraphStyle("cover", parent=base, fontSize=16, leading=26, alignment=TA_CENTER),
        "cover_small": ParagraphStyle(
            "cover_small",
            parent=base,
            fontSize=11,
            leading=18,
            alignment=TA_CENTER,
            textColor=colors.HexColor("#57606a"),
        ),
    }


def _p(text: Any, style: Any) -> Any:
    from reportlab.platypus import Paragraph

    return Paragraph(escape(str(text)), style)


def _grid(rows: list[list[Any]], widths: Sequence[float], *, numeric: set[int]) -> Any:
    """A table of paragraphs with a header row; numeric columns right-aligned."""
    from reportlab.lib import colors
    from reportlab.platypus import Table as RLTable
    from reportlab.platypus import TableStyle

    table = RLTable(rows, colWidths=list(widths), repeatRows=1, hAlign="LEFT")
    style = [
        ("FONTNAME", (0, 0), (-1, -1), FONT_NAME),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f4")),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.HexColor("#d0d7de")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    for column in numeric:
        style.append(("ALIGN", (column, 0), (column, -1), "RIGHT"))
    table.setStyle(TableStyle(style))
    return table


def table_flowable(table: Table, width: float, styles: dict[str, Any], *, limit: int = 0) -> Any:
    """An ``exports.Table`` as a PDF table, columns sized by kind."""
    from reportlab.platypus import Paragraph

    weights = [
        2.6 if c.kind == "text" else 1.4 if c.kind == "datetime" else 1.0 for c in table.columns
    ]
    total = sum(weights)
    widths = [width * w / total for w in weights]
    numeric = {i for i, c in enumerate(table.columns) if c.kind in NUMERIC}
    rows: list[list[Any]] = [[_p(c.label, styles["cell"]) for c in table.columns]]
    for index, row in enumerate(table.rows[: limit or None]):
        cells = []
        for position, (value, column) in enumerate(zip(row, table.columns, strict=False)):
            text = format_value(value, row_kind(table, index, column))
            cells.append(text if position in numeric else Paragraph(escape(text), styles["cell"]))
        rows.append(cells)
    return _grid(rows, widths, numeric=numeric)


def _metric_rows(metrics: Sequence[Metric], styles: dict[str, Any]) -> list[list[Any]]:
    rows: list[list[Any]] = [
        [
            _p(pgettext("dashboard", "Measure"), styles["cell"]),
            _p(pgettext("dashboard", "This month"), styles["cell"]),
            _p(pgettext("dashboard", "Last month"), styles["cell"]),
            _p(pgettext("dashboard", "Change"), styles["cell"]),
        ]
    ]
    for metric in metrics:
        kind = metric.unit if metric.unit in ("percent", "hours", "points") else "count"
        change = metric.change
        if change is None:
            compared = "—"
        elif metric.unit == "percent":
            compared = pgettext("dashboard", "%(sign)s%(n).1f points") % {
                "sign": "+" if change > 0 else "",
                "n": change,
            }
        elif metric.ratio is not None:
            arrow = "↑" if change > 0 else "↓" if change < 0 else ""
            compared = f"{arrow} {metric.ratio * 100:+.1f}%".strip()
        else:
            compared = ("+" if change > 0 else "") + format_value(change, kind)
        rows.append(
            [
                _p(metric.label, styles["cell"]),
                format_value(metric.value, kind),
                format_value(metric.previous, kind),
                compared,
            ]
        )
    return rows


# --- charts (reportlab.graphics; no matplotlib) ---------------------------------------------


def _no_data(width: float, height: float, text: str) -> Any:
    from reportlab.graphics.shapes import Drawing, String

    drawing = Drawing(width, height)
    drawing.add(
        String(
            width / 2,
            height / 2,
            text,
            fontName=FONT_NAME,
            fontSize=10,
            textAnchor="middle",
            fillColor="#57606a",
        )
    )
    return drawing


def _legend(drawing: Any, names: Sequence[str], x: float, y: float) -> None:
    from reportlab.graphics.charts.legends import Legend
    from reportlab.lib import colors

    legend = Legend()
    legend.x, legend.y = x, y
    legend.fontName = FONT_NAME
    legend.fontSize = 8
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.dx = legend.dy = 8
    legend.deltax = 90
    legend.colorNamePairs = [
        (colors.HexColor(COLOURS[i % len(COLOURS)]), name) for i, name in enumerate(names)
    ]
    drawing.add(legend)


def line_chart(
    days: Sequence[dt.date], series: Sequence[tuple[str, Sequence[float]]], width: float
) -> Any:
    """A trend line per series over the days of the month."""
    from reportlab.graphics.charts.linecharts import HorizontalLineChart
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors

    height = 170
    if not days:
        return _no_data(width, height, pgettext("dashboard", "No data this month."))
    drawing = Drawing(width, height)
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 34, 34, width - 50, height - 56
    chart.data = [[v or 0 for v in values] for _name, values in series]
    chart.categoryAxis.categoryNames = [
        str(d.day) if (i % 5 == 0 or i == len(days) - 1) else "" for i, d in enumerate(days)
    ]
    chart.categoryAxis.labels.fontName = FONT_NAME
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontName = FONT_NAME
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    top = max([max(values) for values in chart.data] + [1])
    chart.valueAxis.valueMax = top * 1.15
    chart.valueAxis.valueStep = max(1, round(top / 4))
    for i in range(len(series)):
        chart.lines[i].strokeColor = colors.HexColor(COLOURS[i % len(COLOURS)])
        chart.lines[i].strokeWidth = 1.5
    drawing.add(chart)
    _legend(drawing, [name for name, _values in series], 40, height - 8)
    return drawing


def bar_chart(
    labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], width: float
) -> Any:
    """Horizontal bars (labels down the side read well in Chinese), one colour per series."""
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors

    if not labels:
        return _no_data(width, 60, pgettext("dashboard", "No data this month."))
    rows = len(labels)
    height = max(90, 16 * rows * max(1, len(series)) + 50)
    drawing = Drawing(width, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = 110, 20
    chart.width, chart.height = width - 130, height - 40
    chart.data = [[v or 0 for v in values] for _name, values in series]
    chart.categoryAxis.categoryNames = [str(label)[:12] for label in labels]
    chart.categoryAxis.reverseDirection = True  # first row on top, as in the table
    chart.categoryAxis.labels.fontName = FONT_NAME
    chart.categoryAxis.labels.fontSize = 8
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.valueAxis.labels.fontName = FONT_NAME
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    top = max([max(values) for values in chart.data] + [1])
    chart.valueAxis.valueMax = top * 1.1
    chart.valueAxis.valueStep = max(1, round(top / 4))
    chart.barLabelFormat = "%d"
    chart.barLabels.fontName = FONT_NAME
    chart.barLabels.fontSize = 7
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    for i in range(len(series)):
        chart.bars[i].fillColor = colors.HexColor(COLOURS[i % len(COLOURS)])
        chart.bars[i].strokeColor = None
    drawing.add(chart)
    if len(series) > 1:
        _legend(drawing, [name for name, _values in series], 110, height - 4)
    return drawing


# --- the brief -------------------------------------------------------------------------------


def month_label(month: dt.date) -> str:
    return pgettext("dashboard", "%(year)d-%(month)02d") % {
        "year": month.year,
        "month": month.month,
    }


def render_brief(data: DashboardData) -> bytes:
    """The brief of one ``DashboardData`` (a month) as PDF bytes."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        CondPageBreak,
        KeepTogether,
        PageBreak,
        SimpleDocTemplate,
        Spacer,
    )

    styles = _styles()
    area_name = data.area.full_name or data.area.name
    month = data.period.start
    title = pgettext("dashboard", "Monthly brief")
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"{area_name} {title} {month_label(month)}",
        author=pgettext("dashboard", "Yizhan"),
        subject=str(title),
        creator="Yizhan",
    )
    width = doc.width
    footer = f"{area_name} · {title} · {month_label(month)}"

    def later_pages(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT_NAME, 8)
        canvas.setFillColorRGB(0.34, 0.38, 0.42)
        canvas.drawString(18 * mm, 10 * mm, footer)
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, str(document.page))
        canvas.restoreState()

    story: list[Any] = [Spacer(1, 60 * mm)]
    story += [
        _p(area_name, styles["cover"]),
        Spacer(1, 8 * mm),
        _p(title, styles["cover_title"]),
        Spacer(1, 8 * mm),
        _p(month_label(month), styles["cover"]),
        Spacer(1, 30 * mm),
        _p(
            pgettext("dashboard", "Made on %(date)s from the dashboards of Yizhan.")
            % {"date": timezone.localtime(data.generated_at).strftime("%Y-%m-%d %H:%M")},
            styles["cover_small"],
        ),
    ]
    if data.is_empty:
        story += [
            Spacer(1, 6 * mm),
            _p(pgettext("dashboard", "No data this month."), styles["cover_small"]),
        ]
    story.append(PageBreak())

    # Headline numbers.
    story.append(_p(pgettext("dashboard", "Headline numbers"), styles["h1"]))
    if data.is_empty:
        story.append(
            _p(
                pgettext(
                    "dashboard",
                    "No data this month: nothing was reported, earned, posted or held; the "
                    "numbers of what exists (stations, riders) are as they stood.",
                ),
                styles["muted"],
            )
        )
        story.append(Spacer(1, 3 * mm))
    by_key = {m.key: m for m in data.headline}
    metrics = [by_key[k] for k in BRIEF_METRICS if k in by_key]
    story.append(
        _grid(
            _metric_rows(metrics, styles),
            [width * 0.46, width * 0.18, width * 0.18, width * 0.18],
            numeric={1, 2, 3},
        )
    )

    # Charts.
    story.append(CondPageBreak(90 * mm))
    story.append(_p(pgettext("dashboard", "Reports this month"), styles["h2"]))
    trend = [data.trends[k] for k in ("reports", "reports_closed") if k in data.trends]
    days = [day for day, _v in trend[0].points] if trend else []
    story.append(
        line_chart(days, [(str(s.title), [v for _d, v in s.points]) for s in trend], width)
    )
    categories = data.breakdowns.get("reports_by_category")
    if categories is not None:
        rows = [r for r in categories.rows if r.value][:12]
        story.append(
            KeepTogether(
                [
                    _p(categories.title, styles["h2"]),
                    bar_chart(
                        [str(r.label) for r in rows],
                        [(str(pgettext("dashboard", "This month")), [r.value or 0 for r in rows])],
                        width,
                    ),
                ]
            )
        )
    if data.children:
        children = data.children[:15]
        keys = ("reports", "reports_closed", "overdue")
        from yizhan.dashboards.kpis import METRICS

        story.append(
            KeepTogether(
                [
                    _p(pgettext("dashboard", "Side by side"), styles["h2"]),
                    bar_chart(
                        [c.name for c in children],
                        [
                            (str(METRICS[k][0]), [c.metrics.get(k) or 0 for c in children])
                            for k in keys
                        ],
                        width,
                    ),
                ]
            )
        )

    # Top riders.
    story.append(CondPageBreak(60 * mm))
    story.append(_p(pgettext("dashboard", "Top riders"), styles["h2"]))
    if data.top_riders:
        rows = [
            [
                _p(pgettext("dashboard", "Rank"), styles["cell"]),
                _p(pgettext("dashboard", "Name"), styles["cell"]),
                _p(pgettext("dashboard", "Community"), styles["cell"]),
                _p(pgettext("dashboard", "Points earned"), styles["cell"]),
            ]
        ]
        rows += [
            [
                str(r.rank),
                _p(r.name, styles["cell"]),
                _p(r.community, styles["cell"]),
                f"{r.points:,}",
            ]
            for r in data.top_riders
        ]
        story.append(
            _grid(rows, [width * 0.12, width * 0.25, width * 0.43, width * 0.2], numeric={0, 3})
        )
    else:
        story.append(
            _p(pgettext("dashboard", "No points were earned this month."), styles["muted"])
        )

    # Overdue hazards.
    story.append(CondPageBreak(60 * mm))
    story.append(_p(pgettext("dashboard", "Overdue hazards"), styles["h2"]))
    if data.overdue:
        rows = [
            [
                _p(h, styles["cell"])
                for h in (
                    pgettext("dashboard", "Report"),
                    pgettext("dashboard", "Category"),
                    pgettext("dashboard", "Area"),
                    pgettext("dashboard", "Department"),
                    pgettext("dashboard", "Deadline"),
                    pgettext("dashboard", "Hours overdue"),
                )
            ]
        ]
        for row in data.overdue:
            rows.append(
                [
                    f"#{row.report_id}",
                    _p(f"{row.category} {row.address}".strip(), styles["cell"]),
                    _p(row.area_name, styles["cell"]),
                    _p(row.department or "—", styles["cell"]),
                    format_value(row.deadline_at, "datetime"),
                    f"{row.overdue_hours:,.1f}",
                ]
            )
        story.append(
            _grid(
                rows,
                [width * w for w in (0.11, 0.29, 0.16, 0.14, 0.18, 0.12)],
                numeric={0, 5},
            )
        )
        if data.overdue_count > len(data.overdue):
            story.append(
                _p(
                    pgettext("dashboard", "The %(shown)s most overdue of %(count)s.")
                    % {"shown": len(data.overdue), "count": data.overdue_count},
                    styles["muted"],
                )
            )
    else:
        story.append(_p(pgettext("dashboard", "No report is overdue."), styles["muted"]))

    # Appeals.
    story.append(CondPageBreak(60 * mm))
    story.append(_p(pgettext("dashboard", "Appeals"), styles["h2"]))
    appeal_metrics = [by_key[k] for k in APPEAL_METRICS if k in by_key]
    story.append(
        _grid(
            _metric_rows(appeal_metrics, styles),
            [width * 0.46, width * 0.18, width * 0.18, width * 0.18],
            numeric={1, 2, 3},
        )
    )
    for key in ("appeals_by_difficulty", "appeals_by_status"):
        breakdown = data.breakdowns.get(key)
        if breakdown is None:
            continue
        story.append(Spacer(1, 3 * mm))
        story.append(_p(breakdown.title, styles["base"]))
        story.append(table_flowable(breakdown_table(breakdown), width * 0.7, styles))

    doc.build(story, onLaterPages=later_pages)
    return buffer.getvalue()


def brief_pdf(*, area: Any, month: dt.date) -> bytes:
    """The brief of ``area`` (an ``Area``) for the month containing ``month``. The caller has
    checked that whoever asks may see the area."""
    from yizhan.dashboards import selectors

    return render_brief(selectors.brief_data(area=area, month=month))


def filename(area_code: str, month: dt.date) -> str:
    return f"brief-{area_code}-{month:%Y-%m}.pdf"


# --- stored briefs and the scheduled job ------------------------------------------------------

#: The folder (storage name prefix) of the stored briefs in the private storage.
BRIEFS = "briefs"


def brief_storage() -> Storage:
    """Where stored briefs live: the private storage of the report originals (a folder outside
    MEDIA_ROOT that nothing serves, or a private prefix of the bucket), never MEDIA_ROOT."""
    from yizhan.reports.storage import private_storage

    return private_storage()


def stored_name(area_code: str, month: str) -> str | None:
    """The storage name of the brief of ``area_code`` for ``month`` (``yyyy-mm``); None for
    input that is not an area code and a month (no name is ever built from anything else)."""
    if not _CODE.match(area_code or "") or not _MONTH.match(month or ""):
        return None
    return f"{BRIEFS}/{area_code}/{month}.pdf"


def stored_months(area_code: str) -> list[str]:
    """The months whose brief is stored for ``area_code``, newest first (none when the storage
    cannot be read: the dashboard still shows, and makes any month's brief on demand)."""
    if not _CODE.match(area_code or ""):
        return []
    try:
        _folders, names = brief_storage().listdir(f"{BRIEFS}/{area_code}")
    except FileNotFoundError:  # a folder on disk that was never made
        return []
    except Exception:  # the object store is down: say so, but keep the page up
        logger.exception("listing the stored briefs of %s failed", area_code)
        return []
    return sorted(
        (n[:-4] for n in names if n.endswith(".pdf") and _MONTH.match(n[:-4])), reverse=True
    )


def open_stored(area_code: str, month: str) -> File | None:
    """The stored brief of ``area_code`` for ``month`` opened for reading (the caller closes
    it), or None when there is none or the input is not an area code and a month."""
    name = stored_name(area_code, month)
    if name is None:
        return None
    try:
        return brief_storage().open(name, "rb")
    except FileNotFoundError:
        return None


def write_atomic(
    path: Path, data: bytes, *, mode: int | None = None, folder_mode: int | None = None
) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename
    (``mode``/``folder_mode``: the file's and new folders' permissions, else 0600 and the
    umask's)."""
    if folder_mode is None:
        path.parent.mkdir(parents=True, exist_ok=True)
    else:
        old_umask = os.umask(0)
        try:
            path.parent.mkdir(mode=folder_mode, parents=True, exist_ok=True)
        finally:
            os.umask(old_umask)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".brief-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def store_brief(area_code: str, month: str, data: bytes) -> str:
    """Store ``data`` as the brief of ``area_code`` for ``month``; its storage name.

    A reader never sees half a brief. On the file system (``FileSystemStorage``) the file is
    written under a temporary name in the same folder and renamed (``write_atomic`` at
    ``storage.path``): two processes storing the same month at once each rename a whole file
    and the last one stays. In object storage the upload is one PUT (or one multipart upload),
    which appears whole; if another process stored the month between the caller's ``exists``
    and this upload, the storage (which never overwrites) saved ours under another name, which
    is deleted again, so the first brief stays."""
    name = stored_name(area_code, month)
    if name is None:
        raise ValueError(f"not an area code and a month: {area_code!r}, {month!r}")
    storage = brief_storage()
    if isinstance(storage, FileSystemStorage):
        write_atomic(
            Path(storage.path(name)),
            data,
            mode=storage.file_permissions_mode,
            folder_mode=storage.directory_permissions_mode,
        )
        return name
    saved = storage.save(name, ContentFile(data))
    if saved != name:  # another process was first: keep its brief
        storage.delete(saved)
    return name


def delete_stored(area_code: str, month: str) -> None:
    """Delete the stored brief of ``area_code`` for ``month`` (nothing when there is none)."""
    name = stored_name(area_code, month)
    if name is not None:
        brief_storage().delete(name)


def move_media_briefs(media_root: Path | None = None) -> tuple[int, int]:
    """Move the briefs an earlier version stored under ``MEDIA_ROOT/briefs/<code>/<yyyy-mm>.pdf``
    into :func:`brief_storage` (``manage.py move_briefs``; run it once on every machine that
    ran the job). A brief the storage already holds is kept there and the local copy deleted;
    files that are not a brief are left where they are, and so are their folders. Safe to run
    again. Returns (moved, already stored)."""
    root = Path(media_root or settings.MEDIA_ROOT) / BRIEFS
    moved, known = 0, 0
    if not root.is_dir():
        return moved, known
    storage = brief_storage()
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink()):
        for path in sorted(folder.iterdir()):
            month = path.name[:-4] if path.name.endswith(".pdf") else ""
            name = stored_name(folder.name, month)
            if name is None or not path.is_file() or path.is_symlink():
                continue
            if storage.exists(name):
                known += 1
            else:
                store_brief(folder.name, month, path.read_bytes())
                moved += 1
            path.unlink()
        with contextlib.suppress(OSError):  # not empty: something else is in it
            folder.rmdir()
    with contextlib.suppress(OSError):
        root.rmdir()
    return moved, known


def last_month(today: dt.date) -> dt.date:
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def monthly_briefs(*, today: dt.date | None = None, force: bool = False) -> str:
    """The scheduled job: on days 1–:data:`BRIEF_DAYS` of a month (any day with ``force``),
    store last month's brief of every street that has none yet in :func:`brief_storage`. Safe
    to run again and from several processes, on several machines (an existing brief is kept; a
    brief appears whole or not at all: :func:`store_brief`). One street failing is logged and
    does not stop the others.

    It makes last month's briefs only: a month older than that which is missing from the
    storage (e.g. one an earlier version stored under ``MEDIA_ROOT/briefs``; see
    :func:`move_media_briefs`) is not made again, though the dashboard still makes any month's
    brief on demand."""
    from yizhan.areas.choices import AreaLevel
    from yizhan.areas.models import Area

    today = today or timezone.localdate()
    if today.day > BRIEF_DAYS and not force:
        return ""
    month = last_month(today)
    made, failed = 0, 0
    storage = brief_storage()
    streets = Area.objects.filter(level=AreaLevel.STREET).order_by("code").defer("boundary")
    for street in streets.iterator():
        name = stored_name(street.code, f"{month:%Y-%m}")
        if name is None:
            continue
        try:
            if storage.exists(name):
                continue
            with translation.override(settings.LANGUAGE_CODE):
                pdf = brief_pdf(area=street, month=month)
            store_brief(street.code, f"{month:%Y-%m}", pdf)
            made += 1
        except Exception:  # one street must not stop the others
            logger.exception("monthly brief of %s for %s failed", street.code, month)
            failed += 1
    if not made and not failed:
        return ""
    return f"{made} monthly briefs stored for {month:%Y-%m}" + (
        f", {failed} failed" if failed else ""
    )
