"""Downloads: every table a person can download is written here, so that no cell a user typed
can run as a spreadsheet formula.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by
Excel, LibreOffice and Google Sheets as a formula (``=HYPERLINK("http://…")`` in a title
name, say). Such text cells get a leading apostrophe, which the spreadsheets show as the text
as typed (OWASP's advice for CSV injection). Numbers stay numbers: a negative lift is not text.
"""

from __future__ import annotations

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """``value`` as a spreadsheet will show it as text: a leading apostrophe on text that would
    start a formula; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as UTF-8 CSV (no index) with every text cell — and every column name — made safe
    to open in a spreadsheet."""
    safe = frame.copy()
    safe.columns = [neutralise(str(c)) for c in safe.columns]
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise)
    # CRLF line ends (RFC 4180) also make the writer quote any field holding a lone CR or LF,
    # which would otherwise split a row for the reader.
    return safe.to_csv(index=False, lineterminator="\r\n").encode()
