"""The CRM's own ticket JSON (German field names) → a cxrecovery case document.

This is the file a CRM team rewrites: every name on the left is the CRM's, every name on
the right is cxrecovery's case format (``docs/case-format.md``). A value the tables
below do not know is a problem with its path *in the ticket*, so the CRM team sees
which of their fields is wrong, not which of ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cxrecovery as cx

CHANNELS = {
    "telefon": "phone",
    "email": "email",
    "chat": "chat",
    "sms": "sms",
    "messenger": "messaging",
    "social": "social",
    "web": "web",
    "app": "app",
    "filiale": "in_person",
    "video": "video",
    "brief": "mail",
}
KINDS = {
    "anruf": "contact",
    "nachricht": "message",
    "rueckruf": "callback",
    "weiterleitung": "transfer",
    "besuch": "visit",
    "feedback": "feedback",
}
DIRECTIONS = {"eingehend": "inbound", "ausgehend": "outbound"}
OUTCOMES = {
    "geloest": "resolved",
    "fortschritt": "progressed",
    "kein_fortschritt": "no_progress",
    "fehlgeschlagen": "failed",
    "verpasst": "missed",
    "abgebrochen": "abandoned",
}
MOODS = {
    "sehr_negativ": "very_negative",
    "negativ": "negative",
    "neutral": "neutral",
    "positiv": "positive",
    "sehr_positiv": "very_positive",
}
SEVERITIES = {"niedrig": "low", "mittel": "medium", "hoch": "high", "kritisch": "critical"}
FAULTS = {"wir": "company", "kunde": "customer", "dritte": "third_party", "unklar": "unknown"}
STATUSES = {"offen": "open", "geloest": "resolved", "geschlossen": "closed"}
PROMISES = {
    "offen": "pending",
    "gehalten": "kept",
    "gebrochen": "broken",
    "zurueckgezogen": "withdrawn",
}
# The CRM's categories that the default policy's remedy table names; any other passes
# through as it is (`cxrecovery check policy.toml --cases ...` lists those no row names).
CATEGORIES = {
    "bestellung_falsch": "wrong_order",
    "artikel_falsch": "wrong_item",
    "rueckruf_verpasst": "missed_callback",
    "termin_verpasst": "missed_appointment",
}


class TicketError(ValueError):
    """A ticket that cannot be mapped: every problem, each with its path in the ticket."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{path}: {message}" for path, message in problems))


class _Reader:
    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def get(self, data: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> Any:
        if key not in data or data[key] is None:
            if required:
                self.problems.append((f"{path}.{key}".lstrip("."), "fehlt (missing)"))
            return None
        return data[key]

    def pick(self, table: Mapping[str, str], value: Any, path: str) -> str | None:
        if value is None:
            return None
        if value not in table:
            known = ", ".join(sorted(table))
            self.problems.append((path, f"{value!r} is not one of {known}"))
            return None
        return table[value]


def ticket_to_document(ticket: Mapping[str, Any]) -> dict[str, Any]:
    """The case document for a ticket (raises :class:`TicketError` naming ticket paths)."""
    r = _Reader()
    kunde = r.get(ticket, "kunde", "") or {}
    fehler = r.get(ticket, "fehler", "") or {}
    customer = {
        "id": r.get(kunde, "kundenNr", "kunde"),
        "segment": kunde.get("segment", "standard"),
    }
    if kunde.get("name"):
        customer["name"] = kunde["name"]
    if kunde.get("zeitzone"):
        customer["time_zone"] = kunde["zeitzone"]
    if kunde.get("bevorzugterKanal"):
        customer["preferred_channel"] = r.pick(
            CHANNELS, kunde["bevorzugterKanal"], "kunde.bevorzugterKanal"
        )
    category = r.get(fehler, "kategorie", "fehler")
    failure: dict[str, Any] = {
        "category": CATEGORIES.get(category, category),
        "severity": r.pick(SEVERITIES, r.get(fehler, "schwere", "fehler"), "fehler.schwere"),
        "fault": r.pick(FAULTS, r.get(fehler, "verschulden", "fehler"), "fehler.verschulden"),
        "service_usable": r.get(fehler, "nutzbar", "fehler"),
    }
    if fehler.get("warenwert") is not None:
        failure["value_at_stake"] = {
            "amount": str(fehler["warenwert"]),
            "currency": r.get(fehler, "waehrung", "fehler"),
        }
    if fehler.get("beschreibung"):
        failure["description"] = fehler["beschreibung"]
    document: dict[str, Any] = {
        "id": r.get(ticket, "ticketNr", ""),
        "customer": customer,
        "failure": failure,
        "opened_at": r.get(ticket, "erstelltAm", ""),
        "status": r.pick(STATUSES, ticket.get("status", "offen"), "status"),
        "touchpoints": [],
        "promises": [],
    }
    if ticket.get("bearbeiter"):
        document["owner"] = ticket["bearbeiter"]
    if ticket.get("kanal"):
        document["channel"] = r.pick(CHANNELS, ticket["kanal"], "kanal")
    for i, kontakt in enumerate(ticket.get("kontakte", [])):
        path = f"kontakte[{i}]"
        touchpoint: dict[str, Any] = {
            "at": r.get(kontakt, "zeit", path),
            "channel": r.pick(CHANNELS, r.get(kontakt, "kanal", path), f"{path}.kanal"),
            "kind": r.pick(KINDS, r.get(kontakt, "art", path), f"{path}.art"),
            "direction": r.pick(
                DIRECTIONS, kontakt.get("richtung", "eingehend"), f"{path}.richtung"
            ),
        }
        optional = {
            "agent": kontakt.get("bearbeiter"),
            "outcome": r.pick(OUTCOMES, kontakt.get("ergebnis"), f"{path}.ergebnis"),
            "sentiment": r.pick(MOODS, kontakt.get("stimmung"), f"{path}.stimmung"),
            "note": kontakt.get("notiz"),
        }
        if kontakt.get("wartezeitMin") is not None:
            optional["wait"] = f"PT{int(kontakt['wartezeitMin'])}M"
        if kontakt.get("mussteWiederholen"):
            optional["repeated_information"] = True
        if kontakt.get("vorgesetzterVerlangt"):
            optional["escalation_requested"] = True
        touchpoint.update({k: v for k, v in optional.items() if v is not None})
        document["touchpoints"].append(touchpoint)
    for i, zusage in enumerate(ticket.get("zusagen", [])):
        path = f"zusagen[{i}]"
        promise: dict[str, Any] = {
            "id": r.get(zusage, "id", path),
            "what": r.get(zusage, "was", path),
            "made_at": r.get(zusage, "gemachtAm", path),
            "due": r.get(zusage, "faellig", path),
            "status": r.pick(PROMISES, zusage.get("status", "offen"), f"{path}.status"),
        }
        if zusage.get("erledigtAm"):
            promise["settled_at"] = zusage["erledigtAm"]
        document["promises"].append(promise)
    if r.problems:
        raise TicketError(r.problems)
    return document


def ticket_to_case(ticket: Mapping[str, Any]) -> cx.Case:
    """The case for a ticket; a case the library refuses is a :class:`TicketError` too.

    The library's paths (``touchpoints[0].at``) are the case document's; the ticket's
    number is put in front so the CRM team can find the ticket.
    """
    document = ticket_to_document(ticket)
    try:
        return cx.load_case(document)
    except cx.DocumentError as error:
        raise TicketError(
            [(f"(case of {document['id']}) {p.path}", p.message) for p in error.problems]
        ) from None
