"""Tests of the fake OpenAI server itself, driven by the real openai client and LangChain."""

from __future__ import annotations

import asyncio
import base64
import logging
import math
import struct
import time
from collections.abc import AsyncIterator, Iterator

import aiohttp
import openai
import pytest
from langchain_openai import ChatOpenAI, OpenAIEmbeddings

from tests.fakes.openai_api import RUNAWAY_TOKENS, FakeOpenAI, Reply, embed_text

KEY = "sk-fake-test-key"
CHAT = "/v1/chat/completions"
EMBEDDINGS = "/v1/embeddings"
HELLO = [{"role": "user", "content": "Hello there"}]


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(api_key=KEY) as server:
        yield server


@pytest.fixture
async def client(fake: FakeOpenAI) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(base_url=fake.base_url, api_key=KEY, max_retries=0) as c:
        yield c


@pytest.fixture
def threaded() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=KEY).run_in_thread() as server:
        yield server


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


# ------------------------------------------------------------------------------ chat, async


async def test_completion(fake: FakeOpenAI, client: openai.AsyncOpenAI) -> None:
    fake.script("Hello from the fake")
    response = await client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)

    choice = response.choices[0]
    assert choice.message.content == "Hello from the fake"
    assert choice.message.role == "assistant"
    assert choice.finish_reason == "stop"
    assert response.model == "gpt-4o-mini"
    assert response.usage is not None
    assert response.usage.completion_tokens == 4
    assert response.usage.total_tokens == response.usage.prompt_tokens + 4

    call = await fake.wait_for(CHAT, lambda body: body["messages"][0]["content"] == "Hello there")
    assert call.status == 200
    assert call.last_user_text == "Hello there"
    assert call.headers["Authorization"] == "<redacted>"
    assert all(KEY not in value for value in call.headers.values())
    assert fake.requests_of("chat/completions") == [call]


async def test_default_responder_and_script_order(
    fake: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    fake.script("one", Reply(content="two", finish_reason="length"))
    answers = []
    for _ in range(3):
        response = await client.chat.completions.create(model="m", messages=HELLO)
        answers.append((response.choices[0].message.content, response.choices[0].finish_reason))
    assert answers == [("one", "stop"), ("two", "length"), ("OK", "stop")]

    fake.responder = lambda body: f"echo: {body['messages'][-1]['content']}"
    response = await client.chat.completions.create(model="m", messages=HELLO)
    assert response.choices[0].message.content == "echo: Hello there"
    assert fake.pending_replies == 0


async def test_streamed_completion(fake: FakeOpenAI, client: openai.AsyncOpenAI) -> None:
    fake.script("The quick brown fox jumps.")
    stream = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=HELLO,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]

    assert all(chunk.object == "chat.completion.chunk" for chunk in chunks)
    assert len({chunk.id for chunk in chunks}) == 1
    deltas = [
        c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
    ]
    assert deltas == ["The ", "quick ", "brown ", "fox ", "jumps."]
    assert chunks[0].choices[0].delta.role == "assistant"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop"
    assert finishes[:-1] == [None] * (len(finishes) - 1)
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 5

    call = await fake.wait_for(CHAT, lambda body: body["stream"])
    assert call.stream
    assert call.status == 200


async def test_raw_sse_format(fake: FakeOpenAI) -> None:
    fake.script("a b")
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{fake.base_url}/chat/completions",
            json={"model": "m", "messages": HELLO, "stream": True},
            headers={"Authorization": f"Bearer {KEY}"},
        ) as response,
    ):
        assert response.headers["Content-Type"].startswith("text/event-stream")
        text = await response.text()
    events = text.split("\n\n")
    assert events[-2:] == ["data: [DONE]", ""]
    assert all(event.startswith("data: {") for event in events[:-2])
    assert len(events[:-2]) == 4  # role, "a ", "b", finish


async def test_refusal_empty_and_garbage(fake: FakeOpenAI, client: openai.AsyncOpenAI) -> None:
    fake.script(Reply.refused("No."), Reply.empty(), Reply(garbage=True))
    refused = await client.chat.completions.create(model="m", messages=HELLO)
    assert refused.choices[0].message.content is None
    assert refused.choices[0].message.refusal == "No."

    empty = await client.chat.completions.create(model="m", messages=HELLO)
    assert empty.choices[0].message.content == ""

    # A non-JSON 200 with a text/html content type comes back from openai as a plain str.
    garbage = await client.chat.completions.create(model="m", messages=HELLO)
    assert isinstance(garbage, str)
    assert "FAKE" in garbage


