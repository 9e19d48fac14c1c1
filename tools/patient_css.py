"""The patient pages' stylesheet: the rules of Bootstrap and app.css that they can use.

    make patient-css                          # writes tracker/static/tracker/css/patient.css
    .venv/bin/python -m tools.patient_css --check   # exit 1 if the committed file is stale

A patient opens their link on a phone, often on a slow network. All of
Bootstrap is about 31 KB compressed, three quarters of a first visit's bytes,
for the few dozen rules these pages use. This keeps a rule of
``bootstrap.min.css`` or ``app.css`` when the patient pages can match it: every
class, element and attribute its selector names appears in a patient template
(``templates/patient/*.html``) or is created by ``check-in.js``. Within a kept
rule, selectors naming something the pages never have are dropped from its
list. Then custom properties that no kept declaration reads (``var(--…)``,
followed through other custom properties), keyframes no kept rule runs and
at-rules left empty go too. The order of what remains is the sources' order,
Bootstrap first, so the cascade is the one the pages had with both files.

Standard library only: Bootstrap's minified CSS is regular enough for a small
tokenizer (strings, comments, nested braces). Class names a template or the
script computes (``btn-{{ tone }}``, ``"alert-" + kind``) cannot be seen here,
so they stop the build with a message rather than go unstyled.
``tests/test_patient_css.py`` checks the committed file against the sources.
"""

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "tracker" / "static" / "tracker"
BOOTSTRAP = STATIC / "vendor" / "bootstrap" / "bootstrap.min.css"
APP_CSS = STATIC / "css" / "app.css"
SCRIPT = STATIC / "js" / "check-in.js"
TEMPLATES = ROOT / "templates" / "patient"
OUTPUT = STATIC / "css" / "patient.css"
COMMAND = "make patient-css"

ANY = "\x00"  # an attribute value computed by a template: any value may occur
TAG_MARK = "\x01"  # where a template tag stood ({% if %}, {% endif %}, ...)


# ---- What the patient pages use ------------------------------------------------


@dataclass
class Vocabulary:
    """The classes, elements and attributes (with their values) the pages can have."""

    classes: set[str] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)
    attributes: dict[str, set[str]] = field(default_factory=dict)

    def add_attribute(self, name: str, value: str = ANY) -> None:
        self.attributes.setdefault(name.lower(), set()).add(value)

    def add_classes(self, text: str, where: str) -> None:
        # Template tags between names are alternatives ({% if %}a{% else %}b{% endif %});
        # a name cut at a hyphen or holding a variable is put together at run time.
        for name in text.replace(TAG_MARK, " ").split():
            if ANY in name or name.startswith("-") or name.endswith("-"):
                raise ValueError(
                    f"{where}: a computed class name ({name!r}) cannot be seen by "
                    "this build; spell each class out in full"
                )
            self.classes.add(name)


