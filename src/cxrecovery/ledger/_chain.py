"""The hash chain over a ledger's events: each event's hash covers it and the one before.

One implementation for every store: a store keeps each event's ``hash`` beside it, and
:func:`verify` recomputes the chain from the events as read back, so a row changed,
removed or inserted behind the ledger's back shows as the first link that no longer
holds.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Final

import attrs

from cxrecovery.ledger._protocol import Ledger
from cxrecovery.ledger._records import LedgerEvent, instant_us
from cxrecovery.model import Attributes

__all__ = ["GENESIS", "ChainReport", "body_json", "event_hash", "verify", "verify_events"]

GENESIS: Final = "0" * 64
"""The ``prev`` of the first event: 64 zeros."""


def body_json(body: Attributes | dict[str, object]) -> str:
    """An event body as the canonical JSON that is stored and hashed."""
    return json.dumps(dict(body), sort_keys=True, separators=(",", ":"))


def event_hash(
    prev: str, seq: int, kind: str, case_id: str, at_us: int, ref: str, body: str
) -> str:
    """The SHA-256 (hex) of an event's fields and the previous event's hash.

    Each field is framed as ``<length in UTF-8 bytes>:<text>`` and the frames are
    joined, so no two different events hash the same text. The PostgreSQL store
    computes the same in SQL (``octet_length``, ``sha256``) when it seals events.
    """
    fields = (prev, str(seq), kind, case_id, str(at_us), ref, body)
    text = "".join(f"{len(f.encode())}:{f}" for f in fields)
    return hashlib.sha256(text.encode()).hexdigest()


@attrs.frozen
class ChainReport:
    """What :func:`~cxrecovery.ledger.verify` found.

    ``ok`` when every event's hash holds and the sequence has no gap; otherwise
    ``broken_at`` is the ``seq`` of the first event whose link fails (or of the event
    after a gap), and ``reason`` says how.

    .. versionadded:: 0.2.0
    """

    events: int
    ok: bool
    broken_at: int | None = None
    reason: str = ""
    head: str = GENESIS


def verify_events(events: Iterable[LedgerEvent]) -> ChainReport:
    """Recompute the chain over ``events`` (all of a ledger's, in ``seq`` order)."""
    prev = GENESIS
    count = 0
    expected_seq = 1
    for event in events:
        count += 1
        if event.seq != expected_seq:
            return ChainReport(
                count - 1,
                False,
                event.seq,
                f"event {expected_seq} is missing (the next one is {event.seq})",
                prev,
            )
        expected_seq += 1
        recomputed = event_hash(
            prev,
            event.seq,
            event.kind.value,
            event.case_id,
            instant_us(event.at),
            event.ref,
            body_json(event.body),
        )
        if event.hash != recomputed:
            what = "has no hash" if event.hash is None else "does not match its content"
            return ChainReport(
                count - 1, False, event.seq, f"event {event.seq}'s hash {what}", prev
            )
        prev = recomputed
    return ChainReport(count, True, None, "", prev)


def verify(ledger: Ledger) -> ChainReport:
    """Recompute the hash chain over every event of ``ledger``.

    Returns a :class:`ChainReport`: ``ok``, or the ``seq`` of the first broken link and
    why. Any store whose events carry their hashes can be checked this way.

    .. versionadded:: 0.2.0
    """
    with ledger.read() as view:
        return verify_events(view.events())
