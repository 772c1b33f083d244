"""Chroma as a server: bots sharing one `chroma run` keep to their own collections, the token
goes as a bearer header and never into an error or a log line, and a server that is not
there is said so, naming host:port."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from config import Settings
from retrieval.composition import open_knowledge_base
from retrieval.errors import IndexServerUnreachableError
from retrieval.index.store import chroma_client
from tests.fakes.chroma_server import BearerGate, ChromaServer, free_port

QUESTION = "How many U.S. troops are stationed in Iraq?"
TOKEN = "tok-3f9c2a7e51d84b6c"  # distinctive, so a leak is found by a plain search
BRIDGE = "Bridge report\n\nThe Riverside bridge will cost {} million euros.\n"


def unique_name() -> str:
    """An index name no other test on the shared server uses."""
    return f"n{uuid.uuid4().hex[:12]}"


@pytest.fixture
def deployment(
    make_settings: Callable[..., Settings], chroma_server: ChromaServer, tmp_path: Path
) -> Callable[[str, str], Settings]:
    """Settings of one bot on the shared server: its own data dir and sources (the seed)."""

    def build(label: str, index_name: str) -> Settings:
        sources = tmp_path / f"sources-{label}"
        shutil.copytree(tmp_path / "sources", sources)
        return make_settings(
            chroma_host=chroma_server.host,
            chroma_port=chroma_server.port,
            index_name=index_name,
            data_dir=tmp_path / f"data-{label}",
            sources_dir=sources,
        )

    return build


def collections(settings: Settings) -> dict[str, int]:
    """Each collection of the settings' index name on the server, with its row count."""
    return {
        c.name: c.count()
        for c in chroma_client(settings).list_collections()
        if c.name.startswith(f"{settings.index_name}-v")
    }


def publish_edit(settings: Settings, cost: int) -> int:
    """Change a source and ingest, as `briefbot reload` would; the new version number."""
    (settings.sources_dir / "bridge.txt").write_text(BRIDGE.format(cost), encoding="utf-8")
    kb = open_knowledge_base(settings)
    try:
        return kb.ingest().version
    finally:
        kb.close()


