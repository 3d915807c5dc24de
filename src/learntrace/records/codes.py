"""A choice of a few words stored as a small number (`CodeField`): two bytes in every fact row
instead of the word's text.

Python sees the words, as with a CharField of the same choices: services, forms, the API,
exports and the evidence's canonical encoding are unchanged. The numbers are fixed forever
(they are in the rows, and the migration that introduced a field keeps its own copy): a new
choice takes the next number, an old number is never reused, so a field's numbers are 1 to n and
its table's check is a range (`in_range`). A word without a number, or a number
without a word, is an error, never stored or read as something else."""

from django.core.exceptions import ValidationError
from django.db import models

# The numbers of the fact table's words (records.CreditedTime.kind and .source).
KIND_CODES = {"video": 1, "document": 2, "offline": 3, "live": 4}
SOURCE_CODES = {"tracking": 1, "checkin": 2, "manual": 3, "imported": 4, "quiz": 5}


def in_range(codes: dict[str, int]) -> tuple[str, str]:
    """The words of the lowest and highest numbers, for a check `field__range=`: BETWEEN 1 AND n.
    (A check of `field__in=` would do the same, but Django's SQLite introspection cannot read a
    table whose definition has a list in a check.)"""
    by_number = sorted(codes, key=codes.__getitem__)
    return by_number[0], by_number[-1]


def words_sql(codes: dict[str, int], column: str, *, postgresql: bool = False) -> str:
    """SQL giving the word of the number in `column` (NULL for a number without a word; the
    table's check constraint keeps those out). On PostgreSQL the number-th of an array of the
    words, which it reads faster than a CASE (the canonical encoding of every fact sealed or
    verified uses it)."""
    if postgresql:
        words = ",".join(sorted(codes, key=codes.__getitem__))
        return f"('{{{words}}}'::text[])[{column}]"
    cases = " ".join(f"WHEN {code} THEN '{word}'" for word, code in codes.items())
    return f"(CASE {column} {cases} END)"


def codes_sql(codes: dict[str, int], column: str) -> str:
    """SQL giving the number of the word in `column` (NULL for a word without a number)."""
    cases = " ".join(f"WHEN '{word}' THEN {code}" for word, code in codes.items())
    return f"(CASE {column} {cases} END)"


class CodeField(models.Field):
    """A word of `codes` (word -> number) kept as a smallint."""

    empty_strings_allowed = False
    description = "A word kept as its number"

    def __init__(self, *args, codes: dict[str, int], **kwargs):
        self.codes = dict(codes)
        self.words = {code: word for word, code in self.codes.items()}
        if sorted(self.words) != list(range(1, len(self.codes) + 1)):
            raise ValueError("the numbers of a CodeField are 1 to n, one a word")
        if not all(word.isidentifier() and word.isascii() for word in self.codes):
            raise ValueError("the words of a CodeField are plain names (they are written into SQL)")
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["codes"] = self.codes
        return name, path, args, kwargs

    def get_internal_type(self):
        return "SmallIntegerField"

    def _code(self, word) -> int:
        try:
            return self.codes[word]
        except (KeyError, TypeError):
            raise ValueError(f"{self.name}: {word!r} has no number (one of {', '.join(self.codes)})") from None

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return None if value is None else self._code(value)

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        try:
            return self.words[value]
        except KeyError:
            raise ValueError(f"{self.name}: the number {value!r} has no word") from None

    def to_python(self, value):
        if value is None or value in self.codes:
            return value
        raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})

    def words_sql(self, column: str, *, postgresql: bool = False) -> str:
        return words_sql(self.codes, column, postgresql=postgresql)
