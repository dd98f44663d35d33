"""Input files -> ``Article`` records; every record that cannot be read becomes a located ``ReadError``.

Formats (the keys are the same everywhere: ``id``, ``publisher``, ``url``, ``published_at``,
``title``, ``text``; any other key is kept as metadata):
- JSONL (``.jsonl``, ``.ndjson``, and ``-`` for standard input): one JSON object a line;
- ``.txt`` / ``.md`` with optional YAML front matter between ``---`` lines;
- CSV with a header row naming those columns;
- HTML pages, whose main text and metadata trafilatura extracts.
Folders are read recursively in name order, skipping hidden entries and other file types.

Readers never raise on bad input: a bad record is yielded as a ``ReadError`` naming
``path:line`` and the reading goes on, so one broken line cannot stop an ingest.

Files are UTF-8; a file that starts with a byte order mark is read in the encoding the mark
names (UTF-8, UTF-16 or UTF-32, as Windows tools write them). Text holding a NUL character is
binary data, not an article; structures nested deeper than ``MAX_DEPTH`` and YAML aliases
(which can expand a few lines into billions of values) are refused.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import regex
import yaml
from pydantic import ValidationError

from tracker.dates import DateError, parse_date
from tracker.models import Article

# A news article is a few KB; a record of many MB is a broken export or an attack, not news.
DEFAULT_MAX_BYTES = 10 * 2**20

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".txt": "text", ".md": "text", ".markdown": "text",
           ".csv": "csv", ".html": "html", ".htm": "html"}
ID_KEYS = ("id", "article_id")  # article_id too, so an export of our own table reads back
TEXT_FIELDS = ("publisher", "url", "title")
BOM = b"\xef\xbb\xbf"
# Byte order marks and the encodings they name; UTF-32 first: its little-endian mark starts
# with UTF-16's.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"), (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
         (BOM, "utf-8", "UTF-8"), (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
         (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"))
_SURROGATE = re.compile("[\ud800-\udfff]")
_BAD_UNIT = "\udc80"  # what an undecodable UTF-16/32 code unit becomes (then reported on its line)
_VISIBLE = regex.compile(r"[^\s\p{Cf}]")  # a text of spaces and format marks (RLM, ZWSP ...) is empty
# Metadata nested deeper than this is a broken export or an attack (and would exhaust the stack).
MAX_DEPTH = 64


def _bad_unit(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)
    return _BAD_UNIT, error.end


codecs.register_error("tracker.bad-unit", _bad_unit)


def _encoding(head: bytes) -> tuple[int, str, str]:
    """(length of the byte order mark, codec, name) for data starting with ``head``; UTF-8 without one."""
    for mark, codec, name in _BOMS:
        if head.startswith(mark):
            return len(mark), codec, name
    return 0, "utf-8", "UTF-8"


class _Utf8Lines:
    """A UTF-16 or UTF-32 stream re-encoded as UTF-8, read by lines like a binary file, so the
    line readers (and their size limits, in UTF-8 bytes) need no second path.

    Each undecodable code unit becomes ``_BAD_UNIT`` (encoded with ``surrogatepass``): the
    reader then reports the line that holds it instead of failing the whole file.
    """

    def __init__(self, raw: BinaryIO, codec: str, skip: int):
        raw.read(skip)
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder(codec)("tracker.bad-unit")
        self._buf = b""
        self._pos = 0  # start of the next line in _buf
        self._eof = False

    def readline(self, limit: int = -1) -> bytes:
        searched = self._pos  # no newline in _buf between _pos and here
        while True:
            newline = self._buf.find(b"\n", searched)
            if newline >= 0 or self._eof or 0 <= limit <= len(self._buf) - self._pos:
                break
            chunk = self._raw.read(2**16)
            self._eof = not chunk
            searched = len(self._buf) - self._pos
            self._buf = self._buf[self._pos:] + self._decoder.decode(chunk, final=self._eof).encode("utf-8", "surrogatepass")
            self._pos = 0
        end = newline + 1 if newline >= 0 else len(self._buf)
        if limit >= 0:
            end = min(end, self._pos + limit)
        line, self._pos = self._buf[self._pos:end], end
        return line


def _open_lines(f: BinaryIO) -> tuple[BinaryIO, str]:
    """The stream to read lines from, and its encoding's name (a UTF-8 mark is left to ``_lines``)."""
    skip, codec, name = _encoding(f.peek(4)[:4] if hasattr(f, "peek") else b"")
    return (f, name) if codec == "utf-8" else (_Utf8Lines(f, codec, skip), name)  # type: ignore[return-value]


def _too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether lists and mappings nest deeper than ``limit`` (checked without recursion)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list, tuple)):
            if depth >= limit:
                return True
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    return False