def publish_in_a_process(settings: Settings, cost: int) -> int:
    """The same from another process, `briefbot ingest`, configured by the environment."""
    (settings.sources_dir / "bridge.txt").write_text(BRIDGE.format(cost), encoding="utf-8")
    env = os.environ | {
        "BRIEFBOT_SOURCES_DIR": str(settings.sources_dir),
        "BRIEFBOT_DATA_DIR": str(settings.data_dir),
        "BRIEFBOT_CHROMA_HOST": str(settings.chroma_host),
        "BRIEFBOT_CHROMA_PORT": str(settings.chroma_port),
        "BRIEFBOT_INDEX_NAME": settings.index_name,
    }
    briefbot = Path(sys.executable).parent / "briefbot"
    done = subprocess.run(  # noqa: S603
        [str(briefbot), "ingest"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    kb = open_knowledge_base(settings)
    try:
        return kb.manifest().version
    finally:
        kb.close()


def answers(settings: Settings, question: str = QUESTION) -> bool:
    kb = open_knowledge_base(settings)
    try:
        return kb.ask(question).grounded
    finally:
        kb.close()


def test_bots_with_different_index_names_leave_each_others_collections_alone(
    deployment: Callable[[str, str], Settings],
) -> None:
    alpha = deployment("alpha", unique_name())
    beta = deployment("beta", unique_name())
    first_beta = publish_edit(beta, 10)
    beta_before = collections(beta)
    publish_edit(alpha, 20)  # each publish cleans up alpha's old versions
    publish_edit(alpha, 30)
    last_alpha = publish_in_a_process(alpha, 40)
    assert collections(beta) == beta_before
    assert set(beta_before) == {f"{beta.index_name}-v{first_beta}"}
    assert set(collections(alpha)) == {
        f"{alpha.index_name}-v{last_alpha - 1}",
        f"{alpha.index_name}-v{last_alpha}",
    }
    assert answers(beta, "How much will the Riverside bridge cost?")


def test_bots_with_the_same_index_name_never_delete_each_others_versions(
    deployment: Callable[[str, str], Settings],
) -> None:
    name = unique_name()
    one, two = deployment("one", name), deployment("two", name)
    first = publish_edit(one, 10)
    second = publish_edit(two, 10)
    assert second > first  # numbered above what is on the server, not only its own
    later = [publish_edit(one, cost) for cost in (20, 30)]
    # `one` removed its own first version, never `two`'s live one.
    assert set(collections(one)) == {f"{name}-v{second}", *(f"{name}-v{v}" for v in later)}
    assert answers(two)
    newest = publish_edit(two, 50)
    assert set(collections(two)) == {
        f"{name}-v{second}",
        f"{name}-v{newest}",
        *(f"{name}-v{v}" for v in later),
    }
    assert answers(one)
    kb = open_knowledge_base(one)
    try:
        assert kb.rollback().version == later[0]  # its previous version is still there
    finally:
        kb.close()


def test_an_unreachable_server_is_a_clear_error_without_the_token(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()  # nothing listens there
    settings = make_settings(chroma_host="127.0.0.1", chroma_port=port, chroma_token=TOKEN)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(IndexServerUnreachableError, match=f"server at 127.0.0.1:{port}") as raised:
        open_knowledge_base(settings)
    assert "BRIEFBOT_CHROMA_HOST" in str(raised.value)
    assert TOKEN not in str(raised.value)
    assert TOKEN not in caplog.text


def test_a_server_gone_away_is_said_so_not_taken_for_a_lost_index(
    make_settings: Callable[..., Settings], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "own-server").mkdir()
    with ChromaServer(tmp_path / "own-server") as server:
        settings = make_settings(
            chroma_host=server.host, chroma_port=server.port, chroma_token=TOKEN
        )
        kb = open_knowledge_base(settings)
        try:
            kb.ingest()
            server.stop()
            caplog.set_level(logging.DEBUG)
            with pytest.raises(IndexServerUnreachableError, match=f":{server.port} ") as raised:
                kb.ingest()
            with pytest.raises(IndexServerUnreachableError, match="BRIEFBOT_CHROMA"):
                kb.ask("Who is Justin Logan?")  # a question, too: a clear error, no httpx one
        finally:
            kb.close()
    assert TOKEN not in str(raised.value)
    assert TOKEN not in caplog.text
    assert len(list((settings.data_dir / "index").glob("v*.json"))) == 1  # nothing rebuilt


def test_the_token_is_sent_as_a_bearer_header_and_never_shown(
    make_settings: Callable[..., Settings],
    chroma_server: ChromaServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "tok-wrong-8d1e0b"
    with BearerGate(chroma_server, TOKEN) as gate:
        through_gate = {"chroma_host": gate.host, "chroma_port": gate.port}
        settings = make_settings(**through_gate, chroma_token=TOKEN, index_name=unique_name())
        kb = open_knowledge_base(settings)
        try:
            kb.ingest()
            assert kb.ask(QUESTION).grounded
        finally:
            kb.close()
        assert gate.refused == 0
        with pytest.raises(IndexServerUnreachableError, match=f":{gate.port} ") as raised:
            open_knowledge_base(make_settings(**through_gate, chroma_token=wrong))
        assert gate.refused == 1
    # The gate echoed the header back; the message keeps its words, not the token.
    assert "refused Authorization: Bearer ***" in str(raised.value)
    assert wrong not in str(raised.value)
    assert TOKEN not in caplog.text
    assert wrong not in caplog.text


def test_chromas_own_variables_do_not_redirect_a_server_index(
    make_settings: Callable[..., Settings],
    chroma_server: ChromaServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Read by chromadb itself, these would send the client elsewhere (or make it refuse).
    monkeypatch.setenv("CHROMA_API_IMPL", "chromadb.api.rust.RustBindingsAPI")
    monkeypatch.setenv("CHROMA_SERVER_HOST", "127.0.0.2")
    monkeypatch.setenv("CHROMA_SERVER_HTTP_PORT", str(free_port()))
    settings = make_settings(
        chroma_host=chroma_server.host, chroma_port=chroma_server.port, index_name=unique_name()
    )
    kb = open_knowledge_base(settings)
    try:
        report = kb.ingest()
        assert kb.ask(QUESTION).grounded
    finally:
        kb.close()
    assert collections(settings) == {f"{settings.index_name}-v{report.version}": report.chunks}
    assert not settings.chroma_dir.exists()  # nothing went to an embedded store instead


def test_an_embedded_index_moves_to_a_server_by_one_ingest(
    make_settings: Callable[..., Settings], chroma_server: ChromaServer
) -> None:
    embedded = make_settings()
    local = open_knowledge_base(embedded)
    try:
        before = local.ingest()
    finally:
        local.close()
    settings = make_settings(
        chroma_host=chroma_server.host, chroma_port=chroma_server.port, index_name=unique_name()
    )
    moved = open_knowledge_base(settings)
    try:
        report = moved.ingest()  # the manifest names a collection the server does not have
        assert moved.ask(QUESTION).grounded
    finally:
        moved.close()
    assert report.changed
    assert report.version == before.version + 1
    assert report.texts_embedded == 0  # the vector cache in the data dir still serves
    assert collections(settings) == {f"{settings.index_name}-v{report.version}": report.chunks}
