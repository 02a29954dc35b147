"""`articles find`: the cluster of a stored article, or the clusters closest to a text that is not
stored. The text goes through what a page goes through (cleaning, language, shingles, signature,
evidence), then the candidate index and the exact verification; nothing is stored."""

from __future__ import annotations

from dataclasses import dataclass

from dedup.document import prepare
from dedup.urls import normalize_url
from newsdedup.service.clustering import candidates, verify
from newsdedup.service.runtime import Runtime
from storage import views
from storage.views import StoredArticle

# The text searched for has no address; this one names no stored article and is named by none.
_NOWHERE = "http://newsdedup.invalid/find"


@dataclass(frozen=True)
class Match:
    """A cluster that tells the text's story: its best-matching member, the similarity (Jaccard in one
    language, the evidence score across languages) and the relation (copy, part, translation,
    source)."""

    cluster_id: int
    canonical_url: str | None
    score: float
    relation: str
    url: str

    def as_dict(self) -> dict[str, object]:
        return {
            "cluster_id": self.cluster_id,
            "canonical_url": self.canonical_url,
            "score": round(self.score, 3),
            "relation": self.relation,
            "url": self.url,
        }


def stored_article(runtime: Runtime, url: str) -> StoredArticle | None:
    """The stored article fetched at this URL, or redirected to it, with its cluster; or None."""
    with runtime.sessions() as session:
        return views.stored_article(session, url)


def closest_clusters(runtime: Runtime, text: str) -> list[Match]:
    """The clusters whose members the text links to by the linking rules, best first. Raises
    ``dedup.document.NoStoryText`` when too little text is left after cleaning."""
    document = prepare(runtime.signer, runtime.params, url=_NOWHERE, text=text)
    with runtime.sessions() as session:
        found, named = candidates(session, runtime, document, normalize_url(_NOWHERE), None)
        drafts, _ = verify(session, runtime, document, found, named)
        # Across languages a draft is a scored pair; only one that could join a story counts here.
        bar = runtime.params.translation_min_score
        drafts = [d for d in drafts if d.score is None or d.score >= bar]
        stored = views.stored_articles(session, {d.other for d in drafts})
    best: dict[int, Match] = {}
    for d in drafts:
        article = stored.get(d.other)
        if article is None or article.cluster_id is None:
            continue
        if article.cluster_id not in best or d.similarity > best[article.cluster_id].score:
            best[article.cluster_id] = Match(
                article.cluster_id, article.canonical_url, d.similarity, d.kind, article.url
            )
    return sorted(best.values(), key=lambda m: (-m.score, m.cluster_id))
