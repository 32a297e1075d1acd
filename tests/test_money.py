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


# --- holes a mutation run found (docs/test-quality.md) ------------------------------------


def test_negation_flips_the_sign_and_keeps_the_currency() -> None:
    assert Money("-12.50", "EUR") == -Money("12.50", "EUR")
    assert Money("3", "JPY") == -Money("-3", "JPY")
    assert "0.00" == str((-Money("0", "EUR")).amount)  # still the one zero


def test_abs_gives_the_size_of_an_amount() -> None:
    assert Money("12.50", "EUR") == abs(Money("-12.50", "EUR"))
    assert Money("12.50", "EUR") == abs(Money("12.50", "EUR"))
    assert Money("0.125", "KWD") == abs(Money("-0.125", "KWD"))


def test_ordering_at_equal_amounts() -> None:
    a, b = Money("5.00", "EUR"), Money("5", "EUR")
    assert a <= b
    assert a >= b
    assert not a < b
    assert not a > b


def test_ordering_at_different_amounts() -> None:
    low, high = Money("4.99", "EUR"), Money("5.00", "EUR")
    assert low < high
    assert low <= high
    assert high > low
    assert high >= low
    assert not high < low
    assert not high <= low
    assert not low > high
    assert not low >= high


@pytest.mark.parametrize("op", ["lt", "le", "gt", "ge"])
def test_every_comparison_refuses_another_currency_and_plain_numbers(op: str) -> None:
    eur = Money("1", "EUR")
    compare = getattr(eur, f"__{op}__")
    with pytest.raises(CurrencyMismatchError, match="compare"):
        compare(Money("1", "USD"))
    with pytest.raises(MoneyError, match="compare Money and int"):
        compare(1)


def test_allocate_gives_a_leftover_unit_to_the_largest_remainder() -> None:
    # 5 cents by 1:2 is 1.67 and 3.33 cents: the first part has the larger remainder.
    assert (Money("0.02", "EUR"), Money("0.03", "EUR")) == Money("0.05", "EUR").allocate([1, 2])
    # By 2:1 it is 3.33 and 1.67: now the second part has it.
    assert (Money("0.03", "EUR"), Money("0.02", "EUR")) == Money("0.05", "EUR").allocate([2, 1])
    # 10 cents by 1:1:1:7 is 1, 1, 1, 7 exactly: nothing left over to give.
    assert (1, 1, 1, 7) == tuple(p.minor for p in Money("0.10", "EUR").allocate([1, 1, 1, 7]))


def test_allocate_ties_go_to_the_earliest_part() -> None:
    assert (34, 33, 33) == tuple(p.minor for p in Money("1.00", "EUR").allocate([1, 1, 1]))
    assert (2, 2, 1) == tuple(p.minor for p in Money("5", "JPY").split(3))
    # Two leftover units, three equal remainders: the first two parts take them.
    assert (3, 3, 2) == tuple(p.minor for p in Money("0.08", "EUR").split(3))


def test_allocating_a_negative_amount_mirrors_the_positive_one() -> None:
    parts = Money("-10.00", "EUR").split(3)
    assert (Money("-3.34", "EUR"), Money("-3.33", "EUR"), Money("-3.33", "EUR")) == parts
    assert (-2, -3) == tuple(p.minor for p in Money("-0.05", "EUR").allocate([2, 3]))


def test_allocate_reads_weights_as_decimals_and_names_a_bad_one() -> None:
    assert (25, 75) == tuple(p.minor for p in Money("1.00", "EUR").allocate(["0.25", "0.75"]))
    with pytest.raises(MoneyError, match=r"weights\[1\]: .*-1.* is negative"):
        Money("1.00", "EUR").allocate([1, "-1"])
    with pytest.raises(MoneyError, match=r"weights\[0\]"):
        Money("1.00", "EUR").allocate([1.5])  # type: ignore[list-item]


@pytest.mark.parametrize("parts", [0, -1, True, 1.0, "2"])
def test_split_needs_a_positive_whole_number(parts: object) -> None:
    with pytest.raises(MoneyError, match="parts"):
        Money("1", "EUR").split(parts)  # type: ignore[arg-type]


def test_split_into_one_part_is_the_amount() -> None:
    assert (Money("7.77", "EUR"),) == Money("7.77", "EUR").split(1)


def test_amounts_up_to_eighteen_integer_digits_are_money() -> None:
    top = Money("999999999999999999.99", "EUR")
    assert 99999999999999999999 == top.minor
    assert Money("999999999999999999", "JPY").amount == Decimal("999999999999999999")
    assert Money.of("999999999999999999.994", "EUR") == top
    assert top == Money("999999999999999999.98", "EUR") + Money("0.01", "EUR")


