"""Exact money: a ``Decimal`` amount in an ISO 4217 currency.

A float never becomes money, two currencies never mix, and every amount is held to its
currency's minor unit, so a plan never offers a customer a third of a cent.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Final

import attrs

from cxrecovery._validation import settable_maker
from cxrecovery.errors import CurrencyMismatchError, InvalidValueError, MoneyError

__all__ = ["Money", "Rounding", "currencies", "minor_units"]

Rounding = str
"""A :mod:`decimal` rounding mode name, such as ``decimal.ROUND_HALF_EVEN``."""

# ISO 4217 active codes and their minor units (exponent). Codes without a minor unit
# (precious metals, testing codes, SDR) are left out: they are not customer money.
_THREE: Final = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})
_FOUR: Final = frozenset({"CLF", "UYW"})
_ZERO: Final = frozenset(
    "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split()
)
_TWO: Final = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN
    BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB
    EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS
    KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN
    MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD
    SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS
    UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG
    """.split()
)
_MINOR_UNITS: Final[dict[str, int]] = {
    **dict.fromkeys(_ZERO, 0),
    **dict.fromkeys(_TWO, 2),
    **dict.fromkeys(_THREE, 3),
    **dict.fromkeys(_FOUR, 4),
}
_QUANTUM: Final[dict[int, Decimal]] = {e: Decimal(1).scaleb(-e) for e in range(5)}
_ZEROS: Final[dict[int, Decimal]] = {e: Decimal(0).scaleb(-e) for e in range(5)}
# Each currency's one zero, by its code: ``_ZEROS[minor_units(currency)]`` in one lookup
# (a code not in it takes that path, which says why it is not a currency).
_ZERO_IN: Final[dict[str, Decimal]] = {c: _ZEROS[e] for c, e in _MINOR_UNITS.items()}
_ROUNDINGS: Final = frozenset(
    {
        decimal.ROUND_CEILING,
        decimal.ROUND_DOWN,
        decimal.ROUND_FLOOR,
        decimal.ROUND_HALF_DOWN,
        decimal.ROUND_HALF_EVEN,
        decimal.ROUND_HALF_UP,
        decimal.ROUND_UP,
        decimal.ROUND_05UP,
    }
)
# Quantizing under this context raises Inexact instead of rounding quietly.
_EXACT: Final = decimal.Context(prec=40, traps=[decimal.Inexact, decimal.InvalidOperation])
# Amounts beyond this are not customer compensation but a corrupted document.
_MAX_DIGITS: Final = 18


def currencies() -> frozenset[str]:
    """Return the ISO 4217 codes cxrecovery accepts.

    .. versionadded:: 0.1.0
    """
    return frozenset(_MINOR_UNITS)


def minor_units(currency: str) -> int:
    """Return how many decimal places ``currency`` uses (2 for EUR, 0 for JPY).

    Raises:
        MoneyError: ``currency`` is not an ISO 4217 code cxrecovery knows.

    .. versionadded:: 0.1.0
    """
    try:
        return _MINOR_UNITS[currency]
    except (KeyError, TypeError):
        raise MoneyError.at("currency", f"{currency!r} is not an ISO 4217 currency code") from None


def _to_decimal(value: object, where: str) -> Decimal:
    if type(value) is Decimal and value.is_finite():  # the common case, taken as it is
        return value
    # A string first (a document's amount): it is none of the types tested after it.
    if isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except decimal.InvalidOperation:
            raise MoneyError.at(where, f"{value!r} is not a decimal number") from None
    elif isinstance(value, bool | float):
        raise MoneyError.at(
            where,
            f"{value!r} is a {type(value).__name__}; give amounts as Decimal, int or a"
            " string such as '12.50' (floats lose cents)",
        )
    elif isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    else:
        raise MoneyError.at(
            where, f"{value!r} is a {type(value).__name__}; give a Decimal, int or string"
        )
    if not result.is_finite():
        raise MoneyError.at(where, f"{value!r} is not a finite number")
    return result


def _quantize(
    value: Decimal, quantum: Decimal, amount: object, currency: str, exponent: int
) -> Decimal:
    """``value`` held to ``quantum`` exactly, or the error ``Money(amount, currency)`` gives."""
    try:
        with decimal.localcontext(_EXACT):
            return value.quantize(quantum)
    except decimal.Inexact:
        raise MoneyError.at(
            "amount",
            f"{amount!r} has more decimals than {currency} allows ({exponent});"
            " round it on purpose with Money.of(..., rounding=...)",
        ) from None
    except decimal.InvalidOperation:
        # No repr of the amount: Python refuses to write out an integer of 4,300+ digits.
        shown = str(value) if len(str(value)) <= 40 else f"{str(value)[:30]}... ({value:.3E})"
        raise MoneyError.at("amount", f"{shown} is too large an amount") from None


