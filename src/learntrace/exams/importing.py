"""Importing questions into a bank from a spreadsheet, with the organisation import's rules: a
dry run that lists every error of every row at once, then an all-or-nothing import that checks
every row again. Columns: kind, question, option_a … option_f, answer, difficulty, explanation
(Chinese headers too: 题型, 题目, 选项A…, 答案, 难度, 解析)."""

from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from learntrace.core.audit import record_change
from learntrace.exams.models import BankChoice, BankQuestion, Difficulty, QuestionBank, QuestionKind
from learntrace.org.importing import FALSE_WORDS, TRUE_WORDS, ImportFileError, RowError, read_tables

LETTERS = "abcdef"
QUESTION_COLUMNS = {
    "kind": (True, gettext_lazy("kind"), ["题型", "类型"]),
    "question": (True, gettext_lazy("question"), ["题目", "题干"]),
    **{f"option_{letter}": (False, f"option_{letter}", [f"选项{letter.upper()}", letter.upper()])
       for letter in LETTERS},
    "answer": (True, gettext_lazy("answer"), ["答案", "正确答案"]),
    "difficulty": (False, gettext_lazy("difficulty"), ["难度"]),
    "explanation": (False, gettext_lazy("explanation"), ["解析", "答案解析"]),
}
KINDS = (("questions", QUESTION_COLUMNS, "question"),)
KIND_WORDS = {
    QuestionKind.SINGLE: {"single", "单选", "单选题"},
    QuestionKind.MULTIPLE: {"multiple", "多选", "多选题"},
    QuestionKind.TRUE_FALSE: {"true_false", "true/false", "判断", "判断题"},
    QuestionKind.FILL_IN: {"fill_in", "fill-in", "填空", "填空题"},
}
DIFFICULTY_WORDS = {Difficulty.EASY: {"1", "easy", "易", "简单"}, Difficulty.MEDIUM: {"2", "medium", "中", "中等"},
                    Difficulty.HARD: {"3", "hard", "难", "困难"}}
TRUTH_WORDS = {True: TRUE_WORDS | {"对", "正确", "√"}, False: FALSE_WORDS | {"错", "错误", "×"}}


@dataclass
class QuestionImportResult:
    rows: int = 0
    added: int = 0
    errors: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class _Rollback(Exception):
    pass


def _word(text: str, words: dict):
    text = text.strip().lower()
    return next((value for value, names in words.items() if text in names), None)


def clean_row(row: dict, error) -> dict | None:
    """The question of one row, or None after reporting each problem through `error(column, message)`."""
    ok = True

    def bad(column, message):
        nonlocal ok
        ok = False
        error(column, message)

    kind = _word(row.get("kind", ""), KIND_WORDS)
    if kind is None:
        bad("kind", _("Write the kind as single, multiple, true_false or fill_in (单选, 多选, 判断, 填空)."))
    text = row.get("question", "").strip()
    if not text:
        bad("question", _("This column is required."))
    elif len(text) > 2000:
        bad("question", _("The question is longer than 2000 characters."))
    difficulty = Difficulty.MEDIUM
    if row.get("difficulty", "").strip():
        difficulty = _word(row["difficulty"], DIFFICULTY_WORDS)
        if difficulty is None:
            bad("difficulty", _("Write the difficulty as 1, 2 or 3 (易, 中, 难)."))
    options = [(letter, row.get(f"option_{letter}", "").strip()) for letter in LETTERS]
    options = [(letter, option) for letter, option in options if option]
    if any(len(option) > 500 for _letter, option in options):
        bad("option_a", _("An option is longer than 500 characters."))
    answer = row.get("answer", "").strip()
    choices, answers = [], []
    if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        letters = {c for c in answer.lower().replace(",", "").replace("，", "").replace(" ", "")}
        given = {letter for letter, _option in options}
        if len(options) < 2:
            bad("option_a", _("A choice question needs at least two options."))
        if not letters or not letters <= given:
            bad("answer", _("The answer must be the letters of options given in this row, like A or AC."))
        elif kind == QuestionKind.SINGLE and len(letters) != 1:
            bad("answer", _("A single-choice question has exactly one correct option."))
        choices = [(option, letter in letters) for letter, option in options]
    elif kind == QuestionKind.TRUE_FALSE:
        truth = _word(answer, TRUTH_WORDS)
        if truth is None:
            bad("answer", _("Write the answer of a true/false question as 对 or 错 (true or false)."))
        answers = [truth]
    elif kind == QuestionKind.FILL_IN:
        answers = [part.strip() for part in answer.split("|") if part.strip()]
        if not answers:
            bad("answer", _("Give the accepted answers, separated by | when there are several."))
    if not ok:
        return None
    return {"kind": kind, "text": text, "difficulty": difficulty, "choices": choices, "answers": answers,
            "explanation": row.get("explanation", "").strip()[:2000]}


class QuestionImport:
    def __init__(self, path: Path, original_name: str, bank: QuestionBank):
        self.path, self.original_name, self.bank = Path(path), original_name, bank

    def dry_run(self) -> QuestionImportResult:
        return self._run(apply=False)

    def apply(self, *, actor) -> QuestionImportResult:
        try:
            with transaction.atomic():
                result = self._run(apply=True)
                if not result.ok:
                    raise _Rollback
                record_change(actor=actor, action="import_questions", obj=self.bank,
                              summary=f"{self.bank.name}: {self.original_name}",
                              changes={"questions": (None, result.added)})
                return result
        except _Rollback:
            return result

    def _run(self, *, apply: bool) -> QuestionImportResult:
        result = QuestionImportResult()
        existing = set(self.bank.questions.values_list("text", flat=True))
        for table in read_tables(self.path, self.original_name, KINDS):
            for row_number, row in table.open_rows():
                result.rows += 1

                def error(column, message, row_number=row_number, table=table):
                    result.errors.append(RowError(row_number, table.columns.get(column, column), message,
                                                  table.sheet).as_dict())

                values = clean_row(row, error)
                if values is None:
                    continue
                if values["text"] in existing:
                    error("question", _("The bank already has this question (or the file has it twice)."))
                    continue
                existing.add(values["text"])
                result.added += 1
                if apply:
                    question = BankQuestion.objects.create(
                        bank=self.bank, kind=values["kind"], text=values["text"], difficulty=values["difficulty"],
                        answers=values["answers"], explanation=values["explanation"])
                    BankChoice.objects.bulk_create([
                        BankChoice(question=question, position=n, text=text, is_correct=correct)
                        for n, (text, correct) in enumerate(values["choices"])
                    ])
        if result.rows == 0:
            raise ImportFileError(_("The file has a header but no data rows."))
        return result
