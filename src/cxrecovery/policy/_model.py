"""The parts of a policy, as frozen values read from the policy document."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

import attrs

from cxrecovery.businesstime import BusinessCalendar, ClockWarning
from cxrecovery.errors import Problem
from cxrecovery.model import CompensationForm
from cxrecovery.money import Money
from cxrecovery.policy._layers import Layer, attribute

__all__ = [
    "ClockPolicy",
    "ClockStart",
    "ClockStop",
    "CompensationPolicy",
    "EscalationLevel",
    "EscalationPolicy",
    "FactPolicy",
    "Policy",
    "PromisePolicy",
    "RolePolicy",
    "Tier",
]


@attrs.frozen
class RolePolicy:
    """One rung of the empowerment ladder and what its holders may grant on their own.

    Every limit is optional: a limit not given does not bind. Money limits are given per
    currency; a role with money limits but none in a case's currency may not grant in it.

    Attributes:
        forms: the compensation forms this role may grant at all.
        max_ratio: the most one case's compensation may be, as a share of the value at
            stake.
        max_per_case: the most one case's compensation may be, per currency.
        max_per_period: an agent's budget per ``period``, per currency.
        max_per_customer: the most one customer may receive over ``customer_window``.
        max_forms: how many forms may be stacked on one case (apology aside).
        handles_critical: holders may own critical (safety, legal, privacy) cases.

    .. versionadded:: 0.1.0
    """

    name: str
    rank: int
    title: str = ""
    forms: frozenset[CompensationForm] = frozenset()
    max_ratio: Decimal | None = None
    max_per_case: Mapping[str, Money] = attrs.field(factory=dict)
    max_per_period: Mapping[str, Money] = attrs.field(factory=dict)
    period: timedelta = timedelta(days=1)
    max_per_customer: Mapping[str, Money] = attrs.field(factory=dict)
    customer_window: timedelta = timedelta(days=90)
    max_forms: int | None = None
    handles_critical: bool = False


_ZERO = Decimal(0)


@attrs.frozen
class Tier:
    """A compensation band: ``min`` to ``max`` as shares of the value at stake.

    ``refund`` is the part of the band that gives back what was paid for (1.00 for a
    band meaning "a full refund plus goodwill"): it is paid, as money owed, only when
    the remedy gives the money back; a remedy that restores the service takes its
    place. The rest of the band is goodwill.

    .. versionadded:: 0.1.0
    """

    name: str
    min: Decimal
    max: Decimal
    floor: Mapping[str, Money] = attrs.field(factory=dict)
    ceiling: Mapping[str, Money] = attrs.field(factory=dict)
    source: str = ""
    refund: Decimal = Decimal(0)

    @property
    def goodwill_min(self) -> Decimal:
        """The band's floor less its refund: the goodwill part (never below 0)."""
        part = self.min - self.refund  # max(0, part), the same comparison, without a call
        return part if part > _ZERO else _ZERO

    @property
    def goodwill_max(self) -> Decimal:
        """The band's top less its refund: the goodwill part (never below 0)."""
        part = self.max - self.refund
        return part if part > _ZERO else _ZERO


@attrs.frozen
class CompensationPolicy:
    """How compensation is sized: tiers, modifiers, the cap and the approval line.

    Goodwill sits in its tier's band by the harm done: the highest of the effort point
    (``effort_point``: min, mid or max of the band), the share of ``lateness_steps``
    the lateness against a broken promise has passed, and the share of
    ``downtime_steps`` the time without the service has passed. A remedy that restores
    the service multiplies it by ``restored_scale``; ``refund_remedies`` are the remedy
    actions that give the money back instead (the value at stake is then owed).

    .. versionadded:: 0.1.0
    """

    table: str
    tiers: tuple[Tier, ...]
    hard_cap_ratio: Decimal
    approval_above_ratio: Decimal
    fault_step: int = -1
    effort_point: Mapping[str, str] = attrs.field(factory=dict)
    delight_forms: frozenset[CompensationForm] = frozenset()
    restored_scale: Decimal = Decimal(1)
    refund_remedies: frozenset[str] = frozenset()
    lateness_steps: tuple[timedelta, ...] = ()
    downtime_steps: tuple[timedelta, ...] = ()

    def tier(self, name: str) -> Tier:
        for tier in self.tiers:
            if tier.name == name:
                return tier
        raise LookupError(name)  # tiers are checked against the table when compiled

    def step(self, name: str, steps: int) -> Tier:
        """The tier ``steps`` rungs above (or below) ``name``, clamped to the ladder.

        The rungs are the goodwill bands (``min`` to ``max`` less the refund) of the
        tiers with the same ``refund`` as ``name``, in rising order; tiers with the same
        band share a rung. A step moves the goodwill, never into or out of a refund.
        """
        tier = self.tier(name)
        # Each tier's band read once (the properties work it out on every read).
        family = [
            (t, (t.goodwill_min, t.goodwill_max)) for t in self.tiers if t.refund == tier.refund
        ]
        own = (tier.goodwill_min, tier.goodwill_max)
        # The distinct bands in rising order: equal bands sort next to each other, so
        # dropping a band equal to the one before it is the same as a set (no hashing).
        bands: list[tuple[Decimal, Decimal]] = []
        for band in sorted(band for _, band in family):
            if not bands or band != bands[-1]:
                bands.append(band)
        rung = bands.index(own)
        target = bands[max(0, min(len(bands) - 1, rung + steps))]
        if target == bands[rung]:
            return tier
        # The first tier listed with that band.
        return next(t for t, band in family if band == target)


