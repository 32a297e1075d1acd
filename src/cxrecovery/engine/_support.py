"""Shared pieces of the engine: the compiled tables and small helpers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Final

from cxrecovery._validation import aware_arg
from cxrecovery.businesstime import in_zone
from cxrecovery.engine._slots import _PLAIN_TYPES, _Plain, scalar, table_slots
from cxrecovery.errors import InvalidValueError, PolicyError, Problem
from cxrecovery.facts import BUILTIN_FACTS
from cxrecovery.formats.durations import format_duration, parse_duration
from cxrecovery.model import (
    Attributes,
    Channel,
    CompensationForm,
)
from cxrecovery.policy import Policy
from cxrecovery.tables import CellMemo, DecisionTable, FactKind, FactSpec, TableExplanation

_RECOVERY_OUTPUTS: Final = ("tier", "form", "apology", "follow_up", "human")
_REMEDY_OUTPUTS: Final = ("action", "estimate", "calendar")
_APOLOGIES: Final = ("brief", "empathic", "personal", "senior")
_FORMS: Final = frozenset(f.value for f in CompensationForm)

_TICK: Final = timedelta(microseconds=1)


def instant(value: datetime) -> datetime:
    """``value`` in UTC: the key to order aware datetimes by the instants they name.

    Two datetimes that share a zone compare by wall clock with ``fold`` ignored (PEP
    495): in the hour a DST fold repeats, 01:10 EST (the later) sorts before 01:40 EDT.
    A calendar in such a zone returns its results in that zone, so wherever the engine
    picks the earliest or latest of several times it compares them as instants.
    """
    return value.astimezone(UTC)


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def earliest(times: Sequence[datetime], epochs: Mapping[object, datetime]) -> datetime:
    """``min(times, key=instant)``: the first of the earliest instants.

    Each time is compared by its time since the epoch (an exact instant): for a time in
    a zone of ``epochs`` (UTC and zones with one offset for all time, each with the
    epoch shown in it), a subtraction within its zone (wall times), several times
    cheaper than a conversion; for any other (a zone with DST: a fold), an aware
    subtraction, which converts.
    """
    get = epochs.get
    found = times[0]
    least = found - get(found.tzinfo, _EPOCH)
    for when in times[1:]:
        since = when - get(when.tzinfo, _EPOCH)
        if since < least:
            found, least = when, since
    return found


def fixed_epochs(policy: Policy) -> dict[object, datetime]:
    """UTC and the zone of each of the policy's calendars that has one UTC offset for all
    time, each with the epoch shown in it: a datetime in such a zone less that epoch
    (a subtraction within one zone: wall times) is its time since the epoch."""
    epochs: dict[object, datetime] = {UTC: _EPOCH}
    for calendar in policy.calendars.values():
        if calendar.fixed_offset:
            epoch = calendar.datetime_at(0)
            epochs[epoch.tzinfo] = epoch
    return epochs


# A promise's margin on an estimate: the margin's text, estimate + margin, its text.
_Margin = tuple[str, timedelta, str]

# Shared by every reason that cites no fact and every action without details:
# Attributes are immutable.
EMPTY_ATTRIBUTES: Final = Attributes()


def _attrs(values: Mapping[str, object]) -> Attributes:
    return Attributes._trusted({k: scalar(v) for k, v in values.items()})


def _plain_facts(facts: Mapping[str, object], decimals: Sequence[str]) -> dict[str, _Plain]:
    """``_scalars(facts)`` when the facts called ``decimals`` (the facts declared as
    decimals) are the only ones not plain already: a copy in C and a few conversions,
    where ``_scalars`` tests every value in Python."""
    plain = dict(facts)
    for name in decimals:
        value = plain.get(name)
        if value.__class__ is Decimal:
            plain[name] = str(value)  # what scalar() gives a Decimal
    if not _PLAIN_TYPES.issuperset(map(type, plain.values())):
        return _scalars(facts)  # a value of another class: the general conversion
    return plain  # type: ignore[return-value]  # every value's class was just checked


def _scalars(facts: Mapping[str, object]) -> dict[str, _Plain]:
    """Every fact as the plain value a plan shows, converted once per decision.

    Most facts are plain already: an exact type test passes them straight through.
    """
    plain = _PLAIN_TYPES
    return {
        # v is one of the plain types when its exact class is: mypy cannot narrow that.
        k: v if v.__class__ in plain else scalar(v)  # type: ignore[misc]
        for k, v in facts.items()
    }


def comparable(at: datetime) -> datetime:
    """``at`` as the engine compares it: a fixed-offset time as it is, any other in UTC.

    A time in a zone with DST (a ``ZoneInfo``) shares its zone with the answers of a
    calendar in that zone, and the two would compare by wall clock in a DST fold (see
    :func:`instant`); in UTC they compare as the instants they are.
    """
    return at if type(at.tzinfo) is timezone else at.astimezone(UTC)


def instant_arg(at: object, name: str = "at") -> datetime:
    """``comparable(aware_arg(at, name))``: the instant an engine's verb is asked about.

    A datetime in a fixed offset (a ``timezone``, as every time read from a document
    is) is aware and compared as it is: it passes with two class tests.
    """
    if at.__class__ is datetime and at.tzinfo.__class__ is timezone:
        return at
    return comparable(aware_arg(at, name))


def _split(value: object) -> list[str]:
    if not isinstance(value, str):
        return []
    return [part.strip() for part in value.split(",") if part.strip()]


def _scaled(duration: timedelta, ratio: Decimal) -> timedelta:
    micro = int(Decimal(duration // _TICK) * ratio)
    return timedelta(microseconds=micro)


def _duration_text(value: timedelta) -> str:
    return format_duration(value)


# How plan text names a channel: one style, as people say it ("tell the customer in
# person", "by phone").
_CHANNEL_WORDS: Final = {
    Channel.PHONE: "by phone",
    Channel.EMAIL: "by email",
    Channel.CHAT: "in chat",
    Channel.SMS: "by text message",
    Channel.MESSAGING: "by message",
    Channel.SOCIAL: "on social media",
    Channel.WEB: "on the website",
    Channel.APP: "in the app",
    Channel.IN_PERSON: "in person",
    Channel.VIDEO: "by video call",
    Channel.MAIL: "by post",
    Channel.OTHER: "on their usual channel",
}


def channel_words(channel: Channel) -> str:
    """The words plan text uses for ``channel``: "in person", "by phone"…"""
    return _CHANNEL_WORDS[channel]


def _customer_time(when: datetime, zone: str | None) -> str:
    if zone is None:
        return when.isoformat()
    return in_zone(when, zone).isoformat()


def _why_not(explanation: TableExplanation) -> tuple[str, ...]:
    """``row: reason`` for every row that did not match, in table order."""
    return tuple(f"{t.rule_id}: {t.reason}" for t in explanation.rules if not t.matched)


def _order(specs: Mapping[str, FactSpec]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Every fact's name, sorted, and those of the facts declared as decimals."""
    order = tuple(sorted(specs))
    decimal = FactKind.DECIMAL  # looked up once (an enum member is a Python lookup)
    return order, tuple(n for n in order if specs[n].kind is decimal)


