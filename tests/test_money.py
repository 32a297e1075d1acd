from __future__ import annotations

import decimal
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cxrecovery import CurrencyMismatchError, CxRecoveryError, Money, MoneyError
from cxrecovery.money import currencies, minor_units
from cxrecovery.testing.strategies import currencies as currency_codes
from cxrecovery.testing.strategies import money


def test_amount_is_held_to_the_minor_unit() -> None:
    assert Decimal("12.50") == Money("12.5", "EUR").amount
    assert "12.50" == str(Money("12.5", "EUR").amount)
    assert "1000" == str(Money(1000, "JPY").amount)
    assert "1.250" == str(Money("1.25", "KWD").amount)


def test_too_precise_an_amount_is_refused_not_rounded() -> None:
    with pytest.raises(MoneyError, match=r"amount: '0\.005' has more decimals than EUR"):
        Money("0.005", "EUR")
    with pytest.raises(MoneyError, match="JPY"):
        Money("1.5", "JPY")


def test_of_rounds_on_purpose() -> None:
    assert Money("0.00", "EUR") == Money.of("0.005", "EUR")  # half to even
    assert Money("0.01", "EUR") == Money.of("0.005", "EUR", rounding=decimal.ROUND_HALF_UP)
    with pytest.raises(MoneyError, match="rounding"):
        Money.of("1", "EUR", rounding="sideways")


@pytest.mark.parametrize("bad", [1.5, True, None, [1], "abc", "NaN", "Infinity", "1e40"])
def test_bad_amounts_raise_money_error(bad: object) -> None:
    with pytest.raises(MoneyError, match="amount"):
        Money(bad, "EUR")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["eur", "XXX", "", None, 12, "EURO"])
def test_bad_currencies_raise_money_error(bad: object) -> None:
    with pytest.raises(MoneyError, match="currency"):
        Money("1", bad)  # type: ignore[arg-type]


def test_errors_are_also_value_errors() -> None:
    with pytest.raises(ValueError, match="float"):
        Money(0.1, "EUR")  # type: ignore[arg-type]


def test_mixed_currencies_refuse_arithmetic_and_order() -> None:
    eur, usd = Money("1", "EUR"), Money("1", "USD")
    with pytest.raises(CurrencyMismatchError):
        eur + usd
    with pytest.raises(CurrencyMismatchError):
        eur - usd
    with pytest.raises(CurrencyMismatchError):
        eur < usd  # noqa: B015
    assert eur != usd


def test_arithmetic_with_a_plain_number_is_refused() -> None:
    with pytest.raises(MoneyError, match="wrap it in Money"):
        Money("1", "EUR") + 1  # type: ignore[operator]
    with pytest.raises(MoneyError, match="float"):
        Money("1", "EUR") * 1.5  # type: ignore[operator]


def test_fraction_and_percent_round_half_even() -> None:
    assert Money("3.12", "EUR") == Money("12.50", "EUR").fraction("0.25")  # 3.125 → 3.12
    assert Money("1.88", "EUR") == Money("12.50", "EUR").percent(15)
    assert Money("0.02", "EUR") == Money("0.05", "EUR").fraction("0.5")  # 0.025 → 0.02


def test_ratio_to_value_at_stake() -> None:
    assert Decimal("1.2") == Money("120", "EUR").ratio_to(Money("100", "EUR"))
    with pytest.raises(MoneyError, match="ratio"):
        Money("1", "EUR").ratio_to(Money("0", "EUR"))


def test_zero_has_one_sign() -> None:
    assert "0.00" == str(Money("-0", "EUR").amount)
    assert not Money("0", "EUR")
    assert Money("0.01", "EUR")


def test_minor_units_table() -> None:
    assert 2 == minor_units("EUR")
    assert 0 == minor_units("JPY")
    assert 3 == minor_units("BHD")
    assert {"EUR", "USD", "GBP", "JPY"} <= currencies()
    with pytest.raises(MoneyError):
        minor_units("ABC")


def test_split_gives_leftover_cents_to_the_first_parts() -> None:
    parts = Money("10.00", "EUR").split(3)
    assert (Money("3.34", "EUR"), Money("3.33", "EUR"), Money("3.33", "EUR")) == parts


@pytest.mark.parametrize("weights", [[], [-1, 2], [0, 0]])
def test_bad_weights_are_refused(weights: list[int]) -> None:
    with pytest.raises(MoneyError, match="weight"):
        Money("1", "EUR").allocate(weights)


def test_repr_and_str() -> None:
    assert "Money('12.50', 'EUR')" == repr(Money("12.5", "EUR"))
    assert "12.50 EUR" == str(Money("12.5", "EUR"))


@given(
    money(min_value=-10_000_000),
    st.lists(st.integers(0, 1000), min_size=1, max_size=12).filter(any),
)
def test_allocation_never_loses_or_invents_a_minor_unit(m: Money, weights: list[int]) -> None:
    parts = m.allocate(weights)
    assert m == Money.sum(parts, m.currency)
    assert len(weights) == len(parts)
    for weight, part in zip(weights, parts, strict=True):
        if weight == 0:
            assert part.is_zero()


@given(money(), st.integers(1, 50))
def test_split_parts_differ_by_at_most_one_minor_unit(m: Money, n: int) -> None:
    parts = m.split(n)
    assert m == Money.sum(parts, m.currency)
    minors = [p.minor for p in parts]
    assert max(minors) - min(minors) <= 1


@given(currency_codes(), st.integers(-(10**12), 10**12), st.integers(-(10**12), 10**12))
def test_addition_is_exact_in_minor_units(currency: str, a: int, b: int) -> None:
    total = Money.from_minor(a, currency) + Money.from_minor(b, currency)
    assert a + b == total.minor
    assert Money.from_minor(a, currency) == total - Money.from_minor(b, currency)


@given(money(), st.decimals(0, 3, places=4))
def test_fraction_is_within_half_a_minor_unit(m: Money, f: Decimal) -> None:
    exact = m.amount * f
    got = m.fraction(f)
    assert abs(got.amount - exact) <= Decimal(1).scaleb(-minor_units(m.currency)) / 2


@given(st.one_of(st.floats(), st.booleans(), st.none(), st.text(), st.binary()))
def test_any_garbage_amount_raises_only_our_errors(value: object) -> None:
    try:
        Money(value, "EUR")  # type: ignore[arg-type]
    except CxRecoveryError:
        pass
