"""The cards of the rider's home page: what is next for them, one card per app.

``core`` knows no app above it, so each app registers a function from its own ``AppConfig.ready()``
(as it registers its permission policies)::

    register_card("events", 10, events.selectors.home_card)

``home_card(user)`` returns a :class:`Card` or ``None`` when the app has nothing for the user.
It reads through the app's selectors in a constant number of queries (one or two, never one per
item), so the home page costs the same however much a rider has. The page calls
:func:`cards_for` and renders the cards in order; a card with nothing in it is left out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple


class Item(NamedTuple):
    """One line of a card: a link, and an optional note (a date, a status, what to do)."""

    text: str
    url: str
    note: str = ""


@dataclass
class Card:
    """A section of the home page: a heading, a few links, a "see all" link and a count."""

    title: str
    items: list[Item] = field(default_factory=list)
    see_all_url: str = ""
    #: Shown next to the heading (e.g. duties awaiting verification); ``None`` shows nothing.
    count: int | None = None


CardFn = Callable[[Any], Card | None]

_cards: dict[str, tuple[int, CardFn]] = {}


def register_card(name: str, order: int, fn: CardFn) -> None:
    """Register (or replace) the card ``name``; lower ``order`` comes first."""
    _cards[name] = (order, fn)


def registered() -> list[str]:
    """The names of the registered cards, in page order."""
    return [name for name, _ in sorted(_cards.items(), key=lambda kv: (kv[1][0], kv[0]))]


def cards_for(user: Any) -> list[Card]:
    """The user's cards in order, leaving out the ones with nothing to show."""
    cards = []
    for name in registered():
        card = _cards[name][1](user)
        if card is not None and card.items:
            cards.append(card)
    return cards
