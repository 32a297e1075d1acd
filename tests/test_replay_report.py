"""The HTML report: charts with plotly (the ``report`` extra), tables always."""

from __future__ import annotations

import html
import importlib.util
import io
import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cxrecovery.metrics import RatioDistribution
from cxrecovery.policy import Policy, default_policy, load_policy
from cxrecovery.replay import Comparison, Summary, compare, simulate, synthetic_cases
from cxrecovery.replay._charts import INSTALL_HINT, changed_costs, render_charts
from cxrecovery.replay._compare import CaseChange
from cxrecovery.replay._report import html_report, write_table

SUMMARY_CHARTS = ("chart-cost-by-tier", "chart-ratios", "chart-escalations")
COMPARISON_CHARTS = (*SUMMARY_CHARTS, "chart-changed-costs", "chart-changed-aspects")
# A <script> that loads anything from elsewhere, in any quoting.
EXTERNAL_SCRIPT = re.compile(r"<script[^>]*\bsrc\s*=", re.IGNORECASE)


def _wider_t2() -> Policy:
    tiers = [dict(t) for t in default_policy().document["compensation"]["tiers"]]
    for t in tiers:
        if t["name"] == "T2":
            t.update(min="0.30", max="0.60")
    return load_policy(
        {
            "policy": {"name": "wider-t2", "version": "1", "extends": "default"},
            "compensation": {"tiers": tiers},
        }
    )


@pytest.fixture(scope="module")
def summary() -> Summary:
    return simulate(default_policy(), list(synthetic_cases(120, seed=1)))


@pytest.fixture(scope="module")
def comparison() -> Comparison:
    return compare(default_policy(), _wider_t2(), list(synthetic_cases(120, seed=1)))


def _empty(**fields: Any) -> Summary:
    base: dict[str, Any] = {
        "policy_name": "p",
        "policy_fingerprint": "f",
        "cases": 0,
        "decisions": 0,
        "errors": 0,
        "bad_lines": (),
        "cost": {},
        "cost_by_segment": {},
        "cost_by_tier": {},
        "tiers": {},
        "ratios": RatioDistribution(),
        "approvals": {},
        "escalations": {},
        "escalations_by_month": {},
        "breaches": {},
        "promises_made": 0,
        "promises_at_risk": 0,
    }
    base.update(fields)
    return Summary(**base)


def _div(page: str, div_id: str) -> str:
    """The script that draws into ``div_id`` (up to the next chart or the end)."""
    start = page.index(f'id="{div_id}"')
    end = page.find('id="chart-', start + 1)
    return page[start : end if end >= 0 else len(page)]


