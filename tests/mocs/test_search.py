"""MOC search (SPEC §6.2): the OpenSearch path against the emulator (hits and filters, never exact scores), the
PostgreSQL fallback (off, marked down, server stopped), indexing after commit, and the `reindex` command."""

from __future__ import annotations

import uuid
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings

from lego_api.core import search as core_search
from mocs.models import Moc
from mocs.search import MocDocument, SearchResult, search_mocs
from mocs.services.mocs import moc_create, moc_delete, moc_update
from tests.factories import MocFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def make_moc(django_capture_on_commit_callbacks):
    """Create through the service, running the after-commit effects (the search_index task) right away."""

    def make(user_id: str, title: str, *, description: str | None = None, tags=(), kind: str = "moc") -> Moc:
        data = {"type": kind, "title": title, "description": description, "tags": list(tags), "theme": "City"}
        if kind == "moc":
            data.update(author="Jane Builder", parts_count=100, set_number="MOC-1")
        else:
            data.update(brand="LEGO", set_number="10294")
        with django_capture_on_commit_callbacks(execute=True):
            return moc_create(user_id=user_id, data=data)

    return make


def search(user_id: str, q: str, **kwargs) -> SearchResult:
    kwargs.setdefault("offset", 0)
    kwargs.setdefault("limit", 20)
    return search_mocs(
        user_id=user_id, q=q, moc_type=kwargs.pop("moc_type", None), tag=kwargs.pop("tag", None), **kwargs
    )


def titles(result: SearchResult) -> list[str]:
    return [moc.title for moc in result.rows]


@pytest.fixture
def catalogue(owner, other_user, make_moc):
    """The owner's MOCs, plus a stranger's MOC that matches every query below."""
    make_moc(owner, "Coffee Truck", description="A food truck with an espresso machine", tags=["food", "vehicle"])
    make_moc(owner, "Space Truck", description="Hauls cargo between moon bases", tags=["space", "vehicle"])
    make_moc(owner, "Harbour Lighthouse", description="Two towers guarding the harbour", tags=["coast"])
    make_moc(owner, "Fire Truck", description="Ladder and hoses", tags=["city", "vehicle"], kind="set")
    make_moc(owner, "Millennium Falcon", description="Corellian freighter", tags=["space"], kind="set")
    make_moc(other_user, "Coffee Truck", description="A food truck, another owner", tags=["food", "vehicle"])
    return owner


# --- OpenSearch path -------------------------------------------------------------------------------------------


def test_opensearch_returns_the_matching_mocs(catalogue):
    result = search(catalogue, "truck")
    assert result.backend == "opensearch"
    assert sorted(titles(result)) == ["Coffee Truck", "Fire Truck", "Space Truck"]
    assert result.total == 3
    assert all(moc.user_id == catalogue for moc in result.rows)


def test_opensearch_title_match_ranks_before_description_match(owner, make_moc):
    make_moc(owner, "Castle Gate", description="A gate")
    make_moc(owner, "Tavern", description="Sits next to the castle")
    assert titles(search(owner, "castle")) == ["Castle Gate", "Tavern"]


def test_opensearch_finds_a_typo_with_fuzziness(catalogue):
    result = search(catalogue, "trukc")
    assert result.backend == "opensearch"
    assert sorted(titles(result)) == ["Coffee Truck", "Fire Truck", "Space Truck"]


def test_opensearch_type_filter(catalogue):
    assert titles(search(catalogue, "truck", moc_type="set")) == ["Fire Truck"]
    assert sorted(titles(search(catalogue, "truck", moc_type="moc"))) == ["Coffee Truck", "Space Truck"]


def test_opensearch_tag_filter(catalogue):
    result = search(catalogue, "truck", tag="space")
    assert titles(result) == ["Space Truck"]
    assert result.total == 1


def test_opensearch_never_returns_another_users_moc(catalogue, other_user):
    result = search(catalogue, "coffee truck espresso")
    assert [moc.user_id for moc in result.rows] == [catalogue] * len(result.rows)
    assert titles(result)[0] == "Coffee Truck"
    stranger = search(other_user, "coffee")
    assert all(moc.user_id == other_user for moc in stranger.rows)
    assert search(f"nobody-{uuid.uuid4()}", "coffee truck").total == 0