# What a policy compiled without host facts knows of its facts (see _index_rows).
_BUILTIN_ORDER, _BUILTIN_DECIMALS = _order(BUILTIN_FACTS)


class _Compiled:
    """A policy's tables compiled against the facts an engine knows."""

    def __init__(self, policy: Policy, specs: Mapping[str, FactSpec]) -> None:
        problems: list[Problem] = []
        # Each duration a table gives (follow-up offsets, remedy estimates, clock
        # targets), parsed once as it is checked: a decision reads them here.
        self._durations: dict[str, timedelta] = {}
        # Each distinct cell parsed once for all the tables (most read the severity).
        cells = CellMemo()
        self.tables: dict[str, DecisionTable] = {}
        for name, data in policy.tables.items():
            path = f"tables.{name}"
            self.tables[name] = self._compile(name, data, specs, path, cells, problems)
        self.clock_tables: dict[str, DecisionTable] = {}
        for clock in policy.clocks:
            path = f"clocks.{clock.name}.targets"
            name = f"{clock.name}_targets"
            table = self._compile(name, clock.targets, specs, path, cells, problems)
            self.clock_tables[clock.name] = table
            self._check_outputs(table, ("target",), path, problems)
            for rule in getattr(table, "rules", ()):
                target = rule.outputs.get("target")
                if target not in self._durations:
                    where = f"{path}.rules[{rule.id}].then.target"
                    self._duration(target, where, problems)
        recovery = self.tables.get(policy.compensation.table)
        remedy = self.tables.get(policy.remedy_table)
        self._check_recovery(policy, recovery, problems)
        self._check_remedy(policy, remedy, problems)
        self._check_escalation(policy, problems)
        if problems:
            raise PolicyError(problems)
        self._index_rows(policy, specs)
        # What a decision reads from table outputs (the durations' texts, follow-up
        # lists, margins), each worked out on its first use: all were checked above,
        # and a compile works out only what its decisions ask for.
        self._duration_texts: dict[str, str] = {}
        self._follow_ups: dict[str, tuple[str, ...]] = {}
        self._margins: dict[str, _Margin] = {}
        self._policy = policy

    def _check_recovery(
        self, policy: Policy, recovery: DecisionTable | None, problems: list[Problem]
    ) -> None:
        """The recovery table's outputs: tiers, forms, apologies and follow-up offsets."""
        tier_names = {t.name for t in policy.compensation.tiers}
        if recovery is not None:
            path = f"tables.{policy.compensation.table}"
            self._check_outputs(recovery, _RECOVERY_OUTPUTS, path, problems)
            checked: set[str] = set()  # follow-up texts already checked (rows share them)
            for rule in recovery.rules:
                out = rule.outputs
                tier, form, apology = out.get("tier"), out.get("form"), out.get("apology")
                follow_up = out.get("follow_up")
                if (
                    tier in tier_names
                    and form in _FORMS
                    and apology in _APOLOGIES
                    and follow_up.__class__ is str
                    and follow_up in checked
                ):
                    continue  # a good row, its follow-ups checked with an earlier row
                where = f"{path}.rules[{rule.id}].then"
                if tier not in tier_names:
                    problems.append(
                        Problem(
                            f"{where}.tier",
                            f"{tier!r} is not a tier ({', '.join(sorted(tier_names))})",
                        )
                    )
                if form not in _FORMS:
                    problems.append(
                        Problem(f"{where}.form", f"{form!r} is not a compensation form")
                    )
                if apology not in _APOLOGIES:
                    problems.append(
                        Problem(
                            f"{where}.apology",
                            f"{apology!r} is not one of {', '.join(_APOLOGIES)}",
                        )
                    )
                if follow_up.__class__ is str and follow_up in checked:
                    continue  # checked with an earlier row, and found good
                before = len(problems)
                for part in _split(follow_up):
                    if part not in self._durations:
                        self._duration(part, f"{where}.follow_up", problems)
                if follow_up.__class__ is str and len(problems) == before:
                    checked.add(follow_up)

    def _check_remedy(
        self, policy: Policy, remedy: DecisionTable | None, problems: list[Problem]
    ) -> None:
        """The remedy table's outputs: estimates and calendars."""
        if remedy is not None:
            path = f"tables.{policy.remedy_table}"
            self._check_outputs(remedy, _REMEDY_OUTPUTS, path, problems)
            calendars = policy.calendars
            for rule in remedy.rules:
                out = rule.outputs
                estimate, calendar = out.get("estimate"), out.get("calendar")
                if estimate in self._durations and calendar in calendars:
                    continue  # a good row (its estimate checked with an earlier row)
                where = f"{path}.rules[{rule.id}].then"
                if estimate not in self._durations:
                    self._duration(estimate, f"{where}.estimate", problems)
                if calendar not in calendars:
                    problems.append(
                        Problem(
                            f"{where}.calendar",
                            f"{calendar!r} is not a calendar of this policy",
                        )
                    )

    def _check_escalation(self, policy: Policy, problems: list[Problem]) -> None:
        """The escalation table's levels and the clocks' escalation points."""
        if policy.escalation.table is not None:
            table = self.tables.get(policy.escalation.table)
            if table is not None:
                path = f"tables.{policy.escalation.table}"
                self._check_outputs(table, ("level", "reason"), path, problems)
                levels = {lv.level for lv in policy.escalation.levels}
                problems.extend(
                    Problem(
                        f"{path}.rules[{rule.id}].then.level",
                        f"{rule.outputs.get('level')!r} is not a level of the escalation ladder",
                    )
                    for rule in table.rules
                    if rule.outputs.get("level") not in levels
                )
        for clock in policy.clocks:
            for point, level in clock.escalate.items():
                if policy.escalation.level(level) is None:
                    problems.append(
                        Problem(
                            f"clocks.{clock.name}.escalate.{point}",
                            f"{level} is not a level of the escalation ladder",
                        )
                    )

    def _index_rows(self, policy: Policy, specs: Mapping[str, FactSpec]) -> None:
        """The facts each table's trace and each row's reason list, worked out once."""
        if specs == BUILTIN_FACTS:  # no host facts: the built-in facts' (each one the same)
            self.fact_order, self.decimal_facts = _BUILTIN_ORDER, _BUILTIN_DECIMALS
        else:
            self.fact_order, self.decimal_facts = _order(specs)
        located = [(f"tables.{name}", table) for name, table in self.tables.items()]
        located += [(f"clocks.{name}.targets", t) for name, t in self.clock_tables.items()]
        # What a decision needs of each table, by its path in the policy (TableSlot).
        self.slots = table_slots(located, specs)
        # Whether a decision needs ``limbo_hours`` (business time, dear to work out) to
        # decide: only a table reads it; otherwise the plan's facts work it out when read.
        self.reads_limbo = any("limbo_hours" in slot.inputs for slot in self.slots.values())
        # Where the recovery table sits (the first table every decision reads).
        self.recovery_path = f"tables.{policy.compensation.table}"
        # Where a decision's times come from (the case, in UTC or an offset, and the
        # calendars) with their epochs, for ordering them as instants (earliest).
        self.epochs = fixed_epochs(policy)

    @staticmethod
    def _margin(policy: Policy, estimate: timedelta) -> _Margin:
        promises = policy.promises
        margin = max(promises.min_margin, _scaled(estimate, promises.margin_ratio))
        total = estimate + margin
        return _duration_text(margin), total, _duration_text(total)

    def margin(self, text: str, estimate: timedelta) -> _Margin:
        """The text of the safety margin a promise adds to the remedy estimate ``text``
        (which is ``estimate``), the estimate with it, and that one's text."""
        found = self._margins.get(text)
        if found is None:
            # Raises ArithmeticError for too long an estimate, each time it is asked.
            found = self._margins[text] = self._margin(self._policy, estimate)
        return found

    def follow_ups(self, value: object) -> Sequence[str]:
        """``_split(value)``, for a recovery row's ``follow_up``."""
        if not isinstance(value, str):
            return _split(value)
        found = self._follow_ups.get(value)
        if found is None:
            found = self._follow_ups[value] = tuple(_split(value))
        return found

    def duration(self, text: str) -> timedelta:
        """``parse_duration(text)``, for a duration a table gives."""
        found = self._durations.get(text)
        if found is None:
            found = self._durations[text] = parse_duration(text)
        return found

    def duration_text(self, text: str) -> str:
        """The canonical form of the duration a table gives as ``text``."""
        found = self._duration_texts.get(text)
        if found is None:
            found = self._duration_texts[text] = _duration_text(self.duration(text))
        return found

    @staticmethod
    def _compile(
        name: str,
        data: Mapping[str, Any],
        specs: Mapping[str, FactSpec],
        path: str,
        cells: CellMemo,
        problems: list[Problem],
    ) -> Any:
        try:
            return DecisionTable.from_dict(name, data, facts=specs, path=path, cells=cells)
        except InvalidValueError as error:
            problems.extend(error.problems)
            return None

    @staticmethod
    def _check_outputs(
        table: Any, names: Sequence[str], path: str, problems: list[Problem]
    ) -> None:
        if table is None:
            return
        have = {o.name for o in table.outputs}
        problems.extend(
            Problem(f"{path}.outputs", f"the engine needs an output named {name!r}")
            for name in names
            if name not in have
        )

    def _duration(self, value: object, path: str, problems: list[Problem]) -> None:
        """Check a duration a table gives at ``path``; a good one is kept (``duration``)."""
        if not isinstance(value, str):
            problems.append(Problem(path, f"{value!r} is not an ISO 8601 duration"))
            return
        try:
            self._durations[value] = parse_duration(value)
        except InvalidValueError as error:
            problems.extend(p.under(path) for p in error.problems)
