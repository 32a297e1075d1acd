"""Charts for the HTML report, drawn with plotly (the optional ``report`` extra).

Every chart is an HTML fragment (a ``<div>`` with a fixed id and the script that draws
it into that div); plotly.js itself is returned once, as an inline ``<script>``, so the
page needs no network. Without plotly installed, :func:`render_charts` returns ``None``
and the report keeps its tables.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import attrs

from cxrecovery.metrics import RATIO_BINS, RatioDistribution
from cxrecovery.replay._compare import CaseChange, Comparison
from cxrecovery.replay._tally import Summary

__all__ = ["INSTALL_HINT", "Charts", "changed_costs", "render_charts"]

INSTALL_HINT = "pip install 'cxrecovery[report]'"

#: How many changed cases the cost-difference chart shows (the largest differences).
TOP_CHANGES = 20

_COLOURS = ("#4a78b5", "#e08a2c")
_FONT = {"family": "system-ui, sans-serif", "size": 13, "color": "#222"}
# Money as the summary keeps it, e.g. "22.50 GBP" inside "T2 22.50 GBP credit".
_MONEY = re.compile(r"(-?\d+(?:\.\d+)?) ([A-Z]{3})\b")
_DIGITS = re.compile(r"(\d+)")


@attrs.frozen
class Charts:
    """The report's charts as HTML fragments; ``None`` where there is nothing to draw.

    ``script`` holds plotly.js, inline, and must come before the charts in the page.
    """

    script: str
    cost_by_tier: str | None
    ratios: str | None
    escalations: str | None
    changed_costs: str | None
    changed_aspects: str | None


def _natural(text: str) -> tuple[Any, ...]:
    """Sort "T2" before "T10"."""
    return tuple(int(p) if p.isdigit() else p for p in _DIGITS.split(text))


def _months(first: str, last: str) -> Iterator[str]:
    """Every "YYYY-MM" from ``first`` to ``last``, so a quiet month shows as zero."""
    year, month = int(first[:4]), int(first[5:7])
    while f"{year:04d}-{month:02d}" <= last:
        yield f"{year:04d}-{month:02d}"
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _money(text: str) -> tuple[Decimal, str] | None:
    found = _MONEY.search(text)
    return None if found is None else (Decimal(found.group(1)), found.group(2))


def changed_costs(changes: Sequence[CaseChange]) -> list[tuple[CaseChange, Decimal, str]]:
    """(change, B's compensation minus A's, currency) for each change whose cost moved.

    Read from the ``compensation`` line of each change: ``"none"`` on one side counts
    as zero in the other side's currency; a change of currency is left out (the two
    amounts do not subtract).
    """
    found: list[tuple[CaseChange, Decimal, str]] = []
    for change in changes:
        for line in change.changes:
            if not line.startswith("compensation: "):
                continue
            before, _, after = line.removeprefix("compensation: ").partition(" -> ")
            a, b = _money(before), _money(after)
            sides = [m for m in (a, b) if m is not None]
            if not sides or sides[0][1] != sides[-1][1]:
                continue
            currency = sides[0][1]
            delta = (b[0] if b else Decimal(0)) - (a[0] if a else Decimal(0))
            if delta:
                found.append((change, delta, currency))
    return found


class _Plotly:
    """The plotly entry points, imported on first use (plotly is an optional extra)."""

    def __init__(self) -> None:
        import plotly.graph_objects as go  # type: ignore[import-untyped]
        import plotly.io as pio  # type: ignore[import-untyped]
        from plotly.offline import get_plotlyjs  # type: ignore[import-untyped]
        from plotly.subplots import make_subplots  # type: ignore[import-untyped]

        self.go: Any = go
        self.to_html: Callable[..., str] = pio.to_html
        self.get_plotlyjs: Callable[[], str] = get_plotlyjs
        self.make_subplots: Callable[..., Any] = make_subplots

    def div(
        self, fig: Any, div_id: str, height: int, *, top: int = 50, legend_y: float = 1.02
    ) -> str:
        """The figure as a ``<div id=div_id>`` and its script; ``top`` pixels above the plot."""
        fig.update_layout(
            height=height,
            template="plotly_white",
            font=_FONT,
            margin={"l": 60, "r": 20, "t": top, "b": 50},
            legend={"orientation": "h", "yanchor": "bottom", "y": legend_y, "x": 0},
        )
        html: str = self.to_html(
            fig,
            full_html=False,
            include_plotlyjs=False,
            div_id=div_id,
            default_height=f"{height}px",
            config={"displaylogo": False, "responsive": True},
        )
        return html


def _series(result: Summary | Comparison) -> list[tuple[str, Summary, str]]:
    """(legend name, summary, colour) for each policy in the result."""
    if isinstance(result, Comparison):
        return [
            (f"A: {result.a.policy_name}", result.a, _COLOURS[0]),
            (f"B: {result.b.policy_name}", result.b, _COLOURS[1]),
        ]
    return [(result.policy_name, result, _COLOURS[0])]


def _cost_by_tier(p: _Plotly, series: list[tuple[str, Summary, str]]) -> str | None:
    by_currency: dict[str, set[str]] = {}
    for _, summary, _ in series:
        for key in summary.cost_by_tier:
            tier, _, currency = key.rpartition(" ")
            by_currency.setdefault(currency, set()).add(tier)
    if not by_currency:
        return None
    currencies = sorted(by_currency)
    cols = min(3, len(currencies))
    rows = -(-len(currencies) // cols)
    fig = p.make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=currencies,
        horizontal_spacing=0.06,
        vertical_spacing=0.18 / rows,
    )
    for i, currency in enumerate(currencies):
        tiers = sorted(by_currency[currency], key=_natural)
        for name, summary, colour in series:
            amounts = [summary.cost_by_tier.get(f"{t} {currency}", Decimal(0)) for t in tiers]
            fig.add_trace(
                p.go.Bar(
                    x=tiers,
                    y=[float(a) for a in amounts],
                    name=name,
                    legendgroup=name,
                    showlegend=i == 0 and len(series) > 1,
                    marker_color=colour,
                    customdata=[f"{a} {currency}" for a in amounts],
                    hovertemplate="tier %{x}: %{customdata}<extra>" + name + "</extra>",
                ),
                row=i // cols + 1,
                col=i % cols + 1,
            )
    fig.update_layout(barmode="group")
    fig.update_yaxes(rangemode="tozero", tickformat=",")
    fig.update_xaxes(type="category")
    # With two policies the legend goes above the currencies' subplot titles, not on them.
    top = 90 if len(series) > 1 else 60
    return p.div(fig, "chart-cost-by-tier", 320 * rows + top, top=top, legend_y=1.1)


def _ratios(p: _Plotly, series: list[tuple[str, Summary, str]]) -> str | None:
    if all(s.ratios.total == 0 for _, s, _ in series):
        return None
    labels = list(RatioDistribution.labels())
    fig = p.go.Figure()
    for name, summary, colour in series:
        r = summary.ratios
        fig.add_trace(
            p.go.Bar(
                x=labels,
                y=list(r.counts),
                name=f"{name} (above 1.2×: {r.share_above_1_2}, above 1.5×: {r.share_above_1_5})",
                marker_color=colour,
                hovertemplate="ratio %{x}: %{y} decision(s)<extra>" + name + "</extra>",
            )
        )
    # counts[k + 1] starts just above RATIO_BINS[k]: on the category axis that edge
    # falls halfway between bar k and bar k + 1.
    for edge, text in ((Decimal("1.2"), "1.2× approval line"), (Decimal("1.5"), "1.5× cap")):
        fig.add_vline(
            x=RATIO_BINS.index(edge) + 0.5,
            line={"color": "#b22222", "dash": "dash", "width": 2},
            annotation={"text": text, "font": {"color": "#b22222"}},
            annotation_position="top left",
        )
    fig.update_layout(
        barmode="group",
        showlegend=True,
        xaxis={"type": "category", "title": {"text": "compensation ÷ value at stake"}},
        yaxis={"title": {"text": "decisions"}, "rangemode": "tozero"},
    )
    return p.div(fig, "chart-ratios", 420, top=80, legend_y=1.08)


def _escalations(p: _Plotly, series: list[tuple[str, Summary, str]]) -> str | None:
    seen = sorted({m for _, s, _ in series for m in s.escalations_by_month})
    if not seen:
        return None
    months = list(_months(seen[0], seen[-1]))
    fig = p.go.Figure()
    # B is drawn thin and dashed over a wide A, so both show where they agree.
    styles = ({"width": 5, "dash": "solid"}, {"width": 2, "dash": "dash"})
    for (name, summary, colour), style, size in zip(series, styles, (11, 6), strict=False):
        fig.add_trace(
            p.go.Scatter(
                x=months,
                y=[summary.escalations_by_month.get(m, 0) for m in months],
                name=name,
                mode="lines+markers",
                line={"color": colour, **style},
                marker={"size": size},
                hovertemplate="%{x}: %{y} escalation(s)<extra>" + name + "</extra>",
            )
        )
    fig.update_layout(
        showlegend=len(series) > 1,
        xaxis={"type": "category", "title": {"text": "month of the decision"}},
        yaxis={"title": {"text": "escalated decisions"}, "rangemode": "tozero"},
    )
    return p.div(fig, "chart-escalations", 360, top=60 if len(series) > 1 else 30)


def _changed_costs(p: _Plotly, result: Comparison) -> str | None:
    moved = changed_costs(result.changes)
    if not moved:
        return None
    # The largest moves first, whichever way; ties keep input order.
    top = sorted(moved, key=lambda m: -abs(m[1]))[:TOP_CHANGES]
    top.reverse()  # a horizontal bar chart draws its first bar at the bottom
    fig = p.go.Figure(
        p.go.Bar(
            x=[float(d) for _, d, _ in top],
            y=[f"{c.case_id} · {c.at[:16]}" for c, _, _ in top],
            orientation="h",
            marker_color=[_COLOURS[1] if d > 0 else _COLOURS[0] for _, d, _ in top],
            text=[f"{d:+} {cur}" for _, d, cur in top],
            textposition="auto",
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    )
    fig.update_layout(
        showlegend=False,
        title_text="Compensation cost, B − A, per changed decision",
        xaxis={"title": {"text": "B − A, in each case's currency"}, "zeroline": True},
        yaxis={"type": "category", "automargin": True},
    )
    caption = (
        f"<p>The {len(top)} largest of the {len(moved)} changed decision(s) whose "
        f"compensation cost moved (among the {len(result.changes)} listed below); "
        "orange: B costs more, blue: B costs less.</p>"
    )
    return caption + p.div(fig, "chart-changed-costs", 140 + 24 * len(top))


def _changed_aspects(p: _Plotly, result: Comparison) -> str | None:
    aspects = Counter(
        line.partition(":")[0] for change in result.changes for line in change.changes
    )
    if not aspects:
        return None
    names = sorted(aspects, key=lambda a: (aspects[a], a))
    fig = p.go.Figure(
        p.go.Bar(
            x=[aspects[a] for a in names],
            y=names,
            orientation="h",
            marker_color=_COLOURS[1],
            hovertemplate="%{y}: %{x} changed decision(s)<extra></extra>",
        )
    )
    fig.update_layout(
        showlegend=False,
        title_text=f"What changed, in the {len(result.changes)} listed decision(s)",
        xaxis={"title": {"text": "changed decisions"}, "rangemode": "tozero"},
        yaxis={"type": "category", "automargin": True},
    )
    return p.div(fig, "chart-changed-aspects", 140 + 28 * len(names))


def render_charts(result: Summary | Comparison) -> Charts | None:
    """Draw the report's charts, or ``None`` when plotly is not installed."""
    try:
        p = _Plotly()
    except ImportError:
        return None
    series = _series(result)
    comparison = result if isinstance(result, Comparison) else None
    return Charts(
        script=(
            "<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>"
            f"<script>{p.get_plotlyjs()}</script>"
        ),
        cost_by_tier=_cost_by_tier(p, series),
        ratios=_ratios(p, series),
        escalations=_escalations(p, series),
        changed_costs=None if comparison is None else _changed_costs(p, comparison),
        changed_aspects=None if comparison is None else _changed_aspects(p, comparison),
    )
