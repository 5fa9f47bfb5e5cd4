"""Every write to the points ledger.

Other apps pay through these services when staff verify an act (``points_earn``), staff award
by hand (``points_award``, maker-checker above the street's threshold), corrections are
reversals (``points_reverse``), and the rewards shop moves points through ``points_hold`` →
``points_settle`` or ``points_release``. Each posting is one transaction: the member's balance
changes by a conditional ``UPDATE`` (never below zero), the posting and its two entries are
inserted, and for earnings the season scores move. docs/points.md lists the invariants.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    Max,
    Model,
    Q,
    Sum,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.areas.choices import AreaLevel
from yizhan.areas.models import Area
from yizhan.core.audit import log_action
from yizhan.core.errors import ApplicationError, Conflict, Forbidden
from yizhan.core.idempotency import run_once
from yizhan.core.permissions import Action, require
from yizhan.core.roles import Role
from yizhan.points.choices import AccountKind, Activity, AwardFlag, AwardStatus, PostingKind
from yizhan.points.models import (
    EarningRecord,
    EarningRule,
    Entry,
    ManualAward,
    PointsAccount,
    PointsSettings,
    Posting,
    ScoreBucket,
    SeasonScore,
    TieBucket,
)
from yizhan.points.seasons import area_levels, seasons_at

MAX_AWARD = 10_000
#: The review rules of a street's points settings and the values each may take (0 = off).
REVIEW_FIELDS: dict[str, tuple[int, int]] = {
    "review_window_hours": (1, 24 * 90),
    "review_repeat_count": (0, 1000),
    "review_large_amount": (0, MAX_AWARD),
    "review_new_member_days": (0, 3650),
    "review_burst_count": (0, 10_000),
    "review_burst_minutes": (1, 24 * 60),
}


# --- accounts --------------------------------------------------------------------------------


def _get_or_create(lookup: dict, defaults: dict) -> PointsAccount:
    account = PointsAccount.objects.filter(**lookup).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return PointsAccount.objects.create(**lookup, **defaults)
    except IntegrityError:  # created by a concurrent transaction meanwhile
        return PointsAccount.objects.get(**lookup)


def member_account(user: Any) -> PointsAccount:
    """The member's own account, opened on first use."""
    return _get_or_create({"kind": AccountKind.MEMBER, "owner": user}, {"balance": 0})


def system_account(street: Area, kind: str) -> PointsAccount:
    return _get_or_create({"kind": kind, "street": street}, {})


def street_of(user: Any) -> Area:
    """The street a member belongs to now (their area's street)."""
    code = (getattr(user, "area_code", "") or "")[:9]
    street = Area.objects.filter(code=code, level=AreaLevel.STREET).first() if code else None
    if street is None:
        raise ApplicationError(
            _("This person does not belong to a street, so they cannot hold points."),
            code="no_street",
        )
    return street


def _check_member(member: Any, actor: Any) -> None:
    """Points are for riders and volunteers, and nobody awards points to themselves."""
    if actor is not None and getattr(actor, "pk", None) == member.pk:
        raise Forbidden(_("Nobody can award points to themselves."), code="own_points")
    if getattr(member, "role", None) not in (Role.RIDER, Role.VOLUNTEER):
        raise ApplicationError(
            _("Only riders and volunteers collect points."), code="not_a_member", field="member"
        )


def points_settings(street: Area) -> PointsSettings:
    found = PointsSettings.objects.filter(street=street).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return PointsSettings.objects.create(street=street, area_code=street.code)
    except IntegrityError:
        return PointsSettings.objects.get(street=street)


# --- the one way points move -----------------------------------------------------------------


def _source(source: Model | None) -> tuple[str, str]:
    if source is None:
        return "", ""
    return source._meta.label_lower, str(source.pk)


