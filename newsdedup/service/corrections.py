"""Operator corrections: merge two clusters, split articles off a cluster, choose a canonical; and,
after a change of thresholds or shingling, every link and cluster derived anew (``relink``).

Each correction is stored as an override (``storage.models.Override``) naming articles, and the
clusters around them are derived again with every page's assignment held off meanwhile
(``storage.locks.stop_assignments``: corrections are rare and take milliseconds), the overrides applied
(``dedup.overrides``). The same derivation runs whenever a page is processed and in ``relink``, so a
correction lasts. Each function runs in a transaction of its own.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from newsdedup.service.clustering import recluster, relink_all
from newsdedup.service.runtime import Runtime
from storage import locks, queries
from storage.models import Article


class CorrectionError(ValueError):
    """A correction that cannot be made (an unknown cluster, a URL not in the cluster): one line."""


def merge(
    runtime: Runtime, a: int, b: int, note: str | None = None, operator: str | None = None
) -> list[int]:
    """Hold the members of clusters ``a`` and ``b`` together. Returns the resulting cluster's id."""
    if a == b:
        raise CorrectionError(f"cluster {a} cannot be merged with itself")
    with runtime.sessions.begin() as session:
        locks.stop_assignments(session)
        first, second = _member_ids(session, a), _member_ids(session, b)
        queries.add_override(session, "merge", [first, second], [a, b], note, operator)
        return _rederive(session, runtime, sorted(first | second))


def split(
    runtime: Runtime,
    cluster_id: int,
    urls: list[str],
    note: str | None = None,
    operator: str | None = None,
) -> list[int]:
    """Make the articles at ``urls`` a cluster of their own, apart from the rest of ``cluster_id``.
    Returns the ids of the resulting clusters (theirs first)."""
    with runtime.sessions.begin() as session:
        locks.stop_assignments(session)
        members = _member_ids(session, cluster_id)
        chosen = {_member(session, cluster_id, url).id for url in urls}
        if chosen == members:
            raise CorrectionError(
                f"these are all the members of cluster {cluster_id}: nothing is left to split from"
            )
        queries.add_override(session, "split", [chosen, members - chosen], [cluster_id], note, operator)
        return _rederive(session, runtime, sorted(chosen) + sorted(members - chosen))


def set_canonical(
    runtime: Runtime,
    cluster_id: int,
    url: str,
    note: str | None = None,
    operator: str | None = None,
) -> list[int]:
    """Make the article at ``url`` the canonical version of its cluster. Returns the cluster's id."""
    with runtime.sessions.begin() as session:
        locks.stop_assignments(session)
        article = _member(session, cluster_id, url)
        queries.add_override(session, "canonical", [{article.id}], [cluster_id], note, operator)
        return _rederive(session, runtime, [article.id])


def relink(runtime: Runtime) -> int:
    """Every link computed anew from the stored texts and every cluster derived again, in one
    transaction (``newsdedup.service.clustering.relink_all``). Returns the number of links."""
    with runtime.sessions.begin() as session:
        return relink_all(session, runtime)


def _rederive(session: Session, runtime: Runtime, start: list[int]) -> list[int]:
    """Derive the clusters around ``start`` again; the clusters the articles of ``start`` are now in,
    in the order of ``start``."""
    recluster(session, runtime, set(start), moved=None, hold=False)
    session.flush()
    home = queries.clusters_of(session, start)
    found: list[int] = []
    for article_id in start:
        cluster_id = home.get(article_id)
        if cluster_id is not None and cluster_id not in found:
            found.append(cluster_id)
    return found


def _member_ids(session: Session, cluster_id: int) -> set[int]:
    members = queries.cluster_members(session, [cluster_id])
    if not members:
        raise CorrectionError(f"no cluster {cluster_id}: `newsdedup clusters list` shows the ids")
    return members


def _member(session: Session, cluster_id: int, url: str) -> Article:
    if not queries.cluster_members(session, [cluster_id]):
        raise CorrectionError(f"no cluster {cluster_id}: `newsdedup clusters list` shows the ids")
    article = queries.find_article(session, url)
    if article is None or article.cluster_id != cluster_id:
        raise CorrectionError(
            f"{url} is not in cluster {cluster_id}: `newsdedup clusters show {cluster_id}` lists its members"
        )
    return article