def _check_rounding(rounding: str) -> str:
    if rounding not in _ROUNDINGS:
        raise MoneyError.at("rounding", f"{rounding!r} is not a decimal rounding mode")
    return rounding


@attrs.frozen(order=False, repr=False, init=False)
class Money:
    """An exact amount in one currency, held to the currency's minor unit.

    ``Money("12.5", "EUR")`` is ``12.50 EUR``. An amount with more decimals than the
    currency has (``"0.005"`` in EUR) is refused rather than silently rounded; use
    :meth:`of` to round on purpose.

    Args:
        amount: a ``Decimal``, an ``int`` or a decimal string; never a float.
        currency: an ISO 4217 code such as ``"EUR"``.

    Raises:
        MoneyError: the amount is a float, not a number, or too precise for the currency.

    .. versionadded:: 0.1.0
    """

    amount: Decimal
    currency: str

    def __init__(self, amount: Decimal | int | str, currency: str) -> None:
        exponent = minor_units(currency)
        value = _to_decimal(amount, "amount")
        if value.is_zero():
            # Every zero quantizes, exactly, to the currency's one zero.
            _set_amount(self, _ZEROS[exponent])
            _set_currency(self, currency)
            return
        quantum = _QUANTUM[exponent]
        if value.same_quantum(quantum):
            # Held to the minor unit already (an amount read from a document, or from
            # other money): quantizing is a no-op, and the size check below refuses
            # what quantizing would find too large.
            exact = value
        else:
            exact = _quantize(value, quantum, amount, currency, exponent)
        if exact.adjusted() >= _MAX_DIGITS:
            raise _too_large(amount)
        if exact.is_zero():
            exact = abs(exact)  # one zero: -0.00 and 0.00 are the same money
        # What the generated __attrs_init__ does, one call fewer.
        _set_amount(self, exact)
        _set_currency(self, currency)

    @classmethod
    def _held(cls, amount: Decimal, currency: str, like: Decimal) -> Money:
        """``Money(amount, currency)`` for the result of arithmetic on amounts held to
        the currency's minor unit (``like`` is one of them).

        Such a result is usually held to that unit already (it has ``like``'s exponent),
        and then the quantizing :meth:`__init__` does is a no-op: only the size check
        and the one zero remain. Any other result takes the full constructor.
        """
        if not amount.same_quantum(like):
            return cls(amount, currency)
        # Held already: the size check and the one zero remain.
        if amount.adjusted() >= _MAX_DIGITS:
            raise _too_large(amount)
        return cls._made(amount if amount else abs(amount), currency)

    @staticmethod
    def _held_amount(amount: Decimal, currency: str, like: Decimal) -> Decimal:
        """``Money._held(amount, currency, like).amount``, without building the Money:
        for arithmetic on plain amounts that keeps only some of its results as Money.
        Raises what :meth:`_held` raises."""
        if not amount:  # every zero is the currency's one zero, as Money makes it
            zero = _ZERO_IN.get(currency)
            return zero if zero is not None else _ZEROS[minor_units(currency)]
        if not amount.same_quantum(like):
            return Money(amount, currency).amount
        # Held already and not zero: the size check remains.
        if amount.adjusted() >= _MAX_DIGITS:
            raise _too_large(amount)
        return amount

    @classmethod
    def _made(cls, amount: Decimal, currency: str) -> Money:
        """Money holding ``amount`` as it is, without the checks of :meth:`__init__`: its
        slots set as plain attributes on a settable twin of the class, which then
        becomes ``Money`` (see ``settable_maker``). For an amount known to be held to
        ``currency``'s minor unit, within the size limit, and not a negative zero."""
        if cls is not Money:  # a subclass: the twin is Money's
            made: Money = object.__new__(cls)
            _set_amount(made, amount)
            _set_currency(made, currency)
            return made
        return _settable(amount, currency)

    @classmethod
    def of(
        cls,
        amount: Decimal | int | str,
        currency: str,
        *,
        rounding: Rounding = decimal.ROUND_HALF_EVEN,
    ) -> Money:
        """Build money from an amount of any precision, rounding to the minor unit.

        .. versionadded:: 0.1.0
        """
        value = _to_decimal(amount, "amount")
        exponent = minor_units(currency)
        rounded = _round(value, exponent, _check_rounding(rounding))
        # Rounded to the minor unit already: only the size check and the one zero remain.
        return cls._held(rounded, currency, _QUANTUM[exponent])

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Return nothing, in ``currency``.

        .. versionadded:: 0.1.0
        """
        # The currency's one zero is held to its minor unit and within the size limit.
        return cls._made(_ZEROS[minor_units(currency)], currency)

    @staticmethod
    def _zero_amount(currency: str) -> Decimal:
        """``Money.zero(currency).amount``, without building the Money."""
        zero = _ZERO_IN.get(currency)
        return zero if zero is not None else _ZEROS[minor_units(currency)]

    @property
    def minor(self) -> int:
        """The amount in minor units (cents for EUR) as an integer."""
        return int(self.amount.scaleb(minor_units(self.currency)))

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        """Build money from an integer count of minor units.

        .. versionadded:: 0.1.0
        """
        if isinstance(minor, bool) or not isinstance(minor, int):
            raise MoneyError.at("minor", f"{minor!r} is not a whole number of minor units")
        return cls(Decimal(minor).scaleb(-minor_units(currency)), currency)

    # --- comparison -------------------------------------------------------------------

    def _same(self, other: object, op: str) -> Money:
        if not isinstance(other, Money):
            raise MoneyError.at(
                "other",
                f"cannot {op} Money and {type(other).__name__} {other!r}; wrap it in Money",
            )
        if other.currency != self.currency:
            raise CurrencyMismatchError.at(
                "currency", f"cannot {op} {self} and {other}: the currencies differ"
            )
        return other

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other, "compare").amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other, "compare").amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other, "compare").amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other, "compare").amount

    # --- arithmetic -------------------------------------------------------------------

    def __add__(self, other: Money) -> Money:
        amount = self.amount
        return Money._held(amount + self._same(other, "add").amount, self.currency, amount)

    def __sub__(self, other: Money) -> Money:
        amount = self.amount
        return Money._held(amount - self._same(other, "subtract").amount, self.currency, amount)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        return self.times(factor)

    __rmul__ = __mul__

    def times(
        self, factor: Decimal | int | str, *, rounding: Rounding = decimal.ROUND_HALF_EVEN
    ) -> Money:
        """Multiply by an exact factor, rounding the result to the minor unit.

        .. versionadded:: 0.1.0
        """
        return self._scaled(_to_decimal(factor, "factor"), rounding)

    def _scaled(self, factor: Decimal, rounding: Rounding) -> Money:
        """:meth:`times` for a factor already read as a finite ``Decimal`` (by
        ``_to_decimal``, or a policy's ratio), with fewer calls than ``Money.of``: the
        same checks in the same order."""
        currency = self.currency
        return Money._made(Money._scaled_amount(self.amount, currency, factor, rounding), currency)

    @staticmethod
    def _scaled_amount(
        amount: Decimal, currency: str, factor: Decimal, rounding: Rounding
    ) -> Decimal:
        """``Money(amount, currency)._scaled(factor, rounding).amount`` for an amount held
        to ``currency``'s minor unit, without building either Money. Raises what
        :meth:`_scaled` raises."""
        try:
            product = amount * factor
        except decimal.DecimalException:  # beyond the decimal context: a runaway factor
            raise MoneyError.at(
                "factor",
                f"a factor of about 1E{factor.adjusted()} times {amount} {currency} is too large",
            ) from None
        exponent = _MINOR_UNITS.get(currency)
        if exponent is None or rounding not in _ROUNDINGS or not product.is_finite():
            # Not a currency, not a rounding mode, not a finite product: Money.of says
            # why, checking them in its order.
            return Money.of(product, currency, rounding=rounding).amount
        # Money.of, for a finite product in this money's currency: rounded to the minor
        # unit (quantizing gives the quantum's exponent), the size check and the one zero.
        try:  # _round, written out (a call costs more than the work)
            rounded = product.quantize(_QUANTUM[exponent], rounding)
        except decimal.InvalidOperation:
            raise _too_large(product) from None
        if rounded.adjusted() >= _MAX_DIGITS:
            raise _too_large(rounded)
        return rounded if rounded else abs(rounded)

    def fraction(
        self, fraction: Decimal | int | str, *, rounding: Rounding = decimal.ROUND_HALF_EVEN
    ) -> Money:
        """Return ``fraction`` of this amount (``Decimal("0.25")`` is a quarter).

        Compensation is usually a fraction of the value at stake: this is that helper.

        .. versionadded:: 0.1.0
        """
        return self._scaled(_to_decimal(fraction, "factor"), rounding)

    def percent(
        self, percent: Decimal | int | str, *, rounding: Rounding = decimal.ROUND_HALF_EVEN
    ) -> Money:
        """Return ``percent`` per cent of this amount (``15`` is 15%).

        .. versionadded:: 0.1.0
        """
        return self.times(_to_decimal(percent, "percent") / 100, rounding=rounding)

    def ratio_to(self, other: Money) -> Decimal:
        """Return this amount as a fraction of ``other`` (compensation ÷ value at stake).

        Raises:
            MoneyError: ``other`` is zero.

        .. versionadded:: 0.1.0
        """
        base = self._same(other, "divide").amount
        if base.is_zero():
            raise MoneyError.at("other", f"cannot take a ratio to {other}")
        return self.amount / base

    def allocate(self, weights: Sequence[Decimal | int | str]) -> tuple[Money, ...]:
        """Split this amount into parts proportional to ``weights``, losing nothing.

        The parts sum exactly to this amount: minor units left over by rounding go, one
        each, to the parts with the largest remainders (ties to the earliest part).

        Raises:
            MoneyError: no weights, a negative weight, or weights that sum to zero.

        .. versionadded:: 0.1.0
        """
        parts = [_to_decimal(w, f"weights[{i}]") for i, w in enumerate(weights)]
        if not parts:
            raise MoneyError.at("weights", "give at least one weight")
        for i, w in enumerate(parts):
            if w < 0:
                raise MoneyError.at(f"weights[{i}]", f"{w} is negative")
        total = sum(parts, Decimal(0))
        if total.is_zero():
            raise MoneyError.at("weights", "the weights sum to zero")
        units = self.minor
        sign = -1 if units < 0 else 1
        units = abs(units)
        with decimal.localcontext() as ctx:
            ctx.prec = 60
            exact = [Decimal(units) * w / total for w in parts]
        floors = [int(e) for e in exact]
        left = units - sum(floors)
        order = sorted(range(len(parts)), key=lambda i: (-(exact[i] - floors[i]), i))
        for i in order[:left]:
            floors[i] += 1
        return tuple(Money.from_minor(sign * f, self.currency) for f in floors)

    def split(self, parts: int) -> tuple[Money, ...]:
        """Split into ``parts`` near-equal amounts that sum exactly to this one.

        .. versionadded:: 0.1.0
        """
        if isinstance(parts, bool) or not isinstance(parts, int) or parts < 1:
            raise MoneyError.at("parts", f"{parts!r} is not a positive whole number")
        return self.allocate([1] * parts)

    def is_zero(self) -> bool:
        """Whether this is nothing."""
        return self.amount.is_zero()

    def __bool__(self) -> bool:
        return not self.amount.is_zero()

    def __str__(self) -> str:
        # (``!s``: a Decimal's ``str``, the text its empty format spec gives, at a third
        # of the cost of going through ``Decimal.__format__``.)
        return f"{self.amount!s} {self.currency}"

    def __repr__(self) -> str:
        return f"Money('{self.amount}', '{self.currency}')"

    @classmethod
    def sum(cls, amounts: Iterable[Money], currency: str) -> Money:
        """Add up ``amounts``, all in ``currency`` (an empty sum is zero).

        .. versionadded:: 0.1.0
        """
        total = cls.zero(currency)
        for amount in amounts:
            total = total + amount
        return total


# Money's two slots, set as the generated __attrs_init__ sets them (a frozen class
# refuses plain assignment) without looking the setter up on each call.
_set_amount: Final = Money.__dict__["amount"].__set__
_set_currency: Final = Money.__dict__["currency"].__set__
# Money whose slots are set by plain assignment, then given the class Money: cheaper
# than calling each frozen slot's setter (see Money._made).
_settable: Final[Callable[[Decimal, str], Money]] = settable_maker(Money, "being made")


def _too_large(amount: object) -> InvalidValueError:
    """The error for an amount over the size limit (or one the minor unit cannot hold)."""
    return MoneyError.at("amount", f"{amount!r} is too large an amount")


def _round(value: Decimal, exponent: int, rounding: str) -> Decimal:
    try:
        return value.quantize(_QUANTUM[exponent], rounding)
    except decimal.InvalidOperation:
        raise _too_large(value) from None
