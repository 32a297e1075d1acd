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

from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Final

import attrs

from cxrecovery._validation import settable_maker
from cxrecovery.model import CompensationForm, Fault
from cxrecovery.policy import CompensationPolicy, Tier

__all__ = ["Goodwill", "GoodwillRule", "Sized", "Step", "goodwill", "harm_reached", "harm_step"]

_ZERO: Final = Decimal(0)
_ONE: Final = Decimal(1)
_POINTS: Final = {"min": _ZERO, "mid": Decimal("0.5"), "max": _ONE}
_PLACES: Final = Decimal("0.0001")
# Looked up once: an enum class's attribute costs a lookup through its metaclass.
_CUSTOMER: Final = Fault.CUSTOMER
_COMPANY: Final = Fault.COMPANY
# The forms by their values: a table's output names one (the enum's lookup is slower).
_FORMS: Final[dict[object, CompensationForm]] = {f.value: f for f in CompensationForm}
# Forms that are a remedy in their own right: goodwill on top of a remedy is a credit.
_REMEDY_FORMS: Final = frozenset(
    {CompensationForm.REFUND, CompensationForm.REPLACEMENT, CompensationForm.REPERFORMANCE}
)
# Recovery rows kept per rule: a policy's tables have far fewer.
_ROWS_KEPT: Final = 4096


def _way(share: Decimal) -> str:
    if share >= _ONE:
        return "the top of the band"
    return f"{share:.2f} of the way up the band"


def harm_step(elapsed: timedelta | None, steps: Sequence[timedelta]) -> tuple[Decimal, int]:
    """The share of ``steps`` that ``elapsed`` has reached, and how many it reached."""
    if elapsed is None or not steps:
        return _ZERO, 0
    return harm_reached(elapsed, tuple(sorted(steps)))


def harm_reached(elapsed: timedelta, rising: tuple[timedelta, ...]) -> tuple[Decimal, int]:
    """:func:`harm_step` for steps in rising order (a policy's, sorted once: see
    :class:`GoodwillRule`): the steps ``elapsed`` has reached are those at or below it,
    found by bisection."""
    reached = bisect_right(rising, elapsed)
    count = len(rising)
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
    rule = GoodwillRule(comp)
    return rule._written(
        rule._work(tier, fault, history, effort, lateness, downtime, restored, refunded)
    )


_OWN_FAULT: Final = (
    "principles.customers_own_fault",
    "the customer's own doing: help in full, no goodwill",
)

# A step that moved the share, kept as the values its text is written from: its rule
# first, then what the text names (see :meth:`GoodwillRule.said`).
Step = tuple[object, ...]
# What :meth:`GoodwillRule.sized` answers: the tier used, the share, the harm and the
# steps (a :class:`Goodwill` with its steps not yet written out).
Sized = tuple[Tier, Decimal, Decimal, tuple[Step, ...]]
_OWN_FAULT_STEPS: Final[tuple[Step, ...]] = ((_OWN_FAULT[0],),)
_RESTORED: Final[Step] = ("compensation.restored_scale",)
_LINE: Final[Step] = ("compensation.approval_above_ratio",)
_CAP: Final[Step] = ("compensation.hard_cap_ratio",)
# Each alone, as the steps of a placement (joined to no step before it, the same tuple).
_RESTORED_STEPS: Final[tuple[Step, ...]] = (_RESTORED,)
_LINE_STEPS: Final[tuple[Step, ...]] = (_LINE,)
_CAP_STEPS: Final[tuple[Step, ...]] = (_CAP,)