_COMMENT_BLOCK = re.compile(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{#.*?#}", re.DOTALL)
_TEMPLATE_TAG = re.compile(r"{%.*?%}", re.DOTALL)
_VARIABLE = re.compile(r"{{.*?}}", re.DOTALL)
_ELEMENT = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)((?:\"[^\"]*\"|'[^']*'|[^'\">])*)>")
_ATTRIBUTE = re.compile(r"([^\s\"'>/=]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?")


def read_template(text: str, vocabulary: Vocabulary, where: str) -> None:
    """Add what one Django template's HTML holds; both branches of every {% if %} count."""
    text = _COMMENT_BLOCK.sub("", text)
    text = _TEMPLATE_TAG.sub(TAG_MARK, text)
    text = _VARIABLE.sub(ANY, text)
    for element in _ELEMENT.finditer(text):
        vocabulary.tags.add(element.group(1).lower())
        for attribute in _ATTRIBUTE.finditer(element.group(2)):
            name = attribute.group(1).strip(TAG_MARK)
            if not name:
                continue
            value = (attribute.group(2) or "").strip("\"'")
            if name.lower() == "class":
                vocabulary.add_classes(value, where)
            vocabulary.add_attribute(name, ANY if ANY in value or TAG_MARK in value else value)


_JS_STRING = re.compile(r'"((?:\\.|[^"\\])*)"')
_CREATE = re.compile(r"createElement\(\s*\"([a-zA-Z0-9-]+)\"")
_SET_ATTRIBUTE = re.compile(r"setAttribute\(\s*\"([\w-]+)\"\s*,\s*(?:\"([^\"]*)\")?")
_REFLECTED = re.compile(r"\.(hidden|disabled|href)\s*=")


def read_script(text: str, vocabulary: Vocabulary, where: str) -> None:
    """Add the classes, elements and attributes a script gives the elements it makes.

    Classes are the string literals on lines that set ``className`` or call
    ``classList``: so the script spells each class in full on that line.
    """
    for number, line in enumerate(text.splitlines(), 1):
        if "className" in line or "classList" in line:
            for literal in _JS_STRING.findall(line):
                vocabulary.add_classes(literal, f"{where}:{number}")
    vocabulary.tags.update(tag.lower() for tag in _CREATE.findall(text))
    for name, value in _SET_ATTRIBUTE.findall(text):
        vocabulary.add_attribute(name, value or ANY)
    for name in _REFLECTED.findall(text):
        vocabulary.add_attribute(name)


def patient_vocabulary(templates: Path = TEMPLATES, script: Path = SCRIPT) -> Vocabulary:
    vocabulary = Vocabulary()
    for path in sorted(templates.glob("*.html")):
        read_template(path.read_text(), vocabulary, _shown(path))
    read_script(script.read_text(), vocabulary, _shown(script))
    return vocabulary


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


# ---- Reading CSS ---------------------------------------------------------------


@dataclass
class Rule:
    selectors: list[str]
    declarations: list[tuple[str, str]]


@dataclass
class AtRule:
    """``@media``/``@supports`` hold rules; ``@keyframes`` a body kept as it is;
    ``@charset`` and the like neither."""

    prelude: str
    rules: list | None = None
    body: str | None = None


_STRING = r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\''
_COMMENTS = re.compile(rf"({_STRING})|/\*.*?\*/", re.DOTALL)
_BRACES = re.compile(rf"{_STRING}|[{{}};]")
_SEPARATORS = re.compile(rf"{_STRING}|[()\[\],;]")
_VAR = re.compile(r"var\(\s*(--[\w-]+)")
_GROUPING = ("@media", "@supports", "@layer", "@container")


def licence(css: str) -> str:
    """The text of the first ``/*! ... */`` comment (where minifiers keep a licence)."""
    match = re.search(r"/\*!(.*?)\*/", css, re.DOTALL)
    return match.group(1) if match else ""


def parse(css: str) -> list:
    """Rules and at-rules, in order."""
    css = _COMMENTS.sub(lambda m: m.group(1) or "", css)
    return [_item(prelude, body) for prelude, body in _blocks(css)]


def _blocks(css: str):
    """Top-level ``(prelude, body)`` pairs; body None for a statement ending in ``;``."""
    depth, start, opened = 0, 0, 0
    for match in _BRACES.finditer(css):
        token = match.group()
        if token == "{":
            if depth == 0:
                opened = match.start()
            depth += 1
        elif token == "}":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced '}}' at {match.start()}")
            if depth == 0:
                yield css[start:opened].strip(), css[opened + 1 : match.start()]
                start = match.end()
        elif token == ";" and depth == 0:
            yield css[start : match.start()].strip(), None
            start = match.end()
    if depth or css[start:].strip():
        raise ValueError("unbalanced braces at the end of the stylesheet")


def _item(prelude: str, body: str | None):
    prelude = " ".join(prelude.split())
    if prelude.startswith("@"):
        if body is None:
            return AtRule(prelude)
        if prelude.split()[0] in _GROUPING:
            return AtRule(prelude, rules=parse(body))
        return AtRule(prelude, body=body.strip())
    return Rule(_split(prelude, ","), _declarations(body))


def _split(text: str, separator: str) -> list[str]:
    """``text`` cut at ``separator`` outside strings, parentheses and brackets."""
    parts, depth, start = [], 0, 0
    for match in _SEPARATORS.finditer(text):
        token = match.group()
        if token in "([":
            depth += 1
        elif token in ")]":
            depth -= 1
        elif token == separator and depth == 0:
            parts.append(text[start : match.start()])
            start = match.end()
    parts.append(text[start:])
    return [part.strip() for part in parts if part.strip()]


def _declarations(body: str) -> list[tuple[str, str]]:
    found = []
    for declaration in _split(body, ";"):
        name, colon, value = declaration.partition(":")
        if not colon:
            raise ValueError(f"not a declaration: {declaration!r}")
        name = name.strip()
        # Values of custom properties are kept as written; others tidied.
        found.append((name, value.strip() if name.startswith("--") else " ".join(value.split())))
    return found


# ---- Keeping what the pages can match ---------------------------------------------


_PART = re.compile(
    r"""
    \s*[>+~]?\s*                                   # a combinator
    (?:
        (?P<type>\*|[a-zA-Z][\w-]*)                # an element (or any)
      | \.(?P<cls>-?[_a-zA-Z][\w-]*)               # a class
      | \#(?P<id>[\w-]+)
      | \[(?P<attr>[^\]]*)\]
      | ::?(?P<pseudo>[\w-]+)(?P<args>\()?         # :hover, ::before, :not( ...
    )""",
    re.VERBOSE,
)
_ATTRIBUTE_SELECTOR = re.compile(
    r"""^\s*([\w-]+)\s*(?:([~|^$*]?=)\s*("[^"]*"|'[^']*'|[^\s\]]+))?\s*[iIsS]?\s*$"""
)


def matches(selector: str, vocabulary: Vocabulary) -> bool:
    """Whether the pages can have everything ``selector`` names.

    Pseudo-classes (:hover, :checked, :not(...)) need nothing; ``:is()`` and
    ``:where()`` need one of their selectors.
    """
    position = 0
    while position < len(selector):
        part = _PART.match(selector, position)
        if not part or part.end() == position:
            raise ValueError(f"cannot read selector {selector!r} at {position}")
        position = part.end()
        if part["type"] and part["type"] != "*" and part["type"].lower() not in vocabulary.tags:
            return False
        if part["cls"] and part["cls"] not in vocabulary.classes:
            return False
        if part["attr"] is not None and not _has_attribute(part["attr"], vocabulary):
            return False
        if part["args"]:
            close = _closing(selector, position - 1)
            inside = selector[position:close]
            position = close + 1
            if part["pseudo"].lower() in ("is", "where", "matches") and not any(
                matches(alternative, vocabulary) for alternative in _split(inside, ",")
            ):
                return False
    return True


def _closing(text: str, opening: int) -> int:
    depth = 0
    for index in range(opening, len(text)):
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        if depth == 0:
            return index
    raise ValueError(f"unbalanced parenthesis in {text!r}")


def _has_attribute(text: str, vocabulary: Vocabulary) -> bool:
    parsed = _ATTRIBUTE_SELECTOR.match(text)
    if not parsed:
        raise ValueError(f"cannot read attribute selector [{text}]")
    name, operator, value = parsed.groups()
    values = vocabulary.attributes.get(name.lower())
    if values is None:
        return False
    if operator != "=":
        return True  # present, or a partial match: keep it
    return ANY in values or value.strip("\"'") in values


def subset(items: list, vocabulary: Vocabulary) -> list:
    """The rules and at-rules the pages can match, each selector list trimmed."""
    kept = []
    for item in items:
        if isinstance(item, Rule):
            selectors = [s for s in item.selectors if matches(s, vocabulary)]
            if selectors:
                kept.append(Rule(selectors, item.declarations))
        elif item.rules is not None:
            inner = subset(item.rules, vocabulary)
            if inner:
                kept.append(AtRule(item.prelude, rules=inner))
        elif not item.prelude.startswith("@charset"):
            kept.append(item)  # @keyframes, judged by prune()
    return kept


def _walk(items):
    for item in items:
        if isinstance(item, Rule):
            yield item
        elif item.rules is not None:
            yield from _walk(item.rules)


def prune(items: list) -> list:
    """Drop custom properties nothing reads and keyframes nothing runs."""
    declarations = [d for rule in _walk(items) for d in rule.declarations]
    values: dict[str, list[str]] = {}
    for name, value in declarations:
        if name.startswith("--"):
            values.setdefault(name, []).append(value)
    read = {
        v for name, value in declarations if not name.startswith("--") for v in _VAR.findall(value)
    }
    todo = list(read)
    while todo:
        for value in values.get(todo.pop(), ()):
            for name in _VAR.findall(value):
                if name not in read:
                    read.add(name)
                    todo.append(name)
    animations = " ".join(
        value for name, value in declarations if name in ("animation", "animation-name")
    )

    def keep(items):
        out = []
        for item in items:
            if isinstance(item, Rule):
                used = [(n, v) for n, v in item.declarations if not n.startswith("--") or n in read]
                if used:
                    out.append(Rule(item.selectors, used))
            elif item.rules is not None:
                inner = keep(item.rules)
                if inner:
                    out.append(AtRule(item.prelude, rules=inner))
            elif item.prelude.startswith("@keyframes"):
                name = item.prelude.split()[1]
                if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", animations):
                    out.append(item)
            else:
                out.append(item)
        return out

    return keep(items)


def _tidy(selector: str) -> str:
    selector = " ".join(selector.split())
    return re.sub(r"\s*([>+~])\s*", r"\1", selector)


def serialize(items: list) -> str:
    out = []
    for item in items:
        if isinstance(item, Rule):
            body = ";".join(f"{name}:{value}" for name, value in item.declarations)
            out.append(",".join(_tidy(s) for s in item.selectors) + "{" + body + "}")
        elif item.rules is not None:
            out.append(item.prelude + "{" + serialize(item.rules) + "}")
        elif item.body is not None:
            out.append(item.prelude + "{" + item.body + "}")
        else:
            out.append(item.prelude + ";")
    return "".join(out)


def selectors_in(css: str) -> list[str]:
    """Every selector of a stylesheet (inside @media too)."""
    return [s for rule in _walk(parse(css)) for s in rule.selectors]


def classes_in(css: str) -> set[str]:
    return {name for s in selectors_in(css) for name in re.findall(r"\.(-?[_a-zA-Z][\w-]*)", s)}


def missing_classes(vocabulary: Vocabulary, stylesheet: str) -> list[str]:
    """Classes the pages use that Bootstrap or app.css style and ``stylesheet`` does not."""
    styled = classes_in(BOOTSTRAP.read_text()) | classes_in(APP_CSS.read_text())
    return sorted((vocabulary.classes & styled) - classes_in(stylesheet))


# ---- The file ------------------------------------------------------------------------


def build(vocabulary: Vocabulary | None = None) -> str:
    vocabulary = vocabulary or patient_vocabulary()
    bootstrap = BOOTSTRAP.read_text()
    items = subset(parse(bootstrap), vocabulary) + subset(parse(APP_CSS.read_text()), vocabulary)
    notice = "\n".join(
        " * " + line.strip().lstrip("* ").rstrip()
        for line in licence(bootstrap).strip().splitlines()
    )
    header = (
        '@charset "UTF-8";'
        "/*! Needle Aftercare, patient pages: the rules of Bootstrap and app.css they use.\n"
        " * Generated from templates/patient/ and check-in.js by tools/patient_css.py;\n"
        f" * do not edit. Regenerate: {COMMAND}\n"
        " *\n"
        f"{notice}\n"
        " */\n"
    )
    return header + serialize(prune(items)) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 if the committed stylesheet differs from a new build",
    )
    args = parser.parse_args(argv)
    text = build()
    current = OUTPUT.read_text() if OUTPUT.exists() else ""
    if args.check:
        if text != current:
            print(f"{_shown(OUTPUT)} is out of date: run {COMMAND}", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text)
    print(
        f"{_shown(OUTPUT)}: {len(text.encode()):,} bytes "
        f"({len(BOOTSTRAP.read_bytes()) + len(APP_CSS.read_bytes()):,} in its sources)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