def _post(
    *,
    kind: str,
    amount: int,
    debit: PointsAccount,
    credit: PointsAccount,
    member: PointsAccount,
    street: Area,
    area_code: str,
    reason: str,
    key: str,
    actor: Any = None,
    activity: str = "",
    source: Model | None = None,
    evidence: str = "",
    approved_by: Any = None,
    reverses: Posting | None = None,
    when: datetime | None = None,
) -> Posting:
    """Move ``amount`` from ``debit`` to ``credit``, on behalf of ``member``.

    When the member is one of the two accounts, their cached balance changes by a conditional
    ``UPDATE``: a debit that the balance does not cover changes nothing and raises
    ``Conflict`` (the database's CHECK is the backstop). A settlement (hold → redemption)
    touches neither of the member's legs. Callers hold a transaction.
    """
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ApplicationError(_("Points must be a positive whole number."), field="amount")
    when = when or timezone.now()
    if debit.pk == member.pk:
        moved = PointsAccount.objects.filter(pk=member.pk, balance__gte=amount).update(
            balance=F("balance") - amount
        )
        if not moved:
            raise Conflict(
                _("Not enough points: this needs %(n)s.") % {"n": amount},
                code="insufficient_points",
            )
    elif credit.pk == member.pk:
        PointsAccount.objects.filter(pk=member.pk).update(balance=F("balance") + amount)
    source_type, source_id = _source(source)
    actor_id = actor.pk if getattr(actor, "is_authenticated", False) else None
    posting = Posting.objects.create(
        kind=kind,
        amount=amount,
        debit=debit,
        credit=credit,
        member=member,
        street=street,
        area_code=area_code,
        activity=activity,
        reason=(reason or "")[:200],
        source_type=source_type,
        source_id=source_id,
        evidence=(evidence or "")[:500],
        actor_id=actor_id,
        approved_by=approved_by,
        idempotency_key=key,
        reverses=reverses,
        created_at=when,
    )
    Entry.objects.bulk_create(
        [
            Entry(posting=posting, account=debit, amount=-amount, created_at=when),
            Entry(posting=posting, account=credit, amount=amount, created_at=when),
        ]
    )
    return posting


def _lock(account: PointsAccount) -> PointsAccount:
    """Serialise everything about one member (caps, scores) behind their account's row lock."""
    return PointsAccount.objects.select_for_update().get(pk=account.pk)


# --- season scores ---------------------------------------------------------------------------