def test_opensearch_total_counts_every_match_and_pages_slice(owner, make_moc):
    for n in range(7):
        make_moc(owner, f"Tower {n}")
    first = search(owner, "tower", offset=0, limit=3)
    second = search(owner, "tower", offset=3, limit=3)
    third = search(owner, "tower", offset=6, limit=3)
    assert (first.total, second.total, third.total) == (7, 7, 7)
    assert [len(first.rows), len(second.rows), len(third.rows)] == [3, 3, 1]
    ids = [moc.id for page in (first, second, third) for moc in page.rows]
    assert len(set(ids)) == 7
    assert search(owner, "tower", offset=20, limit=3).rows == []


def test_equal_relevance_breaks_ties_by_updated_at_then_id(owner, make_moc):
    older = make_moc(owner, "Tower A")
    newer = make_moc(owner, "Tower B")
    Moc.objects.filter(pk=older.pk).update(updated_at=newer.updated_at.replace(year=2020))
    assert [moc.id for moc in search(owner, "tower").rows] == [newer.id, older.id]


def test_deleted_moc_disappears(catalogue, django_capture_on_commit_callbacks):
    moc = Moc.objects.get(user_id=catalogue, title="Space Truck")
    with django_capture_on_commit_callbacks(execute=True):
        moc_delete(moc=moc)
    result = search(catalogue, "truck")
    assert result.backend == "opensearch"
    assert sorted(titles(result)) == ["Coffee Truck", "Fire Truck"]
    assert result.total == 2


def test_updated_title_is_found(catalogue, django_capture_on_commit_callbacks):
    moc = Moc.objects.get(user_id=catalogue, title="Harbour Lighthouse")
    with django_capture_on_commit_callbacks(execute=True):
        moc_update(moc=moc, data={"title": "Pirate Cove"})
    assert titles(search(catalogue, "pirate")) == ["Pirate Cove"]
    assert search(catalogue, "lighthouse").total == 0


def test_hits_missing_from_the_database_are_dropped(catalogue):
    """A row deleted without its unindex task: the hit is dropped, `total` stays the engine's count."""
    Moc.objects.filter(user_id=catalogue, title="Space Truck").delete()
    result = search(catalogue, "truck")
    assert result.backend == "opensearch"
    assert sorted(titles(result)) == ["Coffee Truck", "Fire Truck"]
    assert result.total == 3


def test_create_indexes_the_document_with_the_spec_fields(owner, make_moc):
    moc = make_moc(owner, "Coffee Truck", description="Espresso", tags=["food"])
    source = core_search.get_client().get(index=core_search.index_name("mocs"), id=str(moc.id))["_source"]
    assert source["id"] == str(moc.id)
    assert source["userId"] == owner
    assert source["title"] == "Coffee Truck"
    assert source["tags"] == ["food"]
    assert source["type"] == "moc"
    assert source["partsCount"] == 100
    assert set(source) == set(MocDocument._doc_type.mapping.to_dict()["properties"])


def test_index_has_strict_explicit_mappings_and_one_shard():
    core_search.ensure_index("mocs")
    name = core_search.index_name("mocs")
    client = core_search.get_client()
    mapping = client.indices.get_mapping(index=name)[name]["mappings"]
    assert mapping["dynamic"] == "strict"
    properties = mapping["properties"]
    for keyword in ("id", "userId", "type", "theme", "subtheme", "setNumber"):
        assert properties[keyword]["type"] == "keyword"
    for text in ("title", "description", "author", "brand", "tags"):
        assert properties[text]["type"] == "text"
        assert properties[text]["analyzer"] == "standard"
    assert properties["title"]["fields"]["keyword"]["type"] == "keyword"
    assert properties["tags"]["fields"]["keyword"]["type"] == "keyword"
    assert properties["partsCount"]["type"] == properties["totalPieceCount"]["type"] == "integer"
    assert properties["createdAt"]["type"] == properties["updatedAt"]["type"] == "date"
    index_settings = client.indices.get_settings(index=name)[name]["settings"]["index"]
    assert index_settings["number_of_shards"] == "1"
    assert index_settings["number_of_replicas"] == "0"  # OPENSEARCH_REPLICAS in the test harness


def test_search_creates_a_missing_index(owner):
    core_search.drop_index("mocs")
    result = search(owner, "anything")
    assert result.backend == "opensearch"
    assert result.total == 0
    assert core_search.get_client().indices.exists(index=core_search.index_name("mocs"))


def test_indexing_failure_does_not_fail_the_write(owner, make_moc, services):
    services.opensearch.stop()
    try:
        moc = make_moc(owner, "Offline Truck")
    finally:
        services.opensearch.start()
    assert Moc.objects.filter(pk=moc.pk).exists()


