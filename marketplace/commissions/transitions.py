"""The commission state machine: one table saying who may move a commission from which states to which.

    open ──accept_offer (client)──▶ payment_pending ──payment_succeeded──▶ awarded ──deliver (artist)──▶ delivered
      ▲                                  │                                                    ▲        │
      └───────payment_failed─────────────┘              deliver (artist), revision_lapse ─────┘        │
                                                        revision_requested ◀──request_revision (client)┘
    delivered ──accept_delivery (client), auto_complete──▶ completed
    open, payment_pending, awarded ──cancel (client; the artist only once awarded)──▶ cancelled (refunded)
    open, awarded, past the due date ──expire──▶ expired (refunded)

Actors are the commission's `client`, its `artist` (before an offer is accepted, any artist who may offer on
the brief stands in that role: every artist action then fails on the state, which is the honest answer), and
`system` (the periodic sweep and payment outcomes). Services call `transition_check` before a change and
`commission_transition` (services/_history.py) to make it; nothing else changes `Commission.state`.
"""

from dataclasses import dataclass
from typing import Any

from core.errors import Forbidden, InvalidTransition
from marketplace.commissions.errors import CommissionError
from marketplace.commissions.models import CommissionState as S

CLIENT, ARTIST, SYSTEM = "client", "artist", "system"


@dataclass(frozen=True)
class Rule:
    action: str
    actor: str
    sources: frozenset[str]
    target: str
    verb: str  # completes "Cannot … a commission that is <state>."
    event: str | None = None  # the domain event type (commission.<event>)
    notify: tuple[str, ...] = (CLIENT, ARTIST)  # who hears the event


def _rule(
    action: str,
    actor: str,
    sources: set[str],
    target: str,
    verb: str,
    event: str | None = None,
    notify: tuple[str, ...] = (CLIENT, ARTIST),
) -> Rule:
    return Rule(action, actor, frozenset(sources), target, verb, event, notify)


RULES: tuple[Rule, ...] = (
    _rule("accept_offer", CLIENT, {S.OPEN}, S.PAYMENT_PENDING, "accept an offer on"),
    _rule("payment_succeeded", SYSTEM, {S.PAYMENT_PENDING}, S.AWARDED, "award", event="offer_accepted"),
    _rule("payment_failed", SYSTEM, {S.PAYMENT_PENDING}, S.OPEN, "reopen"),
    _rule(
        "deliver",
        ARTIST,
        {S.AWARDED, S.REVISION_REQUESTED},
        S.DELIVERED,
        "deliver",
        event="delivered",
        notify=(CLIENT,),
    ),
    _rule("accept_delivery", CLIENT, {S.DELIVERED}, S.COMPLETED, "accept a delivery of", event="completed"),
    _rule(
        "request_revision",
        CLIENT,
        {S.DELIVERED},
        S.REVISION_REQUESTED,
        "request a revision of",
        event="revision_requested",
        notify=(ARTIST,),
    ),
    _rule("cancel", CLIENT, {S.OPEN, S.PAYMENT_PENDING, S.AWARDED}, S.CANCELLED, "cancel", event="cancelled"),
    _rule("cancel", ARTIST, {S.AWARDED}, S.CANCELLED, "cancel", event="cancelled"),
    _rule("expire", SYSTEM, {S.OPEN, S.AWARDED}, S.EXPIRED, "expire", event="expired"),
    _rule("auto_complete", SYSTEM, {S.DELIVERED}, S.COMPLETED, "complete", event="completed"),
    _rule("revision_lapse", SYSTEM, {S.REVISION_REQUESTED}, S.DELIVERED, "return to review"),
)

# Offers are not commission states, but who may touch them follows the same idea.
OFFER_ACTIONS = {"create": ARTIST, "withdraw": ARTIST, "decline": CLIENT, "accept": CLIENT}


def rules_for(action: str) -> dict[str, Rule]:
    rules = {rule.actor: rule for rule in RULES if rule.action == action}
    if not rules:
        raise KeyError(f"unknown commission action {action!r}")
    return rules


def transition_check(*, state: str, action: str, actor: str, **extra: Any) -> Rule:
    """The rule for `actor` doing `action` in `state`: Forbidden (403) if that actor may never do it,
    InvalidTransition (409, naming the state) if not from this state."""
    rules = rules_for(action)
    rule = rules.get(actor)
    if rule is None:
        verb = next(iter(rules.values())).verb
        raise Forbidden(
            f"As the commission's {actor} you cannot {verb} it.",
            code=CommissionError.NOT_ALLOWED_FOR_ROLE,
            role=actor,
            allowed_roles=sorted(rules),
        )
    if state not in rule.sources:
        raise InvalidTransition(entity="commission", state=state, action=rule.verb, transition=action, **extra)
    return rule