@pytest.mark.parametrize(
    "make",
    [
        lambda: Money("1000000000000000000", "EUR"),
        lambda: Money("1000000000000000000.00", "EUR"),  # held to cents already
        lambda: Money(10**18, "JPY"),
        lambda: Money.of("999999999999999999.995", "EUR"),  # rounds up past the cap
        lambda: Money("999999999999999999.99", "EUR") + Money("0.01", "EUR"),
        lambda: Money("-999999999999999999.99", "EUR") - Money("0.01", "EUR"),
        lambda: Money("500000000000000000", "EUR").times(2),
        lambda: Money.from_minor(10**20, "EUR"),
    ],
)
def test_nineteen_integer_digits_are_refused(make: object) -> None:
    with pytest.raises(MoneyError, match=r"amount: .* is too large an amount"):
        make()  # type: ignore[operator]


# ISO 4217 minor units for the currencies that do not use two decimals.
_ISO_4217_NOT_TWO = {
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
    **dict.fromkeys(
        "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(), 0
    ),
}


@pytest.mark.parametrize(("currency", "units"), sorted(_ISO_4217_NOT_TWO.items()))
def test_minor_units_of_the_currencies_without_two_decimals(currency: str, units: int) -> None:
    assert units == minor_units(currency)
    smallest = Money.from_minor(1, currency)
    assert Decimal(1).scaleb(-units) == smallest.amount
    assert 1 == smallest.minor
    assert units == -Money.zero(currency).amount.as_tuple().exponent
    if units:
        with pytest.raises(MoneyError, match=f"more decimals than {currency} allows"):
            Money(Decimal(1).scaleb(-units - 1), currency)


def test_every_other_currency_has_two_decimals() -> None:
    others = currencies() - set(_ISO_4217_NOT_TWO)
    assert {"EUR", "USD", "GBP", "CHF", "INR"} <= others
    assert {2} == {minor_units(c) for c in others}


def test_four_decimal_amounts_keep_all_four() -> None:
    assert "1.2345 CLF" == str(Money("1.2345", "CLF"))
    assert Money("0.0001", "UYW") == Money.of("0.00005", "UYW", rounding=decimal.ROUND_HALF_UP)
    assert (Money("0.0002", "CLF"), Money("0.0001", "CLF")) == Money("0.0003", "CLF").split(2)


def test_rounding_or_arithmetic_to_zero_gives_the_one_zero() -> None:
    assert "0.00 EUR" == str(Money.of("-0.001", "EUR"))
    assert "0.00 EUR" == str(Money("0.00", "EUR").times(-1))
    assert "0 JPY" == str(Money("-3", "JPY") - Money("-3", "JPY"))


@pytest.mark.parametrize("bad", [True, 1.0, "1", Decimal(1), None])
def test_from_minor_takes_only_a_whole_number(bad: object) -> None:
    with pytest.raises(MoneyError, match=r"minor: .* is not a whole number of minor units"):
        Money.from_minor(bad, "EUR")  # type: ignore[arg-type]


def test_one_negative_minor_unit_allocates_as_a_negative_unit() -> None:
    assert (Money("-0.01", "EUR"), Money("0", "EUR")) == Money("-0.01", "EUR").split(2)
    assert (Money("0", "JPY"), Money("-1", "JPY")) == Money("-1", "JPY").allocate([1, 3])


def test_rounding_an_amount_beyond_any_precision_is_too_large() -> None:
    with pytest.raises(MoneyError, match="too large an amount"):
        Money.of("1e30", "EUR")
    with pytest.raises(MoneyError, match="too large an amount"):
        Money("1e40", "EUR")


def test_a_product_past_the_decimal_range_is_not_a_finite_amount() -> None:
    # Where the host's decimal context does not trap overflow, the product is infinite.
    with decimal.localcontext() as ctx:
        ctx.traps[decimal.Overflow] = False
        with pytest.raises(MoneyError, match="not a finite number"):
            Money("999999999999999999.99", "EUR").times("9e999999")


def test_multiplying_and_percent_round_to_the_minor_unit() -> None:
    assert Money("25.00", "EUR") == Money("12.50", "EUR") * 2
    assert Money("25.00", "EUR") == 2 * Money("12.50", "EUR")
    assert Money("0.42", "EUR") == Money("1.25", "EUR").times("0.333")
    assert Money("0.41", "EUR") == Money("1.25", "EUR").times("0.333", rounding=decimal.ROUND_DOWN)
    assert Money("2.50", "EUR") == Money("12.50", "EUR").percent("20")


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ([], "weights: give at least one weight"),
        ([0, 0], "weights: the weights sum to zero"),
        ([2, -1], r"weights\[1\]: -1 is negative"),
    ],
)
def test_each_bad_allocation_says_what_is_wrong(weights: list[int], message: str) -> None:
    with pytest.raises(MoneyError, match=message):
        Money("1", "EUR").allocate(weights)