async def test_garbage_surprises(fake: FakeOpenAI, client: openai.AsyncOpenAI) -> None:
    """What the openai client makes of a 200 that is not JSON: no openai.APIError anywhere."""
    fake.script(Reply(garbage=True, garbage_content_type="application/json"))
    with pytest.raises(ValueError, match="Expecting value"):  # a bare json.JSONDecodeError
        await client.chat.completions.create(model="m", messages=HELLO)

    fake.script(Reply(garbage=True))
    stream = await client.chat.completions.create(model="m", messages=HELLO, stream=True)
    assert [chunk async for chunk in stream] == []  # silently empty, no [DONE] needed


async def test_streamed_refusal(fake: FakeOpenAI, client: openai.AsyncOpenAI) -> None:
    fake.script(Reply.refused("Sorry, no."))
    stream = await client.chat.completions.create(model="m", messages=HELLO, stream=True)
    refusal = "".join([c.choices[0].delta.refusal or "" async for c in stream if c.choices])
    assert refusal == "Sorry, no."


# ------------------------------------------------------------------------------ faults


async def test_rate_limit_is_retried(fake: FakeOpenAI) -> None:
    """The retry-after-ms header makes the client's retries cost milliseconds (testing notes,
    P13); how fast is for benchmarks, that they happen is checked here."""
    fake.script(Reply.rate_limited(retry_after_ms=10), Reply.rate_limited(), "after the wait")
    async with openai.AsyncOpenAI(base_url=fake.base_url, api_key=KEY, max_retries=2) as client:
        response = await client.chat.completions.create(model="m", messages=HELLO)
    assert response.choices[0].message.content == "after the wait"
    assert [call.status for call in fake.requests_of(CHAT)] == [429, 429, 200]


async def test_rate_limit_error(fake: FakeOpenAI, client: openai.AsyncOpenAI) -> None:
    fake.script(Reply.rate_limited())
    with pytest.raises(openai.RateLimitError) as caught:
        await client.chat.completions.create(model="m", messages=HELLO)
    assert caught.value.status_code == 429
    assert caught.value.code == "rate_limit_exceeded"
    assert caught.value.response.headers["retry-after-ms"] == "10"


async def test_server_error_without_retries(fake: FakeOpenAI, client: openai.AsyncOpenAI) -> None:
    fake.script(Reply.server_error(message="FAKE boom"))
    with pytest.raises(openai.InternalServerError, match="FAKE boom"):
        await client.chat.completions.create(model="m", messages=HELLO)
    assert len(fake.requests_of(CHAT)) == 1


async def test_streamed_error_status(fake: FakeOpenAI, client: openai.AsyncOpenAI) -> None:
    fake.script(Reply.context_length_exceeded())
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(model="m", messages=HELLO, stream=True)
    assert caught.value.code == "context_length_exceeded"


async def test_stall_times_out_and_shutdown_is_fast() -> None:
    async with FakeOpenAI(api_key=KEY) as fake:
        fake.script(Reply.stall(30), Reply.stall(30))
        async with openai.AsyncOpenAI(
            base_url=fake.base_url, api_key=KEY, max_retries=0, timeout=0.2
        ) as client:
            with pytest.raises(openai.APITimeoutError):
                await client.chat.completions.create(model="m", messages=HELLO)
            call = await fake.wait_for(CHAT)
            # The client dropped the connection; aiohttp cancels the handler a moment later.
            for _ in range(100):
                if call.status is not None:
                    break
                await asyncio.sleep(0.01)
            assert call.status == 499
            # A second stalled request that is still in flight when the fake stops.
            with pytest.raises(openai.APITimeoutError):
                await client.chat.completions.create(model="m", messages=HELLO, timeout=0.05)
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 5  # not the 30 s stall


async def test_stall_with_open_connection_ends_at_shutdown() -> None:
    """A stalled answer whose client is still waiting ends as soon as the fake stops."""
    async with FakeOpenAI(api_key=KEY) as fake:
        fake.script(Reply.stall(30))
        client = openai.AsyncOpenAI(base_url=fake.base_url, api_key=KEY, max_retries=0)
        request = asyncio.create_task(client.chat.completions.create(model="m", messages=HELLO))
        call = await fake.wait_for(CHAT)
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 5  # not the 30 s stall
    with pytest.raises(openai.APIStatusError):
        await request
    await client.close()
    assert call.status == 503


