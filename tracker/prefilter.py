"""What text every match of a rule must contain: a formula of literal words (RE2's prefilter).

Most rule searches find nothing (on the bench corpus 85% of them, and they take 80% of the search
time): the window holds the rule's trigger word but not the rest of what the rule needs. From a
rule's expanded pattern this module derives a formula over literal strings ("atoms"), ANDs and ORs,
that the text consumed by any match satisfies. A window whose text does not satisfy it cannot hold
a match, so the engine skips its search. It is a necessary condition derived from the pattern, not
a guess: claims do not change, only searches that could find nothing are saved.

The analysis reads the pattern's own syntax (the VERBOSE dialect of the ``regex`` module the rules
are written in). Anything it does not understand counts as "may match anything", which only
weakens the filter, never makes it wrong. Lookarounds consume nothing, so they add nothing.

Two refinements. The strings every match *starts* with, when they are few words, let a search
begin at the first of them. And the engine reads text ``collapsed``: a run of whitespace is one
space and a masked number one mask character, so "\\uE000+\\s+رهائن" becomes the atom
"<mask> رهائن": a window passes only if a number there is followed by the noun.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Union

import regex

from tracker.ruleset import NUMBER_MASK

# A formula: None is "true" (no condition); a frozenset is "one of these atoms occurs"; a tuple
# ("and" | "or", parts) combines formulas.
Formula = Union[None, frozenset[str], tuple[str, tuple["Formula", ...]]]

MIN_ATOM = 3  # shorter strings (من، عن، في) occur everywhere: as conditions they only cost
MAX_EXACT = 64  # the most strings a piece of pattern may be spelt out as before it becomes a formula
MAX_ATOMS = 512  # the most strings one condition may list
_ZERO_WIDTH_ESCAPES = frozenset("bBAZGmM")
_CLASS_ESCAPES = frozenset("sSdDwWhHpPXNR")
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "a": "\a", "e": "\x1b"}


@dataclass(frozen=True, slots=True)
class _Info:
    """What a piece of pattern matches: every string, when few (``exact``), a formula, and the
    strings one of which every match of it begins with (``first``, when ``exact`` does not say)."""

    exact: frozenset[str] | None
    formula: Formula
    first: frozenset[str] | None = None


def _first(info: _Info) -> frozenset[str] | None:
    """Strings one of which begins every match of ``info`` (None: unknown, or it may be empty)."""
    if info.exact is not None:
        return info.exact if "" not in info.exact else None
    return info.first


# Results of groups by their text, shared by the patterns of one rule set.
Memo = dict[str, _Info]

_LITERAL_RUN = regex.compile(r"[^\s#()\[\]\\|*+?{}.^$]+")  # VERBOSE: spaces and "#" are syntax
_PLAIN_RUN = regex.compile(r"[^()\[\]\\|*+?{}.^$]+")
_SPACE = regex.compile(r"\s*")
_DOUBLE_MASK = NUMBER_MASK * 2
# any whitespace but a space or a newline (the standard library's \s holds every character the
# regex module's \s holds, and four more: a safe test, and faster)
_ODD_SPACE = re.compile(r"[^\S\n ]")
_RUN_PIECES = (frozenset({" "}), frozenset({NUMBER_MASK}))
_ANY = _Info(None, None)
_EMPTY = _Info(frozenset({""}), None)


def collapsed(text: str) -> str:
    """``text`` as the prefilter reads a document: each run of whitespace within a line one
    space, each run of number masks one mask, so that "\\s+" and "{{number}}" become characters of
    its words. Newlines stay: the engine never searches across one."""
    if _single_spaced(text) and _DOUBLE_MASK not in text:
        return text  # the common case, and the analysis asks tens of thousands of times
    return collapse_text(text).text


def _single_spaced(text: str) -> bool:
    """No two spaces in a row and no whitespace but spaces and newlines: only numbers collapse."""
    return "  " not in text and _ODD_SPACE.search(text) is None


# Newlines are kept: sentences end at one, so no span the engine searches holds one.
_LONG_RUNS = regex.compile(r"[^\S\n]{2,}|[^\S\n ]|\uE000{2,}")
_MASK_RUNS = regex.compile(r"\uE000{2,}")



@dataclass(frozen=True, slots=True)
class CollapsedText:
    """A text as ``collapsed`` reads it, with the way back to the offsets of the original."""

    text: str
    _cut: list[int]  # collapsed offset of each run that became one character
    _start: list[int]  # its original start
    _end: list[int]  # its original end
    _removed: list[int]  # characters removed up to and including that run

    def index(self, pos: int) -> int:
        """Collapsed offset of the character that holds original offset ``pos``."""
        k = bisect_right(self._start, pos) - 1
        if k < 0:
            return pos
        if pos < self._end[k]:
            return self._cut[k]
        return pos - self._removed[k]

    def start_of(self, index: int) -> int:
        """Original offset where the character at collapsed ``index`` (or its run) begins."""
        k = bisect_right(self._cut, index) - 1
        if k < 0:
            return index
        if self._cut[k] == index:
            return self._start[k]
        return index + self._removed[k]


def collapse_text(text: str) -> CollapsedText:
    """``collapsed(text)`` and its map. News text rarely holds two spaces in a row or odd
    whitespace; then only the numbers collapse, found by a scan for the mask."""
    runs = _MASK_RUNS if _single_spaced(text) else _LONG_RUNS
    pieces: list[str] = []
    cut: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    removed: list[int] = []
    pos = gone = 0
    for m in runs.finditer(text):
        a, b = m.span()
        pieces.append(text[pos:a])
        pieces.append(NUMBER_MASK if text[a] == NUMBER_MASK else " ")
        cut.append(a - gone)
        starts.append(a)
        ends.append(b)
        gone += b - a - 1
        removed.append(gone)
        pos = b
    pieces.append(text[pos:])
    return CollapsedText("".join(pieces), cut, starts, ends, removed)


def _and(parts: list[Formula]) -> Formula:
    kept: list[Formula] = []
    for p in parts:
        if p is None:
            continue
        if isinstance(p, tuple) and p[0] == "and":
            kept.extend(p[1])
        elif p not in kept:
            kept.append(p)
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else ("and", tuple(kept))


def _or(parts: list[Formula]) -> Formula:
    if not parts or any(p is None for p in parts):
        return None
    atoms: set[str] = set()
    rest: list[Formula] = []
    for p in parts:
        if isinstance(p, frozenset):
            atoms |= p
        elif p[0] == "or":  # type: ignore[index]
            for q in p[1]:  # type: ignore[index]
                if isinstance(q, frozenset):
                    atoms |= q
                else:
                    rest.append(q)
        else:
            rest.append(p)
    if atoms:
        rest.insert(0, _fewest(atoms))
    return rest[0] if len(rest) == 1 else ("or", tuple(rest))


def _fewest(atoms: Collection[str]) -> frozenset[str]:
    """The same condition "one of these occurs" with fewer atoms: one that holds another is
    dropped, since text holding it holds the other ("الاسري" goes where "اسري" is). Fewer words
    for the engine to find (6,487 -> 2,927 for the project's rules), and the same spans pass."""
    kept: list[str] = []
    for atom in sorted(atoms, key=len):
        if not any(k in atom for k in kept):
            kept.append(atom)
    return frozenset(kept)


def _as_formula(info: _Info) -> Formula:
    """The strongest formula an info gives: its strings as atoms when all are long enough."""
    if info.exact is not None and info.exact and all(len(s) >= MIN_ATOM for s in info.exact):
        return _and([_fewest(info.exact), info.formula])
    return info.formula


def _alternate(infos: list[_Info]) -> _Info:
    if all(i.exact is not None for i in infos):
        union = frozenset().union(*(i.exact for i in infos))  # type: ignore[arg-type]
        if len(union) <= MAX_EXACT:
            return _Info(union, _or([i.formula for i in infos]) if all(i.formula is not None for i in infos) else None)
    firsts = [_first(i) for i in infos]
    first = None if any(f is None for f in firsts) else frozenset().union(*firsts)  # type: ignore[arg-type]
    return _Info(None, _or([_as_formula(i) for i in infos]), first)


class PatternSyntaxError(ValueError):
    """A pattern this analysis cannot read (the caller then uses no filter for the rule)."""


class _Parser:
    """Recursive descent over a VERBOSE ``regex`` pattern, computing ``_Info`` as it goes."""

    def __init__(self, pattern: str, lists: Mapping[str, Collection[str]],
                 memo: Memo | None = None, verbose: bool = True, collapse: bool = False) -> None:
        self.p = pattern
        self.i = 0
        self.lists = lists
        self.verbose = verbose
        self.collapse = collapse  # strings as ``collapsed`` text reads them
        self.run = _LITERAL_RUN if verbose else _PLAIN_RUN
        # Rules share fragments: a group's result is kept by its text (lists are the rule set's).
        self.memo = memo
        self.close = _closing_parens(pattern, verbose) if memo is not None else {}

    def parse(self) -> _Info:
        info = self._alternation()
        if self.i != len(self.p):
            raise PatternSyntaxError(f"unexpected {self.p[self.i]!r} at {self.i}")
        return info

    def _skip(self) -> None:
        if not self.verbose:
            return
        p, n = self.p, len(self.p)
        while self.i < n:
            c = p[self.i]
            if c in " \t\n\r\f\v":
                self.i += 1
            elif c == "#":
                j = p.find("\n", self.i)
                self.i = n if j < 0 else j + 1
            else:
                return

    def _alternation(self) -> _Info:
        branches = [self._sequence()]
        while self.i < len(self.p) and self.p[self.i] == "|":
            self.i += 1
            branches.append(self._sequence())
        return branches[0] if len(branches) == 1 else _alternate(branches)

    def _sequence(self) -> _Info:
        """Pieces in a row: strings spelt out while they stay few (``tail``), the rest ANDed."""
        done: list[Formula] = []  # formulas of the pieces before the tail
        tail: frozenset[str] = frozenset({""})
        exact = True  # no piece has been cut off: the tail spells the whole sequence
        first: frozenset[str] | None = None
        leading = True  # no piece that consumes text seen yet
        p = self.p
        while True:
            self._skip()
            if self.i >= len(p) or p[self.i] in "|)":
                break
            run = self.run.match(p, self.i)
            if run is not None and run.end() - run.start() > 1:
                # a run of plain characters in one step; a quantifier after it takes its last
                end = run.end()
                after = _SPACE.match(p, end).end() if self.verbose else end
                if after < len(p) and p[after] in "*+?{":
                    end -= 1
                piece = _Info(frozenset({p[self.i:end]}), None)
                self.i = end
            else:
                piece = self._quantified(self._atom())
            if self.collapse and piece.exact is not None:
                piece = _Info(frozenset(map(collapsed, piece.exact)), piece.formula, piece.first)
            if leading and piece.exact != _EMPTY.exact:
                leading = False
                first = _first(piece)
            done.append(piece.formula)
            if piece.exact is not None and len(tail) * len(piece.exact) <= MAX_EXACT:
                tail = frozenset(x + y for x in tail for y in piece.exact)
                if self.collapse:
                    tail = frozenset(map(collapsed, tail))
                continue
            exact = False
            if piece.exact is not None:
                done.append(_as_formula(_Info(tail, None)))
                tail = piece.exact
            else:
                # the tail runs into the piece, whose match starts with one of its first strings
                starts = _first(piece)
                if starts is not None and tail != _EMPTY.exact and len(tail) * len(starts) <= MAX_ATOMS:
                    joined = (x + y for x in tail for y in starts)
                    done.append(_as_formula(_Info(frozenset(map(collapsed, joined) if self.collapse else joined), None)))
                else:
                    done.append(_as_formula(_Info(tail, None)))
                done.append(_as_formula(piece))
                tail = frozenset({""})
        if exact:
            return _Info(tail, _and(done))
        return _Info(None, _and([*done, _as_formula(_Info(tail, None))]), first)

    def _quantified(self, atom: _Info) -> _Info:
        self._skip()
        p = self.p
        if self.i >= len(p):
            return atom
        c = p[self.i]
        low: int | None = None
        if c in "*+?":
            low = 1 if c == "+" else 0
            self.i += 1
        elif c == "{":
            j = p.find("}", self.i)
            body = p[self.i + 1:j] if j > 0 else ""
            lo, _, hi = body.partition(",")
            if j > 0 and (lo.strip().isdigit() or (not lo.strip() and "," in body)) and (not hi.strip() or hi.strip().isdigit()):
                low = int(lo) if lo.strip() else 0
                exactly_one = low == 1 and "," not in body
                self.i = j + 1
                if exactly_one:
                    self._lazy_or_possessive()
                    return atom
        if low is None:
            return atom
        self._lazy_or_possessive()
        if self.collapse and atom.exact in _RUN_PIECES:  # "\s+" reads as one space, "\uE000+" as one mask
            return atom if low > 0 else _Info(atom.exact | {""}, None)
        if low == 0:
            return _Info(atom.exact | {""} if atom.exact is not None and c == "?" else None, None)
        return _Info(None, _as_formula(atom), _first(atom))

    def _lazy_or_possessive(self) -> None:
        if self.i < len(self.p) and self.p[self.i] in "?+":
            self.i += 1

    def _atom(self) -> _Info:
        p = self.p
        c = p[self.i]
        if c == "(":
            return self._group()
        if c == "[":
            return self._class()
        if c == "\\":
            return self._escape()
        self.i += 1
        if c in "^$":
            return _EMPTY
        if c == ".":
            return _ANY
        return _Info(frozenset({c}), None)

    def _group(self) -> _Info:
        start = self.i
        end = self.close.get(start)
        if end is None or self.memo is None:
            return self._parse_group()
        key = self.p[start:end + 1]
        info = self.memo.get(key)
        if info is not None:
            self.i = end + 1
            return info
        info = self._parse_group()
        if self.i == end + 1:  # kept only where the parse agrees with the pairing of parentheses
            self.memo[key] = info
        return info

    def _parse_group(self) -> _Info:
        p = self.p
        self.i += 1
        zero_width = False
        conditional = False
        if p.startswith("?", self.i):
            head = p[self.i:self.i + 4]
            if head.startswith(("?:", "?>", "?|")):
                self.i += 2
            elif head.startswith(("?=", "?!")):
                self.i += 2
                zero_width = True
            elif head.startswith(("?<=", "?<!")):
                self.i += 3
                zero_width = True
            elif head.startswith(("?P<", "?<")):
                self.i = p.index(">", self.i) + 1
            elif head.startswith("?("):
                self.i = p.index(")", self.i) + 1
                conditional = True
            else:
                raise PatternSyntaxError(f"group syntax {head!r} at {self.i}")
        if conditional:
            # "(?(g)yes|no)": either branch may run; without "|no" the other one is empty
            branches = [self._sequence()]
            if p.startswith("|", self.i):
                self.i += 1
                branches.append(self._sequence())
            inner = _alternate(branches if len(branches) == 2 else [branches[0], _EMPTY])
        else:
            inner = self._alternation()
        if self.i >= len(p) or p[self.i] != ")":
            raise PatternSyntaxError(f"unclosed group at {self.i}")
        self.i += 1
        return _EMPTY if zero_width else inner

    def _class(self) -> _Info:
        """A set: its characters when it is a plain list of a few, else anything."""
        p = self.p
        j = self.i + 1
        negated = p.startswith("^", j)
        if negated:
            j += 1
        chars: set[str] | None = set()
        first = True
        while j < len(p) and (p[j] != "]" or first):
            first = False
            c = p[j]
            if c == "\\":
                nxt = p[j + 1]
                if nxt == "u":
                    c, j = chr(int(p[j + 2:j + 6], 16)), j + 6
                elif nxt in _SIMPLE_ESCAPES:
                    c, j = _SIMPLE_ESCAPES[nxt], j + 2
                elif nxt.isalnum():
                    chars, j = None, j + 2  # \s, \d, \p{..} ...: a class of its own
                    if nxt in "pPN" and p.startswith("{", j):
                        j = p.index("}", j) + 1
                    continue
                else:
                    c, j = nxt, j + 2
            elif c == "[":
                raise PatternSyntaxError(f"nested set at {j}")
            else:
                j += 1
            if p.startswith("-", j) and not p.startswith("-]", j):
                chars = None  # a range: its end is read as the next character
                j += 1
                continue
            if chars is not None:
                chars.add(c)
        if j >= len(p):
            raise PatternSyntaxError(f"unclosed set at {self.i}")
        self.i = j + 1
        if negated or chars is None or not chars or len(chars) > MAX_EXACT:
            return _ANY
        return _Info(frozenset(chars), None)

    def _escape(self) -> _Info:
        p = self.p
        nxt = p[self.i + 1]
        self.i += 2
        if nxt == "L":
            j = p.index(">", self.i)
            name = p[self.i + 1:j]
            self.i = j + 1
            words = self.lists.get(name)
            if words is None:
                return _ANY
            exact = frozenset(map(collapsed, words) if self.collapse else words)
            if len(exact) <= MAX_EXACT:
                return _Info(exact, None)
            return _Info(None, exact if all(len(w) >= MIN_ATOM for w in exact) else None, exact)
        if nxt == "u":
            c = chr(int(p[self.i:self.i + 4], 16))
            self.i += 4
            return _Info(frozenset({c}), None)
        if nxt == "x":
            c = chr(int(p[self.i:self.i + 2], 16))
            self.i += 2
            return _Info(frozenset({c}), None)
        if nxt in _SIMPLE_ESCAPES:
            return _Info(frozenset({_SIMPLE_ESCAPES[nxt]}), None)
        if nxt in _ZERO_WIDTH_ESCAPES:
            return _EMPTY
        if nxt in "pPNg" and p.startswith(("{", "<"), self.i):
            self.i = p.index("}" if p[self.i] == "{" else ">", self.i) + 1
            return _ANY
        if nxt == "s" and self.collapse:
            return _Info(frozenset({" "}), None)
        if nxt in _CLASS_ESCAPES or nxt.isdigit():
            return _ANY  # a class, or a back-reference: may be anything
        if nxt.isalnum():
            raise PatternSyntaxError(f"escape \\{nxt} at {self.i - 2}")
        return _Info(frozenset({nxt}), None)


_PAREN_TOKENS = regex.compile(r"\\.|\[\^?\]?(?:\\.|[^\]\\])*\]|\#[^\n]*|[()]", regex.DOTALL)
_PLAIN_PAREN_TOKENS = regex.compile(r"\\.|\[\^?\]?(?:\\.|[^\]\\])*\]|[()]", regex.DOTALL)


def _closing_parens(pattern: str, verbose: bool = True) -> dict[int, int]:
    """Where each group of ``pattern`` closes, by where it opens (empty if they do not pair up)."""
    opens: list[int] = []
    close: dict[int, int] = {}
    for m in (_PAREN_TOKENS if verbose else _PLAIN_PAREN_TOKENS).finditer(pattern):
        token = m.group()
        if token == "(":
            opens.append(m.start())
        elif token == ")":
            if not opens:
                return {}
            close[opens.pop()] = m.start()
    return close if not opens else {}


def required(pattern: str, lists: Mapping[str, Collection[str]], memo: Memo | None = None,
             verbose: bool = True, collapse: bool = False) -> Formula:
    """The formula every match of ``pattern`` (VERBOSE unless told, with named ``lists``)
    satisfies. Patterns analysed with one ``memo`` must share their lists and flags (one rule
    set's)."""
    return analyse(pattern, lists, memo, verbose, collapse)[0]


def analyse(pattern: str, lists: Mapping[str, Collection[str]], memo: Memo | None = None,
            verbose: bool = True, collapse: bool = False) -> tuple[Formula, frozenset[str] | None]:
    """``required``, and the strings one of which every match starts with when all are at least
    ``MIN_ATOM`` long (a search may then start at the first of them: nothing matches before)."""
    info = _Parser(pattern, lists, memo, verbose, collapse).parse()
    starts = _first(info)
    if starts is not None and not all(len(w) >= MIN_ATOM for w in starts):
        starts = None
    return _as_formula(info), starts


def holds(formula: Formula, present: Collection[str]) -> bool:
    """Whether text holding the atoms ``present`` (and no others of the formula) satisfies it."""
    if formula is None:
        return True
    if isinstance(formula, frozenset):
        return not formula.isdisjoint(present)
    if formula[0] == "and":
        return all(holds(part, present) for part in formula[1])
    return any(holds(part, present) for part in formula[1])


def atoms(formula: Formula) -> set[str]:
    """Every literal a formula mentions."""
    if formula is None:
        return set()
    if isinstance(formula, frozenset):
        return set(formula)
    out: set[str] = set()
    for part in formula[1]:
        out |= atoms(part)
    return out


# A formula over atom bits, for speed: None is true; an int "some atom of this mask occurs"; a
# tuple (is_and, parts) combines.
Gate = Union[None, int, tuple[bool, tuple["Gate", ...]]]


def gate(formula: Formula, bit: Mapping[str, int]) -> Gate:
    """``formula`` with each set of atoms turned into the mask of their bits."""
    if formula is None:
        return None
    if isinstance(formula, frozenset):
        mask = 0
        for atom in formula:
            mask |= bit[atom]
        return mask
    return (formula[0] == "and", tuple(gate(part, bit) for part in formula[1]))


def compile_gate(g: Gate) -> Callable[[int], bool] | None:
    """A gate as a Python function of the atom bits present (a search plan checks ~80 a text:
    a recursive walk cost more than the searches it saved on small texts); None when always true."""
    if g is None:
        return None

    def source(part: Gate) -> str:
        if part is None:
            return "True"
        if isinstance(part, int):
            return f"(p & {part:#x})"
        joiner = " and " if part[0] else " or "
        return "(" + joiner.join(source(q) for q in part[1]) + ")"

    # only integers and operators are spliced in: nothing from a rule file reaches the code
    return eval(f"lambda p: bool({source(g)})", {"__builtins__": {"bool": bool}})  # noqa: S307
