"""Render a replay: a readable text table for a terminal, and a self-contained HTML page."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import TextIO

from cxrecovery.errors import InvalidValueError
from cxrecovery.metrics import RatioDistribution
from cxrecovery.replay._charts import INSTALL_HINT, render_charts
from cxrecovery.replay._compare import Comparison
from cxrecovery.replay._tally import VERDICTS, Summary

__all__ = ["html_report", "write_table"]


def _rows(a: Summary, b: Summary | None) -> list[tuple[str, str, str]]:
    """(label, value under a, value under b) for every line of the summary."""

    def money(m: Mapping[str, object], key: str) -> str:
        value = m.get(key)
        return "-" if value is None else str(value)

    rows: list[tuple[str, str, str]] = []
    other = b if b is not None else a

    def add(label: str, left: object, right: object) -> None:
        rows.append((label, str(left), str(right) if b is not None else ""))

    add("cases", a.cases, other.cases)
    add("decisions", a.decisions, other.decisions)
    add("bad inputs", a.errors, other.errors)
    for currency in sorted(a.cost.keys() | other.cost.keys()):
        add(f"cost {currency}", money(a.cost, currency), money(other.cost, currency))
    for key in sorted(a.cost_by_tier.keys() | other.cost_by_tier.keys()):
        add(f"  tier {key}", money(a.cost_by_tier, key), money(other.cost_by_tier, key))
    for key in sorted(a.cost_by_segment.keys() | other.cost_by_segment.keys()):
        add(f"  segment {key}", money(a.cost_by_segment, key), money(other.cost_by_segment, key))
    # Money owed back (repay): beside the goodwill cost, never in it.
    for currency in sorted(a.owed.keys() | other.owed.keys()):
        add(f"owed {currency}", money(a.owed, currency), money(other.owed, currency))
    add("ratio > 1.2x", a.ratios.share_above_1_2, other.ratios.share_above_1_2)
    add("ratio > 1.5x", a.ratios.share_above_1_5, other.ratios.share_above_1_5)
    for role in sorted(a.approvals.keys() | other.approvals.keys()):
        add(f"approvals {role}", a.approvals.get(role, 0), other.approvals.get(role, 0))
    for level in sorted(a.escalations.keys() | other.escalations.keys()):
        add(
            f"escalations level {level}",
            a.escalations.get(level, 0),
            other.escalations.get(level, 0),
        )
    for clock in sorted(a.breaches.keys() | other.breaches.keys()):
        add(f"breaches {clock}", a.breaches.get(clock, 0), other.breaches.get(clock, 0))
    add("promises made", a.promises_made, other.promises_made)
    add("promises at risk", a.promises_at_risk, other.promises_at_risk)
    for aspect in sorted(a.timing.keys() | other.timing.keys()):
        for verdict in VERDICTS:
            left = a.timing.get(aspect, {}).get(verdict, 0)
            right = other.timing.get(aspect, {}).get(verdict, 0)
            if left or right:
                add(f"{aspect}: {_VERDICT_TEXT[verdict]}", left, right)
    return rows


_VERDICT_TEXT = {
    "earlier": "policy earlier than history",
    "same": "policy as history",
    "later": "policy later than history",
    "policy_only": "policy only",
}


def _check(result: object) -> None:
    if not isinstance(result, Summary | Comparison):
        raise InvalidValueError.at(
            "result", f"{result!r} is not a Summary or a Comparison; simulate or compare first"
        )


def write_table(result: Summary | Comparison, out: TextIO) -> None:
    """Write a replay's summary (or a comparison, side by side) as an aligned text table.

    Raises:
        InvalidValueError: ``result`` is neither a :class:`Summary` nor a
            :class:`Comparison`.

    .. versionadded:: 0.1.0
    """
    _check(result)
    if isinstance(result, Comparison):
        a, b = result.a, result.b
        header = ("", f"A: {a.policy_name}", f"B: {b.policy_name}")
    else:
        a, b = result, None
        header = ("", a.policy_name, "")
    rows = [header, *_rows(a, b)]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        line = f"{row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}"
        if b is not None:
            line += f"  {row[2]:>{widths[2]}}"
        out.write(line.rstrip() + "\n")
    if isinstance(result, Comparison):
        out.write(f"\n{result.changed} decision(s) changed\n")
        for change in result.changes[:20]:
            out.write(f"  {change.case_id} at {change.at}\n")
            for what in change.changes:
                out.write(f"    {what}\n")
        if result.changed > 20:
            out.write(f"  … and {result.changed - 20} more (see --json or --report)\n")
    bad = a.bad_lines
    if bad:
        out.write(f"\n{a.errors} bad input(s)\n")
        for item in bad[:20]:
            out.write(f"  {item.error}\n")


def _table(head: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:70rem}
table{border-collapse:collapse;margin:0 0 1.5rem}
th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left}
thead{background:#f2f2f2}
.chart{margin:0 0 1rem}
.note{background:#fff8e1;border-left:4px solid #e0a800;padding:.5rem .8rem}
.note code{font-size:1rem}
"""


