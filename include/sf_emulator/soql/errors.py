"""The error a SOQL query fails with, shaped like Salesforce's REST error messages."""

from __future__ import annotations


class SoqlError(Exception):
    """A query Salesforce would refuse.

    ``error_code`` is the REST ``errorCode`` (MALFORMED_QUERY, INVALID_FIELD,
    INVALID_TYPE, and the Salesforce-specific NUMBER_OUTSIDE_VALID_RANGE and
    INVALID_QUERY_FILTER_OPERATOR); ``message`` is the REST ``message`` text. All
    of them are answered with HTTP 400.
    """

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message

    @classmethod
    def at(cls, error_code: str, soql: str, pos: int, detail: str) -> SoqlError:
        """An error pointing at character ``pos`` of ``soql``, the way Salesforce shows it.

        Salesforce prints the offending line, a caret under the position, the
        1-based row and column, then the explanation.
        """
        pos = max(0, min(pos, len(soql)))
        line_start = soql.rfind("\n", 0, pos) + 1
        line_end = soql.find("\n", pos)
        line = soql[line_start : len(soql) if line_end < 0 else line_end]
        row = soql.count("\n", 0, pos) + 1
        column = pos - line_start + 1
        caret = " " * (column - 1) + "^"
        return cls(error_code, f"\n{line}\n{caret}\nERROR at Row:{row}:Column:{column}\n{detail}")

    def __str__(self) -> str:
        return f"{self.error_code}: {self.message}"
