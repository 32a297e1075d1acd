"""Reference pages generated from the code at docs build time, so they cannot drift.

A page holds a marker line; when Sphinx reads it, the marker is replaced by text made
from the library itself:

- ``<!-- generated: cli -->``: every ``cxrecovery`` command's help, from the parser;
- ``<!-- generated: default-policy -->``: the bundled default policy, from
  ``default.toml`` (roles, limits per currency, calendars, clocks, tables and their
  rows, recognised failure categories), each number with its source.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the tests import this module without Sphinx installed
    from sphinx.application import Sphinx

MARKERS = {
    "<!-- generated: cli -->": "cli",
    "<!-- generated: default-policy -->": "default-policy",
}


def cli_reference() -> str:
    """Each command's ``--help``, in the order the parser lists them."""
    import argparse

    from cxrecovery.cli import _parser

    parser = _parser()
    parts = ["## `cxrecovery`\n", "```text", parser.format_help().rstrip(), "```\n"]

    def walk(p: argparse.ArgumentParser, prefix: str) -> None:
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    title = f"{prefix} {name}"
                    parts.extend(
                        [f"## `{title}`\n", "```text", sub.format_help().rstrip(), "```\n"]
                    )
                    walk(sub, title)

    walk(parser, "cxrecovery")
    return "\n".join(parts)


def _fill(app: Sphinx, docname: str, source: list[str]) -> None:
    del app, docname
    text = source[0]
    for marker, what in MARKERS.items():
        if marker in text:
            made = cli_reference() if what == "cli" else default_policy_markdown()
            text = text.replace(marker, made)
    source[0] = text


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("source-read", _fill)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


# --- the default policy -----------------------------------------------------------------


def _comments(text: str, document: dict[str, Any]) -> dict[str, str]:
    """Each key's trailing comment, and each section's comment block, by path.

    ``roles[front_line].max_ratio``, ``facts.history_window``, ``calendars.support``.
    """
    import re

    roles = [r.get("name") for r in document.get("roles", [])]
    found: dict[str, str] = {}
    section, block, role_index = "", [], -1
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#"):
            body = line.lstrip("#").strip()
            if body and not body.startswith("---"):
                block.append(body)
            continue
        header = re.fullmatch(r"(\[\[?)([^\]]+)\]\]?", line)
        if header:
            name = header.group(2).strip()
            if name == "roles" and header.group(1) == "[[":
                role_index += 1
                section = f"roles[{roles[role_index]}]"
                key = "roles" if role_index == 0 else section
            else:
                section = name
                key = name
            if block:
                found.setdefault(key, " ".join(block))
            block = []
            continue
        if not line:
            block = []
            continue
        match = re.match(r"([A-Za-z0-9_\"-]+)\s*=", line)
        comment = _trailing(line)
        if match and comment:
            found[f"{section}.{match.group(1).strip(chr(34))}"] = comment
        block = []
    return found


def _trailing(line: str) -> str:
    quoted = False
    for i, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == "#" and not quoted:
            return line[i + 1 :].strip()
    return ""


def _cell(value: object) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "–"
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, list):
        text = ", ".join(str(v) for v in value)
    elif isinstance(value, dict):
        text = ", ".join(f"{k} {v}" for k, v in value.items())
    else:
        text = str(value)
    return text.replace("|", "\\|")


def _code(value: object) -> str:
    text = _cell(value)
    return text if text == "–" else f"`{text}`"


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return [*lines, ""]


def _when(cells: object) -> str:
    if not isinstance(cells, dict) or not cells:
        return "(any case)"
    return "; ".join(f"{k} `{_cell(v)}`" for k, v in cells.items())


def _rules_table(rules: list[Any]) -> list[str]:
    rows = []
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict):
            rows.append([str(i), _cell(rule), "", ""])
            continue
        then = rule.get("then", {})
        rows.append(
            [
                f"`{rule.get('id', i)}`",
                _when(rule.get("when")),
                "; ".join(f"{k} `{_cell(v)}`" for k, v in then.items()),
                _cell(rule.get("source")),
            ]
        )
    return _table(["row", "when", "then", "source"], rows)


def _categories(document: dict[str, Any]) -> dict[str, list[str]]:
    """Failure categories named in the tables' ``category`` cells, with their rows."""
    import re

    named: dict[str, list[str]] = {}
    tables = dict(document.get("tables", {}))
    for name, table in tables.items():
        for rule in table.get("rules", []):
            cell = rule.get("when", {}).get("category") if isinstance(rule, dict) else None
            if not isinstance(cell, str):
                continue
            for word in re.findall(r"[a-z][a-z0-9_]*", cell):
                if word != "not":
                    named.setdefault(word, []).append(f"`tables.{name}[{rule.get('id')}]`")
    return named


