"""Goodwill: the rule a compiled policy keeps gives what the plain rule gives."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from cxrecovery import default_policy
from cxrecovery.engine.goodwill import GoodwillRule, goodwill, harm_reached, harm_step

POLICY = default_policy()
COMP = POLICY.compensation
RULE = GoodwillRule(COMP)  # shared by every example: its memo fills as they run


@given(
    st.sampled_from([t.name for t in COMP.tiers]),
    st.sampled_from(["company", "third_party", "unknown", "customer"]),
    st.sampled_from(["first", "repeat", "double_deviation"]),
    st.sampled_from(["low", "medium", "high", "unknown"]),
    st.sampled_from([Decimal(0), Decimal("0.2000"), Decimal("0.6000"), Decimal(1)]),
    st.sampled_from([Decimal(0), Decimal("0.4000"), Decimal("1.0000")]),
    st.booleans(),
    st.sampled_from([Decimal(0), Decimal(1)]),
)
def test_the_kept_rule_is_the_plain_rule(
    tier: str,
    fault: str,
    history: str,
    effort: str,
    lateness: Decimal,
    downtime: Decimal,
    restored: bool,
    refunded: Decimal,
) -> None:
    """Differential: a kept rule (its memo filled by earlier examples, asked twice) and
    the plain function give equal answers, field by field, with equal texts."""
    found = COMP.tier(tier)
    assert RULE.tier(tier) is found
    args = {
        "fault": fault,
        "history": history,
        "effort": effort,
        "lateness": lateness,
        "downtime": downtime,
        "restored": restored,
        "refunded": refunded,
    }
    plain = goodwill(COMP, found, **args)  # type: ignore[arg-type]
    kept = RULE(found, **args)  # type: ignore[arg-type]
    assert plain == kept
    assert str(plain.ratio) == str(kept.ratio)
    assert RULE(found, **args) is kept  # type: ignore[arg-type]
    # What a decision asks: the same answer, its steps written out on first read.
    tier_used, ratio, harm, steps = RULE.sized(
        found, fault, history, effort, lateness, downtime, restored, refunded
    )
    assert (tier_used, ratio, harm, RULE.said(steps)) == (
        kept.tier,
        kept.ratio,
        kept.harm,
        kept.steps,
    )


def test_a_fact_value_that_is_no_key_is_sized_each_time() -> None:
    tier = COMP.tier("T2")
    sized = RULE(tier, fault="company", history=["first"], effort="high")
    assert sized == goodwill(COMP, tier, fault="company", history="repeat", effort="high")


@given(st.integers(1, 24), st.data())
def test_harm_step_is_the_share_of_steps_reached(count: int, data: st.DataObject) -> None:
    # In any order, repeats included (a policy built in code need not sort them).
    steps = data.draw(st.lists(st.integers(1, 10_000), min_size=count, max_size=count))
    elapsed = data.draw(st.integers(0, 12_000))
    given_steps = [timedelta(minutes=s) for s in steps]
    share, reached = harm_step(timedelta(minutes=elapsed), given_steps)
    assert reached == sum(1 for s in steps if elapsed >= s)
    # The engine's path: the steps sorted once, reached by bisection.
    rising = tuple(sorted(given_steps))
    assert (share, reached) == harm_reached(timedelta(minutes=elapsed), rising)
    assert (Decimal(reached) / count).quantize(Decimal("0.0001")) == share
    assert share.as_tuple().exponent == -4
