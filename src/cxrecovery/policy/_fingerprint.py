"""What identifies a policy document: its canonical form and fingerprint."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

__all__ = ["canonical", "decision_content", "fingerprint"]


def canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def decision_content(document: Mapping[str, Any]) -> dict[str, Any]:
    """A policy document without what decides nothing: the policy's ``description`` and
    the ``source`` of each row and tier (free text for operations staff, like a comment).
    """

    def strip(value: Any, in_list: bool) -> Any:
        if isinstance(value, Mapping):
            return {
                k: strip(v, False) for k, v in value.items() if not (in_list and k == "source")
            }
        if isinstance(value, list | tuple):
            return [strip(v, True) for v in value]
        return value

    relevant: dict[str, Any] = strip(document, False)
    header = relevant.get("policy")
    if isinstance(header, Mapping):
        relevant["policy"] = {k: v for k, v in header.items() if k != "description"}
    return relevant


def fingerprint(document: Mapping[str, Any], *, is_canonical: bool = False) -> str:
    """The SHA-256 of a document's canonical JSON form (sorted keys, no spaces).

    Only what can change a decision counts (:func:`decision_content`): rewording the
    description or a row's source leaves every plan, and every golden file, as it was.
    ``is_canonical``: ``document`` is its own canonical form already (what
    :func:`canonical` gives), and is not converted again.
    """
    content = decision_content(document)
    if not is_canonical:
        content = canonical(content)
    text = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
