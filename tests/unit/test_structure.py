"""The shape of src/: no module much over 400 lines, no copy-paste twin (import cycles and the
layering: test_layers.py). Each check is a plain function over source text, shown to fire on a
small made-up example before it is run over the tree."""

from __future__ import annotations

import io
import keyword
import tokenize
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
MAX_LINES = 420  # "about 400": a module past this holds two ideas
TWIN_LINES = 6


def modules(root: Path = SRC) -> dict[str, Path]:
    """Dotted module name -> file, for every module under `root`."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def long_modules(root: Path = SRC, limit: int = MAX_LINES) -> dict[str, int]:
    return {
        name: count
        for name, path in modules(root).items()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > limit
    }


def _shape(tokens: list[tokenize.TokenInfo]) -> str:
    """Tokens with names, strings and numbers folded: lines of the same shape match."""
    out = []
    for token in tokens:
        if token.type == tokenize.NAME:
            out.append(token.string if keyword.iskeyword(token.string) else "N")
        elif token.type == tokenize.STRING or token.type == getattr(tokenize, "FSTRING_START", -1):
            out.append("S")
        elif token.type == tokenize.NUMBER:
            out.append("0")
        elif token.type == tokenize.OP:
            out.append(token.string)
    return " ".join(out)


def _is_thin(shape: str) -> bool:
    """A line that says nothing on its own: a bracket, `else :`, `N ,`, a decorator."""
    words = shape.split()
    return len(words) <= 2 or words[0] == "@"


def _is_declaration(shape: str) -> bool:
    """A dataclass field `N : N = 0`, a mapping entry `S : N ,`, a keyword argument or any
    element of a list `... ,`, a constant `N = S`: tables and field lists differ by their names
    and values, which is what they are for."""
    words = shape.split()
    return (
        words[-1] == ","
        or (len(words) >= 3 and words[0] in ("N", "S") and words[1] == ":")
        or (len(words) <= 4 and words[0] == "N" and words[1] == "=")
    )


def code_lines(text: str) -> list[tuple[int, str, str]]:
    """(line number, shape, text) of each physical line of code: no docstring, comment, import
    or blank line. A statement spread over several lines counts as several lines, as a reader
    sees them."""
    lines: list[tuple[int, str, str]] = []
    statement: list[tokenize.TokenInfo] = []
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING}
    source = text.splitlines()
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type in skip:
            continue
        if token.type not in (tokenize.NEWLINE, tokenize.ENDMARKER):
            statement.append(token)
            continue
        if not statement:
            continue
        first = statement[0]
        is_docstring = len(statement) == 1 and first.type == tokenize.STRING
        if not is_docstring and first.string not in ("import", "from"):
            rows: dict[int, list[tokenize.TokenInfo]] = defaultdict(list)
            for part in statement:
                rows[part.start[0]].append(part)
            for row, tokens in sorted(rows.items()):
                lines.append((row, _shape(tokens), source[row - 1].strip()))
        statement = []
    return lines


def twins(files: dict[str, str], size: int = TWIN_LINES) -> list[tuple[str, int, str, int]]:
    """Pairs of places (file, line) where `size` consecutive lines of code have the same shape.
    Left out: runs of mostly thin lines (brackets, decorators), and runs of mostly declarations
    (fields, keyword arguments, constants) unless they are the same to the letter."""
    seen: dict[tuple[str, ...], list[tuple[str, int, int, tuple[str, ...]]]] = defaultdict(list)
    for name, text in sorted(files.items()):
        lines = [line for line in code_lines(text) if not _is_thin(line[1])]
        for i in range(len(lines) - size + 1):
            run = lines[i : i + size]
            shapes = tuple(shape for _, shape, _ in run)
            texts = tuple(text for _, _, text in run)
            seen[shapes].append((name, run[0][0], run[-1][0], texts))
    pairs = []
    for shapes, places in seen.items():
        declarations = sum(_is_declaration(shape) for shape in shapes) * 2 >= len(shapes)
        for index, first in enumerate(places):
            for other in places[index + 1 :]:
                if other[0] == first[0] and other[1] <= first[2]:
                    continue  # overlapping runs of one file
                if declarations and other[3] != first[3]:
                    continue
                pairs.append((first[0], first[1], other[0], other[1]))
    return sorted(set(pairs))


# -- the checks fire on made-up examples --------------------------------------------------------


def test_a_twin_is_found_with_other_names_and_values() -> None:
    body = """
def {f}(values, {x}):
    total = 0
    for value in values:
        if value > {n}:
            total += value * {x}
        else:
            total -= len(str(value)) + {n}
    return {{"total": total, "name": "{s}"}}
"""
    files = {
        "a.py": body.format(f="f", x="x", n=1, s="a"),
        "b.py": body.format(f="g", x="y", n=2, s="b"),
    }
    assert twins(files), "a block repeated with other names must be found"
    # field lists and tables differ by their names; the same fields twice are one type twice
    names = "\n".join(f"    count_{i}: int = {i}" for i in range(12))
    others = "\n".join(f"    total_{i}: float = {i + 1}" for i in range(12))
    assert not twins({"c.py": f"class A:\n{names}\n", "d.py": f"class B:\n{others}\n"})
    assert twins({"c.py": f"class A:\n{names}\n", "d.py": f"class B:\n{names}\n"})


def test_a_long_module_is_found(tmp_path: Path) -> None:
    (tmp_path / "big.py").write_text("x = 1\n" * (MAX_LINES + 1))
    (tmp_path / "small.py").write_text("x = 1\n")
    assert long_modules(tmp_path) == {"big": MAX_LINES + 1}


# -- the tree ----------------------------------------------------------------------------------


def test_no_module_in_src_is_much_over_400_lines() -> None:
    assert long_modules() == {}


def test_src_has_no_copy_paste_twin() -> None:
    files = {str(p.relative_to(SRC)): p.read_text(encoding="utf-8") for p in modules().values()}
    found = twins(files)
    assert found == [], "blocks of the same shape in two places: " + "; ".join(
        f"{a}:{la} ~ {b}:{lb}" for a, la, b, lb in found
    )
