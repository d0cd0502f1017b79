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


def _shape(line_tokens: list[tokenize.TokenInfo]) -> str:
    """A logical line with names, strings and numbers folded: lines of the same shape match."""
    out = []
    for token in line_tokens:
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
    """Lines that say little on their own: a field `N : N = 0`, a keyword argument `N = N ,`,
    a constant `N = S`, a decorator, a class or def header, a bare `else :` or `return N`."""
    words = shape.split()
    return (
        len(words) <= 2
        or words[0] in ("@", "class", "def")
        or shape == "return N"
        or (words[0] == "N" and words[1] == ":")
        or (words[0] == "N" and words[1] == "=" and words[-1] == ",")
        or (words[0] == "N" and words[1] == "=" and len(words) <= 4)  # a constant: N = S
    )


def logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, shape) of each logical line that is code: no docstring, comment,
    import, or line of only punctuation."""
    lines: list[tuple[int, str]] = []
    current: list[tokenize.TokenInfo] = []
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING}
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type in skip:
            continue
        if token.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
            if current:
                first = current[0]
                is_docstring = len(current) == 1 and first.type == tokenize.STRING
                if not is_docstring and first.string not in ("import", "from"):
                    shape = _shape(current)
                    if any(c.isalnum() for c in shape):
                        lines.append((first.start[0], shape))
            current = []
            continue
        current.append(token)
    return lines


def twins(files: dict[str, str], size: int = TWIN_LINES) -> list[tuple[str, int, str, int]]:
    """Pairs of places (file, line) where `size` consecutive code lines have the same shape,
    leaving out runs with more than two thin lines (fields, headers, keyword arguments): a
    dataclass and the function that fills it are alike in shape, not in logic."""
    seen: dict[tuple[str, ...], list[tuple[str, int, int]]] = defaultdict(list)
    for name, text in sorted(files.items()):
        lines = logical_lines(text)
        for i in range(len(lines) - size + 1):
            run = tuple(shape for _, shape in lines[i : i + size])
            if sum(not _is_thin(shape) for shape in run) < size - 2:
                continue
            seen[run].append((name, lines[i][0], lines[i + size - 1][0]))
    pairs = []
    for places in seen.values():
        first = places[0]
        for other in places[1:]:
            overlapping = other[0] == first[0] and other[1] <= first[2]
            if not overlapping:
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
    fields = "\n".join(f"    field_{i}: int = {i}" for i in range(12))
    assert not twins({"c.py": f"class A:\n{fields}\n", "d.py": f"class B:\n{fields}\n"})


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