def _chart(fragment: str | None, empty: str) -> str:
    if fragment is None:
        return f"<p>{html.escape(empty)}</p>"
    return f"<div class='chart'>{fragment}</div>"


def html_report(result: Summary | Comparison) -> str:
    """A self-contained HTML page for a replay: charts and tables, no external files.

    Charts (with plotly, the ``report`` extra): compensation cost by tier per currency,
    the compensation-ratio histogram with the 1.2× and 1.5× lines, escalations per
    month and, for a comparison, the cost difference of the changed cases and what
    changed. plotly.js is embedded once, inline. Without plotly the page says how to
    install it and keeps the tables: the summary (side by side for a comparison), the
    compensation-ratio distribution, escalations per month and the changed cases.

    Raises:
        InvalidValueError: ``result`` is neither a :class:`Summary` nor a
            :class:`Comparison`.

    .. versionadded:: 0.1.0
    """
    _check(result)
    if isinstance(result, Comparison):
        a, b = result.a, result.b
        title = f"{a.policy_name} against {b.policy_name}"
        head = ["", f"A: {a.policy_name}", f"B: {b.policy_name}"]
    else:
        a, b = result, None
        title = a.policy_name
        head = ["", a.policy_name]
    charts = render_charts(result)
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>cxrecovery replay: {html.escape(title)}</title><style>{_STYLE}</style>",
        "" if charts is None else charts.script,
        f"</head><body><h1>Replay: {html.escape(title)}</h1>",
    ]
    if charts is None:
        parts.append(
            "<p class='note'>Charts need plotly, which is not installed: "
            f"<code>{html.escape(INSTALL_HINT)}</code>. The tables follow.</p>"
        )
    parts += [
        "<h2>Summary</h2>",
        _table(head, (r if b is not None else r[:2] for r in _rows(a, b))),
    ]
    if charts is not None:
        parts.append("<h2>Compensation cost by tier</h2>")
        parts.append(_chart(charts.cost_by_tier, "No compensation with an amount."))
    parts.append("<h2>Compensation as a share of the value at stake</h2>")
    if charts is not None:
        parts.append(_chart(charts.ratios, "No compensation ratio to draw."))
    summaries = [a] if b is None else [a, b]
    labels = RatioDistribution.labels()
    ratio_rows = []
    for i, label in enumerate(labels):
        ratio_rows.append([label, *(s.ratios.counts[i] for s in summaries)])
    parts.append(_table(head, ratio_rows))
    months = sorted({m for s in summaries for m in s.escalations_by_month})
    parts.append("<h2>Escalations per month</h2>")
    if charts is not None:
        parts.append(_chart(charts.escalations, "No escalations."))
    parts.append(
        _table(head, ([m, *(s.escalations_by_month.get(m, 0) for s in summaries)] for m in months))
    )
    if isinstance(result, Comparison):
        parts.append(f"<h2>Changed cases ({result.changed})</h2>")
        if charts is not None:
            parts.append(_chart(charts.changed_costs, "No changed case changed its cost."))
            parts.append(_chart(charts.changed_aspects, "No case changed."))
        if result.changed > len(result.changes):
            parts.append(f"<p>The first {len(result.changes)} are listed.</p>")
        parts.append(
            _table(
                ["case", "decided at", "what changed"],
                ([c.case_id, c.at, "; ".join(c.changes)] for c in result.changes),
            )
        )
    if a.bad_lines:
        parts.append(f"<h2>Bad inputs ({a.errors})</h2>")
        parts.append(_table(["line", "error"], ([x.line, x.error] for x in a.bad_lines)))
    parts.append("</body></html>\n")
    return "".join(parts)
