"""Chroma's telemetry stays off, embedded and against a server, whatever CHROMA_* says.

How chromadb 1.5 sends product telemetry: every client start and collection operation calls
`capture` on the system's `ProductTelemetryClient` (`chroma_product_telemetry_impl`, by
default `chromadb.telemetry.product.posthog.Posthog`), and `anonymized_telemetry` is the
switch. So these tests check the switch on the clients the app opens, that the component is the
no-op one (the posthog library is not even installed), and, end to end, that an ingest and a
search open no connection anywhere but to the Chroma server itself.
"""

from __future__ import annotations

import importlib.util
import socket
from pathlib import Path
from typing import Any

import pytest
from chromadb.api import ClientAPI
from chromadb.telemetry.product import ProductTelemetryClient
from chromadb.telemetry.product.events import ClientStartEvent
from chromadb.telemetry.product.posthog import Posthog

from config import Settings
from retrieval.index.live import LiveIndexes
from retrieval.index.store import IndexStore, chroma_client
from retrieval.index.vector_cache import VectorCache
from tests.fakes.chroma_server import both_backends
from tests.fakes.embedder import RecordingEmbedder


@pytest.fixture(autouse=True)
def chroma_asks_for_telemetry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chroma's own variables turning telemetry on must change nothing."""
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "true")
    monkeypatch.setenv("CHROMA_ANONYMIZED_TELEMETRY", "true")


class Connections:
    """Every address a socket of this process connects to (the standard library's socket)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.addresses: list[Any] = []
        connect, connect_ex = socket.socket.connect, socket.socket.connect_ex

        def recording_connect(sock: socket.socket, address: Any) -> None:
            self.addresses.append(address)
            connect(sock, address)

        def recording_connect_ex(sock: socket.socket, address: Any) -> int:
            self.addresses.append(address)
            return connect_ex(sock, address)

        monkeypatch.setattr(socket.socket, "connect", recording_connect)
        monkeypatch.setattr(socket.socket, "connect_ex", recording_connect_ex)


def telemetry_of(client: ClientAPI) -> ProductTelemetryClient:
    system = client._system  # type: ignore[attr-defined]  # chromadb's SharedSystemClient
    return system.instance(ProductTelemetryClient)  # type: ignore[no-any-return]


@both_backends
def test_the_clients_the_app_opens_have_telemetry_off(settings: Settings) -> None:
    client = chroma_client(settings)
    chroma = client.get_settings()
    assert chroma.anonymized_telemetry is False
    assert not chroma.chroma_otel_collection_endpoint  # no OpenTelemetry export either
    telemetry = telemetry_of(client)
    assert type(telemetry) is Posthog  # chromadb's, whose capture sends nothing
    assert importlib.util.find_spec("posthog") is None  # nor could it: no posthog library


@both_backends
def test_an_ingest_and_a_search_connect_to_nothing_but_the_chroma_server(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, sources: Path
) -> None:
    connections = Connections(monkeypatch)
    embedder = RecordingEmbedder()
    client = chroma_client(settings)
    store = IndexStore(client, settings.data_dir / "index", embedder, settings.index_name)
    live = LiveIndexes(settings, embedder, store, VectorCache(settings.data_dir / "vectors.db"))
    try:
        report = live.ingest()
        assert report.changed
        telemetry_of(client).capture(ClientStartEvent())  # what a client start sends
        question = "How many troops are in Iraq?"
        hits = live.current().searcher.search(question, embedder.embed_question(question), 3)
        assert hits
    finally:
        live.close()
    if settings.chroma_host is None:
        assert connections.addresses == []
    else:
        assert connections.addresses  # the recording works: the server was reached
        ports = {address[1] for address in connections.addresses}
        hosts = {address[0] for address in connections.addresses}
        assert ports == {settings.chroma_port}
        assert hosts <= {settings.chroma_host, "127.0.0.1", "::1", "localhost"}
