"""The search skeleton (lego_api.core.search, SPEC §6.2) on an index of this test's own: OpenSearch when it is up,
hits loaded in hit order and scoped to the owner, stale hit ids dropped, and PostgreSQL with the same shape and
total when the engine errors (which marks search down), is marked down (not even asked), is not configured, or
would be asked for a page beyond its result window.

The index is not the MOC one: it has its own kind, mapping, documents and filter. It reads the MOC table only
because that is the one table with a search vector so far."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from functools import cache as memoize
from typing import Any

import pytest
from django.core.cache import cache
from django.db.models import QuerySet
from django.test import override_settings

from lego_api.core import search as core_search
from lego_api.core.search import SearchIndex, SearchResult
from mocs.models import Moc
from tests.factories import MocFactory

pytestmark = pytest.mark.django_db

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


@memoize
def lamp_document_class() -> type:
    from opensearch_dsl import Date, Document, Keyword, MetaField, Text

    class LampDocument(Document):
        id = Keyword()
        userId = Keyword()
        room = Keyword()
        title = Text(analyzer="standard")
        updatedAt = Date()

        class Meta:
            dynamic = MetaField("strict")

    return LampDocument


class LampIndex(SearchIndex):
    """Rows titled "Lamp n"; the document's `updatedAt` is taken from `parts_count` (days after 2020-01-01), so
    the engine's order is none of the database's orders. Filter `room` is the row's `theme`. Counts how often the
    skeleton builds an engine query."""

    kind = "skeleton-test"
    model = Moc
    search_fields = ("title",)

    def __init__(self) -> None:
        self.engine_queries = 0

    def document_class(self) -> type:
        return lamp_document_class()

    def document(self, row: Moc) -> dict:
        return {
            "id": str(row.id),
            "userId": row.user_id,
            "room": row.theme,
            "title": row.title,
            "updatedAt": (EPOCH + timedelta(days=row.parts_count)).isoformat(),
        }

    def term_filters(self, filters: dict[str, Any]) -> dict[str, Any]:
        self.engine_queries += 1
        return {"room": filters.get("room")}

    def filter_rows(self, queryset: QuerySet, filters: dict[str, Any]) -> QuerySet:
        return queryset.filter(theme=filters["room"]) if filters.get("room") else queryset


@pytest.fixture
def index() -> LampIndex:
    return LampIndex()


@pytest.fixture
def lamps(owner, index) -> list[Moc]:
    """The owner's three lamps, indexed, in the order the engine ranks them (updatedAt desc), plus a stranger's."""
    first = MocFactory(user_id=owner, title="Lamp 1", parts_count=30, theme="Study")
    second = MocFactory(user_id=owner, title="Lamp 2", parts_count=10, theme="Study")
    third = MocFactory(user_id=owner, title="Lamp 3", parts_count=20, theme="Hall")
    stranger = MocFactory(user_id=f"stranger-{uuid.uuid4().hex[:8]}", title="Lamp 1", parts_count=40, theme="Study")
    # The database's own orders (insertion; updated_at desc) differ from the engine's.
    for days, row in enumerate([first, second, third]):
        Moc.objects.filter(pk=row.pk).update(updated_at=EPOCH + timedelta(days=days))
    core_search.forget_indexes()  # the emulator may have been restarted (emptied) by an earlier test
    core_search.ensure_index(index)
    _, errors = core_search.bulk_upsert(index, [str(r.pk) for r in (first, second, third, stranger)], refresh=True)
    assert errors == []
    return [first, third, second]


def search(index: LampIndex, owner: str, **kwargs) -> SearchResult:
    return core_search.search(index, user_id=owner, q=kwargs.pop("q", "lamp"), **kwargs)


def ids(result: SearchResult) -> list[uuid.UUID]:
    return [row.pk for row in result.rows]


# --- Engine up ----------------------------------------------------------------------------------------------------


def test_engine_up_answers_from_opensearch_with_rows_in_hit_order(index, owner, lamps):
    result = search(index, owner)
    assert (result.backend, result.total) == ("opensearch", 3)
    assert ids(result) == [lamp.pk for lamp in lamps]
    assert all(isinstance(row, Moc) and row.user_id == owner for row in result.rows)
    assert index.engine_queries == 1


def test_engine_pages_keep_the_engines_total(index, owner, lamps):
    pages = [search(index, owner, offset=offset, limit=2) for offset in (0, 2, 4)]
    assert [page.total for page in pages] == [3, 3, 3]
    assert [ids(page) for page in pages] == [[lamps[0].pk, lamps[1].pk], [lamps[2].pk], []]


def test_stale_hit_ids_are_dropped_and_the_total_stays_the_engines(index, owner, lamps):
    Moc.objects.filter(pk=lamps[1].pk).delete()  # gone from the database, still in the index
    result = search(index, owner)
    assert result.backend == "opensearch"
    assert ids(result) == [lamps[0].pk, lamps[2].pk]
    assert result.total == 3


def test_hits_are_loaded_for_their_owner_only(index, owner, lamps):
    stranger = Moc.objects.exclude(user_id=owner).get(title="Lamp 1", parts_count=40)
    hit_ids = [str(stranger.pk), str(lamps[2].pk), "not-a-uuid", str(lamps[0].pk)]
    assert [row.pk for row in index.load_in_order(user_id=owner, ids=hit_ids)] == [lamps[2].pk, lamps[0].pk]
    assert stranger.pk not in ids(search(index, owner))


def test_filters_apply_on_both_backends(index, owner, lamps):
    engine = search(index, owner, filters={"room": "Hall"})
    cache.set(core_search.SEARCH_DOWN_KEY, 1, 30)
    database = search(index, owner, filters={"room": "Hall"})
    assert (engine.backend, database.backend) == ("opensearch", "postgres")
    assert ids(engine) == ids(database) == [lamps[1].pk]
    assert engine.total == database.total == 1


# --- Engine failing, marked down, off ----------------------------------------------------------------------------


@pytest.mark.parametrize("outage", ["stopped", "paused"])
def test_engine_error_marks_search_down_and_answers_from_postgres_with_the_same_total(
    index, owner, lamps, services, outage
):
    engine = search(index, owner)
    with services.opensearch.stopped() if outage == "stopped" else services.opensearch.paused():
        database = search(index, owner)
        marked_down = bool(cache.get(core_search.SEARCH_DOWN_KEY))
    assert marked_down
    assert (engine.backend, database.backend) == ("opensearch", "postgres")
    assert type(engine) is type(database) is SearchResult
    assert engine.total == database.total == 3
    assert set(ids(engine)) == set(ids(database))


def test_while_search_is_down_the_engine_is_not_asked(index, owner, lamps):
    cache.set(core_search.SEARCH_DOWN_KEY, 1, 30)
    result = search(index, owner)
    assert (result.backend, result.total) == ("postgres", 3)
    assert set(ids(result)) == {lamp.pk for lamp in lamps}
    assert index.engine_queries == 0


@override_settings(OPENSEARCH_URL=None)
def test_without_a_search_server_the_database_answers(index, owner, lamps):
    result = search(index, owner)
    assert (result.backend, result.total) == ("postgres", 3)
    assert index.engine_queries == 0


def test_pages_beyond_the_engine_window_come_from_the_database_without_marking_search_down(index, owner, lamps):
    result = search(index, owner, offset=core_search.ENGINE_RESULT_WINDOW, limit=1)
    assert (result.backend, result.rows, result.total) == ("postgres", [], 3)
    assert index.engine_queries == 0
    assert not cache.get(core_search.SEARCH_DOWN_KEY)


def test_the_database_ranks_by_relevance_then_updated_at_then_id(index, owner, lamps):
    cache.set(core_search.SEARCH_DOWN_KEY, 1, 30)
    # Equal relevance for the three titles: the database's updated_at (desc) decides, not the documents'.
    assert ids(search(index, owner)) == [lamps[1].pk, lamps[2].pk, lamps[0].pk]