class ClockStart(enum.StrEnum):
    """What starts a clock.

    .. versionadded:: 0.1.0
    """

    OPENED = "opened"
    LAST_UPDATE = "last_update"
    LAST_PROGRESS = "last_progress"
    LAST_CUSTOMER_CONTACT = "last_customer_contact"


class ClockStop(enum.StrEnum):
    """What stops a clock for good (it is then met, or breached if late).

    .. versionadded:: 0.1.0
    """

    FIRST_RESPONSE = "first_response"
    RESOLVED = "resolved"
    CLOSED = "closed"
    NEVER = "never"


@attrs.frozen
class ClockPolicy:
    """A named clock: its calendar, start and stop, target table, pauses and warnings.

    ``escalate`` maps a point on the clock (a warning's name, or ``breach``) to an
    escalation level.

    .. versionadded:: 0.1.0
    """

    name: str
    calendar: str
    start: ClockStart
    stop: ClockStop
    targets: Mapping[str, Any]
    warnings: tuple[ClockWarning, ...] = ()
    pauses: frozenset[str] = frozenset()
    max_pause: timedelta | None = None
    escalate: Mapping[str, int] = attrs.field(factory=dict)
    while_open_only: bool = True


@attrs.frozen
class EscalationLevel:
    """A rung of the escalation ladder and the role that takes over there.

    .. versionadded:: 0.1.0
    """

    level: int
    role: str
    name: str = ""
    respond_within: timedelta = timedelta(hours=1)


@attrs.frozen
class EscalationPolicy:
    """The escalation ladder and the table of events that climb it.

    .. versionadded:: 0.1.0
    """

    levels: tuple[EscalationLevel, ...]
    table: str | None = None

    def level(self, number: int) -> EscalationLevel | None:
        for level in self.levels:
            if level.level == number:
                return level
        return None


@attrs.frozen
class PromisePolicy:
    """How promised due times are set: an estimate plus a safety margin.

    .. versionadded:: 0.1.0
    """

    table: str
    calendar: str
    margin_ratio: Decimal = Decimal("0.25")
    min_margin: timedelta = timedelta(hours=1)


@attrs.frozen
class FactPolicy:
    """The knobs of fact derivation.

    .. versionadded:: 0.1.0
    """

    calendar: str
    history_window: timedelta = timedelta(days=365)
    goodwill_window: timedelta = timedelta(days=90)
    effort_medium_at: int = 2
    effort_high_at: int = 4
    wait_unit: timedelta = timedelta(minutes=30)
    recency_decay: Decimal = Decimal("0.5")


@attrs.frozen
class Policy:
    """A recovery policy: data, checked on load, compiled into an engine.

    ``document`` is the full document after ``extends`` was applied; ``fingerprint`` is
    the SHA-256 of its canonical JSON form, so every plan can cite the exact policy.

    .. versionadded:: 0.1.0
    """

    name: str
    version: str
    description: str
    calendars: Mapping[str, BusinessCalendar]
    facts: FactPolicy
    roles: tuple[RolePolicy, ...]
    compensation: CompensationPolicy
    tables: Mapping[str, Mapping[str, Any]]
    clocks: tuple[ClockPolicy, ...]
    escalation: EscalationPolicy
    promises: PromisePolicy
    remedy_table: str
    follow_up_calendar: str
    recognise_staff: bool
    document: Mapping[str, Any] = attrs.field(eq=False, repr=False)
    fingerprint: str = ""
    # Where each part came from, for a policy read from files (``extends`` chains):
    # problems found later (when an engine compiles the tables) name the file too.
    layers: tuple[Layer, ...] = attrs.field(default=(), eq=False, repr=False, kw_only=True)

    def locate(self, problems: Iterable[Problem]) -> list[Problem]:
        """Problems found in this policy, each naming its file and its path there.

        For a policy read from files (an ``extends`` chain): ``tables.recovery.rules[x]``
        becomes ``team.toml: tables.recovery.rules[x]`` when ``team.toml`` gave that
        table. Other policies' problems are returned as they are.

        .. versionadded:: 0.2.0
        """
        if not self.layers:
            return list(problems)
        return attribute(problems, self.document, self.layers)

    def role(self, name: str) -> RolePolicy | None:
        """The role called ``name``, or ``None``."""
        for role in self.roles:
            if role.name == name:
                return role
        return None
