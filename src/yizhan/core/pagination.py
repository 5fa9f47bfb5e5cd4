"""Page-number pagination for the API and the pages: the item count never changes the queries."""

from typing import Any

from django.conf import settings
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import QuerySet
from ninja import Field, Schema
from ninja.pagination import PaginationBase


class PageInput(Schema):
    page: int = Field(1, ge=1, description="Page number, from 1")
    page_size: int = Field(
        settings.DEFAULT_PAGE_SIZE, ge=1, le=settings.MAX_PAGE_SIZE, description="Items per page"
    )


class YizhanPagination(PaginationBase):
    """``{"items": [...], "count": n, "page": p, "page_size": s, "pages": k}``."""

    class Input(Schema):
        page: int = Field(1, ge=1, description="Page number, from 1")
        page_size: int = Field(
            settings.DEFAULT_PAGE_SIZE,
            ge=1,
            le=settings.MAX_PAGE_SIZE,
            description="Items per page (at most 100)",
        )

    class Output(Schema):
        items: list[Any]
        count: int
        page: int
        page_size: int
        pages: int

    items_attribute = "items"

    def paginate_queryset(self, queryset: QuerySet, pagination: Input, **params: Any) -> dict:
        size = pagination.page_size
        count = queryset.count() if isinstance(queryset, QuerySet) else len(queryset)
        pages = max(1, -(-count // size))
        page = min(pagination.page, pages)
        offset = (page - 1) * size
        return {
            "items": list(queryset[offset : offset + size]),
            "count": count,
            "page": page,
            "page_size": size,
            "pages": pages,
        }


def page_of(queryset: QuerySet, request, *, per_page: int | None = None):
    """A Django ``Page`` for templates; a bad or too-large page number gives the last page."""
    paginator = Paginator(queryset, per_page or settings.DEFAULT_PAGE_SIZE)
    number = request.GET.get("page", 1)
    try:
        return paginator.page(number)
    except PageNotAnInteger:
        return paginator.page(1)
    except EmptyPage:
        return paginator.page(paginator.num_pages)
