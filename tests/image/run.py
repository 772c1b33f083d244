"""`make image-test`: the container image tested as an operator would use it.

Builds the image on a base made from Debian's packages (no registry is reachable here:
../shared/docs/containers.md), then, with podman:

1. the image refuses to start with nothing to do (no token, no terminal), exit 2;
2. `briefbot ask` answers a seed question with no network at all (seeding an empty volume);
3. the bot, run against the fake Bot API on 127.0.0.1 (host network), gets healthy and takes a
   PDF upload from an admin, which is then answered with a citation;
4. the container is stopped (its readiness marker goes) and recreated on the same volumes: the
   upload is still answered, by the bot and offline by `briefbot ask`;
5. in webhook mode the health check asks GET /healthz;
6. with a Chroma server (as in compose.yaml, the same release on loopback) `ask` indexes into
   the server, in a collection named after BRIEFBOT_INDEX_NAME, and answers.

Not part of `make test`: it needs podman, debootstrap and root, and takes minutes. Set
PODMAN_ROOT to keep podman's storage elsewhere, IMAGE_CONTEXT to build another checkout.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from fpdf import FPDF

from tests.fakes.bot_api import JSON, FakeBotApi

REPO = Path(__file__).resolve().parents[2]
CONTEXT = Path(os.environ.get("IMAGE_CONTEXT", REPO))
PODMAN_ROOT = os.environ.get("PODMAN_ROOT", "/var/tmp/briefbot-image-test")
BASE_IMAGE = os.environ.get("BASE_IMAGE", "localhost/briefbot-test-base:trixie")
IMAGE = os.environ.get("IMAGE", "localhost/briefbot:image-test")
TOKEN = "4242:image-test-token-never-logged"
ADMIN = 1111
BRIDGE_QUESTION = "How much will the Riverside bridge cost?"
BRIDGE = "The Riverside bridge will cost 42 million euros and open in 2027."
# The first start builds the index with the real embedder: minutes on a busy small machine.
START_TIMEOUT = 600.0
ANSWER_TIMEOUT = 120.0


def podman(
    *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    # runc and explicit ulimits: crun and the default limits fail on these machines.
    command = ["podman", "--root", PODMAN_ROOT, "--runtime", "runc", *args]
    result = subprocess.run(command, text=True, capture_output=True, env=env, check=False)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{shlex.join(command)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result


RUN = ["run", "--ulimit", "nofile=16384:16384", "--ulimit", "nproc=4096:4096"]


def step(text: str) -> None:
    print(f"[image-test {time.strftime('%H:%M:%S')}] {text}", flush=True)


def build() -> None:
    env = {**os.environ, "PODMAN_ROOT": PODMAN_ROOT, "BASE_IMAGE": BASE_IMAGE}
    subprocess.run(["bash", str(REPO / "tests/image/build_base.sh")], check=True, env=env)
    step(f"building {IMAGE} from {CONTEXT}")
    # --format docker keeps HEALTHCHECK; chroot isolation because of the hybrid cgroups here.
    subprocess.run(
        ["podman", "--root", PODMAN_ROOT, "build", "--pull=never", "--isolation", "chroot",
         "--format", "docker", "--build-arg", f"BASE_IMAGE={BASE_IMAGE}", "-t", IMAGE,
         str(CONTEXT)],
        check=True,
    )  # fmt: skip
    size = podman("image", "inspect", IMAGE, "--format", "{{.Size}}").stdout.strip()
    step(f"image size: {int(size) / 1e6:.0f} MB")


def pdf_bytes() -> bytes:
    pdf = FPDF()
    pdf.set_title("Bridge report")
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 10, BRIDGE)
    return bytes(pdf.output())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Run:
    """Named volumes and containers of one test run, removed at the end."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:8]
        self.data = f"briefbot-test-data-{tag}"
        self.sources = f"briefbot-test-sources-{tag}"
        self.containers: list[str] = []
        self.tag = tag

    @property
    def volumes(self) -> list[str]:
        return ["-v", f"{self.data}:/data", "-v", f"{self.sources}:/sources"]

    def once(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """A one-off `briefbot` command on the volumes, with no network at all."""
        return podman(*RUN, "--rm", "--network", "none", *self.volumes, IMAGE, *args, check=check)

    def start_bot(self, api: FakeBotApi, *extra_env: str) -> str:
        name = f"briefbot-test-{self.tag}-{len(self.containers)}"
        self.containers.append(name)
        env = {
            "BRIEFBOT_TELEGRAM_BASE_URL": api.base_url,
            "BRIEFBOT_TELEGRAM_FILE_BASE_URL": api.base_file_url,
            "BRIEFBOT_ADMIN_IDS": str(ADMIN),
        }
        flags = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
        for pair in extra_env:
            flags += ["-e", pair]
        # The token is passed by name, from this process's environment: never on a command line.
        podman(
            *RUN, "-d", "--name", name, "--network", "host", "-e", "TELEGRAM_BOT_TOKEN",
            *flags, *self.volumes, IMAGE,
            env={**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN},
        )  # fmt: skip
        return name

    def logs(self, name: str) -> str:
        result = podman("logs", name, check=False)
        return result.stdout + result.stderr

    def stop(self, name: str) -> None:
        podman("stop", "--time", "60", name)
        state = json.loads(podman("inspect", name, "--format", "{{json .State}}").stdout)
        logs = self.logs(name)
        assert state["ExitCode"] == 0, f"{name} exited {state['ExitCode']}:\n{logs[-3000:]}"
        assert TOKEN.split(":")[1] not in logs, "the token appeared in the container's log"
        podman("rm", name)
        self.containers.remove(name)

    def cleanup(self) -> None:
        for name in self.containers:
            print(self.logs(name)[-3000:], file=sys.stderr)
            podman("rm", "-f", name, check=False)
        podman("volume", "rm", "-f", self.data, self.sources, check=False)


async def wait_healthy(name: str) -> str:
    """Poll the image's own HEALTHCHECK command until it passes (a wait, not an assertion)."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        result = podman("healthcheck", "run", name, check=False)
        if result.returncode == 0:
            # What the check saw: the same command, its output (podman prints only a verdict).
            return podman("exec", name, "python", "-m", "bot.health").stdout.strip()
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} never got healthy: {result.stdout}{result.stderr}")
        await asyncio.sleep(2)


def text_has(*needles: str) -> Callable[[JSON], bool]:
    return lambda params: all(needle in str(params["text"]) for needle in needles)


async def ask_bot(api: FakeBotApi, question: str, *needles: str) -> str:
    api.private_message(question, user_id=ADMIN)
    answer = await api.wait_for("sendMessage", text_has(*needles), timeout=ANSWER_TIMEOUT)
    return str(answer.params["text"])


def ask_offline(run: Run, question: str) -> JSON:
    result = run.once("ask", "--json", question)
    answer: JSON = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


async def scenario(run: Run) -> None:
    step("no token and no terminal: the container says so and exits non-zero")
    refused = run.once(check=False)
    assert refused.returncode == 2, (refused.returncode, refused.stderr)
    assert "nothing to do: TELEGRAM_BOT_TOKEN is not set" in refused.stderr, refused.stderr

    step("briefbot ask with no network: the seed (copied into the empty volume) answers")
    answer = ask_offline(run, "How many U.S. troops are stationed in Iraq?")
    assert answer["grounded"], answer
    assert "2,500" in answer["answer"], answer

    async with FakeBotApi(token=TOKEN) as api:
        step("the bot against the fake Bot API: healthy once the index is loaded")
        bot = run.start_bot(api)
        await api.wait_for("setMyCommands", timeout=START_TIMEOUT)
        step(f"health check: {await wait_healthy(bot)}")
        await ask_bot(api, "How many U.S. troops are stationed in Iraq?", "2,500")

        step("an admin uploads a PDF; it is indexed and answered with its citation")
        content = pdf_bytes()
        api.add_file("bridge-pdf", content)
        api.document_message("bridge-pdf", "bridge.pdf", "application/pdf", user_id=ADMIN)
        await api.wait_for("sendMessage", text_has("1 added"), timeout=ANSWER_TIMEOUT)
        await ask_bot(api, BRIDGE_QUESTION, "42 million euros", "Bridge report")

        step("stop: exit 0, token never logged, readiness marker removed")
        run.stop(bot)
        marker = podman(*RUN, "--rm", "--network", "none", *run.volumes, "--entrypoint", "ls",
                        IMAGE, "-A", "/data", "/sources")  # fmt: skip
        assert "bot.ready" not in marker.stdout, marker.stdout
        assert "bridge.md" in marker.stdout, marker.stdout  # the upload is in the sources volume

        step("a new container on the same volumes still answers from the upload")
        bot = run.start_bot(api)
        await api.wait_for("setMyCommands", timeout=START_TIMEOUT)
        await wait_healthy(bot)
        await ask_bot(api, BRIDGE_QUESTION, "42 million euros", "Bridge report")
        run.stop(bot)

        step("webhook mode: the health check is GET /healthz")
        port = free_port()
        bot = run.start_bot(
            api,
            f"BRIEFBOT_WEBHOOK_URL=http://127.0.0.1:{port}/telegram",
            "BRIEFBOT_WEBHOOK_SECRET=image-test-webhook-secret",
            "BRIEFBOT_WEBHOOK_LISTEN=127.0.0.1",
            f"BRIEFBOT_WEBHOOK_PORT={port}",
        )
        await api.wait_for("setWebhook", timeout=START_TIMEOUT)
        health = await wait_healthy(bot)
        assert json.loads(health)["ok"] is True, health
        run.stop(bot)

    step("offline, after the recreation: briefbot ask answers from the upload")
    answer = ask_offline(run, BRIDGE_QUESTION)
    assert "42 million euros" in answer["answer"], answer
    assert any(c["document"] == "bridge.md" for c in answer["citations"]), answer

    async with FakeBotApi(token=TOKEN) as api:
        step("an admin removes the upload: /remove moves it from /sources to /data/removed")
        bot = run.start_bot(api)
        await api.wait_for("setMyCommands", timeout=START_TIMEOUT)
        api.private_message("/remove bridge.md", user_id=ADMIN)
        confirm = await api.wait_for("sendMessage", text_has("Remove"), timeout=ANSWER_TIMEOUT)
        markup = confirm.params["reply_markup"]
        (remove, _cancel) = [b["callback_data"] for row in markup["inline_keyboard"] for b in row]
        api.callback_query(remove, confirm.result, user_id=ADMIN)
        await api.wait_for("sendMessage", text_has("1 removed"), timeout=ANSWER_TIMEOUT)
        run.stop(bot)
        listing = podman(*RUN, "--rm", "--network", "none", *run.volumes, "--entrypoint", "ls",
                         IMAGE, "-A", "/sources", "/data/removed")  # fmt: skip
        sources, removed = listing.stdout.split("/data/removed:")
        assert "bridge.md" not in sources, listing.stdout
        assert "bridge.md" in removed, listing.stdout  # kept, not deleted


LIST_COLLECTIONS = (
    "import chromadb, sys\n"
    "client = chromadb.HttpClient(host='127.0.0.1', port=int(sys.argv[1]))\n"
    "print(sorted(collection.name for collection in client.list_collections()))\n"
)


def chroma_server_scenario(run: Run) -> None:
    """As in compose.yaml, but with the server on loopback: the image has no registry here to
    pull chromadb/chroma from, so the same release runs from the dev venv's `chroma run`."""
    step("with a Chroma server (chroma run on 127.0.0.1): ask indexes into it and answers")
    port = free_port()
    chroma = Path(sys.executable).parent / "chroma"
    server = subprocess.Popen(
        [str(chroma), "run", "--path", f"/tmp/briefbot-image-test-chroma-{run.tag}",
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        result = podman(
            *RUN, "--rm", "--network", "host", *run.volumes,
            "-e", "BRIEFBOT_CHROMA_HOST=127.0.0.1", "-e", f"BRIEFBOT_CHROMA_PORT={port}",
            "-e", f"BRIEFBOT_INDEX_NAME=imagetest{run.tag}",
            IMAGE, "ask", "--json", "How many U.S. troops are stationed in Iraq?",
        )  # fmt: skip
        answer = json.loads(result.stdout.strip().splitlines()[-1])
        assert "2,500" in answer["answer"], answer
        collections = podman(
            *RUN, "--rm", "--network", "host", "--entrypoint", "python", IMAGE, "-c",
            LIST_COLLECTIONS, str(port),
        )  # fmt: skip
        assert f"imagetest{run.tag}" in collections.stdout, collections.stdout
    finally:
        server.terminate()
        server.wait(timeout=30)
        subprocess.run(["rm", "-rf", f"/tmp/briefbot-image-test-chroma-{run.tag}"], check=False)


def main(argv: Sequence[str]) -> int:
    if "--no-build" not in argv:
        build()
    for scenario_of in (lambda run: asyncio.run(scenario(run)), chroma_server_scenario):
        run = Run()
        try:
            scenario_of(run)
        except BaseException:
            run.cleanup()
            raise
        run.cleanup()
    step("passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
