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

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Final

import attrs

from cxrecovery.model import Fault
from cxrecovery.policy import CompensationPolicy, Tier

__all__ = ["Goodwill", "goodwill", "harm_step"]

_ZERO: Final = Decimal(0)
_ONE: Final = Decimal(1)
_POINTS: Final = {"min": _ZERO, "mid": Decimal("0.5"), "max": _ONE}
_PLACES: Final = Decimal("0.0001")


def _way(share: Decimal) -> str:
    if share >= _ONE:
        return "the top of the band"
    return f"{share:.2f} of the way up the band"


def harm_step(elapsed: timedelta | None, steps: Sequence[timedelta]) -> tuple[Decimal, int]:
    """The share of ``steps`` that ``elapsed`` has reached, and how many it reached."""
    if elapsed is None or not steps:
        return _ZERO, 0
    reached = sum(1 for step in steps if elapsed >= step)
    return (Decimal(reached) / len(steps)).quantize(_PLACES), reached


@attrs.frozen
class Goodwill:
    """Goodwill for one case: the tier used, its share of the value at stake, and why.

    ``steps`` holds ``(rule, text)`` pairs, one per step that moved the share, in order.
    """

    tier: Tier
    ratio: Decimal
    harm: Decimal
    steps: tuple[tuple[str, str], ...]


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
    money owed alongside, which the approval line counts too.
    """
    steps: list[tuple[str, str]] = []
    if fault == Fault.CUSTOMER:
        steps.append(
            (
                "principles.customers_own_fault",
                "the customer's own doing: help in full, no goodwill",
            )
        )
        return Goodwill(tier, _ZERO, _ZERO, tuple(steps))
    if fault != Fault.COMPANY and history == "first" and comp.fault_step:
        stepped = comp.step(tier.name, comp.fault_step)
        if stepped.name != tier.name:
            steps.append(
                (
                    "compensation.fault_step",
                    f"not our fault and the first time: tier {tier.name} to {stepped.name}",
                )
            )
            tier = stepped
    low, high = tier.goodwill_min, tier.goodwill_max
    point = comp.effort_point.get(str(effort), "min")
    effort_harm = _POINTS[point]
    harm = max(effort_harm, lateness, downtime)
    if high > low:
        _harm_steps(
            steps,
            harm,
            f"{effort} effort: the {point} of the band",
            effort_harm,
            lateness,
            downtime,
        )
    ratio = (low + (high - low) * harm).quantize(_PLACES)
    if restored and comp.restored_scale != _ONE and ratio > 0:
        ratio = (ratio * comp.restored_scale).quantize(_PLACES)
        low = (low * comp.restored_scale).quantize(_PLACES)
        steps.append(
            (
                "compensation.restored_scale",
                f"the remedy restores the service: goodwill times {comp.restored_scale}",
            )
        )
    return Goodwill(tier, _held(steps, comp, ratio, low, refunded), harm, tuple(steps))


def _harm_steps(
    steps: list[tuple[str, str]],
    harm: Decimal,
    effort_text: str,
    effort_harm: Decimal,
    lateness: Decimal,
    downtime: Decimal,
) -> None:
    """The steps that placed the amount in its band: each harm that is the highest."""
    if effort_harm == harm:
        steps.append(("compensation.effort_point", effort_text))
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


def _held(
    steps: list[tuple[str, str]],
    comp: CompensationPolicy,
    ratio: Decimal,
    low: Decimal,
    refunded: Decimal,
) -> Decimal:
    """``ratio`` held at the approval line (unless the band's floor is above it) and
    capped by the hard cap, both less what was refunded; each hold is a step."""
    line = comp.approval_above_ratio - refunded
    if ratio > line >= low:
        # Above the approval line satisfaction hardly grows: harm alone does not carry a
        # proposal past it (the band's own floor may).
        ratio = max(line, _ZERO)
        steps.append(
            (
                "compensation.approval_above_ratio",
                f"held at {comp.approval_above_ratio} of the value at stake in all: "
                "above it satisfaction hardly grows",
            )
        )
    cap = comp.hard_cap_ratio - refunded
    if ratio > cap:
        ratio = max(cap, _ZERO)
        steps.append(
            (
                "compensation.hard_cap_ratio",
                f"capped at {comp.hard_cap_ratio} of the value at stake in all",
            )
        )
    return ratio