@dataclass(frozen=True)
class ReadError:
    """A record or file that was skipped, and why. ``source`` is ``path:line``."""

    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


Item = Article | ReadError


class RecordError(ValueError):
    """A record that cannot become an Article; ``field`` names the culprit when there is one."""

    def __init__(self, message: str, field: str | None = None, offset: int | None = None):
        super().__init__(message)
        self.field = field
        self.offset = offset  # the character of the text at fault, when there is one


def _jsonable(value: Any) -> Any:
    """Metadata as JSON values: YAML front matter may hold types JSON has not (sets, binary)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _text_field(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, (dict, list, bool)):
        raise RecordError(f"field {key!r} must be text, not {type(value).__name__}", key)
    value = str(value).strip()
    return value or None


def make_article(record: dict[str, Any], source: str, max_bytes: int = DEFAULT_MAX_BYTES) -> Article:
    """Validate one input record (already parsed) and build its Article. Raises ``RecordError``.

    The id is the record's ``id`` (or ``article_id``); without one, its ``url``; without that,
    ``rec-`` and the start of the sha256 of the whole record: the same record read twice is one
    article, while the same text from two publishers is two (which stories.py then links).
    """
    if "text" not in record or record["text"] is None:
        raise RecordError("missing field 'text'", "text")
    text = record["text"]
    if not isinstance(text, str):
        raise RecordError(f"field 'text' must be a string, not {type(text).__name__}", "text")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise RecordError(f"text is {size / 2**20:.1f} MB, above the {max_bytes / 2**20:g} MB limit", "text")
    if not _VISIBLE.search(text):
        raise RecordError("empty text", "text")
    nul = text.find("\x00")
    if nul >= 0:
        raise RecordError(f"field 'text' holds a NUL character at character {nul}: binary data, not text",
                          "text", nul)
    if _too_deep(record):
        raise RecordError(f"nested more than {MAX_DEPTH} levels deep")
    fields = {key: _text_field(record, key) for key in TEXT_FIELDS}
    try:
        published_at = parse_date(record.get("published_at"))
    except DateError as exc:
        raise RecordError(f"field 'published_at': {exc}", "published_at") from None
    id_key = next((k for k in ID_KEYS if record.get(k) not in (None, "")), None)
    if id_key and isinstance(record[id_key], (dict, list, bool)):
        raise RecordError(f"field {id_key!r} must be text or a number, not {type(record[id_key]).__name__}", id_key)
    article_id = str(record[id_key]).strip() if id_key else fields["url"]
    skip = {"text", "published_at", *TEXT_FIELDS, *([id_key] if id_key else [])}
    metadata = {str(k): _jsonable(v) for k, v in record.items() if k not in skip}
    # Lone surrogates (JSON "\ud800") cannot be stored as UTF-8: refuse them here, located.
    for key, value in (("text", text), *fields.items(), ("metadata", json.dumps(metadata, ensure_ascii=False))):
        bad = _SURROGATE.search(value or "")
        if bad:
            raise RecordError(f"field {key!r} is not valid Unicode: unpaired surrogate at character {bad.start()}",
                              key, bad.start() if key == "text" else None)
    if not article_id:
        content = json.dumps([fields, published_at.isoformat() if published_at else None, text, metadata],
                             ensure_ascii=False, sort_keys=True)
        article_id = "rec-" + hashlib.sha256(content.encode("utf-8")).hexdigest()[:16]
    try:
        return Article(article_id=article_id, text=text, published_at=published_at,
                       metadata=metadata, source=source, **fields)
    except ValidationError as exc:
        raise RecordError(f"invalid record: {exc.errors()[0]['msg']}") from None


def _lines(stream: BinaryIO, max_bytes: int) -> Iterator[tuple[int, bytes | None, int]]:
    """(line number, bytes, size) per line; bytes is None for a line over the limit, never held whole."""
    lineno = 0
    while line := stream.readline(max_bytes + 1):
        lineno += 1
        if lineno == 1 and line.startswith(BOM):
            line = line[len(BOM):]
        if len(line) > max_bytes and not line.endswith(b"\n"):
            size = len(line)
            while chunk := stream.readline(2**20):  # skip the rest of the line in bounded pieces
                size += len(chunk)
                if chunk.endswith(b"\n"):
                    break
            yield lineno, None, size
        else:
            yield lineno, line, len(line)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def read_jsonl(stream: BinaryIO, name: str, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Item]:
    """One Article or ReadError per non-blank line of a JSONL stream (UTF-8, or as its byte order mark says)."""
    stream, encoding = _open_lines(stream)
    for lineno, raw, size in _lines(stream, max_bytes):
        where = f"{name}:{lineno}"
        if raw is None:
            yield ReadError(where, f"line is {size / 2**20:.1f} MB, above the {max_bytes / 2**20:g} MB limit")
            continue
        try:
            line = raw.decode("utf-8", "strict" if encoding == "UTF-8" else "surrogatepass").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            yield ReadError(where, f"invalid UTF-8 at byte {exc.start + 1} of the line")
            continue
        if _BAD_UNIT in line and encoding != "UTF-8":
            yield ReadError(where, f"invalid {encoding} at character {line.index(_BAD_UNIT) + 1} of the line")
            continue
        if not line.strip():
            continue
        try:
            record = json.loads(line, parse_constant=_no_constant)
        except json.JSONDecodeError as exc:
            yield ReadError(where, f"not JSON: {exc.msg} (column {exc.colno})")
            continue
        except ValueError as exc:  # NaN, Infinity
            yield ReadError(where, f"not JSON: {exc}")
            continue
        except RecursionError:
            yield ReadError(where, f"nested more than {MAX_DEPTH} levels deep")
            continue
        if not isinstance(record, dict):
            yield ReadError(where, f"a line must be a JSON object, not {type(record).__name__}")
            continue
        try:
            yield make_article(record, where, max_bytes)
        except RecordError as exc:
            yield ReadError(where, str(exc))


def read_csv(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Item]:
    """One Article or ReadError per CSV row; the header names the columns."""
    too_long: list[ReadError] = []
    encoding = "UTF-8"

    def lines(f: BinaryIO) -> Iterator[str]:
        # Decode line by line with surrogateescape so one bad byte spoils only its own row;
        # a line over the limit is dropped (reported below) without ever being held whole.
        for lineno, raw, size in _lines(f, max_bytes):
            if raw is None:
                too_long.append(ReadError(f"{path}:{lineno}", f"line is {size / 2**20:.1f} MB, "
                                                              f"above the {max_bytes / 2**20:g} MB limit"))
                yield "\n"
            else:
                yield raw.decode("utf-8", "surrogateescape" if encoding == "UTF-8" else "surrogatepass")

    with path.open("rb") as opened:
        f, encoding = _open_lines(opened)
        csv.field_size_limit(max(max_bytes, 2**17))
        reader = csv.DictReader(lines(f))
        start = 2
        try:
            for row in reader:
                yield from too_long
                too_long.clear()
                where = f"{path}:{start}"
                start = reader.line_num + 1
                values = [v for v in row.values() if isinstance(v, str)]
                if any("\udc80" <= ch <= "\udcff" for v in values for ch in v):
                    yield ReadError(where, f"invalid {encoding}")
                    continue
                # an empty cell is a missing value, except text, which is then reported as empty
                record = {k: (v if v != "" or k == "text" else None) for k, v in row.items() if k is not None}
                try:
                    yield make_article(record, where, max_bytes)
                except RecordError as exc:
                    yield ReadError(where, str(exc))
        except csv.Error as exc:
            yield ReadError(f"{path}:{reader.line_num}", f"bad CSV: {exc}; rest of file skipped")
        yield from too_long


class _FrontMatterLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text: ``published_at: 2024-13-45`` must reach parse_date
    and be reported as a bad date, not crash inside YAML's own date constructor. It refuses
    aliases: ten lines of ``*a`` references can stand for billions of values."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "YAML aliases (*name) are not allowed in front matter",
                                              self.peek_event().start_mark)
        return super().compose_node(parent, index)


_FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _front_matter(text: str) -> tuple[dict[str, Any], str, list[str]]:
    """Split ``---`` YAML front matter from the body: (keys, body, front matter lines)."""
    if not text.startswith("---"):
        return {}, text, []
    lines = text.splitlines(keepends=True)
    if lines[0].rstrip("\r\n") != "---":
        return {}, text, []
    for i in range(1, len(lines)):
        if lines[i].rstrip("\r\n") in ("---", "..."):
            try:
                keys = yaml.load("".join(lines[1:i]), Loader=_FrontMatterLoader) or {}
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                raise RecordError(f"bad front matter: {getattr(exc, 'problem', exc)}",
                                  f"@{mark.line + 2}" if mark else None) from None
            except RecursionError:
                raise RecordError(f"bad front matter: nested more than {MAX_DEPTH} levels deep") from None
            if not isinstance(keys, dict):
                raise RecordError("front matter must be a mapping of keys")
            return keys, "".join(lines[i + 1:]), lines[: i + 1]
    raise RecordError("front matter has no closing '---' line")


def _line_of(error: RecordError, fm_lines: list[str], body: str = "") -> int:
    """The line of an error: the text's line when a character is known, the key's when the field is."""
    if error.field == "text" and error.offset is not None:
        return len(fm_lines) + body.count("\n", 0, error.offset) + 1
    if error.field and error.field.startswith("@"):
        return int(error.field[1:])
    for i, line in enumerate(fm_lines):
        if error.field and line.startswith(f"{error.field}:"):
            return i + 1
    return len(fm_lines) + 1 if error.field == "text" and fm_lines else 1


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    size = path.stat().st_size
    if size > max_bytes:
        raise RecordError(f"file is {size / 2**20:.1f} MB, above the {max_bytes / 2**20:g} MB limit")
    return path.read_bytes()


def read_text_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Item]:
    """A ``.txt`` / ``.md`` file as one Article: its front matter keys and its body as text."""
    fm_lines: list[str] = []
    body = ""
    try:
        data = _read_bytes(path, max_bytes)
        skip, codec, encoding = _encoding(data[:4])
        try:
            text = data[skip:].decode(codec)
        except UnicodeDecodeError as exc:
            line = data[skip:skip + exc.start].decode(codec, "replace").count("\n") + 1
            yield ReadError(f"{path}:{line}", f"invalid {encoding}")
            return
        keys, body, fm_lines = _front_matter(text)
        yield make_article({**keys, "text": body}, f"{path}:1", max_bytes)
    except RecordError as exc:
        yield ReadError(f"{path}:{_line_of(exc, fm_lines, body)}", str(exc))


def read_html(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Item]:
    """An HTML page as one Article: main text, title, site, URL and date found by trafilatura."""
    import trafilatura  # imported here: it takes a second to load and most inputs are not HTML

    try:
        doc = trafilatura.bare_extraction(_read_bytes(path, max_bytes), with_metadata=True,
                                          include_comments=False)
        meta = doc.as_dict() if doc is not None else {}
        if not meta.get("text"):
            raise RecordError("no main text found in the page")
        record: dict[str, Any] = {
            "text": meta["text"], "title": meta.get("title"), "url": meta.get("url"),
            "publisher": meta.get("sitename") or meta.get("hostname"), "published_at": meta.get("date"),
        }
        for key in ("author", "description", "categories", "tags", "language"):
            if meta.get(key):
                record[key] = meta[key]
        yield make_article(record, f"{path}:1", max_bytes)
    except RecordError as exc:
        yield ReadError(f"{path}:1", str(exc))


def read_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Item]:
    """Every record of one file, by its extension. An unreadable file is one ReadError."""
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        yield ReadError(f"{path}:1", f"unsupported file type {path.suffix!r} (expected {', '.join(FORMATS)})")
        return
    try:
        if kind in ("jsonl", "csv"):
            records = 0
            if kind == "jsonl":
                with path.open("rb") as f:
                    for item in read_jsonl(f, str(path), max_bytes):
                        records += 1
                        yield item
            else:
                for item in read_csv(path, max_bytes):
                    records += 1
                    yield item
            if not records:  # empty, blank lines only, or a header without rows: an export gone wrong
                yield ReadError(f"{path}:1", "no records in the file")
        elif kind == "text":
            yield from read_text_file(path, max_bytes)
        else:
            yield from read_html(path, max_bytes)
    except OSError as exc:
        yield ReadError(f"{path}:1", f"cannot read file: {exc.strerror or exc}")


def iter_files(paths: Iterable[str]) -> Iterator[Path | ReadError | str]:
    """The files to read: each path, folders walked recursively in name order; ``-`` stays ``-``."""
    for name in paths:
        if name == "-":
            yield name
            continue
        path = Path(name)
        if not path.is_dir():
            yield path  # a missing or unreadable file is reported when it is opened
            continue
        errors: list[OSError] = []
        for root, dirs, files in os.walk(path, onerror=errors.append):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for f in sorted(files):
                if not f.startswith(".") and Path(f).suffix.lower() in FORMATS:
                    yield Path(root) / f
        for exc in errors:
            yield ReadError(f"{exc.filename}:1", f"cannot read folder: {exc.strerror or exc}")


def read_inputs(paths: Iterable[str], max_bytes: int = DEFAULT_MAX_BYTES,
                stdin: BinaryIO | None = None) -> Iterator[Item]:
    """Every Article and ReadError from the given files, folders and ``-`` (JSONL on stdin)."""
    for entry in iter_files(paths):
        if isinstance(entry, ReadError):
            yield entry
        elif entry == "-":
            yield from read_jsonl(stdin or sys.stdin.buffer, "<stdin>", max_bytes)
        else:
            yield from read_file(Path(entry), max_bytes)