async def test_stream_stall_mid_stream(fake: FakeOpenAI) -> None:
    fake.script(Reply("one two three four", stream_stall_after=2, delay=30))
    async with openai.AsyncOpenAI(
        base_url=fake.base_url, api_key=KEY, max_retries=0, timeout=2
    ) as client:
        stream = await client.chat.completions.create(model="m", messages=HELLO, stream=True)
        received: list[str] = []

        async def read_all() -> None:
            async for chunk in stream:
                received.append(chunk.choices[0].delta.content or "")

        with pytest.raises(openai.APITimeoutError):
            await read_all()
    assert "".join(received) == "one two "


async def test_wrong_and_missing_key(fake: FakeOpenAI) -> None:
    async with openai.AsyncOpenAI(
        base_url=fake.base_url, api_key="sk-wrong-key", max_retries=0
    ) as client:
        with pytest.raises(openai.AuthenticationError) as caught:
            await client.chat.completions.create(model="m", messages=HELLO)
    assert caught.value.code == "invalid_api_key"
    assert "sk-wrong" not in str(caught.value)

    async with aiohttp.ClientSession() as session, session.get(f"{fake.base_url}/models") as r:
        assert r.status == 401
        body = await r.json()
    assert body["error"]["type"] == "invalid_request_error"
    assert [call.status for call in fake.calls] == [401, 401]
    assert fake.pending_replies == 0  # nothing scripted was consumed


async def test_bad_requests(fake: FakeOpenAI, client: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="messages"):
        await client.chat.completions.create(model="m", messages=[])
    with pytest.raises(openai.NotFoundError, match="Invalid URL"):
        await client.completions.create(model="m", prompt="hi")
    with pytest.raises(openai.BadRequestError, match="input"):
        await client.embeddings.create(model="e", input="")


async def test_models(fake: FakeOpenAI, client: openai.AsyncOpenAI) -> None:
    models = [model.id async for model in client.models.list()]
    assert models == ["gpt-4o-mini", "text-embedding-3-small"]
    model = await client.models.retrieve("gpt-4o-mini")
    assert model.owned_by == "fake"
    with pytest.raises(openai.NotFoundError):
        await client.models.retrieve("gpt-nope")


async def test_a_server_without_a_models_list() -> None:
    async with FakeOpenAI(api_key=KEY, lists_models=False) as fake:
        bare = openai.AsyncOpenAI(base_url=fake.base_url, api_key=KEY, max_retries=0)
        with pytest.raises(openai.NotFoundError, match="Invalid URL"):
            await bare.models.list()
        await bare.close()


async def test_strict_models_refuse_a_chat_for_an_unknown_model() -> None:
    async with FakeOpenAI(api_key=KEY, models=["llama-3"], strict_models=True) as fake:
        client = openai.AsyncOpenAI(base_url=fake.base_url, api_key=KEY, max_retries=0)
        with pytest.raises(openai.NotFoundError) as raised:
            await client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
        assert raised.value.code == "model_not_found"
        fake.script("served")
        served = await client.chat.completions.create(model="llama-3", messages=HELLO)
        assert served.choices[0].message.content == "served"
        await client.close()


# ------------------------------------------------------------------------------ generation


