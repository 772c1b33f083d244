"""compose.yaml, checked without a container engine (no registry is reachable here, so it is
never brought up in CI): its structure, the Chroma tag against the client, and the Chroma health
check command against a real `chroma run` of the same release."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml

from config import Settings, env_name

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))
    return loaded


def test_the_chroma_server_is_the_release_of_the_client(compose: dict[str, Any]) -> None:
    image = compose["services"]["chroma"]["image"]
    assert image == f"chromadb/chroma:{metadata.version('chromadb')}"


def test_the_bot_talks_to_the_chroma_service_and_keeps_its_state_on_named_volumes(
    compose: dict[str, Any],
) -> None:
    bot = compose["services"]["bot"]
    environment = bot["environment"]
    assert environment[env_name("chroma_host")] == "chroma"
    assert int(environment[env_name("chroma_port")]) == Settings().chroma_port
    assert bot["depends_on"]["chroma"]["condition"] == "service_healthy"
    assert bot["env_file"] == ".env"
    mounts = {target: source for source, target in (v.split(":") for v in bot["volumes"])}
    # The image's own volume paths (Dockerfile VOLUME), each on a volume declared below.
    assert mounts == {"/data": "data", "/sources": "sources"}
    chroma_mounts = dict(v.split(":")[::-1] for v in compose["services"]["chroma"]["volumes"])
    assert chroma_mounts == {"/data": "chroma"}
    assert set(compose["volumes"]) == {"data", "sources", "chroma"}
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert 'VOLUME ["/data", "/sources"]' in dockerfile


def test_every_service_restarts_and_has_a_health_check(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        assert service["restart"] == "unless-stopped", name
        assert service["healthcheck"]["test"][0] == "CMD", name
    assert compose["services"]["bot"]["healthcheck"]["test"] == [
        "CMD",
        "python",
        "-m",
        "bot.health",
    ]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def chroma_server(path: Path, port: int) -> Iterator[None]:
    chroma = Path(sys.executable).parent / "chroma"
    process = subprocess.Popen(
        [str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


def run_check(test: list[str], port: int) -> int:
    command = [part.replace("8000", str(port)) for part in test[1:]]
    return subprocess.run(command, capture_output=True, timeout=30, check=False).returncode


@pytest.mark.slow
def test_the_chroma_health_check_passes_on_a_serving_chroma_only(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    test = compose["services"]["chroma"]["healthcheck"]["test"]
    port = _free_port()
    assert run_check(test, port) != 0  # nothing listens yet
    with chroma_server(tmp_path / "chroma", port):
        deadline = time.monotonic() + 60
        while run_check(test, port) != 0:  # waiting for the server, not asserting a time
            assert time.monotonic() < deadline, "chroma run never answered the health check"
            time.sleep(0.5)
    assert run_check(test, port) != 0  # and it fails again once the server is gone


def test_the_replicas_file_runs_two_webhook_bots_on_one_database_behind_one_proxy() -> None:
    replicas: dict[str, Any] = yaml.safe_load(
        (REPO / "compose.replicas.yaml").read_text(encoding="utf-8")
    )
    services = replicas["services"]
    bot = services["bot"]
    assert bot["deploy"]["replicas"] == 2
    environment = bot["environment"]
    for name in environment:  # every variable is a real setting, not a typo left unread
        assert name in {env_name(field) for field in Settings.model_fields}, name
    url = environment[env_name("database_url")]
    assert url.startswith("postgresql+psycopg://briefbot:")
    assert url.endswith("@postgres/briefbot")
    assert int(environment[env_name("webhook_port")]) == Settings().webhook_port
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["postgres"]["healthcheck"]["test"][1] == "pg_isready"
    proxy = services["proxy"]
    config_file, target, _ = proxy["volumes"][0].split(":")
    assert target == "/etc/nginx/conf.d/default.conf"
    nginx = (REPO / config_file).read_text(encoding="utf-8")
    assert f"http://bot:{Settings().webhook_port}" in nginx
    assert proxy["ports"] == [f"127.0.0.1:{Settings().webhook_port}:{Settings().webhook_port}"]
