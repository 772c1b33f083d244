"""The development question sets and the documents they ask about, in one place.

The news corpus (../shared/corpus/news) is not openly licensed and SQuAD
(../shared/eval/squad2-cct) is CC BY-SA 4.0: both are read in place, never copied here.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SETS: dict[str, tuple[Path, Path]] = {  # name: (sources dir, questions file)
    "seed": (REPO / "seeds", REPO / "tests/data/seed_questions.jsonl"),
    "news": (REPO.parent / "shared/corpus/news", REPO / "bench/news_questions.jsonl"),
    "squad": (
        REPO.parent / "shared/eval/squad2-cct/docs",
        REPO.parent / "shared/eval/squad2-cct/questions.jsonl",
    ),
}
# The seed questions in other languages: asked about the seed's sources.
MULTILINGUAL = REPO / "tests/data/seed_questions_multilingual.jsonl"
# Off-topic questions in the same languages: a check that the vector evidence alone still
# declines what the seed does not cover. Reported by bench.fit_answerer, never fitted on.
OFFTOPIC_MULTILINGUAL = REPO / "tests/data/seed_offtopic_multilingual.jsonl"
# Small talk of one or two words in five languages ("thanks", "hola"): what a chat gets
# besides questions, none of it answerable. Also only a check, over the seed and the news.
SMALL_TALK = REPO / "tests/data/small_talk.jsonl"
# Questions written blind (by sessions given the documents and nothing else: not the answer
# step, not the dev sets, not a number of either) and never fitted on, so not split either:
# each is reported whole, beside the held-out half of the set it shares sources with. Batch C
# was written on 2026-12-07 to measure the step of that day; batch D on 2026-12-08, read first
# on the step that came out of that day's change; batch E on 2026-12-08 too, read first on the
# step with latent terms, beside the step before them. Batch F, also on 2026-12-08, lost a
# third of its questions before it was read: each that shares half its words with a question
# already written (the writers had found the same facts); it was read first on a sentence
# model fitted per question, beside the step as it was. (Batch A joined the dev sets on
# 2026-12-07, after it had been read question by question; batch B on 2026-12-08, after it
# had been read as totals while choosing changes.)
CHECKS: dict[str, dict[str, Path]] = {  # the dev set whose sources they ask about: the files
    "seed": {
        "check C": REPO / "tests/data/seed_questions_check_c.jsonl",
        "check D": REPO / "tests/data/seed_questions_check_d.jsonl",
        "check E": REPO / "tests/data/seed_questions_check_e.jsonl",
        "check F": REPO / "tests/data/seed_questions_check_f.jsonl",
    },
    "news": {
        "check C": REPO / "bench/news_questions_check_c.jsonl",
        "check D": REPO / "bench/news_questions_check_d.jsonl",
        "check E": REPO / "bench/news_questions_check_e.jsonl",
        "check F": REPO / "bench/news_questions_check_f.jsonl",
    },
}
