"""The vector cache keeps what the embedder computed about a text, by its hash: vectors, and
the latent terms of sentences when an embedder needs a pass of its model for them."""

from __future__ import annotations

from pathlib import Path

from retrieval.index.vector_cache import VectorCache
from retrieval.models import LatentTerms
from retrieval.sources.documents import sha256
from tests.fakes.embedder import FakeEmbedder

SENTENCES = ["The bridge reopened.", "In all, 48 cables were replaced."]
TITLES = ["Harlow bridge"]


class PassCountingEmbedder(FakeEmbedder):
    """The fake embedder, as one whose latent terms cost a pass of its model; keeps the texts
    it was asked for them."""

    latent_terms_cost_a_pass = True

    def __init__(self) -> None:
        super().__init__()
        self.latent_texts: list[str] = []

    def latent_terms(self, texts: list[str]) -> list[LatentTerms]:
        self.latent_texts += texts
        return super().latent_terms(texts)


def test_latent_terms_are_computed_once_and_read_back_alike(tmp_path: Path) -> None:
    embedder = PassCountingEmbedder()
    path = tmp_path / "vectors.sqlite"
    reports: list[tuple[str, int, int]] = []
    cache = VectorCache(path)
    vectors, latent, embedded = cache.embed_sentences(
        embedder, SENTENCES + TITLES, SENTENCES, lambda *report: reports.append(report)
    )
    cache.close()
    assert embedded == 3  # vectors; the latent terms are not texts embedded
    assert embedder.latent_texts == SENTENCES
    assert set(latent) == {sha256(text) for text in SENTENCES}
    # One total for both: three vectors and two sentences' latent terms.
    assert reports[0] == ("embedding", 0, 5)
    assert reports[-1] == ("embedding", 5, 5)

    reopened = VectorCache(path)
    again, read_back, embedded_again = reopened.embed_sentences(
        embedder, SENTENCES + TITLES, SENTENCES
    )
    reopened.close()
    assert embedded_again == 0
    assert embedder.latent_texts == SENTENCES  # nothing asked for a second time
    for key, terms in latent.items():
        assert read_back[key].ids.tolist() == terms.ids.tolist()
        assert read_back[key].weights.tolist() == terms.weights.tolist()
        assert (again[key] == vectors[key]).all()


def test_latent_terms_that_cost_no_pass_are_not_stored(tmp_path: Path) -> None:
    cache = VectorCache(tmp_path / "vectors.sqlite")
    embedder = FakeEmbedder()
    _, latent, _ = cache.embed_sentences(embedder, SENTENCES, SENTENCES)
    stored = cache._connection.execute("SELECT COUNT(*) FROM latent_terms").fetchone()  # noqa: SLF001
    cache.close()
    assert stored == (0,)
    expected = [terms.ids.tolist() for terms in embedder.latent_terms(SENTENCES)]
    assert [latent[sha256(text)].ids.tolist() for text in SENTENCES] == expected
