"""What the linter reports: findings, each with a severity, a path and a message."""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

__all__ = ["Finding", "FindingSeverity", "LintReport"]


class FindingSeverity(enum.StrEnum):
    """How bad a finding is.

    - ``ERROR``: the policy cannot be used as written, or will fail or misbehave on some
      case (a gap, a unique table whose rows overlap, a tier above the hard cap).
    - ``WARNING``: the policy works, but something in it is dead or suspicious (a
      shadowed row, an unused calendar, a ladder whose limits fall).

    .. versionadded:: 0.1.0
    """

    ERROR = "error"
    WARNING = "warning"


def _plain(value: object) -> object:
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def _example(value: Mapping[str, object] | None) -> Mapping[str, object] | None:
    return None if value is None else dict(value)


@attrs.frozen
class Finding:
    """One thing the linter proved about a policy.

    Args:
        code: what kind of finding, from the reference in ``docs/assurance.md``
            (``table.gap``, ``compensation.not_monotone``…).
        severity: error or warning.
        path: where in the policy document (``tables.recovery.rules[minor-first]``).
        message: the finding in plain language.
        example: a counterexample where one helps: fact values (for a table finding)
            or the facts of a case, by name.

    .. versionadded:: 0.1.0
    """

    code: str
    severity: FindingSeverity
    path: str
    message: str
    example: Mapping[str, object] | None = attrs.field(
        default=None, converter=_example, kw_only=True
    )

    def to_dict(self) -> dict[str, Any]:
        """The finding as plain data (for ``cxrecovery check --json``)."""
        data: dict[str, Any] = {
            "code": self.code,
            "severity": str(self.severity),
            "path": self.path,
            "message": self.message,
        }
        if self.example is not None:
            data["example"] = _plain(self.example)
        return data

    def __str__(self) -> str:
        text = f"{self.severity}: {self.path}: {self.message} [{self.code}]"
        if self.example:
            shown = ", ".join(f"{k}={_plain(v)!s}" for k, v in self.example.items())
            text += f"\n    for example: {shown}"
        return text


def _sort_key(finding: Finding) -> tuple[int, str, str, str]:
    rank = 0 if finding.severity is FindingSeverity.ERROR else 1
    return (rank, finding.path, finding.code, finding.message)


def _sorted(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    return tuple(sorted(findings, key=_sort_key))


@attrs.frozen
class LintReport:
    """Every finding on one policy, errors first, then by path.

    .. versionadded:: 0.1.0
    """

    policy: str
    findings: tuple[Finding, ...] = attrs.field(converter=_sorted)

    @property
    def is_clean(self) -> bool:
        """Whether the linter found nothing."""
        return not self.findings

    @property
    def errors(self) -> tuple[Finding, ...]:
        """The findings of severity error."""
        return tuple(f for f in self.findings if f.severity is FindingSeverity.ERROR)

    def codes(self) -> tuple[str, ...]:
        """The finding codes, in report order."""
        return tuple(f.code for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain data."""
        return {
            "policy": self.policy,
            "clean": self.is_clean,
            "findings": [f.to_dict() for f in self.findings],
        }

    def to_json(self) -> str:
        """The report as JSON text, deterministic (sorted keys, two-space indent)."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def __str__(self) -> str:
        if not self.findings:
            return f"{self.policy}: no findings"
        errors = len(self.errors)
        head = (
            f"{self.policy}: {len(self.findings)} finding(s), {errors} error(s), "
            f"{len(self.findings) - errors} warning(s)"
        )
        return "\n".join([head, *(str(f) for f in self.findings)])


def merged(*groups: Iterable[Finding]) -> list[Finding]:
    """Findings from several checks, each reported once."""
    seen: set[tuple[str, str, str]] = set()
    out: list[Finding] = []
    for group in groups:
        for finding in group:
            key = (finding.code, finding.path, finding.message)
            if key not in seen:
                seen.add(key)
                out.append(finding)
    return out
