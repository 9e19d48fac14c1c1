"""CSV written for spreadsheets."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    """Keep a spreadsheet from running typed text (a name, a reference) as a formula."""
    return f"'{text}" if text[:1] in FORMULA_STARTS else text