async def test_max_tokens_cuts_a_reply_with_finish_reason_length(
    fake: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    fake.script("one two three four five six", "one two three four five six", "short")
    plain = await client.chat.completions.create(model="m", messages=HELLO, max_tokens=4)
    assert plain.choices[0].message.content == "one two three four "
    assert plain.choices[0].finish_reason == "length"
    stream = await client.chat.completions.create(
        model="m", messages=HELLO, max_tokens=3, stream=True
    )
    chunks = [chunk.choices[0] async for chunk in stream if chunk.choices]
    assert "".join(c.delta.content or "" for c in chunks) == "one two three "
    assert chunks[-1].finish_reason == "length"
    short = await client.chat.completions.create(model="m", messages=HELLO, max_tokens=4)
    assert short.choices[0].finish_reason == "stop"
    assert [call.max_tokens for call in fake.requests_of(CHAT)] == [4, 3, 4]


async def test_a_repeating_model_writes_until_the_limit(
    fake: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    fake.script(Reply.repeating("Troops are in Iraq [1]."), Reply.repeating("Again [1]."))
    bounded = await client.chat.completions.create(model="m", messages=HELLO, max_tokens=10)
    assert bounded.choices[0].message.content == (
        "Troops are in Iraq [1]. Troops are in Iraq [1]. "
    )
    assert bounded.choices[0].finish_reason == "length"
    runaway = await client.chat.completions.create(model="m", messages=HELLO)
    content = runaway.choices[0].message.content or ""
    assert len(content.split()) == RUNAWAY_TOKENS
    assert runaway.choices[0].finish_reason == "length"


async def test_an_echoing_model_copies_the_prompt_first(
    fake: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    fake.script(Reply(content="The answer [1].", echo_prompt=True))
    reply = await client.chat.completions.create(model="m", messages=HELLO)
    assert reply.choices[0].message.content == "Hello there\nThe answer [1]."


async def test_a_hung_server_keeps_the_request_until_the_client_leaves(
    fake: FakeOpenAI,
) -> None:
    fake.script(Reply.hang())
    client = openai.AsyncOpenAI(base_url=fake.base_url, api_key=KEY, max_retries=0, timeout=0.2)
    with pytest.raises(openai.APITimeoutError):
        await client.chat.completions.create(model="m", messages=HELLO)
    call = await fake.wait_for(CHAT)
    await fake.wait_for_status(call, 499)  # the client closed the connection
    assert call.abandoned
    await client.close()


async def test_a_stream_can_hang_after_its_first_chunks(fake: FakeOpenAI) -> None:
    fake.script(Reply(content="first second third", delay=3600, stream_stall_after=1))
    client = openai.AsyncOpenAI(base_url=fake.base_url, api_key=KEY, max_retries=0, timeout=0.3)
    received: list[str] = []

    async def read() -> None:
        stream = await client.chat.completions.create(model="m", messages=HELLO, stream=True)
        async for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")

    with pytest.raises(openai.APITimeoutError):
        await read()
    assert "".join(received) == "first "
    call = await fake.wait_for(CHAT)
    await fake.wait_for_abandoned(call)
    assert call.status == 200  # the answer had begun
    await client.close()


async def test_wait_for_timeout_lists_calls(fake: FakeOpenAI, client: openai.AsyncOpenAI) -> None:
    await client.chat.completions.create(model="m", messages=HELLO)
    await fake.wait_for(CHAT)
    with pytest.raises(AssertionError, match=r"(?s)Calls seen \(1.*0\* POST /v1/chat/completions"):
        await fake.wait_for(CHAT, timeout=0.05)


async def test_key_is_never_logged(
    fake: FakeOpenAI, client: openai.AsyncOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await client.chat.completions.create(model="m", messages=HELLO)
    await client.embeddings.create(model="e", input="hello")
    assert caplog.records
    assert KEY not in caplog.text


# ------------------------------------------------------------------------------ LangChain


async def test_langchain_chat(fake: FakeOpenAI) -> None:
    fake.script("LangChain says hi", "streamed words here")
    llm = ChatOpenAI(model="gpt-4o-mini", base_url=fake.base_url, api_key=KEY, max_retries=0)

    message = await llm.ainvoke("Hi")
    assert message.content == "LangChain says hi"
    assert message.usage_metadata is not None
    assert message.usage_metadata["output_tokens"] == 3

    pieces = [chunk.content async for chunk in llm.astream("Hi again")]
    assert "".join(str(piece) for piece in pieces) == "streamed words here"
    assert len([piece for piece in pieces if piece]) == 3

    first, second = fake.requests_of(CHAT)
    assert first.last_user_text == "Hi"
    assert second.stream


async def test_langchain_chat_error(fake: FakeOpenAI) -> None:
    fake.script(Reply.server_error())
    llm = ChatOpenAI(model="gpt-4o-mini", base_url=fake.base_url, api_key=KEY, max_retries=0)
    with pytest.raises(openai.InternalServerError):
        await llm.ainvoke("Hi")


# ------------------------------------------------------------------------------ embeddings


async def test_embeddings_langchain_and_raw_agree(
    fake: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    texts = ["the cat sat on the mat", "the black cat sat on a mat", "quarterly revenue grew"]
    # OpenAIEmbeddings never closes the async client it builds itself; its finaliser then
    # runs on a closed loop. Hand it one we close.
    async with openai.DefaultAsyncHttpxClient() as http_client:
        embeddings = OpenAIEmbeddings(
            model="text-embedding-3-small",
            base_url=fake.base_url,
            api_key=KEY,
            check_embedding_ctx_length=False,
            max_retries=0,
            http_async_client=http_client,
        )
        via_langchain = await embeddings.aembed_documents(texts)
        query = await embeddings.aembed_query(texts[0])

    raw = await client.embeddings.create(model="text-embedding-3-small", input=texts)
    assert fake.requests_of(EMBEDDINGS)[-1].body["encoding_format"] == "base64"  # P12
    via_raw = [item.embedding for item in raw.data]
    floats = await client.embeddings.create(
        model="text-embedding-3-small", input=texts, encoding_format="float"
    )
    assert raw.model == "text-embedding-3-small"
    assert [item.index for item in raw.data] == [0, 1, 2]
    assert via_langchain == via_raw == [item.embedding for item in floats.data]
    assert query == via_raw[0] == embed_text(texts[0])
    assert all(len(vector) == 64 for vector in via_raw)
    assert all(math.isclose(cosine(v, v), 1.0, rel_tol=1e-5) for v in via_raw)
    assert cosine(via_raw[0], via_raw[1]) > 0.5 > cosine(via_raw[0], via_raw[2])


async def test_embeddings_base64_tokens_and_dimensions(
    fake: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    raw = await client.embeddings.create(
        model="e", input="hello world", encoding_format="base64", dimensions=8
    )
    encoded = raw.data[0].embedding
    assert isinstance(encoded, str)  # explicitly asked for: openai leaves it encoded
    decoded = list(struct.unpack("<8f", base64.b64decode(encoded)))
    assert decoded == embed_text("hello world", 8)

    tokens = await client.embeddings.create(model="e", input=[[1, 2, 3], [1, 2, 4]])
    assert len(tokens.data) == 2
    assert tokens.data[0].embedding != tokens.data[1].embedding
    single = await client.embeddings.create(model="e", input=[1, 2, 3])
    assert single.data[0].embedding == tokens.data[0].embedding
    assert single.usage.prompt_tokens == 3


async def test_embedding_faults(fake: FakeOpenAI) -> None:
    fake.script_embeddings(Reply.rate_limited(), Reply.server_error())
    async with openai.AsyncOpenAI(base_url=fake.base_url, api_key=KEY, max_retries=1) as client:
        with pytest.raises(openai.InternalServerError):
            await client.embeddings.create(model="e", input="x")
        ok = await client.embeddings.create(model="e", input="x")
    assert ok.data[0].embedding == embed_text("x")
    assert [call.status for call in fake.requests_of(EMBEDDINGS)] == [429, 500, 200]


# ------------------------------------------------------------------------------ sync


def test_sync_client_in_thread(threaded: FakeOpenAI) -> None:
    threaded.script("sync hello", "sync stream of words")
    with openai.OpenAI(base_url=threaded.base_url, api_key=KEY, max_retries=0) as client:
        response = client.chat.completions.create(model="m", messages=HELLO)
        assert response.choices[0].message.content == "sync hello"

        stream = client.chat.completions.create(model="m", messages=HELLO, stream=True)
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
        assert text == "sync stream of words"

        vector = client.embeddings.create(model="e", input="hi").data[0].embedding
        assert vector == embed_text("hi")

    assert threaded.wait_for_sync(CHAT).status == 200
    assert threaded.wait_for_sync(CHAT, lambda body: body["stream"]).stream


def test_sync_langchain_in_thread(threaded: FakeOpenAI) -> None:
    threaded.script("invoked", "streamed reply")
    llm = ChatOpenAI(model="gpt-4o-mini", base_url=threaded.base_url, api_key=KEY, max_retries=0)
    assert llm.invoke("Hi").content == "invoked"
    assert "".join(str(chunk.content) for chunk in llm.stream("Hi")) == "streamed reply"
    embeddings = OpenAIEmbeddings(
        model="text-embedding-3-small",
        base_url=threaded.base_url,
        api_key=KEY,
        check_embedding_ctx_length=False,
    )
    assert embeddings.embed_query("hello") == embed_text("hello")


def test_run_in_thread_stops_stalled_request() -> None:
    with FakeOpenAI(api_key=KEY).run_in_thread() as fake:
        fake.script(Reply.stall(30))
        client = openai.OpenAI(base_url=fake.base_url, api_key=KEY, max_retries=0, timeout=0.2)
        with pytest.raises(openai.APITimeoutError):
            client.chat.completions.create(model="m", messages=HELLO)
        client.close()
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 5  # not the 30 s stall
    with pytest.raises(RuntimeError, match="not running"):
        fake.wait_for_sync(CHAT)
