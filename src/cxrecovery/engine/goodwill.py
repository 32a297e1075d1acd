"""Goodwill: where in its band the engine places compensation for the harm done.

One rule, used by :meth:`~cxrecovery.Engine.decide` and by the linter's monotonicity
check alike. The recovery row's tier gives a band (its refund part aside: that is a
remedy, paid as money owed only when the remedy gives the money back). The customer's
own fault earns no goodwill; a first failure not of our making steps the tier down.
The harm done places the amount in the band: the highest of the effort point, the share
of the lateness steps passed, and the share of the downtime steps passed. A remedy that
restores the service scales the result down. Above the approval line the harm alone
never carries it; the hard cap bounds it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Final

import attrs

from cxrecovery._validation import settable_maker
from cxrecovery.model import Fault
from cxrecovery.policy import CompensationPolicy, Tier

__all__ = ["Goodwill", "GoodwillRule", "goodwill", "harm_step"]

_ZERO: Final = Decimal(0)
_ONE: Final = Decimal(1)
_POINTS: Final = {"min": _ZERO, "mid": Decimal("0.5"), "max": _ONE}
_PLACES: Final = Decimal("0.0001")
# Looked up once: an enum class's attribute costs a lookup through its metaclass.
_CUSTOMER: Final = Fault.CUSTOMER
_COMPANY: Final = Fault.COMPANY


def _way(share: Decimal) -> str:
    if share >= _ONE:
        return "the top of the band"
    return f"{share:.2f} of the way up the band"


def harm_step(elapsed: timedelta | None, steps: Sequence[timedelta]) -> tuple[Decimal, int]:
    """The share of ``steps`` that ``elapsed`` has reached, and how many it reached."""
    if elapsed is None or not steps:
        return _ZERO, 0
    reached = 0
    for step in steps:
        if elapsed >= step:
            reached += 1
    count = len(steps)
    if count < len(_SHARES):
        return _SHARES[count][reached], reached
    return _share(reached, count), reached


def _share(reached: int, count: int) -> Decimal:
    """``reached`` of ``count`` steps as a share, to four places."""
    return (Decimal(reached) / count).quantize(_PLACES)


# The shares of up to 15 steps, worked out once: _SHARES[count][reached].
_SHARES: Final = tuple(
    tuple(_share(reached, count) for reached in range(count + 1)) if count else ()
    for count in range(16)
)


@attrs.frozen
class Goodwill:
    """Goodwill for one case: the tier used, its share of the value at stake, and why.

    ``steps`` holds ``(rule, text)`` pairs, one per step that moved the share, in order.
    """

    tier: Tier
    ratio: Decimal
    harm: Decimal
    steps: tuple[tuple[str, str], ...]


# ``Goodwill(tier, ratio, harm, steps)``, made with fewer calls: its slots set by plain
# assignment, then given the class Goodwill (see settable_maker).
_goodwill: Final[Callable[[Tier, Decimal, Decimal, tuple[tuple[str, str], ...]], Goodwill]] = (
    settable_maker(Goodwill, "being sized")
)


def goodwill(
    comp: CompensationPolicy,
    tier: Tier,
    *,
    fault: object,
    history: object,
    effort: object,
    lateness: Decimal = _ZERO,
    downtime: Decimal = _ZERO,
    restored: bool = False,
    refunded: Decimal = _ZERO,
) -> Goodwill:
    """The goodwill share of the value at stake for a case, before the customer's own
    expectation and what was granted already.

    ``lateness`` and ``downtime`` are the shares of the policy's harm steps passed (see
    :func:`harm_step`); ``refunded`` is the share of the value at stake paid back as
    money owed alongside, which the approval line counts too. A caller asking for many
    cases keeps a :class:`GoodwillRule` of ``comp`` instead.
    """
    # Asked once: nothing to keep, so the rule's memo is left out.
    return GoodwillRule(comp)._sized(
        tier, fault, history, effort, lateness, downtime, restored, refunded
    )


_OWN_FAULT: Final = (
    "principles.customers_own_fault",
    "the customer's own doing: help in full, no goodwill",
)


class GoodwillRule:
    """:func:`goodwill` for one compensation policy, keeping what depends on the policy
    alone once it is worked out: each tier's goodwill band and fault step, the tiers by
    name, the texts of the policy's own steps. A compiled policy keeps one."""

    __slots__ = ("_bands", "_by_name", "_memo", "_said", "_steps", "comp")

    def __init__(self, comp: CompensationPolicy) -> None:
        self.comp = comp
        # By the tier's identity (the entry holds the tier, so its id is not reused).
        self._bands: dict[int, tuple[Tier, Decimal, Decimal]] = {}
        self._steps: dict[int, tuple[Tier, Tier]] = {}
        self._memo: dict[tuple[object, ...], tuple[Tier, Goodwill]] = {}
        self._by_name: dict[str, Tier] | None = None
        self._said: dict[str, tuple[str, str]] = {}

    def tier(self, name: str) -> Tier:
        """The policy's tier called ``name`` (the first of that name), as
        :meth:`~cxrecovery.policy.CompensationPolicy.tier` finds it."""
        by_name = self._by_name
        if by_name is None:
            by_name = self._by_name = {}
            for tier in self.comp.tiers:
                by_name.setdefault(tier.name, tier)
        found = by_name.get(name)
        return found if found is not None else self.comp.tier(name)  # raises

    def _band(self, tier: Tier) -> tuple[Tier, Decimal, Decimal]:
        """``tier`` and its goodwill band."""
        found = self._bands.get(id(tier))
        if found is None or found[0] is not tier:
            found = self._bands[id(tier)] = (tier, tier.goodwill_min, tier.goodwill_max)
        return found

    def _stepped(self, tier: Tier) -> Tier:
        """The tier the policy's fault step leads to from ``tier``."""
        found = self._steps.get(id(tier))
        if found is None or found[0] is not tier:
            comp = self.comp
            found = self._steps[id(tier)] = (tier, comp.step(tier.name, comp.fault_step))
        return found[1]

    def _step(self, rule: str) -> tuple[str, str]:
        """The step ``rule`` with its text, which the policy alone fixes."""
        found = self._said.get(rule)
        if found is None:
            comp = self.comp
            text = {
                "compensation.restored_scale": "the remedy restores the service: goodwill "
                f"times {comp.restored_scale}",
                "compensation.approval_above_ratio": f"held at {comp.approval_above_ratio} "
                "of the value at stake in all: above it satisfaction hardly grows",
                "compensation.hard_cap_ratio": f"capped at {comp.hard_cap_ratio} of the "
                "value at stake in all",
            }[rule]
            found = self._said[rule] = (rule, text)
        return found

    def __call__(
        self,
        tier: Tier,
        fault: object,
        history: object,
        effort: object,
        lateness: Decimal = _ZERO,
        downtime: Decimal = _ZERO,
        restored: bool = False,
        refunded: Decimal = _ZERO,
    ) -> Goodwill:
        """See :func:`goodwill`. The answer for equal arguments is kept: it is a frozen
        value fixed by them (the tier by identity), and they take few values. The
        arguments may be given by position, in this order (cheaper per call)."""
        key = (id(tier), fault, history, effort, lateness, downtime, restored, refunded)
        try:
            found = self._memo.get(key)
        except TypeError:  # a fact value that cannot be a key: worked out each time
            return self._sized(
                tier, fault, history, effort, lateness, downtime, restored, refunded
            )
        if found is None or found[0] is not tier:
            sized = self._sized(
                tier, fault, history, effort, lateness, downtime, restored, refunded
            )
            found = self._memo[key] = (tier, sized)
        return found[1]

    def _sized(
        self,
        tier: Tier,
        fault: object,
        history: object,
        effort: object,
        lateness: Decimal,
        downtime: Decimal,
        restored: bool,
        refunded: Decimal,
    ) -> Goodwill:
        if fault == _CUSTOMER:
            return _goodwill(tier, _ZERO, _ZERO, (_OWN_FAULT,))
        comp = self.comp
        steps: list[tuple[str, str]] = []
        if fault != _COMPANY and history == "first" and comp.fault_step:
            stepped = self._stepped(tier)
            if stepped.name != tier.name:
                steps.append(
                    (
                        "compensation.fault_step",
                        f"not our fault and the first time: tier {tier.name} to {stepped.name}",
                    )
                )
                tier = stepped
        band = self._band(tier)
        low, high = band[1], band[2]
        point = comp.effort_point.get(str(effort), "min")
        effort_harm = _POINTS[point]
        # max(effort_harm, lateness, downtime): the first of the highest.
        harm = effort_harm
        if lateness > harm:
            harm = lateness
        if downtime > harm:
            harm = downtime
        if high > low:
            _harm_steps(steps, harm, effort, point, effort_harm, lateness, downtime)
        ratio = (low + (high - low) * harm).quantize(_PLACES)
        scale = comp.restored_scale
        if restored and scale != _ONE and ratio > 0:
            ratio = (ratio * scale).quantize(_PLACES)
            low = (low * scale).quantize(_PLACES)
            steps.append(self._step("compensation.restored_scale"))
        return _goodwill(tier, self._held(steps, ratio, low, refunded), harm, tuple(steps))

    def _held(
        self, steps: list[tuple[str, str]], ratio: Decimal, low: Decimal, refunded: Decimal
    ) -> Decimal:
        """``ratio`` held at the approval line (unless the band's floor is above it) and
        capped by the hard cap, both less what was refunded; each hold is a step."""
        comp = self.comp
        line = comp.approval_above_ratio - refunded
        if ratio > line >= low:
            # Above the approval line satisfaction hardly grows: harm alone does not carry
            # a proposal past it (the band's own floor may).
            ratio = max(line, _ZERO)
            steps.append(self._step("compensation.approval_above_ratio"))
        cap = comp.hard_cap_ratio - refunded
        if ratio > cap:
            ratio = max(cap, _ZERO)
            steps.append(self._step("compensation.hard_cap_ratio"))
        return ratio


def _harm_steps(
    steps: list[tuple[str, str]],
    harm: Decimal,
    effort: object,
    point: str,
    effort_harm: Decimal,
    lateness: Decimal,
    downtime: Decimal,
) -> None:
    """The steps that placed the amount in its band: each harm that is the highest."""
    if effort_harm == harm:
        steps.append(("compensation.effort_point", f"{effort} effort: the {point} of the band"))
    if lateness == harm and lateness > 0:
        steps.append(
            (
                "compensation.harm.lateness",
                f"late against the promise: {_way(lateness)}",
            )
        )
    if downtime == harm and downtime > 0:
        steps.append(
            (
                "compensation.harm.downtime",
                f"time without the service: {_way(downtime)}",
            )
        )