class GoodwillRule:
    """:func:`goodwill` for one compensation policy, keeping what depends on the policy
    alone once it is worked out: each tier's goodwill band and fault step, the tiers by
    name, the share for each band and harm, the texts of the steps. A compiled policy
    keeps one; a decision asks :meth:`sized` (the steps' texts written on first read,
    :meth:`said`)."""

    __slots__ = (
        "_bands",
        "_by_name",
        "_efforts",
        "_kept",
        "_lines",
        "_memo",
        "_placed",
        "_rows",
        "_said",
        "_steps",
        "caps",
        "comp",
        "downtime_rising",
        "lateness_rising",
    )

    def __init__(self, comp: CompensationPolicy) -> None:
        self.comp = comp
        # The harm steps in rising order, for harm_reached (a policy read from a
        # document has them so already; one built in code may not).
        self.lateness_rising = tuple(sorted(comp.lateness_steps))
        self.downtime_rising = tuple(sorted(comp.downtime_steps))
        # By the tier's identity (the entry holds the tier, so its id is not reused).
        self._steps: dict[int, tuple[Tier, Tier]] = {}
        # Each tier's goodwill band (its properties work it out on every read): see _band.
        self._bands: dict[int, tuple[Tier, Decimal, Decimal, Decimal, bool, Decimal | None]] = {}
        # An effort's point and harm; the approval line and the hard cap less a refund.
        self._efforts: dict[str, tuple[str, Decimal]] = {}
        self._lines: dict[int, tuple[Decimal, Decimal, Decimal, Decimal, Decimal]] = {}
        self._memo: dict[tuple[object, ...], tuple[Tier, Sized]] = {}
        self._kept: dict[tuple[object, ...], tuple[Tier, Goodwill]] = {}
        self._placed: dict[tuple[object, ...], tuple[Tier, Decimal, tuple[Step, ...], bool]] = {}
        self._by_name: dict[str, Tier] | None = None
        self._said: dict[tuple[Step, ...], tuple[tuple[str, str], ...]] = {}
        # A recovery row's tier and goodwill form, by the row's identity (see row()).
        self._rows: dict[int, tuple[Mapping[str, object], Tier, CompensationForm]] = {}
        # The hard cap less nothing refunded and less the value at stake refunded, each
        # with its adjusted exponent: what a decision's amount is held to (worked out
        # as the decision would, once).
        less_nothing = comp.hard_cap_ratio - _ZERO
        less_refund = comp.hard_cap_ratio - _ONE
        self.caps: tuple[tuple[Decimal, int], tuple[Decimal, int]] = (
            (less_nothing, less_nothing.adjusted()),
            (less_refund, less_refund.adjusted()),
        )

    def row(self, recovery: Mapping[str, object]) -> tuple[Tier, CompensationForm]:
        """The recovery row's tier and the form its goodwill takes: the row's form, or a
        credit when that form is a remedy in its own right (a repair, a replacement, a
        refund: the remedy is its own line, goodwill on top of it a credit). Kept by
        the row's identity (a table's rows are its own, fixed objects)."""
        found = self._rows.get(id(recovery))
        if found is None or found[0] is not recovery:
            form = _FORMS.get(recovery["form"]) or CompensationForm(str(recovery["form"]))
            if form in _REMEDY_FORMS:
                form = CompensationForm.CREDIT
            found = (recovery, self.tier(str(recovery["tier"])), form)
            if len(self._rows) < _ROWS_KEPT:
                self._rows[id(recovery)] = found
        return found[1], found[2]

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

    def _stepped(self, tier: Tier) -> Tier:
        """The tier the policy's fault step leads to from ``tier``."""
        found = self._steps.get(id(tier))
        if found is None or found[0] is not tier:
            comp = self.comp
            found = self._steps[id(tier)] = (tier, comp.step(tier.name, comp.fault_step))
        return found[1]

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
        value fixed by them (the tier by identity), and they take few values."""
        key = (id(tier), fault, history, effort, lateness, downtime, restored, refunded)
        try:
            found = self._kept.get(key)
        except TypeError:  # a fact value that cannot be a key: worked out each time
            return self._written(
                self._work(tier, fault, history, effort, lateness, downtime, restored, refunded)
            )
        if found is None or found[0] is not tier:
            sized = self.sized(
                tier, fault, history, effort, lateness, downtime, restored, refunded
            )
            found = self._kept[key] = (tier, self._written(sized))
        return found[1]

    def _written(self, sized: Sized) -> Goodwill:
        return _goodwill(sized[0], sized[1], sized[2], self.said(sized[3]))

    def sized(
        self,
        tier: Tier,
        fault: object,
        history: object,
        effort: object,
        lateness: Decimal,
        downtime: Decimal,
        restored: bool,
        refunded: Decimal,
    ) -> Sized:
        """:func:`goodwill`'s answer as the tier used, the share, the harm and the steps
        (see :meth:`said`), given by position. The answer for equal arguments is kept
        (the tier by identity): they take few values."""
        key = (id(tier), fault, history, effort, lateness, downtime, restored, refunded)
        try:
            found = self._memo.get(key)
        except TypeError:  # a fact value that cannot be a key: worked out each time
            return self._work(tier, fault, history, effort, lateness, downtime, restored, refunded)
        if found is None or found[0] is not tier:
            sized = self._work(
                tier, fault, history, effort, lateness, downtime, restored, refunded
            )
            found = self._memo[key] = (tier, sized)
        return found[1]

    def said(self, steps: tuple[Step, ...]) -> tuple[tuple[str, str], ...]:
        """The steps' ``(rule, text)`` pairs, as :attr:`Goodwill.steps` holds them."""
        try:
            found = self._said.get(steps)
        except TypeError:  # an effort that cannot be a key: written each time
            return tuple(map(self._text, steps))
        if found is None:
            found = self._said[steps] = tuple(map(self._text, steps))
        return found

    def _text(self, step: Step) -> tuple[str, str]:
        """One step's rule and text."""
        rule = str(step[0])
        comp = self.comp
        if rule == "compensation.fault_step":
            return rule, f"not our fault and the first time: tier {step[1]} to {step[2]}"
        if rule == "compensation.effort_point":
            return rule, f"{step[1]} effort: the {step[2]} of the band"
        if rule == "compensation.harm.lateness":
            return rule, f"late against the promise: {_way(step[1])}"  # type: ignore[arg-type]
        if rule == "compensation.harm.downtime":
            return rule, f"time without the service: {_way(step[1])}"  # type: ignore[arg-type]
        if rule == "compensation.restored_scale":
            return rule, f"the remedy restores the service: goodwill times {comp.restored_scale}"
        if rule == "compensation.approval_above_ratio":
            return rule, (
                f"held at {comp.approval_above_ratio} of the value at stake in all: above it "
                "satisfaction hardly grows"
            )
        if rule == "compensation.hard_cap_ratio":
            return rule, f"capped at {comp.hard_cap_ratio} of the value at stake in all"
        return _OWN_FAULT

    def _work(
        self,
        tier: Tier,
        fault: object,
        history: object,
        effort: object,
        lateness: Decimal,
        downtime: Decimal,
        restored: bool,
        refunded: Decimal,
    ) -> Sized:
        if fault == _CUSTOMER:
            return tier, _ZERO, _ZERO, _OWN_FAULT_STEPS
        steps: list[Step] = []
        if fault != _COMPANY and history == "first" and self.comp.fault_step:
            stepped = self._stepped(tier)
            if stepped.name != tier.name:
                steps.append(("compensation.fault_step", tier.name, stepped.name))
                tier = stepped
        # The effort's point and its harm, kept per effort (a text: another class's
        # text is worked out each time).
        found = self._efforts.get(effort) if effort.__class__ is str else None
        if found is None:
            point = self.comp.effort_point.get(str(effort), "min")
            found = (point, _POINTS[point])
            if effort.__class__ is str and len(self._efforts) < _ROWS_KEPT:
                self._efforts[effort] = found
        point, effort_harm = found
        # max(effort_harm, lateness, downtime): the first of the highest (a zero share
        # is never above the effort's harm, which is not negative).
        harm = effort_harm
        if lateness and lateness > harm:
            harm = lateness
        if downtime and downtime > harm:
            harm = downtime
        key = (id(tier), harm, restored, refunded)
        placed = self._placed.get(key)
        if placed is None or placed[0] is not tier:
            placed = self._placed[key] = (tier, *self._place(tier, harm, restored, refunded))
        if placed[3]:  # the band is wide: the harm placed the share in it: each harm
            # that is the highest is a step (a zero share is none)
            if effort_harm == harm:
                steps.append(("compensation.effort_point", effort, point))
            if lateness and lateness == harm:
                steps.append(("compensation.harm.lateness", lateness))
            if downtime and downtime == harm:
                steps.append(("compensation.harm.downtime", downtime))
        if placed[2]:
            steps.extend(placed[2])
        return tier, placed[1], harm, tuple(steps)

    def _band(self, tier: Tier) -> tuple[Tier, Decimal, Decimal, Decimal, bool, Decimal | None]:
        """``tier``'s goodwill band, worked out once: its floor and top, its width,
        whether it is wide, and its floor scaled as a restoring remedy scales it (None
        when the policy does not scale)."""
        band = self._bands.get(id(tier))
        if band is None or band[0] is not tier:
            low, high = tier.goodwill_min, tier.goodwill_max
            scale = self.comp.restored_scale
            band = self._bands[id(tier)] = (
                tier,
                low,
                high,
                high - low,
                high > low,
                (low * scale).quantize(_PLACES) if scale != _ONE else None,
            )
        return band

    def _place(
        self, tier: Tier, harm: Decimal, restored: bool, refunded: Decimal
    ) -> tuple[Decimal, tuple[Step, ...], bool]:
        """The share ``harm`` places in ``tier``'s goodwill band (scaled when the remedy
        restores the service, held at the approval line and the hard cap), those steps,
        and whether the band is wide (the harm's steps count)."""
        _, low, _, width, wide, scaled_low = self._band(tier)
        ratio = (low + width * harm).quantize(_PLACES)
        if restored and scaled_low is not None and ratio > _ZERO:
            ratio = (ratio * self.comp.restored_scale).quantize(_PLACES)
            low = scaled_low
            steps: tuple[Step, ...] = _RESTORED_STEPS
        else:
            steps = ()
        ratio, steps = self._held(steps, ratio, low, refunded)
        return ratio, steps, wide

    def _held(
        self, steps: tuple[Step, ...], ratio: Decimal, low: Decimal, refunded: Decimal
    ) -> tuple[Decimal, tuple[Step, ...]]:
        """``ratio`` held at the approval line (unless the band's floor is above it) and
        capped by the hard cap, both less what was refunded; each hold is a step."""
        lines = self._lines.get(id(refunded))
        if lines is None or lines[0] is not refunded:
            comp = self.comp
            line = comp.approval_above_ratio - refunded
            cap = comp.hard_cap_ratio - refunded
            lines = (refunded, line, max(line, _ZERO), cap, max(cap, _ZERO))
            if len(self._lines) < _ROWS_KEPT:
                self._lines[id(refunded)] = lines
        _, line, held_line, cap, held_cap = lines
        if ratio > line >= low:
            # Above the approval line satisfaction hardly grows: harm alone does not carry
            # a proposal past it (the band's own floor may).
            ratio = held_line
            steps += _LINE_STEPS
        if ratio > cap:
            ratio = held_cap
            steps += _CAP_STEPS
        return ratio, steps