def _day(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def _move_buckets(model: type[Model], fields: tuple[str, ...], moves: dict) -> None:
    """Add ``change`` to the ``members`` of each bucket ``key`` (a tuple of ``fields``).

    Buckets are shared by every member of an area: missing ones are inserted first (ignoring
    conflicts), then all involved are locked in key order (``ORDER BY … FOR UPDATE`` locks in
    that order, so two awards cannot deadlock) and changed by one ``UPDATE``. Three statements
    whatever the number of buckets; an emptied bucket stays, with 0.
    """
    moves = {key: change for key, change in moves.items() if change}
    if not moves:
        return
    model.objects.bulk_create(
        [model(**dict(zip(fields, key, strict=True)), members=0) for key in moves],
        ignore_conflicts=True,
    )
    which = Q()
    for key in moves:
        which |= Q(**dict(zip(fields, key, strict=True)))
    list(model.objects.select_for_update().filter(which).order_by(*fields).values_list("pk"))
    model.objects.filter(which).update(
        members=F("members")
        + Case(
            *[
                When(Q(**dict(zip(fields, key, strict=True))), then=Value(change))
                for key, change in sorted(moves.items())
            ],
            default=Value(0),
            output_field=IntegerField(),
        )
    )


def _score(member: PointsAccount, area_code: str, delta: int, earned_at: datetime) -> None:
    """Move the member's season scores (every season and area level of ``earned_at`` and
    ``area_code``) by ``delta``, with the score and tie buckets, in nine statements.

    The caller holds the member's row lock, so their own score rows cannot race.
    """
    seasons, areas = seasons_at(earned_at), area_levels(area_code)
    rows = {
        (row.season, row.area_code): row
        for row in SeasonScore.objects.select_for_update().filter(
            member=member, season__in=seasons, area_code__in=areas
        )
    }
    buckets: Counter = Counter()
    ties: Counter = Counter()
    new_rows, changed = [], []
    for season in seasons:
        for area in areas:
            row = rows.get((season, area))
            old = row.points if row is not None else 0
            new = max(0, old + delta)
            old_day = _day(row.reached_at) if row is not None else None
            reached = earned_at if delta > 0 or row is None else row.reached_at
            if row is None:
                new_rows.append(
                    SeasonScore(
                        season=season, area_code=area, member=member, points=new,
                        reached_at=reached, reached_day=_day(reached),
                    )
                )  # fmt: skip
            else:
                row.points, row.reached_at, row.reached_day = new, reached, _day(reached)
                changed.append(row)
            if old > 0:
                buckets[(season, area, old)] -= 1
                ties[(season, area, old, old_day)] -= 1
            if new > 0:
                buckets[(season, area, new)] += 1
                ties[(season, area, new, _day(reached))] += 1
    if new_rows:
        SeasonScore.objects.bulk_create(new_rows)
    if changed:
        SeasonScore.objects.bulk_update(changed, ["points", "reached_at", "reached_day"])
    _move_buckets(ScoreBucket, ("season", "area_code", "points"), buckets)
    _move_buckets(TieBucket, ("season", "area_code", "points", "day"), ties)


# --- earning ---------------------------------------------------------------------------------


def _check_text(value: Any, *, field: str, label: str, max_length: int, required: bool) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        raise ApplicationError(
            _("Please give the %(label)s.") % {"label": label}, code="required", field=field
        )
    if len(text) > max_length:
        raise ApplicationError(
            _("The %(label)s is too long (at most %(n)s characters).")
            % {"label": label, "n": max_length},
            code="too_long",
            field=field,
        )
    return text


def _check_amount(value: Any, *, field: str = "amount", limit: int = MAX_AWARD) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
        raise ApplicationError(
            _("Points must be a whole number from 1 to %(n)s.") % {"n": limit},
            code="invalid_amount",
            field=field,
        )
    return value


def _local_midnight(when: datetime) -> datetime:
    local = timezone.localtime(when)
    return timezone.make_aware(datetime.combine(local.date(), time.min))


def _paid_since(account: PointsAccount, activity: str, since: datetime) -> int:
    total = EarningRecord.objects.filter(
        member=account, activity=activity, created_at__gte=since
    ).aggregate(total=Sum("paid"))["total"]
    return total or 0


def _pay(
    *,
    user: Any,
    activity: str,
    requested: int,
    rule: EarningRule | None,
    reason: str,
    key: str,
    actor: Any,
    units: int = 1,
    category: str = "",
    source: Model | None = None,
    evidence: str = "",
    approved_by: Any = None,
) -> EarningRecord:
    """Pay ``requested`` points for one act, less what the rule's caps leave no room for."""
    street = street_of(user)
    account = _lock(member_account(user))
    when = timezone.now()
    paid = requested
    if rule is not None and rule.daily_cap is not None:
        room = rule.daily_cap - _paid_since(account, activity, _local_midnight(when))
        paid = min(paid, max(0, room))
    if rule is not None and rule.weekly_cap is not None:
        monday = _local_midnight(when) - timedelta(days=timezone.localtime(when).weekday())
        paid = min(paid, max(0, rule.weekly_cap - _paid_since(account, activity, monday)))
    area_code = user.area_code
    posting = None
    if paid:
        posting = _post(
            kind=PostingKind.AWARD,
            amount=paid,
            debit=system_account(street, AccountKind.ISSUANCE),
            credit=account,
            member=account,
            street=street,
            area_code=area_code,
            reason=reason,
            key=key,
            actor=actor,
            activity=activity,
            source=source,
            evidence=evidence,
            approved_by=approved_by,
            when=when,
        )
        _score(account, area_code, paid, when)
    source_type, source_id = _source(source)
    return EarningRecord.objects.create(
        member=account,
        area_code=area_code,
        activity=activity,
        category=category,
        units=units,
        requested=requested,
        paid=paid,
        capped=requested - paid,
        posting=posting,
        reason=reason[:200],
        source_type=source_type,
        source_id=source_id,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        created_at=when,
    )


def _caps_for(street: Area, activity: str, rule: EarningRule) -> EarningRule:
    """The rule whose caps apply. Caps are per activity (what was paid today for any category
    counts), so a category's rule without caps of its own takes the activity's general caps."""
    if not rule.category or rule.daily_cap is not None or rule.weekly_cap is not None:
        return rule
    general = EarningRule.objects.filter(
        street=street, activity=activity, category="", is_active=True
    ).first()
    return general or rule


def _rule_for(street: Area, activity: str, category: str) -> EarningRule | None:
    rules = EarningRule.objects.filter(street=street, activity=activity, is_active=True)
    return rules.filter(category=category).first() or rules.filter(category="").first()


@transaction.atomic
def points_earn(
    *,
    member: Any,
    activity: str,
    reason: str,
    actor: Any,
    idempotency_key: str,
    units: int = 1,
    category: str = "",
    source: Model | None = None,
    share_percent: int = 100,
) -> EarningRecord:
    """Pay a member for an act staff have verified, by the street's rule for the activity.

    Other apps call this (a report verified, an event attended, a duty hour …). Repeating the
    call with the same key returns the first record and pays nothing more. ``share_percent``
    pays a share of the rule's value, rounded down but at least 1 (a report's witnesses).
    """
    if activity not in Activity.values or activity == Activity.MANUAL_AWARD:
        raise ApplicationError(_("Please choose a valid activity."), field="activity")
    units = _check_amount(units, field="units", limit=1000)
    share_percent = _check_amount(share_percent, field="share_percent", limit=100)
    reason = _check_text(reason, field="reason", label=_("reason"), max_length=200, required=True)
    require(actor, Action.OPERATE, member)
    _check_member(member, actor)

    def work() -> EarningRecord:
        street = street_of(member)
        rule = _rule_for(street, activity, category)
        if rule is None:
            raise ApplicationError(
                _("This street has no earning rule for that activity yet."), code="no_rule"
            )
        return _pay(
            user=member,
            activity=activity,
            requested=max(1, rule.points * units * share_percent // 100),
            rule=_caps_for(street, activity, rule),
            reason=reason,
            key=f"earn:{idempotency_key}",
            actor=actor,
            units=units,
            category=category,
            source=source,
        )

    payload = {
        "member": member.pk,
        "activity": activity,
        "units": units,
        "category": category,
        "source": _source(source),
        **({"share": share_percent} if share_percent != 100 else {}),
    }
    return run_once(
        scope="points.earn", key=idempotency_key, payload=payload, model=EarningRecord, work=work
    )


def _pay_manual(award: ManualAward, *, approver: Any) -> ManualAward:
    user = award.member.owner
    award.earning = _pay(
        user=user,
        activity=Activity.MANUAL_AWARD,
        requested=award.amount,
        rule=_rule_for(street_of(user), Activity.MANUAL_AWARD, ""),
        reason=award.reason,
        key=f"manual:{award.pk}",
        actor=award.requested_by,
        source=award,
        evidence=award.evidence,
        approved_by=approver,
    )
    award.status = AwardStatus.APPROVED
    award.decided_by = approver
    award.decided_at = timezone.now()
    award.save()
    return award


@transaction.atomic
def points_award(
    *, member: Any, amount: Any, reason: Any, evidence: Any, actor: Any, idempotency_key: str
) -> ManualAward:
    """Staff award points by hand, with a reason and evidence. Up to the street's threshold it
    is paid at once; above it, it waits for a second staff member (``points_award_approve``)."""
    amount = _check_amount(amount)
    reason = _check_text(reason, field="reason", label=_("reason"), max_length=200, required=True)
    evidence = _check_text(
        evidence, field="evidence", label=_("evidence"), max_length=500, required=True
    )
    require(actor, Action.OPERATE, member)
    _check_member(member, actor)

    def work() -> ManualAward:
        street = street_of(member)
        award = ManualAward.objects.create(
            member=member_account(member),
            area_code=member.area_code,
            amount=amount,
            reason=reason,
            evidence=evidence,
            requested_by=actor,
            idempotency_key=idempotency_key,
        )
        log_action(actor=actor, action="points.award_requested", target=award, data={"n": amount})
        rules = points_settings(street)
        flags, detail = award_flags(
            settings_=rules, member=member, actor=actor, amount=amount, exclude=award.pk
        )
        if flags:
            # Suspicious: nothing is paid until a person decides in the review queue.
            award.status, award.flags, award.flag_detail = AwardStatus.HELD, flags, detail
            award.save(update_fields=["status", "flags", "flag_detail"])
            log_action(
                actor=actor,
                action="points.award_held",
                target=award,
                data={"flags": flags, **detail},
            )
            return award
        if amount <= rules.approval_threshold:
            return _pay_manual(award, approver=actor)
        return award

    payload = {"member": member.pk, "amount": amount, "reason": reason, "evidence": evidence}
    return run_once(
        scope="points.award", key=idempotency_key, payload=payload, model=ManualAward, work=work
    )


def award_flags(
    *,
    settings_: PointsSettings,
    member: Any,
    actor: Any,
    amount: int,
    exclude: int | None = None,
    now: datetime | None = None,
) -> tuple[list[str], dict[str, Any]]:
    """The review rules a new manual award trips (docs/oversight.md), with their figures.

    Each rule is a street setting; 0 switches it off. Counts include the award itself.
    Run inside the award's transaction; nothing is locked (the rules screen for review, they
    are not a ledger invariant).
    """
    now = now or timezone.now()
    flags: list[str] = []
    detail: dict[str, Any] = {}
    earlier = ManualAward.objects.exclude(pk=exclude) if exclude else ManualAward.objects.all()
    if settings_.review_repeat_count:
        since = now - timedelta(hours=max(1, settings_.review_window_hours))
        repeats = (
            earlier.filter(requested_by=actor, member__owner=member, created_at__gte=since).count()
            + 1
        )
        if repeats >= settings_.review_repeat_count:
            flags.append(AwardFlag.REPEAT)
            detail["repeat_awards"] = repeats
            detail["repeat_window_hours"] = settings_.review_window_hours
    if settings_.review_large_amount and amount >= settings_.review_large_amount:
        flags.append(AwardFlag.LARGE)
        detail["large_from"] = settings_.review_large_amount
    joined = getattr(member, "date_joined", None)
    if settings_.review_new_member_days and joined is not None:
        age = now - joined
        if age < timedelta(days=settings_.review_new_member_days):
            flags.append(AwardFlag.NEW_MEMBER)
            detail["member_age_days"] = round(age.total_seconds() / 86400, 1)
    if settings_.review_burst_count:
        since = now - timedelta(minutes=max(1, settings_.review_burst_minutes))
        burst = earlier.filter(requested_by=actor, created_at__gte=since).count() + 1
        if burst >= settings_.review_burst_count:
            flags.append(AwardFlag.BURST)
            detail["burst_awards"] = burst
            detail["burst_minutes"] = settings_.review_burst_minutes
    return [str(flag) for flag in flags], detail


def _lock_pending_award(award: ManualAward, actor: Any) -> ManualAward:
    require(actor, Action.OPERATE, award)
    award = (
        ManualAward.objects.select_for_update(of=("self",))
        .select_related("member__owner", "requested_by")
        .get(pk=award.pk)
    )
    if not award.can_decide():
        raise Conflict(
            _("This award has already been decided (%(status)s).")
            % {"status": award.get_status_display()},
            code="already_decided",
        )
    return award


@transaction.atomic
def points_award_approve(*, award: ManualAward, actor: Any) -> ManualAward:
    """The second staff member approves a large award (never the one who asked for it)."""
    award = _lock_pending_award(award, actor)
    if award.requested_by_id == actor.pk:
        raise Forbidden(
            _("A large award needs a second staff member: you cannot approve your own."),
            code="own_award",
        )
    award = _pay_manual(award, approver=actor)
    log_action(actor=actor, action="points.award_approved", target=award)
    return award


@transaction.atomic
def points_award_reject(*, award: ManualAward, actor: Any, note: str = "") -> ManualAward:
    award = _lock_pending_award(award, actor)
    award.status = AwardStatus.REJECTED
    award.decided_by = actor
    award.decided_at = timezone.now()
    award.decision_note = (note or "").strip()[:200]
    award.save()
    log_action(actor=actor, action="points.award_rejected", target=award)
    return award


@transaction.atomic
def points_award_review(*, award: ManualAward, actor: Any, release: bool, note: Any) -> ManualAward:
    """A person decides a held (flagged) award: release it (it pays now) or reject it.

    The decider gives a reason and is never the one who asked for the award (releasing
    also stands for the second approval of a large one). Deciding twice is refused
    (``already_decided``): a double click pays once.
    """
    note = _check_text(note, field="note", label=_("reason"), max_length=200, required=True)
    require(actor, Action.OPERATE, award)
    award = (
        ManualAward.objects.select_for_update(of=("self",))
        .select_related("member__owner", "requested_by")
        .get(pk=award.pk)
    )
    if not award.can_review():
        raise Conflict(
            _("This award is not waiting for a review (%(status)s).")
            % {"status": award.get_status_display()},
            code="already_decided",
        )
    if award.requested_by_id == actor.pk:
        raise Forbidden(
            _("A held award needs another staff member: you cannot decide your own."),
            code="own_award",
        )
    if release:
        award.decision_note = note
        award = _pay_manual(award, approver=actor)
    else:
        award.status = AwardStatus.REJECTED
        award.decided_by = actor
        award.decided_at = timezone.now()
        award.decision_note = note
        award.save()
    log_action(
        actor=actor,
        action="points.award_released" if release else "points.award_rejected",
        target=award,
        data={"note": note, "flags": award.flags},
    )
    return award


# --- corrections -----------------------------------------------------------------------------


@transaction.atomic
def points_reverse(*, posting: Posting, actor: Any, reason: Any, idempotency_key: str) -> Posting:
    """Correct an award (or an expiry) by posting its legs swapped; the original stays.

    An award's points leave the member's season scores too. Points already spent cannot be
    taken back: the reversal is refused when the balance does not cover it.
    """
    reason = _check_text(reason, field="reason", label=_("reason"), max_length=200, required=True)
    require(actor, Action.OPERATE, posting)

    def work() -> Posting:
        # Lock the member first, then look: a concurrent reversal of the same posting has
        # either committed (and is seen here) or waits behind this one.
        _lock(posting.member)
        original = Posting.objects.select_related("member", "debit", "credit").get(pk=posting.pk)
        if not original.can_reverse():
            raise Conflict(
                _("Only an award or an expiry can be reversed, and only once."),
                code="not_reversible",
            )
        try:
            with transaction.atomic():
                reversal = _post(
                    kind=PostingKind.REVERSAL,
                    amount=original.amount,
                    debit=original.credit,
                    credit=original.debit,
                    member=original.member,
                    street=original.street,
                    area_code=original.area_code,
                    reason=reason,
                    key=f"reverse:{original.pk}",
                    actor=actor,
                    activity=original.activity,
                    source=original,
                    reverses=original,
                )
        except IntegrityError:
            raise Conflict(
                _("This posting has already been reversed."), code="not_reversible"
            ) from None
        if original.kind == PostingKind.AWARD:
            _score(original.member, original.area_code, -original.amount, original.created_at)
        log_action(actor=actor, action="points.reversed", target=original, data={"reason": reason})
        return reversal

    payload = {"posting": posting.pk, "reason": reason}
    return run_once(
        scope="points.reverse", key=idempotency_key, payload=payload, model=Posting, work=work
    )


# --- holds for the rewards shop ----------------------------------------------------------------


def points_hold(
    *,
    user: Any,
    amount: int,
    reason: str,
    key: str,
    actor: Any,
    source: Model | None = None,
    street: Area | None = None,
) -> Posting:
    """Reserve ``amount`` of the member's points for a reward awaiting pickup (member → hold).

    Called by the rewards shop inside its own transaction (and idempotency key); refused with
    ``insufficient_points`` when the balance does not cover it. ``street`` is the member's
    street when the caller has already looked it up.
    """
    street = street or street_of(user)
    account = member_account(user)
    return _post(
        kind=PostingKind.HOLD,
        amount=amount,
        debit=account,
        credit=system_account(street, AccountKind.HOLD),
        member=account,
        street=street,
        area_code=user.area_code,
        reason=reason,
        key=key,
        actor=actor,
        source=source,
    )


def _from_hold(hold: Posting, *, kind: str, reason: str, actor: Any, source: Model | None):
    if hold.kind != PostingKind.HOLD:
        raise ValueError("not a hold")
    target = (
        system_account(hold.street, AccountKind.REDEMPTION)
        if kind == PostingKind.SETTLE
        else hold.member
    )
    return _post(
        kind=kind,
        amount=hold.amount,
        debit=hold.credit,
        credit=target,
        member=hold.member,
        street=hold.street,
        area_code=hold.area_code,
        reason=reason,
        key=f"{kind}:{hold.pk}",
        actor=actor,
        source=source,
    )


def points_settle(*, hold: Posting, actor: Any, source: Model | None = None) -> Posting:
    """The reward was picked up: the held points are spent (hold → redemption)."""
    return _from_hold(hold, kind=PostingKind.SETTLE, reason=hold.reason, actor=actor, source=source)


def points_release(
    *, hold: Posting, actor: Any, reason: str, source: Model | None = None
) -> Posting:
    """The reservation was cancelled or timed out: the held points go back (hold → member)."""
    return _from_hold(hold, kind=PostingKind.RELEASE, reason=reason, actor=actor, source=source)


# --- expiry ------------------------------------------------------------------------------------


def expiry_date(settings: PointsSettings, year: int) -> date:
    """Points earned in ``year`` expire at the end of this day (the year after)."""
    month, day = settings.expiry_month, settings.expiry_day
    for candidate in range(day, 0, -1):  # 31 February → the month's last day
        try:
            return date(year + 1, month, candidate)
        except ValueError:
            continue
    raise ValueError("invalid expiry month")


def _sum(qs) -> int:
    return qs.aggregate(total=Sum("amount"))["total"] or 0


def unspent_earned_by_year(account: PointsAccount) -> dict[int, int]:
    """How many of the points earned in each year are still unspent, spending oldest first.

    Spending (redemptions net of releases, expiries net of their reversals) consumes the oldest
    year's points first, so no per-award "lot" needs updating when points are spent.
    """
    postings = Posting.objects.filter(member=account)
    earned: Counter = Counter()
    for row in postings.filter(kind=PostingKind.AWARD).values("created_at", "amount").order_by():
        earned[timezone.localtime(row["created_at"]).year] += row["amount"]
    for row in postings.filter(kind=PostingKind.REVERSAL, reverses__kind=PostingKind.AWARD).values(
        "reverses__created_at", "amount"
    ):
        earned[timezone.localtime(row["reverses__created_at"]).year] -= row["amount"]
    spent = (
        _sum(postings.filter(kind=PostingKind.HOLD))
        - _sum(postings.filter(kind=PostingKind.RELEASE))
        + _sum(postings.filter(kind=PostingKind.EXPIRY))
        - _sum(postings.filter(kind=PostingKind.REVERSAL, reverses__kind=PostingKind.EXPIRY))
    )
    unspent: dict[int, int] = {}
    for year in sorted(earned):
        take = min(spent, earned[year])
        spent -= take
        unspent[year] = earned[year] - take
    return unspent


@dataclass
class ExpiryRun:
    postings: list[Posting] = field(default_factory=list)
    checked: int = 0


def points_expire_due(*, today: date | None = None) -> ExpiryRun:
    """Post the expiry of every member's points whose expiry date has passed.

    Deterministic and safe to run again: each (member, year) expires under its own key.
    Only streets that turned expiry on are touched.
    """
    today = today or timezone.localdate()
    run = ExpiryRun()
    settings_by_street = {
        s.street_id: s for s in PointsSettings.objects.filter(expiry_enabled=True)
    }
    if not settings_by_street:
        return run
    accounts = PointsAccount.objects.filter(
        kind=AccountKind.MEMBER, balance__gt=0, owner__isnull=False
    ).select_related("owner")
    for account in accounts.iterator():
        run.checked += 1
        try:
            street = street_of(account.owner)
        except ApplicationError:
            continue
        settings = settings_by_street.get(street.pk)
        if settings is None:
            continue
        with transaction.atomic():
            account = _lock(account)
            for year, amount in unspent_earned_by_year(account).items():
                key = f"expiry:{account.pk}:{year}"
                if amount <= 0 or expiry_date(settings, year) >= today:
                    continue
                if Posting.objects.filter(idempotency_key=key).exists():
                    continue
                run.postings.append(
                    _post(
                        kind=PostingKind.EXPIRY,
                        amount=min(amount, account.balance),
                        debit=account,
                        credit=system_account(street, AccountKind.EXPIRY),
                        member=account,
                        street=street,
                        area_code=account.owner.area_code,
                        reason=_("Points earned in %(year)s expired.") % {"year": year},
                        key=key,
                    )
                )
                account.refresh_from_db(fields=["balance"])
    return run


# --- configuration -----------------------------------------------------------------------------


@transaction.atomic
def earning_rule_set(
    *,
    street: Area,
    activity: str,
    points: Any,
    actor: Any,
    category: str = "",
    daily_cap: Any = None,
    weekly_cap: Any = None,
    is_active: bool = True,
) -> EarningRule:
    """Create or change what an activity pays in a street (street and district admins)."""
    if not isinstance(street, Area) or street.level != AreaLevel.STREET:
        raise ApplicationError(_("Earning rules belong to a street."), field="street")
    require(actor, Action.CONFIGURE, street)
    if activity not in Activity.values:
        raise ApplicationError(_("Please choose a valid activity."), field="activity")
    points = _check_amount(points, field="points", limit=1000)
    caps = {}
    for name, value in (("daily_cap", daily_cap), ("weekly_cap", weekly_cap)):
        caps[name] = None if value in (None, "") else _check_amount(value, field=name)
    category = _check_text(
        category, field="category", label=_("category"), max_length=64, required=False
    )
    rule, created = EarningRule.objects.select_for_update().get_or_create(
        street=street,
        activity=activity,
        category=category,
        defaults={"points": points, "area_code": street.code, **caps, "is_active": is_active},
    )
    if not created:
        rule.points, rule.is_active = points, bool(is_active)
        rule.daily_cap, rule.weekly_cap = caps["daily_cap"], caps["weekly_cap"]
        rule.save()
    log_action(
        actor=actor,
        action="points.rule_set",
        target=rule,
        area_code=street.code,
        data={"activity": activity, "category": category, "points": points, **caps},
    )
    return rule


@transaction.atomic
def points_settings_update(
    *,
    street: Area,
    actor: Any,
    approval_threshold: Any = None,
    expiry_enabled: bool | None = None,
    expiry_month: Any = None,
    expiry_day: Any = None,
    **review: Any,
) -> PointsSettings:
    """Change a street's points settings; ``review`` takes the review rules for manual awards
    (``review_repeat_count`` …, see ``REVIEW_FIELDS``; None leaves one as it is, 0 turns a
    rule off)."""
    if not isinstance(street, Area) or street.level != AreaLevel.STREET:
        raise ApplicationError(_("Points settings belong to a street."), field="street")
    unknown = set(review) - set(REVIEW_FIELDS)
    if unknown:
        raise TypeError(f"unknown settings: {sorted(unknown)}")
    require(actor, Action.CONFIGURE, street)
    settings = PointsSettings.objects.select_for_update().get(pk=points_settings(street).pk)
    if approval_threshold is not None:
        settings.approval_threshold = _check_amount(approval_threshold, field="approval_threshold")
    changed: dict[str, Any] = {}
    for name, value in review.items():
        if value is None:
            continue
        low, high = REVIEW_FIELDS[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ApplicationError(
                _("Please give a whole number from %(low)s to %(high)s.")
                % {"low": low, "high": high},
                code="invalid_setting",
                field=name,
            )
        setattr(settings, name, value)
        changed[name] = value
    if expiry_enabled is not None:
        settings.expiry_enabled = bool(expiry_enabled)
    month = settings.expiry_month if expiry_month is None else expiry_month
    day = settings.expiry_day if expiry_day is None else expiry_day
    if not (
        isinstance(month, int) and 1 <= month <= 12 and isinstance(day, int) and 1 <= day <= 31
    ):
        raise ApplicationError(_("Please give a valid expiry date."), field="expiry_month")
    settings.expiry_month, settings.expiry_day = month, day
    settings.save()
    log_action(
        actor=actor,
        action="points.settings_changed",
        target=settings,
        area_code=street.code,
        data={
            "approval_threshold": settings.approval_threshold,
            "expiry_enabled": settings.expiry_enabled,
            **changed,
        },
    )
    return settings


# --- reconciliation ----------------------------------------------------------------------------


@dataclass
class Reconciliation:
    accounts: int = 0
    postings: int = 0
    drift: list[tuple[int, int, int]] = field(default_factory=list)  # (account, cached, summed)
    #: postings whose entries are not two legs of ±amount
    unbalanced: list[int] = field(default_factory=list)
    negative: list[int] = field(default_factory=list)  # system accounts below their floor
    total: int = 0  # sum of every entry: must be 0

    @property
    def ok(self) -> bool:
        return not (self.drift or self.unbalanced or self.negative) and self.total == 0


def points_reconcile() -> Reconciliation:
    """Check every account and posting against the entries (read-only; reports drift)."""
    result = Reconciliation()
    sums = dict(
        Entry.objects.values("account")
        .annotate(total=Sum("amount"))
        .values_list("account", "total")
    )
    for pk, kind, balance in PointsAccount.objects.values_list("pk", "kind", "balance"):
        result.accounts += 1
        summed = sums.get(pk, 0)
        if kind == AccountKind.MEMBER and balance != summed:
            result.drift.append((pk, balance, summed))
        floor_ok = summed <= 0 if kind == AccountKind.ISSUANCE else summed >= 0
        if not floor_ok:
            result.negative.append(pk)
    result.postings = Posting.objects.count()
    bad = (
        Entry.objects.values("posting")
        .annotate(total=Sum("amount"), legs=Count("id"), most=Max("amount"))
        .filter(~Q(total=0) | ~Q(legs=2) | ~Q(most=F("posting__amount")))
        .values_list("posting", flat=True)
    )
    result.unbalanced = list(bad)
    missing = Posting.objects.filter(entries__isnull=True).values_list("pk", flat=True)
    result.unbalanced += list(missing)
    result.total = Entry.objects.aggregate(total=Sum("amount"))["total"] or 0
    return result
