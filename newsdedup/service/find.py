"""`articles find`: the cluster of a stored article, or the clusters closest to a text that is not
stored. The text goes through what a page goes through (cleaning, language, shingles, signature,
evidence), then the candidate index and the exact verification; nothing is stored."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dedup.document import prepare
from dedup.urls import normalize_url
from newsdedup.service.clustering import candidates, verify
from newsdedup.service.runtime import Runtime
from storage.models import Article, Cluster

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


def closest_clusters(session: Session, runtime: Runtime, text: str) -> list[Match]:
    """The clusters whose members the text links to by the linking rules, best first. Raises
    ``dedup.document.NoStoryText`` when too little text is left after cleaning."""
    document = prepare(runtime.signer, runtime.params, url=_NOWHERE, text=text)
    found, named = candidates(session, runtime, document, normalize_url(_NOWHERE), None)
    drafts, _ = verify(session, runtime, document, found, named)
    # Across languages a draft is a scored pair; only one that could join a story counts here.
    bar = runtime.params.translation_min_score
    drafts = [d for d in drafts if d.score is None or d.score >= bar]
    if not drafts:
        return []
    rows = session.execute(
        select(Article.id, Article.url, Article.cluster_id).where(
            Article.id.in_(sorted(d.other for d in drafts))
        )
    )
    member = {i: (url, cluster) for i, url, cluster in rows}
    best: dict[int, Match] = {}
    for d in drafts:
        url, cluster_id = member.get(d.other, (None, None))
        if url is None or cluster_id is None:
            continue
        if cluster_id not in best or d.similarity > best[cluster_id].score:
            best[cluster_id] = Match(cluster_id, None, d.similarity, d.kind, url)
    canonical = _canonical_urls(session, set(best))
    ranked = sorted(best.values(), key=lambda m: (-m.score, m.cluster_id))
    return [Match(m.cluster_id, canonical.get(m.cluster_id), m.score, m.relation, m.url) for m in ranked]


def _canonical_urls(session: Session, cluster_ids: set[int]) -> dict[int, str]:
    query = (
        select(Cluster.id, Article.url)
        .join(Article, Article.id == Cluster.canonical_article_id)
        .where(Cluster.id.in_(sorted(cluster_ids)))
    )
    return dict(session.execute(query).all())
