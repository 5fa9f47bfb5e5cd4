"""The one permission layer: what a user may see and do, from role + area scope.

Every request-facing read goes through :func:`restrict` (lists) or :func:`get_for_user` (one
object); every service that changes something checks :func:`require`. Nothing else decides.

The model is deliberately small (NetBox ``RestrictedQuerySet.restrict``, Zulip ``access_*``):

* each scoped model carries ``area_code``, the code of the smallest area it belongs to. Area codes
  are hierarchical (district 6 digits, then 3 each for street, community and grid), so "beneath
  my area" is a prefix match on an indexed column: no joins, no recursion;
* a model registers a :class:`Policy` saying which field holds the code, which path leads to the
  owning user, whether anyone may view it, and which actions each role has on it;
* staff, admins and department handlers act only beneath their own area; riders, merchants and
  volunteers act only on what they own; a superuser (platform operator) sees everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from yizhan.core.errors import Forbidden, NotFound, Unauthenticated
from yizhan.core.roles import CONSOLE_ROLES, SCOPED_ROLES, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


class Action(StrEnum):
    VIEW = "view"  # read it
    OPERATE = "operate"  # day-to-day staff work: verify, approve, move, edit
    CONFIGURE = "configure"  # set up the area: boundaries, rules


_STAFF_DEFAULT = frozenset({Action.VIEW, Action.OPERATE})
_ADMIN_DEFAULT = frozenset({Action.VIEW, Action.OPERATE, Action.CONFIGURE})


@dataclass(frozen=True)
class Policy:
    """How one model is scoped."""

    area_field: str | None = "area_code"
    owner_field: str | None = None
    #: True when ``owner_field`` crosses a to-many relation (results need ``distinct()``).
    owner_many: bool = False
    public_view: bool = False
    #: For department handlers: the field naming the department a row is assigned to. A
    #: handler then sees and acts on the rows of their own department only (within their area).
    department_field: str | None = None
    owner_actions: frozenset[Action] = frozenset({Action.VIEW})
    role_actions: dict[str, frozenset[Action]] = field(
        default_factory=lambda: {
            Role.STAFF: _STAFF_DEFAULT,
            Role.ADMIN: _ADMIN_DEFAULT,
        }
    )

    def actions_for(self, role: str) -> frozenset[Action]:
        return self.role_actions.get(role, frozenset())


_POLICIES: dict[type[models.Model], Policy] = {}


def register(model: type[models.Model], policy: Policy) -> None:
    """Declare how ``model`` is scoped. Called from each app's ``AppConfig.ready``."""
    _POLICIES[model] = policy


def policy_for(model: type[models.Model]) -> Policy:
    concrete = model._meta.concrete_model or model
    try:
        return _POLICIES[concrete]
    except KeyError:
        raise LookupError(
            f"{model.__name__} has no permission policy: register one in its app's ready()"
        ) from None


def is_authenticated(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def scope_code(user: Any) -> str:
    """The area code a scoped account works beneath ('' when it has none)."""
    return getattr(user, "scope_code", "") or ""


def restrict(
    queryset: QuerySet, user: AnonymousUser | Any, action: Action = Action.VIEW
) -> QuerySet:
    """Narrow ``queryset`` to what ``user`` may ``action``."""
    policy = policy_for(queryset.model)
    if action == Action.VIEW and policy.public_view:
        return queryset
    if not is_authenticated(user):
        return queryset.none()
    if user.is_superuser:
        return queryset
    allowed = Q(pk__in=[])
    role = user.role
    code = scope_code(user)
    if role in SCOPED_ROLES and code and policy.area_field and action in policy.actions_for(role):
        scoped = Q(**{f"{policy.area_field}__startswith": code})
        if role == Role.HANDLER and policy.department_field:
            department = getattr(user, "department_id", None)
            # A handler with no department sees nothing (not the unassigned rows).
            scoped &= Q(**{policy.department_field: department}) if department else Q(pk__in=[])
        allowed |= scoped
    uses_owner = policy.owner_field is not None and action in policy.owner_actions
    if uses_owner:
        allowed |= Q(**{policy.owner_field: user.pk})
    result = queryset.filter(allowed)
    if uses_owner and policy.owner_many:
        result = result.distinct()
    return result


def get_for_user(
    queryset: QuerySet | type[models.Model],
    user: Any,
    action: Action = Action.VIEW,
    **lookup: Any,
) -> Any:
    """Fetch one object by request input, or raise.

    Not visible at all gives 404 (so ids do not leak what exists); visible but not allowed
    gives 403.
    """
    if isinstance(queryset, type):
        queryset = queryset._default_manager.all()
    try:
        obj = restrict(queryset, user, Action.VIEW).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError, ValidationError):
        raise NotFound(_("Not found, or you may not see it.")) from None
    if action != Action.VIEW:
        require(user, action, obj)
    return obj


def can(user: Any, action: Action, obj: models.Model) -> bool:
    """Whether ``user`` may ``action`` on ``obj``; same rule as :func:`restrict`, one query."""
    model = type(obj)
    return restrict(model._default_manager.filter(pk=obj.pk), user, action).exists()


def require(user: Any, action: Action, obj: models.Model) -> None:
    """Raise unless ``user`` may ``action`` on ``obj``. Services call this for their actor."""
    if not is_authenticated(user):
        raise Unauthenticated(_("Please log in first."))
    if not can(user, action, obj):
        raise Forbidden(_("You do not have permission to do this."))


def require_role(user: Any, *roles: str) -> None:
    """Page and endpoint gate: the account must hold one of ``roles`` (superusers pass)."""
    if not is_authenticated(user):
        raise Unauthenticated(_("Please log in first."))
    if user.is_superuser or user.role in roles:
        return
    raise Forbidden(_("This page is not for your account type."))


def is_console_user(user: Any) -> bool:
    return is_authenticated(user) and (user.is_superuser or user.role in CONSOLE_ROLES)


def may_see_personal(user: Any, *, owner_id: int | None, community_code: str) -> bool:
    """Full phone and ID numbers: only the person themself and the staff of their community.

    "Staff of their community" is a console account whose scope lies within that community
    (the community's own staff and its grid workers); a street or district admin sees masks.
    """
    if not is_authenticated(user):
        return False
    if owner_id is not None and user.pk == owner_id:
        return True
    code = scope_code(user)
    return (
        user.role in CONSOLE_ROLES
        and bool(code)
        and bool(community_code)
        and code.startswith(community_code)
    )
