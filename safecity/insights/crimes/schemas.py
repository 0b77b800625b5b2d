"""What the crime records import answers: the counts, and every problem row by row."""

from __future__ import annotations

from pydantic import BaseModel, Field

from safecity.insights.crimes.store import ImportOutcome, ImportReport

MAX_PROBLEMS_SHOWN = 1000


class RowProblemOut(BaseModel):
    line: int = Field(description="The line of the file (1 is the header).")
    code: str | None = Field(description="The row's register number, where it has one.")
    column: str = Field(description="The column at fault (empty: the row as a whole).")
    problem: str
    value: str | None = Field(description="The value as the file has it.")


class CrimeImportOut(BaseModel):
    outcome: ImportOutcome
    detail: str = Field(description="What happened, in words.")
    rows: int
    good: int
    bad: int
    created: int
    updated: int
    unchanged: int
    skipped: int = Field(description="Bad rows left out (with skip_invalid).")
    columns: dict[str, str] = Field(description="Field → the column it was read from.")
    ignored_columns: list[str]
    problems: list[RowProblemOut] = Field(
        description=f"The first {MAX_PROBLEMS_SHOWN} problems, in file order."
    )
    problems_total: int

    @classmethod
    def of(
        cls, report: ImportReport, columns: dict[str, str], ignored: list[str]
    ) -> CrimeImportOut:
        validation = report.validation
        bad = len(validation.bad_lines)
        good = len(validation.rows)
        counts = (
            f"{report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.skipped} skipped"
        )
        if report.outcome is ImportOutcome.REJECTED:
            detail = (
                f"nothing imported: {bad} bad row(s); fix them, or import with "
                f"skip_invalid to take the {good} good row(s)"
            )
        elif report.outcome is ImportOutcome.DRY_RUN:
            detail = f"dry run, nothing written; would be: {counts}"
        else:
            detail = f"imported: {counts}"
        return cls(
            outcome=report.outcome,
            detail=detail,
            rows=good + bad,
            good=good,
            bad=bad,
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
            skipped=report.skipped,
            columns=columns,
            ignored_columns=ignored,
            problems=[
                RowProblemOut(
                    line=p.line, code=p.code, column=p.column, problem=p.problem, value=p.value
                )
                for p in validation.problems[:MAX_PROBLEMS_SHOWN]
            ],
            problems_total=len(validation.problems),
        )
