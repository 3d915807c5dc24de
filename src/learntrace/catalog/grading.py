"""Grading of answers, shared by course quizzes and exams: one rule for what counts as right.

A choice question is right when exactly its correct choices are given (every one, no other);
a true/false question when the given truth is the question's; a fill-in question when the
text, normalised, is one of the accepted answers."""

import unicodedata


def normalised(text: str) -> str:
    """Full-width forms folded (NFKC: "ＡＢＣ１" reads "ABC1"), case and runs of spaces ignored."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def choices_right(given: set[int], correct: set[int]) -> bool:
    return bool(correct) and given == correct


def text_right(given: str, accepted: list[str]) -> bool:
    answer = normalised(given)
    return bool(answer) and answer in {normalised(text) for text in accepted}


def percent(right: int, total: int) -> int:
    """Whole percent, rounded down: 59.9 % does not pass a pass mark of 60 %."""
    return right * 100 // total if total else 0
