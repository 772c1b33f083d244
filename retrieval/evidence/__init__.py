"""The offline answer step: score the retrieved sentences as evidence, compose the answer,
and say how likely it is to answer the question, with models fitted on labelled questions."""
