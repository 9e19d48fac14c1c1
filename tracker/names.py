"""Names and references made comparable: without accents, case or word order.

``name_key("Lucía  Pérez")`` is ``"lucia perez"`` with the words sorted, so
"Pérez Lucía" has the same key: it finds possible duplicates (with the year of
birth) and tells apart patients who share a name in lists. ``search_key``
adds the reference's words; the patient list searches it for each word typed,
at a word's start. Both are stored on the patient and indexed, so a search is
the same plain ``LIKE`` on SQLite and PostgreSQL, whatever their collations.
"""

import re
import unicodedata

_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """The words of ``text``, casefolded, accents and other marks removed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _WORD.findall(plain)


def name_key(name: str) -> str:
    """A name's words, plain and sorted: equal for "Lucía Pérez" and "perez LUCIA"."""
    return " ".join(sorted(words(name)))


def search_key(name: str, reference: str) -> str:
    """What the patient list searches: a space, then each word of name and reference
    followed by a space, so that " word" matches at a word's start."""
    return " " + "".join(f"{word} " for word in sorted(set(words(name) + words(reference))))