def reference_markdown(document: dict[str, Any], comments: dict[str, str]) -> str:
    """The reference page of a policy document (the default's, at docs build time)."""
    out: list[str] = []
    header = document["policy"]
    out += [
        f"This page describes **{header['name']} {header['version']}**, read from "
        "`src/cxrecovery/policy/default.toml` when these docs were built. A *source* "
        "column gives the comment or `source` the file carries for that number, with its "
        "evidence grade (A–D, see {doc}`default-policy`); *tune* marks a starting point.",
        "",
    ]
    out += ["## Calendars", ""]
    rows = []
    for name, cal in document.get("calendars", {}).items():
        hours = cal.get("hours", {})
        rows.append(
            [
                f"`{name}`",
                _code(cal.get("time_zone")),
                "; ".join(f"{d} {', '.join(h)}" for d, h in hours.items()) or "–",
                _cell(cal.get("holidays")),
                _cell(comments.get(f"calendars.{name}")),
            ]
        )
    out += _table(["calendar", "time zone", "open", "holidays", "source"], rows)

    out += ["## Facts", ""]
    facts = document.get("facts", {})
    out += _table(
        ["setting", "value", "source"],
        [[f"`{k}`", _code(v), _cell(comments.get(f"facts.{k}"))] for k, v in facts.items()],
    )

    roles = document.get("roles", [])
    out += ["## Roles: the empowerment ladder", ""]
    if comments.get("roles"):
        out += [comments["roles"], ""]
    rows = []
    for role in roles:
        n = role["name"]
        rows.append(
            [
                f"`{n}`",
                str(role.get("rank")),
                _cell(role.get("title")),
                _cell(role.get("forms")),
                _code(role.get("max_ratio")),
                _cell(role.get("max_forms")),
                _cell(role.get("handles_critical", False)),
                _cell(
                    comments.get(f"roles[{n}].max_ratio")
                    or comments.get(f"roles[{n}].handles_critical")
                ),
            ]
        )
    out += _table(
        [
            "role",
            "rank",
            "title",
            "may grant",
            "max share of value",
            "max forms",
            "critical cases",
            "source",
        ],
        rows,
    )
    out += [
        "A limit left out does not bind; a money limit with no amount in a case's currency "
        "means the role may not grant in that currency (the plan names an approver).",
        "",
    ]
    for key, title in (
        ("max_per_case", "Per case"),
        ("max_per_period", "Per agent and period"),
        ("max_per_customer", "Per customer and window"),
    ):
        currencies = sorted({c for r in roles for c in r.get(key, {})})
        if not currencies:
            continue
        extra = {"max_per_period": "period", "max_per_customer": "customer_window"}.get(key)
        out += [f"### {title} (`{key}`)", ""]
        head = ["currency", *(f"`{r['name']}`" for r in roles)]
        rows = [[c, *(_cell(r.get(key, {}).get(c)) for r in roles)] for c in currencies]
        if extra:
            rows.append(
                [f"`{extra}`", *(_cell(r.get(extra)) if r.get(key) else "–" for r in roles)]
            )
        out += _table(head, rows)

    comp = document.get("compensation", {})
    out += ["## Compensation", ""]
    out += _table(
        ["setting", "value", "source"],
        [
            [f"`{k}`", _code(v), _cell(comments.get(f"compensation.{k}"))]
            for k, v in comp.items()
            if k != "tiers"
        ],
    )
    out += ["### Tiers", ""]
    if comments.get("compensation.tiers"):
        out += [comments["compensation.tiers"], ""]
    out += _table(
        ["tier", "min", "max", "source"],
        [
            [f"`{t['name']}`", _code(t.get("min")), _code(t.get("max")), _cell(t.get("source"))]
            for t in comp.get("tiers", [])
        ],
    )

    promises = document.get("promises", {})
    out += ["## Promises", ""]
    out += _table(
        ["setting", "value", "source"],
        [[f"`{k}`", _code(v), _cell(comments.get(f"promises.{k}"))] for k, v in promises.items()],
    )

    out += ["## Decision tables", ""]
    for name, table in document.get("tables", {}).items():
        out += [f"### `{name}`", ""]
        if comments.get(f"tables.{name}"):
            out += [comments[f"tables.{name}"], ""]
        out += [
            f"Hit policy `{table.get('hit_policy')}`; reads {_cell(table.get('inputs'))}; "
            f"gives {_cell(list(table.get('outputs', {})))}.",
            "",
        ]
        out += _rules_table(table.get("rules", []))

    out += ["## Clocks", ""]
    for name, clock in document.get("clocks", {}).items():
        out += [f"### `{name}`", ""]
        settings = {k: v for k, v in clock.items() if k != "targets"}
        out += _table(
            ["setting", "value", "source"],
            [
                [f"`{k}`", _code(v), _cell(comments.get(f"clocks.{name}.{k}"))]
                for k, v in settings.items()
            ],
        )
        targets = clock.get("targets", {})
        out += [f"Targets (hit policy `{targets.get('hit_policy')}`):", ""]
        out += _rules_table(targets.get("rules", []))

    escalation = document.get("escalation", {})
    out += ["## Escalation ladder", ""]
    out += _table(
        ["level", "role", "name", "respond within"],
        [
            [
                str(lv["level"]),
                f"`{lv['role']}`",
                _cell(lv.get("name")),
                _code(lv.get("respond_within")),
            ]
            for lv in escalation.get("levels", [])
        ],
    )

    categories = _categories(document)
    out += ["## Failure categories the tables recognise", ""]
    out += _table(
        ["category", "rows that name it"],
        [[f"`{c}`", ", ".join(rows)] for c, rows in sorted(categories.items())],
    )
    generic = [
        f"`tables.{name}[{rule.get('id')}]`"
        for name, table in document.get("tables", {}).items()
        if "category" in table.get("inputs", [])
        for rule in table.get("rules", [])
        if isinstance(rule, dict) and "category" not in rule.get("when", {})
    ]
    out += [
        "A case's `failure.category` is free text: the host's own categories are welcome. "
        "A category that no row above names is not an error; it matches only the rows that "
        f"do not ask for a category ({', '.join(generic) or 'none'}), so it gets the generic "
        "remedy. Its compensation, escalation and clocks do not depend on the category in "
        "this policy at all. `cxrecovery check --cases FILE` lists the categories of "
        "the cases in FILE that no row names, so you can add rows for those that deserve "
        "their own remedy.",
        "",
    ]
    return "\n".join(out)


def default_policy_markdown() -> str:
    import tomllib
    from importlib import resources

    text = resources.files("cxrecovery.policy").joinpath("default.toml").read_text("utf-8")
    document = tomllib.loads(text)
    return reference_markdown(document, _comments(text, document))
