"""Teaser lists: the "related posts", "read also" and "latest" grids that surround a story.

Each card of such a grid holds another story's headline (a link) and often its first lines. When
the story itself is short (an excerpt, or dense text such as Japanese), trafilatura can take the
grid for the main text. A grid is recognised by its shape, not by class names: three or more
sibling elements of the same tag and class, each an ``<article>`` or holding a linked heading.
"""

from __future__ import annotations

from collections import defaultdict

from lxml.html import HtmlElement

_CARD_TAGS = frozenset({"article", "div", "li", "section"})
_MIN_CARDS = 3
_LINKED_HEADING = ".//h2//a | .//h3//a | .//h4//a | .//h5//a"


def drop_teaser_lists(tree: HtmlElement) -> int:
    """Remove every teaser grid from the tree, in place; returns how many cards went."""
    cards: list[HtmlElement] = []
    for parent in tree.iter():
        if not isinstance(parent.tag, str):
            continue
        siblings: defaultdict[tuple[str, str], list[HtmlElement]] = defaultdict(list)
        for child in parent:
            if isinstance(child.tag, str) and child.tag in _CARD_TAGS:
                siblings[child.tag, child.get("class") or ""].append(child)
        for group in siblings.values():
            if len(group) >= _MIN_CARDS and all(
                c.tag == "article" or c.xpath(_LINKED_HEADING) for c in group
            ):
                cards.extend(group)
    for card in cards:
        if card.getparent() is not None:
            card.drop_tree()
    return len(cards)