def test_index_comes_back_strict_after_a_restart_seen_only_by_the_health_check(owner, make_moc, services):
    """The emulator keeps nothing across a restart; the next write must recreate the index with its mappings
    rather than let OpenSearch auto-create it with dynamic ones."""
    core_search.ensure_index("mocs")
    services.opensearch.stop()
    try:
        with pytest.raises(Exception):  # noqa: B017 - whatever the client raises for a refused connection
            core_search.check_search()
    finally:
        services.opensearch.start()
    make_moc(owner, "Rebuilt Harbour")
    name = core_search.index_name("mocs")
    assert core_search.get_client().indices.get_mapping(index=name)[name]["mappings"]["dynamic"] == "strict"
    assert titles(search(owner, "harbour")) == ["Rebuilt Harbour"]


# --- PostgreSQL fallback ---------------------------------------------------------------------------------------


@override_settings(OPENSEARCH_URL=None)
def test_fallback_when_opensearch_is_not_configured(catalogue):
    result = search(catalogue, "truck")
    assert result.backend == "postgres"
    assert sorted(titles(result)) == ["Coffee Truck", "Fire Truck", "Space Truck"]
    assert result.total == 3


def test_fallback_when_search_is_marked_down(catalogue):
    cache.set(core_search.SEARCH_DOWN_KEY, 1, 30)
    result = search(catalogue, "truck")
    assert result.backend == "postgres"
    assert sorted(titles(result)) == ["Coffee Truck", "Fire Truck", "Space Truck"]


def test_fallback_when_the_server_is_stopped_marks_search_down(catalogue, services, make_moc):
    services.opensearch.stop()
    try:
        result = search(catalogue, "truck")
        assert cache.get(core_search.SEARCH_DOWN_KEY)
        # While marked down, the engine is not even tried.
        assert search(catalogue, "space").backend == "postgres"
    finally:
        services.opensearch.start()
    assert result.backend == "postgres"
    assert sorted(titles(result)) == ["Coffee Truck", "Fire Truck", "Space Truck"]
    assert result.total == 3
    # The restarted (empty) emulator gets the index back with its strict mappings before the next write.
    make_moc(catalogue, "Back Online")
    name = core_search.index_name("mocs")
    assert core_search.get_client().indices.get_mapping(index=name)[name]["mappings"]["dynamic"] == "strict"


@override_settings(OPENSEARCH_URL=None)
def test_fallback_finds_a_typo_by_trigram_similarity(catalogue):
    result = search(catalogue, "Milenium Falcn")
    assert titles(result) == ["Millennium Falcon"]


@override_settings(OPENSEARCH_URL=None)
def test_fallback_finds_a_word_stem_by_full_text(catalogue):
    result = search(catalogue, "tower")  # the description says "towers"
    assert titles(result) == ["Harbour Lighthouse"]


@override_settings(OPENSEARCH_URL=None)
def test_fallback_web_search_syntax(catalogue):
    assert sorted(titles(search(catalogue, "lighthouse or falcon"))) == ["Harbour Lighthouse", "Millennium Falcon"]
    assert titles(search(catalogue, '"espresso machine"')) == ["Coffee Truck"]


@override_settings(OPENSEARCH_URL=None)
def test_fallback_ranks_title_before_description(owner, make_moc):
    make_moc(owner, "Tavern", description="Sits next to the castle")
    make_moc(owner, "Castle Gate", description="A gate")
    assert titles(search(owner, "castle")) == ["Castle Gate", "Tavern"]


@override_settings(OPENSEARCH_URL=None)
def test_fallback_filters_and_owner_scope(catalogue):
    assert titles(search(catalogue, "truck", moc_type="set")) == ["Fire Truck"]
    assert titles(search(catalogue, "truck", tag="space")) == ["Space Truck"]
    assert titles(search(catalogue, "truck", tag="SPACE")) == ["Space Truck"]
    assert all(moc.user_id == catalogue for moc in search(catalogue, "coffee truck").rows)
    assert search(f"nobody-{uuid.uuid4()}", "coffee truck").total == 0


@override_settings(OPENSEARCH_URL=None)
def test_fallback_total_and_paging(owner, make_moc):
    for n in range(5):
        make_moc(owner, f"Tower {n}")
    page = search(owner, "tower", offset=2, limit=2)
    assert page.total == 5
    assert len(page.rows) == 2
    everything = search(owner, "tower", offset=0, limit=10)
    assert [moc.id for moc in everything.rows][2:4] == [moc.id for moc in page.rows]
    beyond = search(owner, "tower", offset=10, limit=2)
    assert (beyond.rows, beyond.total) == ([], 5)