def _without_plotly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every ``import plotly...`` fail, as it does where the extra is not installed."""
    for name in [n for n in sys.modules if n == "plotly" or n.startswith("plotly.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "plotly", None)


# --- with plotly ------------------------------------------------------------------------

needs_plotly = pytest.mark.skipif(
    importlib.util.find_spec("plotly") is None, reason="needs the report extra (plotly)"
)


def _bundle_marks(page: str) -> int:
    from plotly.offline import get_plotlyjs  # type: ignore[import-untyped]

    return page.count(get_plotlyjs()[:400])


@needs_plotly
def test_summary_report_draws_each_chart_with_plotly_inline_once(summary: Summary) -> None:
    page = html_report(summary)
    assert page.startswith("<!DOCTYPE html>")
    for div_id in SUMMARY_CHARTS:
        assert 1 == page.count(f'id="{div_id}"'), div_id
    assert "chart-changed" not in page
    assert 1 == _bundle_marks(page)
    assert 1 == page.count("plotly.js v")
    assert len(SUMMARY_CHARTS) == page.count("Plotly.newPlot(")
    assert EXTERNAL_SCRIPT.search(page) is None
    assert INSTALL_HINT not in page
    # the plotly.js bundle sits in <head>, before any chart calls it
    assert page.index("plotly.js v") < page.index("</head>") < page.index("Plotly.newPlot(")


@needs_plotly
def test_comparison_report_adds_the_changed_cases_charts(comparison: Comparison) -> None:
    assert comparison.changed > 0
    page = html_report(comparison)
    for div_id in COMPARISON_CHARTS:
        assert 1 == page.count(f'id="{div_id}"'), div_id
    assert 1 == _bundle_marks(page)
    assert len(COMPARISON_CHARTS) == page.count("Plotly.newPlot(")
    assert EXTERNAL_SCRIPT.search(page) is None
    # A and B side by side in the cost chart: one trace each per currency
    costs = _div(page, "chart-cost-by-tier")
    currencies = sorted(comparison.a.cost.keys() | comparison.b.cost.keys())
    assert len(currencies) == costs.count('"name":"A: cxrecovery-default"')
    assert len(currencies) == costs.count('"name":"B: wider-t2"')
    assert '"barmode":"group"' in costs


@needs_plotly
def test_the_ratio_histogram_marks_the_1_2_and_1_5_lines(summary: Summary) -> None:
    ratios = _div(html_report(summary), "chart-ratios")
    # RATIO_BINS: 0, 0.25, 0.5, 0.75, 1.0, 1.2, 1.5 -> the edges fall between bars 5|6, 6|7
    assert '"x0":5.5' in ratios
    assert '"x0":6.5' in ratios
    # plotly writes "×" as a JSON escape
    assert "1.2\\u00d7 approval line" in ratios
    assert "1.5\\u00d7 cap" in ratios
    assert f'"y":[{",".join(str(c) for c in summary.ratios.counts)}]' in ratios


@needs_plotly
def test_the_tables_stay_alongside_the_charts(comparison: Comparison) -> None:
    page = html_report(comparison)
    for heading in (
        "<h2>Summary</h2>",
        "<h2>Compensation cost by tier</h2>",
        "<h2>Compensation as a share of the value at stake</h2>",
        "<h2>Escalations per month</h2>",
        f"<h2>Changed cases ({comparison.changed})</h2>",
    ):
        assert heading in page
    assert "<th>what changed</th>" in page
    assert f"<td>{comparison.changes[0].case_id}</td>" in page
    assert "<td>promises at risk</td>" in page
    for label in RatioDistribution.labels():
        assert f"<td>{html.escape(label)}</td>" in page


@needs_plotly
def test_the_page_is_the_same_every_time(comparison: Comparison) -> None:
    assert html_report(comparison) == html_report(comparison)


@needs_plotly
def test_escalations_over_time_show_a_quiet_month_as_zero() -> None:
    summary = _empty(escalations_by_month={"2024-11": 3, "2025-02": 5})
    charts = render_charts(summary)
    assert charts is not None
    assert charts.escalations is not None
    assert '"x":["2024-11","2024-12","2025-01","2025-02"]' in charts.escalations
    assert '"y":[3,0,0,5]' in charts.escalations


@needs_plotly
def test_a_replay_with_nothing_to_draw_says_so() -> None:
    page = html_report(_empty())
    assert "No compensation with an amount." in page
    assert "No compensation ratio to draw." in page
    assert "No escalations." in page
    assert "Plotly.newPlot(" not in page
    assert 1 == _bundle_marks(page)


@needs_plotly
def test_cost_by_tier_puts_tiers_in_natural_order_per_currency() -> None:
    summary = _empty(
        cost={"EUR": Decimal("6.00"), "USD": Decimal("1.00")},
        cost_by_tier={
            "T10 EUR": Decimal("1.00"),
            "T2 EUR": Decimal("2.00"),
            "T9 EUR": Decimal("3.00"),
            "T2 USD": Decimal("1.00"),
        },
    )
    charts = render_charts(summary)
    assert charts is not None
    assert charts.cost_by_tier is not None
    assert '"x":["T2","T9","T10"]' in charts.cost_by_tier
    assert '"customdata":["2.00 EUR","3.00 EUR","1.00 EUR"]' in charts.cost_by_tier
    assert '"x":["T2"]' in charts.cost_by_tier


def test_the_changed_costs_are_the_compensation_moves() -> None:
    def change(case_id: str, *lines: str) -> CaseChange:
        return CaseChange(case_id, "2025-01-01T00:00:00+00:00", lines)

    changes = [
        change("up", "compensation: T2 22.50 GBP credit -> T3 45.00 GBP credit"),
        change("new", "approvals: none -> supervisor", "compensation: none -> T1 5.00 EUR"),
        change("gone", "compensation: T1 5.00 USD refund -> none"),
        change("escalation only", "escalation: level 0 -> level 1"),
        change("currency", "compensation: T1 5.00 USD credit -> T1 5.00 EUR credit"),
        change("same amount", "compensation: T2 5.00 EUR credit -> T2 5.00 EUR refund"),
        change("no amount", "compensation: T2 no amount credit -> none"),
    ]
    assert [
        ("up", Decimal("22.50"), "GBP"),
        ("new", Decimal("5.00"), "EUR"),
        ("gone", Decimal("-5.00"), "USD"),
    ] == [(c.case_id, d, cur) for c, d, cur in changed_costs(changes)]


@needs_plotly
def test_the_changed_costs_chart_shows_the_largest_moves(comparison: Comparison) -> None:
    charts = render_charts(comparison)
    assert charts is not None
    assert charts.changed_costs is not None
    moved = changed_costs(comparison.changes)
    biggest = max(moved, key=lambda m: abs(m[1]))
    assert f"{biggest[1]:+} {biggest[2]}" in charts.changed_costs
    assert f"The {min(20, len(moved))} largest of the {len(moved)}" in charts.changed_costs


# --- without plotly ---------------------------------------------------------------------


def test_without_plotly_the_page_keeps_its_tables_and_says_how_to_get_charts(
    monkeypatch: pytest.MonkeyPatch, comparison: Comparison
) -> None:
    _without_plotly(monkeypatch)
    assert render_charts(comparison) is None
    page = html_report(comparison)
    assert f"<code>{INSTALL_HINT.replace(chr(39), '&#x27;')}</code>" in page
    assert "pip install &#x27;cxrecovery[report]&#x27;" in page
    assert "<script" not in page
    assert "chart-" not in page
    assert "<h2>Summary</h2>" in page
    assert "<th>what changed</th>" in page
    assert "<h2>Escalations per month</h2>" in page


def test_the_report_extra_is_what_the_hint_names() -> None:
    assert "pip install 'cxrecovery[report]'" == INSTALL_HINT


# --- in a browser -----------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@needs_plotly
@pytest.mark.slow
@pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CXRECOVERY_REQUIRE_BROWSER"),
    reason="needs Debian's chromium package (CI installs it and requires it)",
)
def test_headless_chromium_draws_every_chart(comparison: Comparison, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(html_report(comparison), encoding="utf-8")
    assert CHROMIUM is not None
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    dom = done.stdout
    starts = [dom.index(f'id="{div_id}"') for div_id in COMPARISON_CHARTS]
    for div_id, start, end in zip(COMPARISON_CHARTS, starts, [*starts[1:], None], strict=True):
        drawn = dom[start:end]
        # plotly.js marks the div, fills it with its SVG and draws a mark per data point
        assert "js-plotly-plot" in drawn[:200], div_id
        assert '<svg class="main-svg"' in drawn, div_id
        assert 'class="point"' in drawn or 'class="js-line"' in drawn, div_id


def test_a_report_of_something_else_is_a_clear_error() -> None:
    from cxrecovery.errors import CxRecoveryError

    with pytest.raises(CxRecoveryError, match=r"result: .* is not a Summary or a Comparison"):
        html_report("summary.json")  # type: ignore[arg-type]
    with pytest.raises(CxRecoveryError, match=r"result: .* is not a Summary or a Comparison"):
        write_table({"cases": 3}, io.StringIO())  # type: ignore[arg-type]