@pytest.mark.parametrize("factor", ["9e999999", Decimal("9E+999999"), "-9e999999"])
def test_a_factor_beyond_the_decimal_context_is_a_money_error(factor: str | Decimal) -> None:
    with pytest.raises(MoneyError, match=r"^factor: a factor of about 1E999999 times"):
        Money.of("999999999999.99", "EUR").times(factor)


_PLAIN = st.decimals(
    allow_nan=False, allow_infinity=False, places=4, min_value=-1_000_000, max_value=1_000_000
)


@given(
    _PLAIN | st.integers(10**17, 10**19).map(Decimal) | st.sampled_from([Decimal("-0.00")]),
    st.sampled_from(["EUR", "JPY", "KWD"]),
)
def test_a_held_amount_is_what_money_holds(amount: Decimal, currency: str) -> None:
    """Differential: ``Money._held_amount`` (amounts without the Money) gives what
    ``Money(amount, currency)`` holds, or raises what it raises."""
    like = Money.zero(currency).amount
    try:
        expected = Money(amount, currency).amount
    except MoneyError as error:
        with pytest.raises(MoneyError) as raised:
            Money._held_amount(amount, currency, like)
        assert str(error) == str(raised.value)
        return
    found = Money._held_amount(amount, currency, like)
    assert (str(expected), expected.as_tuple()) == (str(found), found.as_tuple())


@given(money(), _PLAIN, st.sampled_from([decimal.ROUND_FLOOR, decimal.ROUND_HALF_EVEN]))
def test_a_scaled_amount_is_the_scaled_money(base: Money, factor: Decimal, rounding: str) -> None:
    expected = base._scaled(factor, rounding)
    found = Money._scaled_amount(base.amount, base.currency, factor, rounding)
    assert (str(expected.amount), expected.amount.as_tuple()) == (str(found), found.as_tuple())


# Every rounding mode the decimal module has, read off it (not a copy of the list money.py
# accepts).
_ROUNDING_MODES = sorted(v for k, v in vars(decimal).items() if k.startswith("ROUND_"))


@given(
    st.sampled_from(["JPY", "EUR", "KWD", "CLF"]),  # 0, 2, 3 and 4 minor digits
    st.integers(-(10**22), 10**22),
    st.decimals(
        allow_nan=False, allow_infinity=False, places=6, max_value=10**6, min_value=-(10**6)
    )
    | st.sampled_from([Decimal("1E+9"), Decimal("0.3333333333333333"), Decimal("1.0000001")]),
    st.sampled_from(_ROUNDING_MODES),
)
def test_a_scaled_amount_is_money_of_the_product(
    currency: str, units: int, factor: Decimal, rounding: str
) -> None:
    """Differential against the definition: ``Money._scaled_amount`` (its rounding and
    size check written out) gives ``Money.of(amount * factor, ...)``'s amount, or raises
    what it raises, in every currency's minor unit and every rounding mode."""
    amount = Decimal(units).scaleb(-minor_units(currency))
    try:
        expected = Money.of(amount * factor, currency, rounding=rounding).amount
    except MoneyError as error:
        with pytest.raises(MoneyError) as raised:
            Money._scaled_amount(amount, currency, factor, rounding)
        assert str(error) == str(raised.value)
        return
    found = Money._scaled_amount(amount, currency, factor, rounding)
    assert (str(expected), expected.as_tuple()) == (str(found), found.as_tuple())


@pytest.mark.parametrize(
    ("currency", "factor", "rounding"),
    [
        ("XXX", Decimal("0.5"), decimal.ROUND_FLOOR),  # not a currency
        ("EUR", Decimal("0.5"), "ROUND_SIDEWAYS"),  # not a rounding mode
        ("XXX", Decimal("0.5"), "ROUND_SIDEWAYS"),  # both: the currency is named first
    ],
)
def test_a_scaled_amount_names_what_money_of_names(
    currency: str, factor: Decimal, rounding: str
) -> None:
    with pytest.raises(MoneyError) as error:
        Money.of(Decimal("12.5") * factor, currency, rounding=rounding)
    with pytest.raises(MoneyError) as raised:
        Money._scaled_amount(Decimal("12.50"), currency, factor, rounding)
    assert str(error.value) == str(raised.value)