@override_settings(OPENSEARCH_URL=None)
def test_fallback_equal_relevance_breaks_ties_by_updated_at_then_id(owner, make_moc):
    first = make_moc(owner, "Tower")
    second = make_moc(owner, "Tower!")  # same words, same rank (titles are unique per user)
    Moc.objects.filter(pk=first.pk).update(updated_at=second.updated_at)
    expected = sorted([first.id, second.id], key=str)
    assert [moc.id for moc in search(owner, "tower").rows] == expected


def test_trigram_operator_matches_at_the_threshold_like_similarity_gte():
    """The fallback writes `title % q` for `similarity(title, q) >= 0.3`: the operator must include the threshold
    itself. similarity('ab', 'ab xy') is exactly 0.5 (3 shared trigrams of 6)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT similarity('ab', 'ab xy'), set_config('pg_trgm.similarity_threshold', '0.5', true)")
        assert cursor.fetchone()[0] == 0.5
        cursor.execute("SELECT 'ab' % 'ab xy'")
        assert cursor.fetchone()[0] is True


def test_both_backends_give_the_same_shape_and_rows(catalogue):
    engine = search(catalogue, "truck")
    with override_settings(OPENSEARCH_URL=None):
        database = search(catalogue, "truck")
    assert (engine.backend, database.backend) == ("opensearch", "postgres")
    assert type(engine) is type(database) is SearchResult
    assert all(isinstance(moc, Moc) for moc in engine.rows + database.rows)
    assert {moc.id for moc in engine.rows} == {moc.id for moc in database.rows}
    assert engine.total == database.total == 3


def test_blank_query_lists_everything_in_list_order(catalogue):
    result = search(catalogue, "   ", moc_type="set")
    assert result.total == 2
    assert [moc.title for moc in result.rows] == ["Millennium Falcon", "Fire Truck"]  # updatedAt desc


def test_deep_pages_beyond_the_engine_window_come_from_the_database(catalogue):
    result = search(catalogue, "truck", offset=10_000, limit=20)
    assert result.backend == "postgres"
    assert (result.rows, result.total) == ([], 3)
    assert not cache.get(core_search.SEARCH_DOWN_KEY)


# --- reindex command -------------------------------------------------------------------------------------------


def test_reindex_recreate_rebuilds_the_index_from_the_database(owner):
    # Factory rows skip the services, so nothing indexes them until `reindex` does.
    MocFactory(user_id=owner, title="Bakery Corner", description="Bread and cakes")
    MocFactory(user_id=owner, title="Old Bakery", tags=["city"])
    assert search(owner, "bakery").total == 0
    out = StringIO()
    call_command("reindex", "--index", "mocs", "--recreate", stdout=out)
    assert "documents indexed" in out.getvalue()
    result = search(owner, "bakery")
    assert result.backend == "opensearch"
    assert sorted(titles(result)) == ["Bakery Corner", "Old Bakery"]
    name = core_search.index_name("mocs")
    assert core_search.get_client().indices.get_mapping(index=name)[name]["mappings"]["dynamic"] == "strict"


def test_reindex_creates_a_missing_index(owner):
    MocFactory(user_id=owner, title="Windmill")
    core_search.drop_index("mocs")
    call_command("reindex", stdout=StringIO())
    assert titles(search(owner, "windmill")) == ["Windmill"]


def test_reindex_batches_of_500(owner):
    MocFactory.create_batch(501, user_id=owner)
    out = StringIO()
    call_command("reindex", "--index", "mocs", "--recreate", verbosity=2, stdout=out)
    assert "500 documents" in out.getvalue()
    assert search(owner, "coffee truck", limit=1).total == 501


def test_reindex_of_an_unknown_index_is_an_error_naming_the_indexes():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match=r"Unknown index 'wishlists': the indexes are gallery, mocs, wishlist"):
        call_command("reindex", "--index", "wishlists", stdout=StringIO())


@override_settings(OPENSEARCH_URL=None)
def test_reindex_without_a_search_server_is_an_error():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="OPENSEARCH_URL"):
        call_command("reindex", stdout=StringIO())


# --- API: M1 with `search` and the M3 alias --------------------------------------------------------------------


def test_m1_search_uses_opensearch(catalogue, api):
    response = api.get("/api/mocs", {"search": "truck"})
    assert response.status_code == 200
    assert response["X-Search-Backend"] == "opensearch"
    body = response.json()
    assert sorted(moc["title"] for moc in body["data"]) == ["Coffee Truck", "Fire Truck", "Space Truck"]
    assert (body["total"], body["page"], body["limit"], body["totalPages"]) == (3, 1, 20, 1)
    assert {moc["userId"] for moc in body["data"]} == {catalogue}


def test_m1_search_with_type_and_tag_filters(catalogue, api):
    assert [m["title"] for m in api.get("/api/mocs", {"search": "truck", "type": "set"}).json()["data"]] == [
        "Fire Truck"
    ]
    assert [m["title"] for m in api.get("/api/mocs", {"search": "truck", "tag": "Space"}).json()["data"]] == [
        "Space Truck"
    ]


def test_m1_search_falls_back_to_postgres_with_the_same_shape(catalogue, api):
    engine = api.get("/api/mocs", {"search": "truck"})
    with override_settings(OPENSEARCH_URL=None):
        cache.clear()  # the first answer is cached for 120 s
        database = api.get("/api/mocs", {"search": "truck"})
    assert (engine["X-Search-Backend"], database["X-Search-Backend"]) == ("opensearch", "postgres")
    engine_body, database_body = engine.json(), database.json()
    assert set(engine_body) == set(database_body)
    assert set(engine_body["data"][0]) == set(database_body["data"][0])
    assert {m["id"] for m in engine_body["data"]} == {m["id"] for m in database_body["data"]}
    assert engine_body["total"] == database_body["total"] == 3


def test_m3_slices_m1_results_with_from_and_size(owner, make_moc, api):
    for n in range(5):
        make_moc(owner, f"Tower {n}")
    everything = [m["id"] for m in api.get("/api/mocs", {"search": "tower"}).json()["data"]]
    response = api.get("/api/mocs/search", {"q": "tower", "from": 2, "size": 2})
    assert response.status_code == 200
    assert response["X-Search-Backend"] == "opensearch"
    body = response.json()
    assert [m["id"] for m in body["data"]] == everything[2:4]
    assert (body["total"], body["page"], body["limit"], body["totalPages"]) == (5, 2, 2, 3)


def test_m3_never_returns_another_users_moc(catalogue, other_api, other_user):
    body = other_api.get("/api/mocs/search", {"q": "coffee truck"}).json()
    assert body["data"] and {m["userId"] for m in body["data"]} == {other_user}


def test_m3_answers_from_postgres_when_the_server_is_stopped(catalogue, api, services):
    services.opensearch.stop()
    try:
        response = api.get("/api/mocs/search", {"q": "truck"})
    finally:
        services.opensearch.start()
    assert response.status_code == 200
    assert response["X-Search-Backend"] == "postgres"
    assert sorted(m["title"] for m in response.json()["data"]) == ["Coffee Truck", "Fire Truck", "Space Truck"]
    assert cache.get(core_search.SEARCH_DOWN_KEY)


def test_m3_finds_a_typo_on_either_backend(catalogue, api):
    assert [m["title"] for m in api.get("/api/mocs/search", {"q": "Milenium Falcon"}).json()["data"]] == [
        "Millennium Falcon"
    ]
    cache.set(core_search.SEARCH_DOWN_KEY, 1, 30)
    response = api.get("/api/mocs/search", {"q": "Milenium Falcn"})
    assert response["X-Search-Backend"] == "postgres"
    assert [m["title"] for m in response.json()["data"]] == ["Millennium Falcon"]


def test_moc_created_updated_and_deleted_through_the_api_is_searchable(owner, api, django_capture_on_commit_callbacks):
    payload = {
        "type": "moc",
        "title": "Steam Locomotive",
        "author": "Jane Builder",
        "partsCount": 900,
        "theme": "Trains",
        "setNumber": "MOC-4242",
        "tags": ["Train"],
    }
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post("/api/mocs", payload, format="json")
    assert created.status_code == 201, created.json()
    moc_id = created.json()["data"]["id"]
    assert [m.title for m in search(owner, "locomotive", tag="train").rows] == ["Steam Locomotive"]
    with django_capture_on_commit_callbacks(execute=True):
        api.patch(f"/api/mocs/{moc_id}", {"title": "Diesel Shunter"}, format="json")
    assert titles(search(owner, "shunter")) == ["Diesel Shunter"]
    with django_capture_on_commit_callbacks(execute=True):
        api.delete(f"/api/mocs/{moc_id}")
    assert search(owner, "shunter").total == 0
