"""The tests' own fixture stories (tests/fixtures/cli/story-*.txt) and reposts made of them."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path

STORIES = Path(__file__).resolve().parent / "fixtures" / "cli"


@dataclass(frozen=True)
class Story:
    title: str
    paragraphs: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


def story(name: str) -> Story:
    """A fixture story: the headline on the first line, a blank line, one paragraph per line."""
    lines = (STORIES / f"story-{name}.txt").read_text(encoding="utf-8").splitlines()
    return Story(lines[0], [line for line in lines[2:] if line.strip()])


def repost_html(s: Story, origin: str) -> str:
    """The story as an autoblog reposts it: ad shortcodes around it, a Source link trailer after it."""
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in s.paragraphs)
    return (
        f"<html><head><title>{escape(s.title)}</title></head><body><article>"
        f"<h1>{escape(s.title)}</h1><div class='entry-content'><div class='code-block'>[ad_1]</div>"
        f"{paragraphs}<div class='code-block'>[ad_2]</div>"
        f'<p><a href="{escape(origin)}">Source link</a></p></div></article></body></html>'
    )
