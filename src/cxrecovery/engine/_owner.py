"""Who owns the case: the role the policy needs, and the person holding it."""

from __future__ import annotations

from cxrecovery.engine._context import DecisionContext


def owner(d: DecisionContext, level: int) -> tuple[str, str]:
    """The case's owner at escalation ``level``, and why: the critical-case role, the
    escalation level's role, the case's owner, the agent, or the front line."""
    policy = d.policy
    if d.facts["critical"]:
        for role in policy.roles:
            if role.handles_critical:
                return holder(d, role.name, level, "critical failures always go to a human owner")
    if level:
        rung = policy.escalation.level(level)
        if rung is not None:
            return holder(
                d, rung.role, level, f"escalation level {level}: {rung.name or rung.role}"
            )
    if d.case.owner:
        return d.case.owner, "the case's owner"
    if d.agent is not None:
        return d.agent.id, "the agent handling the case owns it"
    return d.role.name, "the front line owns the case"


def holder(d: DecisionContext, role: str, level: int, why: str) -> tuple[str, str]:
    """The owner when the policy needs ``role``: a person who holds it on this case
    (the case's owner, when their role ranks as high; else whoever acknowledged
    the escalation to ``level`` or above), or the role itself for the host to
    assign. A named owner stays unless the policy needs a higher role."""
    case = d.case
    if not case.events:
        return role, why
    ranks = d.engine._roles
    needed = ranks.get(role)
    if needed is None:  # pragma: no cover - a role the policy names is one of its roles
        return role, why

    def holds(name: str | None) -> bool:
        found = ranks.get(name) if name is not None else None
        return found is not None and found.rank >= needed.rank

    if case.owner and holds(case.owner_role):
        return case.owner, f"{why}; {case.owner} holds the role ({case.owner_role})"
    for event in reversed(case.escalations()):
        person = event.acknowledged_by
        if person is None or not event.is_acknowledged(d.at):
            continue
        rung = d.policy.escalation.level(event.level or 0)
        held = event.role or (rung.role if rung is not None else None)
        if (event.level or 0) >= level and holds(held):
            return person, f"{why}; {person} took the escalation to level {event.level}"
    return role, why
