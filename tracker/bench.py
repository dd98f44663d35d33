"""The tracker's benchmark (issue 6): corpus generation, timing helpers and one function per measurement.

Everything runs in one process tree and one run, so every ratio compares figures taken on the
same machine under the same load:

1. the baseline: read the corpus (JSONL), decode it, and run a plain ``regex`` ``\\d+`` scan
   over every text; then ``normalize``, ``find_numbers`` and full extraction (all rules),
   each alone over the decoded texts; and a floor: each claim's rule pattern run once where its
   match starts (what these rules' regexes cost at the least, with no search);
2. end-to-end ``tracker ingest`` of the same corpus into a fresh DuckDB file, 1 and 2 workers
   (a child process each time, timed from outside);
3. bulk loading of claim rows through the store's write path (``store.save_ingest_batch``);
4. the dashboard's queries (``tracker.queries``) on 1 and 10 million claims generated
   straight into a DuckDB file built by the store's migrations (p50 / p95);
5. peak memory (RSS) of ``tracker ingest`` over a generated JSONL of 100,000 articles.

The corpus: articles assembled from the fixtures (the paragraphs of the seed and scenario
articles, the example sentences of the rule files), every figure replaced by a varied one
(digit scripts, separators, scale words, number words, qualifiers), ~4 KB each (log-normal
sizes), 50 publishers, two years of dates, and 8 % syndicated copies of a recent article (new
headline, a paragraph dropped, another publisher), so stories link as they would in a feed.
Mixing paragraphs keeps distinct articles distinct for the story MinHash (a corpus of copies
of five seeds would make every article a candidate copy of every other).

The 10 million claims section needs memory: the dashboard's snapshot of them peaked at ~13 GB
RSS here (the query process is stopped, and the section reported as failed, if the machine
gets down to ``MEMORY_RESERVE_MB`` free). A full run took ~25 minutes on 2 cores.

Times are wall clock (what a user waits) with CPU time beside them: the machine is shared,
and a wall time also counts other processes. Throughput ratios are ``throughput / baseline
throughput`` of the same run: 0.10 means 10 % of the ``\\d+`` baseline's speed.
"""

from __future__ import annotations

import gc
import json
import math
import multiprocessing
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import regex

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "fixtures" / "seeds" / "articles.jsonl"
SCENARIOS = ROOT / "fixtures" / "scenarios" / "outlets.jsonl"
RULES = ROOT / "rules"

DEFAULT_ARTICLES = 5000  # ~20 MB: enough that process start (~3 s, rules compiled per process) does not hide the 2-worker speedup
DEFAULT_REPEAT = 3
DEFAULT_CLAIMS = (1_000_000, 10_000_000)
DEFAULT_MEMORY_ARTICLES = 100_000
DEFAULT_QUERY_REPEAT = 20
DEFAULT_BULK_ROWS = 100_000
SECTIONS = ("passes", "ingest", "bulk", "queries", "memory")

# The dashboard's sizes (dashboard.py: PAGE_ROWS, TIMELINE_SERIES, MAX_WINDOWS).
PAGE_ROWS = 500
TIMELINE_SERIES = 12
MAX_WINDOWS = 300

# ---- figures ---------------------------------------------------------------------------------

_DIGIT_RUN = regex.compile(r"\d+")
# Figures to vary: digit runs that are not part of an identifier such as "[ad_1]".
_FIGURE = regex.compile(r"(?<![_A-Za-z])\d+")
_ARABIC = str.maketrans("0123456789,.", "٠١٢٣٤٥٦٧٨٩٬٫")
_PERSIAN = str.maketrans("0123456789,.", "۰۱۲۳۴۵۶۷۸۹٬٫")
_WORDS = [
    "ثلاثة", "سبعة", "عشرة", "خمسة وعشرون", "مئة", "مئتين", "ثلاثمائة", "ألف", "ألفين", "ثلاثة آلاف",
    "عشرات", "مئات", "آلاف", "عشرات الآلاف", "مليون", "نصف مليون", "أحد عشر", "خمسين ألفاً",
]
_QUALIFIERS = ["نحو", "أكثر من", "حوالي", "ما لا يقل عن", "قرابة", "ما يزيد على", "أقل من"]


def random_figure(rnd: random.Random) -> str:
    """One figure as a news text might write it: digits in three scripts, separators, decimals,
    scale words, number words, percentages, ranges, a qualifier now and then."""
    n = rnd.choice([rnd.randint(1, 99), rnd.randint(100, 999), rnd.randint(1000, 99_999)])
    r = rnd.random()
    if r < 0.35:
        s = str(n)
    elif r < 0.50:
        s = f"{n:,}".translate(_ARABIC)
    elif r < 0.55:
        s = str(n).translate(_PERSIAN)
    elif r < 0.65:
        s = f"{rnd.randint(1, 9)}.{rnd.randint(1, 9)} مليون"
    elif r < 0.75:
        s = f"{rnd.randint(2, 90)} ألفاً"
    elif r < 0.85:
        s = rnd.choice(_WORDS)
    elif r < 0.90:
        s = f"{rnd.randint(2, 9)} آلاف و{rnd.randint(1, 999)}"
    elif r < 0.95:
        s = f"{n}%"
    else:
        s = f"بين {n} و{n + rnd.randint(1, 50)}"
    if rnd.random() < 0.15:
        s = f"{rnd.choice(_QUALIFIERS)} {s}"
    return s


def vary_figures(text: str, rnd: random.Random) -> str:
    """``text`` with every figure replaced by a random one (``random_figure``)."""
    return _FIGURE.sub(lambda _m: random_figure(rnd), text)


# ---- corpus ----------------------------------------------------------------------------------

PUBLISHERS = [
    "الجزيرة نت", "العربية نت", "الميادين", "سكاي نيوز عربية", "بي بي سي عربي", "فرانس 24", "وكالة وفا",
    "وكالة الأناضول", "القدس العربي", "العربي الجديد", "الشرق الأوسط", "الأهرام", "اليوم السابع",
    "المصري اليوم", "الشروق", "الغد", "الدستور", "النهار", "الأخبار", "المنار", "عربي 21", "روسيا اليوم",
    "سي إن إن بالعربية", "دويتشه فيله عربية", "يورونيوز عربي", "الحرة", "الخليج", "البيان", "الاتحاد",
    "الرياض", "عكاظ", "الوطن", "الشرق", "الراية", "القبس", "الرأي", "الأيام", "فلسطين أون لاين",
    "شبكة قدس", "وكالة شهاب", "معا", "سما الإخبارية", "عرب 48", "الترا فلسطين", "هسبريس", "الشروق أونلاين",
    "الصباح", "المدى", "السومرية", "العهد",
]
ATTRIBUTIONS = [
    "وزارة الصحة في غزة", "الجيش الإسرائيلي", "حركة حماس", "مكتب رئيس الوزراء الإسرائيلي", "الأمم المتحدة",
    "الدفاع المدني", "هيئة شؤون الأسرى", "نادي الأسير الفلسطيني", "المكتب الإعلامي الحكومي", "الأونروا",
    "كتائب القسام", "منتدى عائلات الرهائن",
]
START_DAY = date(2023, 10, 7)
SPAN_DAYS = 730  # two years of news


# Share of paragraphs that are runs of rule-example sentences (each states a figure); the rest
# are paragraphs of real articles. Calibrated so an article holds a few claims more than the
# seed articles do (they are about the figures, not only mention them): see CorpusInfo.claims.
CLAIM_SHARE = 0.05


@dataclass
class TextPool:
    """The fixture text the corpus is assembled from."""

    paragraphs: list[str]  # paragraphs of the seed and scenario articles
    sentences: list[str]   # example sentences of the rule files (each holds or nearly holds a claim)
    titles: list[str]


def _rule_example_texts(folder: Path) -> list[str]:
    import yaml

    texts: list[str] = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue  # a rule file mid-edit: the other files still give sentences
        for rule in doc.get("rules") or []:
            for ex in (rule or {}).get("examples") or []:
                if isinstance(ex, dict) and isinstance(ex.get("text"), str) and ex["text"].strip():
                    texts.append(ex["text"].strip())
    return texts


def text_pool(root: Path = ROOT) -> TextPool:
    """Paragraphs, claim sentences and headlines from the fixtures and the rule examples."""
    paragraphs: list[str] = []
    titles: list[str] = []
    for path in (root / "fixtures" / "seeds" / "articles.jsonl", root / "fixtures" / "scenarios" / "outlets.jsonl"):
        with path.open(encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                rec = json.loads(line)
                if rec.get("title"):
                    titles.append(rec["title"].strip())
                for para in regex.split(r"\n\s*\n", rec["text"]):
                    para = para.strip()
                    if len(para) >= 40 and para not in paragraphs:
                        paragraphs.append(para)
    sentences = _rule_example_texts(root / "rules")
    titles += [s for s in sentences if 30 <= len(s) <= 90]
    return TextPool(paragraphs, sentences or paragraphs, titles or paragraphs)


def _article_size(rnd: random.Random, mean_kb: float) -> int:
    """A UTF-8 size like a news article's: log-normal around ``mean_kb``, 1 to 16 KB."""
    return int(min(16_000, max(1_000, rnd.lognormvariate(math.log(mean_kb * 1000) - 0.08, 0.4))))


def generate_articles(n: int, seed: int = 2024, mean_kb: float = 4.0, pool: TextPool | None = None,
                      claim_share: float = CLAIM_SHARE) -> Iterator[dict[str, Any]]:
    """``n`` article records (id, publisher, url, published_at, title, text), streamed.

    Each article is a headline and paragraphs, alternately from the fixture articles and runs
    of two to four rule-example sentences, every figure varied, until its size; dates run over
    two years in input order; 8 % are syndicated copies of one of the last 20 articles (another
    publisher, a new headline, a paragraph dropped, the same or the next day).
    """
    pool = pool or text_pool()
    rnd = random.Random(seed)
    recent: list[tuple[list[str], float]] = []
    weights = [1 / (k + 1) ** 0.8 for k in range(len(PUBLISHERS))]  # a few big outlets, a long tail
    for i in range(n):
        day = (i + rnd.random()) * SPAN_DAYS / max(n, 1)
        publisher = rnd.choices(PUBLISHERS, weights)[0]
        if recent and rnd.random() < 0.08:
            paras, day = rnd.choice(recent)
            paras = list(paras)
            if len(paras) > 3:
                del paras[rnd.randrange(1, len(paras))]
            day += rnd.choice([0.0, 0.3, 1.0])
            title = vary_figures(rnd.choice(pool.titles), rnd)
        else:
            target = _article_size(rnd, mean_kb)
            title = vary_figures(rnd.choice(pool.titles), rnd)
            paras, size = [], len(title.encode()) + 2
            while size < target:
                if rnd.random() >= claim_share:
                    para = rnd.choice(pool.paragraphs)
                else:
                    para = " ".join(rnd.sample(pool.sentences, min(len(pool.sentences), rnd.randint(2, 3))))
                para = vary_figures(para, rnd)
                paras.append(para)
                size += len(para.encode()) + 2
            recent.append((paras, day))
            del recent[:-20]
        when = datetime.combine(START_DAY, datetime.min.time()) + timedelta(days=day)
        yield {
            "id": f"bench-{seed}-{i:07d}",
            "publisher": publisher,
            "url": f"https://news.example/{PUBLISHERS.index(publisher)}/{seed}/{i}",
            "published_at": when.replace(microsecond=0).isoformat(),
            "title": title,
            "text": "\n\n".join([title, *paras]),
        }


@dataclass
class CorpusInfo:
    path: str
    articles: int
    bytes: int  # UTF-8 bytes of the texts
    file_bytes: int
    seed: int

    @property
    def mb(self) -> float:
        return self.bytes / 1_000_000


def write_corpus(path: Path, n: int, seed: int = 2024, pool: TextPool | None = None) -> CorpusInfo:
    """Write ``n`` generated articles as JSONL (streamed: constant memory whatever ``n``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    with path.open("w", encoding="utf-8") as f:
        for rec in generate_articles(n, seed, pool=pool):
            size += len(rec["text"].encode("utf-8"))
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return CorpusInfo(str(path), n, size, path.stat().st_size, seed)


def read_texts(path: Path) -> list[str]:
    """The texts of a JSONL corpus: read, decode (UTF-8, JSON)."""
    with path.open("rb") as f:
        return [json.loads(line.decode("utf-8"))["text"] for line in f if line.strip()]


class CorpusError(ValueError):
    """A ``--corpus`` file that cannot be measured, with the file and line."""


def corpus_of(path: Path) -> CorpusInfo:
    """A user's JSONL of articles (one object with a ``text`` per line, as ``tracker ingest``
    reads), to measure real news instead of the generated corpus."""
    n = size = 0
    try:
        f = path.open("rb")
    except OSError as exc:
        raise CorpusError(f"{path}: {exc.strerror}") from None
    with f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                text = json.loads(line.decode("utf-8")).get("text")
            except (UnicodeDecodeError, ValueError, AttributeError) as exc:
                raise CorpusError(f"{path}:{lineno}: not a JSON object ({exc})") from None
            if not isinstance(text, str):
                raise CorpusError(f"{path}:{lineno}: no \"text\" string")
            n += 1
            size += len(text.encode("utf-8"))
    if n == 0:
        raise CorpusError(f"{path}: no articles")
    return CorpusInfo(str(path.resolve()), n, size, path.stat().st_size, seed=-1)


# ---- timing ----------------------------------------------------------------------------------

def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation between closest ranks."""
    if not values:
        return float("nan")
    xs = sorted(values)
    k = (len(xs) - 1) * q / 100
    lo, hi = math.floor(k), math.ceil(k)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


@dataclass
class Stats:
    """Several measurements of one thing (seconds unless said otherwise)."""

    runs: list[float]
    median: float
    min: float
    max: float
    p50: float
    p95: float

    @classmethod
    def of(cls, runs: Sequence[float]) -> "Stats":
        runs = list(runs)
        return cls(runs, statistics.median(runs), min(runs), max(runs), percentile(runs, 50), percentile(runs, 95))


def time_repeated(fn: Callable[[], Any], repeat: int, gc_off: bool = True) -> tuple[list[float], list[float], Any]:
    """Wall and CPU seconds of ``repeat`` calls, the garbage collector off while timing (as ``timeit``)."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        gc.collect()
        if gc_off:
            gc.disable()
        try:
            t0, c0 = time.perf_counter(), time.process_time()
            result = fn()
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        finally:
            gc.enable()
    return walls, cpus, result


@dataclass
class Throughput:
    """One pass over a corpus, several times: times, throughputs and ratios to the baseline."""

    name: str
    articles: int
    mb: float
    wall: Stats
    cpu: Stats  # CPU seconds (for child processes: of the whole process tree)
    mb_per_s: float
    articles_per_s: float
    cpu_mb_per_s: float
    ratio_to_baseline: float = 1.0      # throughput / baseline throughput (wall medians)
    cpu_ratio_to_baseline: float = 1.0  # the same with CPU medians
    items: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, name: str, articles: int, mb: float, walls: Sequence[float], cpus: Sequence[float],
           items: int = 0, **extra: Any) -> "Throughput":
        wall, cpu = Stats.of(walls), Stats.of(cpus)
        return cls(name, articles, mb, wall, cpu, mb / wall.median, articles / wall.median,
                   mb / cpu.median if cpu.median > 0 else float("inf"), items=items, extra=extra)

    def against(self, base: "Throughput") -> "Throughput":
        self.ratio_to_baseline = self.mb_per_s / base.mb_per_s
        self.cpu_ratio_to_baseline = self.cpu_mb_per_s / base.cpu_mb_per_s
        return self


def _say(msg: str = "") -> None:
    print(msg, flush=True)


def throughput_header() -> str:
    return (f"{'pass':<26}{'median s':>9}{'min s':>8}{'max s':>8}{'MB/s':>9}{'art/s':>9}{'x base':>9}"
            f"  {'CPU s':>7}{'CPU MB/s':>9}{'x base':>8}")


def throughput_line(t: Throughput) -> str:
    return (f"{t.name:<26}{t.wall.median:>9.3f}{t.wall.min:>8.3f}{t.wall.max:>8.3f}{t.mb_per_s:>9.2f}"
            f"{t.articles_per_s:>9.1f}{t.ratio_to_baseline:>9.4f}  {t.cpu.median:>7.2f}{t.cpu_mb_per_s:>9.2f}"
            f"{t.cpu_ratio_to_baseline:>8.4f}")


# ---- 1, 2: baseline and passes -----------------------------------------------------------------

# Not an extraction pass: the rules' patterns only, each run once where a claim's match starts.
# Full extraction cannot be faster than this with these rules in this regex engine.
FLOOR_PASS = "rules at claims (floor)"


def measure_baseline(corpus: CorpusInfo, repeat: int) -> tuple[Throughput, list[str]]:
    """Read and decode the corpus file and scan every text with ``\\d+``: the floor of the run."""
    path = Path(corpus.path)
    findall = _DIGIT_RUN.findall

    def run() -> tuple[int, list[str]]:
        texts = read_texts(path)
        return sum(len(findall(t)) for t in texts), texts

    run()  # warm the page cache and the compiled pattern
    walls, cpus, (count, texts) = time_repeated(run, repeat)
    return Throughput.of("baseline: read+decode+\\d+", corpus.articles, corpus.mb, walls, cpus, count), texts


def measure_passes(texts: list[str], corpus: CorpusInfo, repeat: int, base: Throughput,
                   rules_dir: Path | None = None) -> dict[str, Throughput]:
    """Each pass alone over the decoded texts: ``\\d+`` scan, normalisation, numbers, full extraction;
    and the floor of the rules' own regex work: each claim's pattern run once at its match's
    known start (``extract.claim_matches``), with no search for where matches begin."""
    from tracker.extract import claim_matches, extract_text
    from tracker.numbers import find_numbers
    from tracker.ruleset import load_rules
    from tracker.textnorm import normalize

    t0 = time.perf_counter()
    rules = load_rules(rules_dir)
    load_s = time.perf_counter() - t0
    findall = _DIGIT_RUN.findall
    passes: dict[str, Callable[[str], int]] = {
        "scan \\d+ (decoded texts)": lambda t: len(findall(t)),
        "normalize": lambda t: len(normalize(t).text),
        "find_numbers": lambda t: len(find_numbers(t)),
        "extract (all rules)": lambda t: len(extract_text(t, rules).claims),
    }
    out: dict[str, Throughput] = {}
    for name, fn in passes.items():
        for t in texts[:20]:
            fn(t)  # warm caches (lru_cache of normalize_char, compiled patterns)
        walls, cpus, count = time_repeated(lambda fn=fn: sum(fn(t) for t in texts), repeat)
        extra = {"rules": len(rules.rules), "rules_load_s": load_s} if name.startswith("extract") else {}
        out[name] = Throughput.of(name, corpus.articles, corpus.mb, walls, cpus, count, **extra).against(base)
        _say(throughput_line(out[name]))
    jobs = [job for t in texts for job in claim_matches(t, rules)]
    name = FLOOR_PASS
    walls, cpus, count = time_repeated(lambda: sum(p.match(x, a, b) is not None for p, x, a, b in jobs), repeat)
    out[name] = Throughput.of(name, corpus.articles, corpus.mb, walls, cpus, count, claims=len(jobs)).against(base)
    _say(throughput_line(out[name]))
    return out


# ---- child processes -------------------------------------------------------------------------

@dataclass
class ChildRun:
    """A child process run from outside: wall time, CPU of its tree, memory."""

    wall_s: float
    cpu_s: float              # user + system of the child and its descendants (RUSAGE_CHILDREN)
    peak_rss_tree: int        # bytes, the highest sum over the process tree (sampled)
    peak_rss_process: int     # bytes, the highest single process (kernel's ru_maxrss, exact)
    samples: list[tuple[float, int]]  # (seconds since start, RSS of the tree)
    returncode: int
    stdout: str
    stderr: str


# Runs the command and reports its own children's usage: so ru_maxrss is this command's only.
_WRAPPER = """
import json, resource, subprocess, sys
rc = subprocess.call(sys.argv[1:])
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": rc, "cpu": u.ru_utime + u.ru_stime, "maxrss_kb": u.ru_maxrss}), file=sys.stderr)
"""


def run_child(cmd: list[str], workdir: Path, interval: float = 0.1, env: dict[str, str] | None = None) -> ChildRun:
    """Run ``cmd``, sampling the RSS of its process tree every ``interval`` s (psutil)."""
    import psutil

    out_path, err_path = workdir / "child.out", workdir / "child.err"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        t0 = time.perf_counter()
        proc = psutil.Popen([sys.executable, "-c", _WRAPPER, *cmd], stdout=out, stderr=err, cwd=str(ROOT),
                            env=env)
        samples: list[tuple[float, int]] = []
        peak = 0
        while proc.poll() is None:
            rss = 0
            try:
                for p in proc.children(recursive=True):  # the wrapper itself is not the command
                    try:
                        rss += p.memory_info().rss
                    except psutil.Error:
                        pass
            except psutil.Error:
                pass
            samples.append((time.perf_counter() - t0, rss))
            peak = max(peak, rss)
            time.sleep(interval)
        wall = time.perf_counter() - t0
    stderr = err_path.read_text(encoding="utf-8", errors="replace")
    lines = stderr.rstrip().splitlines()
    usage = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {"rc": proc.returncode, "cpu": 0,
                                                                                  "maxrss_kb": 0}
    return ChildRun(wall, usage["cpu"], peak, usage["maxrss_kb"] * 1024, samples, usage["rc"],
                    out_path.read_text(encoding="utf-8", errors="replace"), "\n".join(lines[:-1]))


def tracker_command() -> list[str]:
    """The ``tracker`` command of this interpreter's environment."""
    exe = Path(sys.executable).with_name("tracker")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "tracker"]


# ---- 3: end-to-end ingest ----------------------------------------------------------------------

def _ingest_once(corpus: CorpusInfo, workers: int, workdir: Path, env: dict[str, str] | None) -> tuple[ChildRun, dict]:
    db = workdir / f"ingest-w{workers}.duckdb"
    for p in (db, Path(str(db) + ".wal")):
        p.unlink(missing_ok=True)
    try:
        run = run_child([*tracker_command(), "ingest", corpus.path, "--db", str(db), "--workers", str(workers),
                         "--json"], workdir, env=env)
        if run.returncode != 0:
            raise RuntimeError(f"tracker ingest failed ({run.returncode}): {run.stderr[-2000:]}")
        return run, json.loads(run.stdout.strip().splitlines()[-1])
    finally:
        for p in (db, Path(str(db) + ".wal")):
            p.unlink(missing_ok=True)


def _burn(n: int) -> float:
    t0 = time.perf_counter()
    x = 0
    for i in range(n):
        x += i
    return time.perf_counter() - t0


def cores_available(n: int = 3_000_000) -> float:
    """How many cores two busy processes get now (1.0 to 2.0): a machine shared with others may
    give a second process none, and then no second worker can be faster."""
    one = _burn(n)
    with multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn").Pool(2) as pool:
        t0 = time.perf_counter()
        pool.map(_burn, [n, n])
        two = time.perf_counter() - t0
    return max(1.0, min(2.0, 2 * one / two))


def measure_ingest(corpus: CorpusInfo, repeat: int, workdir: Path, base: Throughput,
                   env: dict[str, str] | None = None) -> tuple[dict[int, Throughput], dict[str, Any]]:
    """``tracker ingest CORPUS --db FRESH --workers N`` for N = 1 and 2, ``repeat`` pairs, the two
    runs of a pair back to back (alternating which goes first), so that each ratio compares runs
    taken under the same load; the cores available to two processes are probed before each pair."""
    stats: dict[int, dict[str, list[float]]] = {w: {"wall": [], "cpu": [], "inside": [], "peak": []} for w in (1, 2)}
    claims, ratios, cores = 0, [], []
    for k in range(repeat):
        cores.append(cores_available())
        walls = {}
        for w in ((1, 2) if k % 2 == 0 else (2, 1)):
            run, summary = _ingest_once(corpus, w, workdir, env)
            st = stats[w]
            st["wall"].append(run.wall_s)
            st["cpu"].append(run.cpu_s)
            st["inside"].append(summary["seconds"])
            st["peak"].append(run.peak_rss_tree)
            walls[w] = run.wall_s
            claims = summary["claims_added"]
        ratios.append(walls[1] / walls[2])
    out = {w: Throughput.of(f"ingest --workers {w}", corpus.articles, corpus.mb, st["wall"], st["cpu"], claims,
                            workers=w, ingest_reported_s=Stats.of(st["inside"]),
                            peak_rss_tree_mb=max(st["peak"]) / 2**20).against(base)
           for w, st in stats.items()}
    return out, {"pair_ratios": ratios, "pair_ratio": Stats.of(ratios), "cores_available": cores}


# ---- bulk loading --------------------------------------------------------------------------------

@dataclass
class BulkLoad:
    name: str
    rows: int
    articles: int
    batch_articles: int
    wall: Stats
    rows_per_s: float
    note: str = ""


def _bulk_chunks(n_articles: int, claims_per_article: int, seed: int, texts: list[str],
                 chunk: int) -> list[Any]:
    """Prepared chunks of articles with claims, as ingest's workers hand them to the writer
    (``ingest.Chunk``: Arrow tables built by ``store.BatchBuilder``). Random story signatures,
    so no two are copies: the band lookup runs, with nothing to link."""
    from tracker import ingest, store, stories

    rnd = random.Random(seed)
    sentence = ("وأعلنت وزارة الصحة في غزة، في بيان صحفي اليوم، ارتفاع حصيلة الشهداء منذ السابع من أكتوبر "
                "إلى 40005 شهداء، إضافة إلى آلاف المفقودين تحت الأنقاض")
    out = []
    for lo in range(0, n_articles, chunk):
        builder = store.BatchBuilder()
        for a in range(lo, min(n_articles, lo + chunk)):
            aid = f"bulk-{seed}-{a:08d}"
            text = texts[a % len(texts)]
            day = START_DAY + timedelta(days=a * SPAN_DAYS // n_articles)  # in date order, as a feed
            claims = []
            for c in range(claims_per_article):
                v = float(rnd.randint(1, 60000))
                claims.append((
                    f"{rnd.getrandbits(80):020x}", aid, "killed", "cumulative", v, v, v, "exact", None, False, None,
                    "وزارة الصحة في غزة", sentence, 100 * c, 100 * c + 30, "ارتفاع حصيلة الشهداء إلى 40005",
                    100 * c + 25, 100 * c + 30, "casualties.toll-rise", 1, f"casualties.toll-rise@{100 * c}", day))
            row = (aid, PUBLISHERS[a % len(PUBLISHERS)], f"https://bulk.example/{a}",
                   datetime.combine(day, datetime.min.time()) + timedelta(hours=rnd.randrange(24)), "input",
                   text[:60], text, f"{rnd.getrandbits(256):064x}", f"{rnd.getrandbits(256):064x}", "{}", f"bulk:{a}")
            builder.add(row, claims, stories.Signature(rnd.randbytes(stories.NUM_PERM * 4), 400))
        n = len(builder)
        out.append(ingest.Chunk(builder.build(), [], 0, n, "bench"))
    return out


class _Quiet:
    """A reporter for ``ingest._run_batches`` that shows nothing."""

    class bar:  # noqa: N801
        @staticmethod
        def update(_n: int) -> None:
            pass

    @staticmethod
    def report(_msg: str) -> None:
        pass


def measure_bulk(rows: int, workdir: Path, repeat: int, texts: list[str], claims_per_article: int = 8) -> list[BulkLoad]:
    """Claim rows per second into DuckDB through ingest's writer: prepared chunks (as the workers
    send them) committed by ``ingest._run_batches`` under a ``CommitPolicy``, each transaction in
    ``store.writing`` (open, migrate check, transaction, CHECKPOINT, close) running
    ``store.save_ingest_batch`` (articles, story linking, signatures, bands, claims, run counts):

    - with ingest's default policy (the figure of the target);
    - with 256 articles per transaction (the policy before this writer, for comparison);
    - the claims rows alone (``store._insert_claims``, one Arrow ``INSERT``) at the default
      transaction size: the floor under the whole write path.
    """
    from tracker import __version__, ingest, store

    n_articles = max(1, rows // claims_per_article)
    total = n_articles * claims_per_article
    default = ingest.CommitPolicy()
    per_txn = max(1, min(default.articles, default.claims // claims_per_article))
    plans: list[tuple[str, ingest.CommitPolicy]] = [
        ("ingest writer (save_ingest_batch)", default),
        ("ingest writer (save_ingest_batch)", ingest.CommitPolicy(articles=256)),
        ("claims only (_insert_claims)", ingest.CommitPolicy(articles=per_txn)),
    ]
    out = []
    for what, policy in plans:
        walls = []
        for k in range(repeat):
            chunks = _bulk_chunks(n_articles, claims_per_article, seed=k, texts=texts,
                                  chunk=min(ingest.CHUNK, policy.articles))
            db = workdir / f"bulk-{policy.articles}-{k}.duckdb"
            store.connect(db).close()  # schema first: the migrations are not what is timed
            run = store.Run("ingest", "bench", __version__)
            summary = ingest.Summary()
            gc.collect()
            t0 = time.perf_counter()
            if what.startswith("claims only"):
                run.run_id = 1
                now = store.utcnow()
                for i in range(0, len(chunks), max(1, per_txn // ingest.CHUNK)):
                    batch = store.Batch.concat([c.batch for c in chunks[i:i + max(1, per_txn // ingest.CHUNK)]])
                    with store.writing(db) as con:
                        store._insert_claims(con, run, batch.claims, now)
            else:
                ingest._run_batches(db, run, summary, iter(chunks), store.save_ingest_batch, policy, _Quiet())
                assert summary.claims_added == total, (summary.claims_added, total)
            walls.append(time.perf_counter() - t0)
            del chunks
            for p in (db, Path(str(db) + ".wal")):
                p.unlink(missing_ok=True)
        wall = Stats.of(walls)
        batch = policy.articles if what.startswith("claims only") or policy.articles < per_txn else per_txn
        note = (f"{claims_per_article} claims/article; " +
                ("articles, story links, signatures, bands and claims, committed by ingest._run_batches"
                 if not what.startswith("claims only") else "claims rows only (store._insert_claims)") +
                f"; each transaction ({batch} articles) opened, committed, checkpointed and closed (store.writing)")
        out.append(BulkLoad(f"{what}, {batch} articles/txn", total, n_articles, batch, wall, total / wall.median, note))
        _say(f"  {out[-1].name:<58} {total:>9,} claim rows  median {wall.median:7.2f} s "
             f"(min {wall.min:.2f}, max {wall.max:.2f})  {out[-1].rows_per_s:>10,.0f} claim rows/s")
    return out


# ---- 4: dashboard queries ------------------------------------------------------------------------

METRICS = [  # metric, share of claims, kinds (first: the headline kind)
    ("killed", 0.30, ("cumulative", "event")), ("injured", 0.18, ("cumulative", "event")),
    ("hostages_held", 0.10, ("stock",)), ("hostages_alive", 0.05, ("stock",)), ("hostages_dead", 0.05, ("stock",)),
    ("hostages_released", 0.10, ("event",)), ("prisoners_released", 0.10, ("event",)),
    ("prisoners_held", 0.06, ("stock",)), ("prisoners_demanded", 0.06, ("event",)),
]
_SENTENCES = {  # {} is the figure; two wordings per metric
    "killed": ["وأعلنت وزارة الصحة في غزة، في بيان صحفي اليوم، ارتفاع حصيلة الشهداء منذ السابع من أكتوبر إلى {} شهيدا، إضافة إلى آلاف المفقودين تحت الأنقاض",
               "وقال الدفاع المدني إن {} فلسطينيا استشهدوا في غارات إسرائيلية استهدفت منازل في مخيم جباليا شمال القطاع"],
    "injured": ["وأوضحت الوزارة أن عدد المصابين ارتفع إلى {} مصابا منذ بدء العدوان، في ظل انهيار المنظومة الصحية",
                "وأسفر القصف عن إصابة {} آخرين بجروح متفاوتة نقلوا إلى مستشفى شهداء الأقصى في دير البلح"],
    "hostages_held": ["وتقدر إسرائيل أن {} رهينة ما زالوا محتجزين في قطاع غزة، بينهم جنود ومدنيون",
                      "ولا يزال {} من المحتجزين في غزة بحسب منتدى عائلات الرهائن"],
    "hostages_alive": ["ويعتقد أن {} من المحتجزين ما زالوا على قيد الحياة، وفق تقديرات أمنية إسرائيلية",
                       "وقال مسؤول إسرائيلي إن {} رهينة على الأقل أحياء"],
    "hostages_dead": ["وأعلن الجيش الإسرائيلي أن {} من المحتجزين قتلوا في الأسر، ولا تزال جثثهم في غزة",
                      "وتشير التقديرات إلى وجود جثث {} رهينة في القطاع"],
    "hostages_released": ["وأفرجت حركة حماس عن {} محتجزين إسرائيليين في إطار المرحلة الأولى من اتفاق وقف إطلاق النار",
                          "وسلمت كتائب القسام {} رهائن إلى الصليب الأحمر في خان يونس"],
    "prisoners_released": ["وأفرجت سلطات الاحتلال عن {} أسيرا فلسطينيا من سجن عوفر ضمن صفقة التبادل",
                           "ووصل {} أسيرا محررا إلى رام الله وسط استقبال حاشد"],
    "prisoners_held": ["وقالت هيئة شؤون الأسرى إن عدد الأسرى في سجون الاحتلال بلغ أكثر من {} أسير، بينهم أطفال ونساء",
                       "ويقبع في سجون الاحتلال {} أسير فلسطيني، وفق نادي الأسير"],
    "prisoners_demanded": ["وتطالب حماس بالإفراج عن {} أسير فلسطيني مقابل المحتجزين الإسرائيليين",
                           "وتتضمن قائمة الحركة أسماء {} أسيرا من ذوي الأحكام العالية"],
}
_SUBGROUPS = [("children", 0.06, 0.4), ("women", 0.04, 0.25), ("Palestinians", 0.02, 0.9),
              ("soldiers", 0.01, 0.3), ("elderly", 0.01, 0.1)]
_QUALS = [("exact", 0.72), ("approx", 0.12), ("more_than", 0.09), ("at_least", 0.03), ("less_than", 0.01),
          ("at_most", 0.005), ("range", 0.01), ("vague", 0.015)]


def _quote_template(sentence: str) -> str:
    """The words a rule would quote: up to three before the figure and one after it."""
    words = sentence.split(" ")
    k = next(j for j, w in enumerate(words) if "{}" in w)
    return " ".join(words[max(0, k - 3): k + 2])


def _thresholds(shares: Sequence[float]) -> list[float]:
    acc, out = 0.0, []
    for s in shares:
        acc += s
        out.append(acc)
    out[-1] = 1.01
    return out


def _case(var: str, thresholds: Sequence[float], values: Sequence[str]) -> str:
    arms = " ".join(f"WHEN {var} < {t:.6f} THEN {v}" for t, v in zip(thresholds[:-1], values[:-1]))
    return f"CASE {arms} ELSE {values[-1]} END"


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def generate_claims_db(path: Path, n_claims: int, texts: list[str], claims_per_article: int = 8,
                       chunk: int = 1_000_000) -> dict[str, Any]:
    """A database (the store's migrations) holding ``n_claims`` generated claims and their articles.

    Claims: 9 metrics in realistic shares; kinds as declared; each (metric, day) has an official
    figure (cumulative tolls rising over two years, hostages held falling) that 75 % of claims
    repeat, 15 % repeat from one to five days late, 10 % replace by an estimate within ±10 %;
    events are log-uniform counts; qualifiers (72 % exact), 14 % subgroups (scaled figures),
    20 % of releases planned, half attributed to one of 12 voices; 50 publishers (a few big
    ones, a long tail), 10 % of articles syndicated copies (one story, two publishers), 2 %
    undated. Sentences and quotes are Arabic with the figure in them (realistic string sizes).
    Articles' texts come from ``texts`` (the generated corpus). Inserted with SQL over
    ``range()``, in chunks of ``chunk`` claims (each its own transaction).
    """
    import pyarrow as pa

    from tracker import store

    n_articles = max(1, math.ceil(n_claims / claims_per_article))
    for p in (path, Path(str(path) + ".wal")):
        p.unlink(missing_ok=True)
    con = store.connect(path)
    timings: dict[str, float] = {}
    try:
        con.execute("SET enable_progress_bar = false")
        con.register("bench_texts", pa.table({"k": list(range(len(texts))), "text": texts}))
        con.execute("INSERT INTO runs (run_id, command, started_at, finished_at, status, rules_hash, tool_version, "
                    "inputs) VALUES (1, 'ingest', now(), now(), 'completed', 'bench', 'bench', ['generated'])")
        pubs = "[" + ", ".join(map(_q, PUBLISHERS)) + "]"
        # article a: day (chronological), undated 2 %, publisher skewed, copy of a-1 10 %
        r = "(hash({x}, {k}) % 1000003) / 1000003.0"
        art_day = f"floor(a * {SPAN_DAYS}.0 / {n_articles})::INTEGER"
        undated = f"({r.format(x='a', k=2)} < 0.02)"
        t0 = time.perf_counter()
        for lo in range(0, n_articles, chunk):
            hi = min(n_articles, lo + chunk)
            con.execute(f"""
                INSERT INTO articles BY NAME
                SELECT printf('gen-%09d', a) AS article_id,
                       {pubs}[1 + floor(50 * pow({r.format(x='a', k=1)}, 2.2))::INTEGER] AS publisher,
                       printf('https://news.example/gen/%d', a) AS url,
                       CASE WHEN {undated} THEN NULL
                            ELSE TIMESTAMP '{START_DAY.isoformat()}' + to_days({art_day})
                                 + to_seconds(floor(86399 * {r.format(x='a', k=3)})::BIGINT) END AS published_at,
                       CASE WHEN {undated} THEN NULL ELSE 'input' END AS published_at_source,
                       left(t.text, 80) AS title,
                       t.text AS text,
                       sha256(a::VARCHAR) AS content_hash,
                       sha256('r' || a::VARCHAR) AS record_hash,
                       '{{}}'::JSON AS metadata,
                       printf('generated:%d', a) AS read_from,
                       now()::TIMESTAMP AS ingested_at, 1 AS run_id, 'bench' AS rules_hash,
                       printf('s-%012d', CASE WHEN a > 0 AND {r.format(x='a', k=4)} < 0.10 THEN a - 1 ELSE a END)
                           AS story_id
                FROM range({lo}, {hi}) AS g(a)
                JOIN bench_texts AS t ON t.k = a % {len(texts)}""")
        timings["articles_s"] = time.perf_counter() - t0

        rc = lambda k: r.format(x="i", k=k)  # noqa: E731  a per-claim random number in [0, 1)
        metric_idx = _case(rc(10), _thresholds([m[1] for m in METRICS]), [str(j) for j in range(len(METRICS))])
        metrics = "[" + ", ".join(_q(m[0]) for m in METRICS) + "]"
        t_frac = f"(day_i / {SPAN_DAYS}.0)"
        lag = f"greatest(0, day_i - 1 - floor(5 * {rc(12)}))::DOUBLE / {SPAN_DAYS}.0"
        official = {  # figure of the day as a function of the fraction of the two years elapsed
            "killed": "1500 + 63000 * pow({t}, 0.8)", "injured": "2.4 * (1500 + 63000 * pow({t}, 0.8))",
            "hostages_held": "240 - 140 * pow({t}, 0.5)", "hostages_alive": "0.5 * (240 - 140 * pow({t}, 0.5))",
            "hostages_dead": "10 + 0.35 * (240 - 140 * pow({t}, 0.5))", "prisoners_held": "5200 + 5000 * pow({t}, 0.5)",
        }
        events = {"killed": 300, "injured": 600, "hostages_released": 110, "prisoners_released": 2000,
                  "prisoners_demanded": 3000}

        def figure(t: str) -> str:
            arms = [f"WHEN m = {_q(name)} THEN {expr.format(t=t)}" for name, expr in official.items()]
            return "CASE " + " ".join(arms) + " ELSE 0 END"

        event_max = "CASE " + " ".join(f"WHEN m = {_q(k)} THEN {v}" for k, v in events.items()) + " ELSE 100 END"
        sub_idx = _case(rc(15), _thresholds([0.86] + [s[1] for s in _SUBGROUPS]),
                        [str(j) for j in range(len(_SUBGROUPS) + 1)])
        subgroups = "([NULL, " + ", ".join(_q(s[0]) for s in _SUBGROUPS) + "]::VARCHAR[])"
        factors = "[1.0, " + ", ".join(str(s[2]) for s in _SUBGROUPS) + "]"
        qual = _case(rc(16), _thresholds([q[1] for q in _QUALS]), [_q(q[0]) for q in _QUALS])
        attrs = "[" + ", ".join(map(_q, ATTRIBUTIONS)) + "]"
        templates = [t for m in METRICS for t in _SENTENCES[m[0]]]
        sentences = "[" + ", ".join(map(_q, templates)) + "]"
        quotes = "[" + ", ".join(_q(_quote_template(t)) for t in templates) + "]"
        # where the quote starts in its sentence, and the figure in its quote (before the figure is put in)
        quote_at = "[" + ", ".join(str(t.index(_quote_template(t))) for t in templates) + "]"
        number_at = "[" + ", ".join(str(_quote_template(t).index("{}")) for t in templates) + "]"
        t0 = time.perf_counter()
        for lo in range(0, n_claims, chunk):
            hi = min(n_claims, lo + chunk)
            con.execute(f"""
                INSERT INTO claims BY NAME
                WITH base AS (
                    SELECT i, i // {claims_per_article} AS a,
                           {metric_idx} AS mi,
                           floor((i // {claims_per_article}) * {SPAN_DAYS}.0 / {n_articles})::INTEGER AS day_i,
                           ({r.format(x='i // ' + str(claims_per_article), k=2)} < 0.02) AS undated,
                           {sub_idx} AS si,
                           {qual} AS qualifier
                    FROM range({lo}, {hi}) AS g(i)
                ),
                named AS (
                    SELECT *, {metrics}[mi + 1] AS m,
                           CASE WHEN {metrics}[mi + 1] IN ('killed', 'injured') AND {rc(11)} >= 0.7 THEN 'event'
                                WHEN {metrics}[mi + 1] IN ('killed', 'injured') THEN 'cumulative'
                                WHEN {metrics}[mi + 1] IN ('hostages_released', 'prisoners_released',
                                                           'prisoners_demanded') THEN 'event'
                                ELSE 'stock' END AS kind
                    FROM base
                ),
                valued AS (
                    SELECT *,
                        greatest(1, round({factors}[si + 1] * CASE
                            WHEN kind = 'event' THEN exp({rc(13)} * ln({event_max}))
                            WHEN {rc(14)} < 0.75 THEN {figure(t_frac)}
                            WHEN {rc(14)} < 0.90 THEN {figure(lag)}
                            ELSE ({figure(t_frac)}) * (0.9 + 0.2 * {rc(17)}) END)) AS v0
                    FROM named
                ),
                rounded AS (
                    SELECT *, CASE WHEN qualifier IN ('approx', 'more_than', 'at_least', 'vague') AND v0 >= 1000
                                   THEN round(v0, -3) ELSE v0 END AS v
                    FROM valued
                ),
                texted AS (
                    SELECT *, v::BIGINT::VARCHAR AS v_txt, 2 * mi + 1 + (i % 2)::INTEGER AS ti,
                           replace({sentences}[ti], '{{}}', v_txt) AS sentence,
                           replace({quotes}[ti], '{{}}', v_txt) AS quote,
                           (i % {claims_per_article}) * 450 + 40 + {quote_at}[ti] AS span_start
                    FROM rounded
                )
                SELECT
                    substr(md5(i::VARCHAR), 1, 20) AS claim_id,
                    printf('gen-%09d', a) AS article_id,
                    1 AS run_id, m AS metric, kind, v AS value,
                    CASE qualifier WHEN 'exact' THEN v WHEN 'approx' THEN v - greatest(1, round(0.1 * v))
                                   WHEN 'more_than' THEN v WHEN 'at_least' THEN v WHEN 'range' THEN v
                                   WHEN 'vague' THEN pow(10, floor(log10(v))) ELSE NULL END AS value_low,
                    CASE qualifier WHEN 'exact' THEN v WHEN 'approx' THEN v + greatest(1, round(0.1 * v))
                                   WHEN 'less_than' THEN v WHEN 'at_most' THEN v WHEN 'range' THEN round(v * 1.1) + 1
                                   WHEN 'vague' THEN pow(10, floor(log10(v)) + 1) - 1 ELSE NULL END AS value_high,
                    qualifier,
                    {subgroups}[si + 1] AS subgroup,
                    m IN ('hostages_released', 'prisoners_released', 'prisoners_demanded') AND {rc(18)} < 0.2
                        AS planned,
                    CASE WHEN si > 0 AND i % {claims_per_article} > 0 THEN substr(md5((i - 1)::VARCHAR), 1, 20)
                         END AS parent_claim_id,
                    CASE WHEN {rc(19)} < 0.5 THEN NULL
                         ELSE {attrs}[1 + floor({len(ATTRIBUTIONS)} * {rc(20)})::INTEGER] END AS attributed_to,
                    sentence,
                    span_start,
                    span_start + length(quote) AS span_end,
                    quote,
                    span_start + {number_at}[ti] AS number_start,
                    span_start + {number_at}[ti] + length(v_txt) AS number_end,
                    split_part(m, '_', 1) || '.rule-' || (i % 7)::VARCHAR AS rule_id,
                    1 + (i % 3)::INTEGER AS rule_version,
                    split_part(m, '_', 1) || '.rule-' || (i % 7)::VARCHAR || '@' || (span_start + {number_at}[ti])::VARCHAR
                        AS claim_key,
                    CASE WHEN undated THEN NULL ELSE DATE '{START_DAY.isoformat()}' + day_i END AS as_of,
                    now()::TIMESTAMP AS extracted_at
                FROM texted""")
        timings["claims_s"] = time.perf_counter() - t0
        con.execute("UPDATE runs SET articles_new = $a, claims_added = $c WHERE run_id = 1",
                    {"a": n_articles, "c": n_claims})
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return {"claims": n_claims, "articles": n_articles, **timings,
            "claims_rows_per_s": n_claims / timings["claims_s"],
            "file_mb": path.stat().st_size / 2**20}


@dataclass
class QueryStats:
    name: str
    calls: int
    wall: Stats
    note: str = ""
    median_ms_by_variant: dict[str, float] = field(default_factory=dict)

    @property
    def p50_ms(self) -> float:
        return self.wall.p50 * 1000

    @property
    def p95_ms(self) -> float:
        return self.wall.p95 * 1000


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_queries(n_claims: int, workdir: str, corpus_path: str, repeat: int, seed: int = 7) -> dict[str, Any]:
    """Generate ``n_claims`` claims, copy them into a dashboard snapshot, and time the dashboard's
    queries as it calls them: p50 / p95 over ``repeat`` calls each, filters varying."""
    from tracker import queries as Q

    wd = Path(workdir)
    texts = read_texts(Path(corpus_path))[:500]
    db = wd / f"claims-{n_claims}.duckdb"
    _say(f"  {n_claims:,} claims: generating into {db.name} ...")
    gen = generate_claims_db(db, n_claims, texts)
    _say(f"  {n_claims:,} claims: generated in {gen['articles_s'] + gen['claims_s']:.1f} s "
         f"({gen['claims_rows_per_s']:,.0f} claim rows/s by SQL), file {gen['file_mb']:.0f} MB")
    rss0 = _rss_mb()
    t0 = time.perf_counter()
    snap = Q.build_snapshot(db, precompute="no")
    snapshot_s = time.perf_counter() - t0
    rss_snap = _rss_mb()
    t0 = time.perf_counter()
    Q.precompute_conflicts(snap)
    precompute_s = time.perf_counter() - t0
    rss_pre = _rss_mb()
    # precompute_conflicts orders the snapshot's facts (and builds its count and lookup tables),
    # then computes every disagreement: snap.info has the two times
    layout_s, conflicts_s = snap.info.get("layout_s"), snap.info.get("conflicts_s")
    _say(f"  {n_claims:,} claims: snapshot copy {snapshot_s:.1f} s, conflicts precomputed {precompute_s:.1f} s "
         f"(facts ordered {layout_s or 0:.1f} s, disagreements {conflicts_s or 0:.1f} s), "
         f"RSS {rss_snap:.0f} MB after copy, {rss_pre:.0f} MB after precompute")
    con = snap.cursor()
    rnd = random.Random(seed)
    try:
        counts = Q.metric_counts(con)
        metrics = list(counts.metric)[:4]
        # the dashboard sets a kind only when the metric has several (dashboard.sidebar_filters)
        headline = {m[0]: (m[2][0] if len(m[2]) > 1 else None) for m in METRICS}
        pubs = list(Q.facet_values(con, "publisher", None).value)
        first, last = Q.day_range(con, None)
        ids = [r[0] for r in con.execute("SELECT claim_id FROM facts USING SAMPLE 2000 ROWS").fetchall()]
        assert first is not None and last is not None

        def headline_filter(k: int) -> Q.Filters:  # the dashboard's first view of a metric
            m = metrics[k % len(metrics)]
            return Q.Filters(metric=m, subgroup=Q.TOTAL, kind=headline[m])

        def dates(k: int) -> tuple[date, date]:
            start = first + timedelta(days=rnd.randrange(max(1, (last - first).days - 60)))
            return start, start + timedelta(days=30 + 30 * (k % 2))

        def table_filter(k: int) -> Q.Filters:
            m = metrics[k % len(metrics)]
            d0, d1 = dates(k)
            return [
                Q.Filters(metric=m, subgroup=Q.TOTAL, kind=headline[m]),
                Q.Filters(metric=m, date_from=d0, date_to=d1),
                Q.Filters(metric=m, publishers=tuple(rnd.sample(pubs[:20], 2))),
                Q.Filters(metric=m, qualifiers=("more_than", "at_least")),
                Q.Filters(metric=m, search="وزارة الصحة"),
            ][k % 5]

        # each returns a label of the variant it ran, so the JSON has the times of each
        def run_timeline(k: int) -> str:
            series = ["publisher", "source", "attributed_to"][k % 3]
            Q.timeline(con, headline_filter(k), series, TIMELINE_SERIES)
            return f"series={series}"

        def run_disagreements(k: int) -> str:
            f = headline_filter(k)
            if k % 2:
                d0, d1 = dates(k)
                f = Q.Filters(**{**f.__dict__, "date_from": d0, "date_to": d1})
            Q.disagreements(con, f, 500)
            return "dates" if k % 2 else "all days"

        def run_disagreements_live(k: int) -> str:
            f = headline_filter(k)
            Q.disagreements(con, Q.Filters(**{**f.__dict__, "publishers": tuple(rnd.sample(pubs[:20], 3))}), 500)
            return "3 publishers"

        groups = {m: Q.disagreements(con, headline_filter(j), 50) for j, m in enumerate(metrics)}

        def run_drilldown(k: int) -> str:
            d = Q.claim_detail(con, ids[k % len(ids)])
            assert d is not None
            Q.article_text(db, d["article_id"])
            return "claim"

        def run_disagreement_claims(k: int) -> str:
            m = metrics[k % len(metrics)]
            rows = groups[m]
            if not rows.empty:
                Q.disagreement_claims(con, headline_filter(k), rows.iloc[k % len(rows)].to_dict())
            return m

        def run_table(k: int) -> str:
            f = table_filter(k)
            total = Q.count_claims(con, f)
            Q.claims_page(con, f, PAGE_ROWS, PAGE_ROWS * (k % 3) if total > 3 * PAGE_ROWS else 0)
            return ["headline", "dates", "publishers", "qualifiers", "search"][k % 5]

        plan = [
            ("timeline", run_timeline, "Q.timeline: headline filter of a metric, series publisher/source/attribution"),
            ("disagreements", run_disagreements, "Q.disagreements(limit 500): headline filter, half with a date range"),
            ("disagreements (live)", run_disagreements_live,
             "Q.disagreements with a publisher filter: recomputed from the claims, not precomputed"),
            ("claim drill-down", run_drilldown, "Q.claim_detail + Q.article_text (read-only open of the file)"),
            ("disagreement drill-down", run_disagreement_claims, "Q.disagreement_claims of one group"),
            ("filtered table", run_table, "Q.count_claims + Q.claims_page(500): metric, dates, publishers, "
                                          "qualifiers or text search"),
        ]
        results = []
        for name, fn, note in plan:
            fn(0)  # warm: first call plans and loads
            walls = []
            variants: dict[str, list[float]] = {}
            for k in range(repeat):
                t0 = time.perf_counter()
                label = fn(k + 1)
                walls.append(time.perf_counter() - t0)
                variants.setdefault(label, []).append(walls[-1])
            by_variant = {v: round(statistics.median(ws) * 1000, 1) for v, ws in variants.items()}
            qs = QueryStats(name, repeat, Stats.of(walls), note, by_variant)
            results.append(qs)
            slowest = max(by_variant, key=by_variant.__getitem__)
            _say(f"  {n_claims:>11,} claims  {name:<24} p50 {qs.p50_ms:8.1f} ms  p95 {qs.p95_ms:8.1f} ms  "
                 f"(min {qs.wall.min * 1000:.1f}, max {qs.wall.max * 1000:.1f}; slowest: {slowest} "
                 f"{by_variant[slowest]:.0f} ms median)")
    finally:
        con.close()
        snap.con.close()
    return {
        "claims": n_claims, "generation": gen, "snapshot_s": snapshot_s, "precompute_conflicts_s": precompute_s,
        "precompute_parts_s": {"facts_ordered": layout_s, "disagreements": conflicts_s},
        "rss_mb": {"before_snapshot": rss0, "after_snapshot": rss_snap, "after_precompute": rss_pre,
                   "peak": _peak_rss_mb()},
        "queries": [{**asdict(q), "p50_ms": q.p50_ms, "p95_ms": q.p95_ms} for q in results],
    }


def _queries_child(conn: Any, *args: Any) -> None:
    try:
        conn.send(measure_queries(*args))
    except Exception as exc:  # noqa: BLE001  reported, and the other sections still run
        conn.send({"claims": args[0], "error": f"{type(exc).__name__}: {exc}"})
    finally:
        conn.close()


MEMORY_RESERVE_MB = 1500  # the query process is stopped before the machine has less than this free


def measure_queries_isolated(n_claims: int, workdir: Path, corpus_path: str, repeat: int) -> dict[str, Any]:
    """``measure_queries`` in a child process: its memory is its own (a 10 M snapshot is large),
    sampled from here; the child is stopped if the machine would run out of memory (a shared
    machine: better a missing figure than the system killing someone else's process)."""
    import psutil

    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_queries_child, args=(child, n_claims, str(workdir), corpus_path, repeat),
                       name=f"tracker-bench-queries-{n_claims}")
    proc.start()
    child.close()
    peak, result = 0, None
    try:
        ps = psutil.Process(proc.pid)
        while result is None:
            if parent.poll(0.5):
                try:
                    result = parent.recv()
                except EOFError:
                    break
                break
            if not proc.is_alive():
                break
            try:
                rss = ps.memory_info().rss
            except psutil.Error:
                continue
            peak = max(peak, rss)
            avail = psutil.virtual_memory().available
            if avail < MEMORY_RESERVE_MB * 2**20:
                proc.kill()
                proc.join()
                result = {"claims": n_claims, "error": f"stopped: the machine was running out of memory "
                                                       f"({avail / 2**20:.0f} MB available, the query process "
                                                       f"at {rss / 2**20:.0f} MB RSS)"}
        proc.join()
        if result is None:
            result = {"claims": n_claims, "error": f"the query process died (exit code {proc.exitcode}; "
                                                   f"-9: killed, most likely out of memory)"}
    finally:
        if proc.is_alive():
            proc.kill()
            proc.join()
        parent.close()
        for p in Path(workdir).glob(f"claims-{n_claims}.duckdb*"):
            p.unlink(missing_ok=True)
    result["peak_rss_sampled_mb"] = peak / 2**20
    return result


# ---- 5: memory -----------------------------------------------------------------------------------

def measure_memory(n_articles: int, workers: int, workdir: Path, seed: int, pool: TextPool,
                   env: dict[str, str] | None = None) -> dict[str, Any]:
    """Peak RSS of ``tracker ingest`` over a generated JSONL of ``n_articles`` (a child process):
    the tree's sum sampled every 0.25 s, the largest single process exact (``ru_maxrss``), and
    the tree's peak in each quarter of the run (flat: the last quarter's as the first's)."""
    corpus_path = workdir / f"memory-{n_articles}.jsonl"
    t0 = time.perf_counter()
    info = write_corpus(corpus_path, n_articles, seed=seed + 1, pool=pool)
    gen_s = time.perf_counter() - t0
    _say(f"  memory: {n_articles:,} articles generated ({info.mb:.0f} MB of text, file {info.file_bytes / 2**20:.0f} MB) "
         f"in {gen_s:.0f} s; ingesting with --workers {workers} ...")
    db = workdir / "memory.duckdb"
    try:
        run = run_child([*tracker_command(), "ingest", str(corpus_path), "--db", str(db), "--workers", str(workers),
                         "--json"], workdir, interval=0.25, env=env)
        if run.returncode != 0:
            raise RuntimeError(f"tracker ingest failed ({run.returncode}): {run.stderr[-2000:]}")
        summary = json.loads(run.stdout.strip().splitlines()[-1])
        db_mb = db.stat().st_size / 2**20
    finally:
        for p in (corpus_path, db, Path(str(db) + ".wal")):
            p.unlink(missing_ok=True)
    quarters = []
    end = run.wall_s
    for q in range(4):
        inside = [rss for t, rss in run.samples if q * end / 4 <= t < (q + 1) * end / 4]
        quarters.append(max(inside) / 2**20 if inside else 0.0)
    # the first quarter holds the start (imports, rules, workers spawning): growth is judged after it
    growth = quarters[3] / quarters[1] if quarters[1] else float("nan")
    return {
        "articles": n_articles, "workers": workers, "mb_text": info.mb, "file_mb": info.file_bytes / 2**20,
        "wall_s": run.wall_s, "cpu_s": run.cpu_s, "articles_per_s": n_articles / run.wall_s,
        "claims": summary["claims_added"], "db_mb": db_mb,
        "peak_rss_tree_mb": run.peak_rss_tree / 2**20, "peak_rss_process_mb": run.peak_rss_process / 2**20,
        "peak_rss_tree_by_quarter_mb": quarters, "growth_last_over_second_quarter": growth,
        "samples": len(run.samples),
    }


# ---- the run -------------------------------------------------------------------------------------

@dataclass
class Config:
    articles: int = DEFAULT_ARTICLES
    repeat: int = DEFAULT_REPEAT
    claims: tuple[int, ...] = DEFAULT_CLAIMS
    memory_articles: int = DEFAULT_MEMORY_ARTICLES
    memory_workers: int = 2
    query_repeat: int = DEFAULT_QUERY_REPEAT
    bulk_rows: int = DEFAULT_BULK_ROWS
    skip: tuple[str, ...] = ()
    seed: int = 2024
    workdir: str | None = None
    rules: str | None = None  # rule folder (default: rules/, or $TRACKER_RULES), for extraction and ingest
    corpus: str | None = None  # a JSONL of real articles for the passes and ingest (default: generated)


@dataclass
class Target:
    name: str
    goal: str
    value: float | None
    met: bool | None
    detail: str = ""


@dataclass
class Results:
    started_at: str
    finished_at: str = ""
    seconds: float = 0.0
    config: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    corpus: dict[str, Any] = field(default_factory=dict)
    baseline: Throughput | None = None
    passes: dict[str, Throughput] = field(default_factory=dict)
    ingest: dict[str, Any] = field(default_factory=dict)
    bulk_load: list[BulkLoad] = field(default_factory=list)
    queries: dict[str, Any] = field(default_factory=dict)
    memory: dict[str, Any] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False, default=str)


def environment() -> dict[str, Any]:
    import duckdb
    import psutil

    vm = psutil.virtual_memory()
    commit, dirty = None, None
    try:
        dirty = subprocess.run(["git", "status", "--short", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                               text=True, timeout=10).stdout.split("\n")
        dirty = [line.strip() for line in dirty if line.strip()]
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        pass
    return {
        "python": platform.python_version(), "duckdb": duckdb.__version__, "machine": platform.machine(),
        "platform": platform.platform(), "cpus": os.cpu_count(), "memory_total_mb": vm.total / 2**20,
        "memory_available_mb": vm.available / 2**20, "load_average": os.getloadavg(), "git_commit": commit,
        "git_modified": dirty,
    }


def evaluate(res: Results) -> list[Target]:
    """The issue's targets, each with the figure of this run."""
    out = []
    ext = res.passes.get("extract (all rules)")
    if ext is not None:
        floor = res.passes.get(FLOOR_PASS)
        ceiling = f"; the rules' own regex work at the claims alone runs at {floor.ratio_to_baseline:.4f}" if floor else ""
        out.append(Target("full extraction vs \\d+ baseline (1 core)", ">= 0.10 (aim 0.25)", ext.ratio_to_baseline,
                          ext.ratio_to_baseline >= 0.10, f"CPU-time ratio {ext.cpu_ratio_to_baseline:.4f}{ceiling}"))
    ing = res.ingest
    if "speedup_2_over_1" in ing:
        out.append(Target("ingest --workers 2 over 1 worker", ">= 1.7", ing["speedup_2_over_1"],
                          ing["speedup_2_over_1"] >= 1.7))
    if res.bulk_load:
        real = res.bulk_load[0]
        out.append(Target("bulk loading, claim rows/s (ingest's writer, save_ingest_batch)", ">= 200,000", real.rows_per_s,
                          real.rows_per_s >= 200_000,
                          "; ".join(f"{b.name}: {b.rows_per_s:,.0f}" for b in res.bulk_load)))
    big = str(max(res.config.get("claims") or [0]))
    q = res.queries.get(big)
    if q is not None:
        if "error" in q:
            out.append(Target(f"dashboard queries p95 at {int(big):,} claims", "< 300 ms", None, False, q["error"]))
        else:
            worst = max(q["queries"], key=lambda x: x["p95_ms"])
            out.append(Target(f"dashboard queries p95 at {int(big):,} claims", "< 300 ms", worst["p95_ms"],
                              worst["p95_ms"] < 300,
                              "; ".join(f"{x['name']} {x['p95_ms']:.0f}" for x in q["queries"])))
    mem = res.memory
    if "peak_rss_tree_mb" in mem:
        out.append(Target(f"ingest peak RSS, {mem['articles']:,} articles", "< 1024 MB, flat",
                          mem["peak_rss_tree_mb"], mem["peak_rss_tree_mb"] < 1024,
                          f"quarters {', '.join(f'{x:.0f}' for x in mem['peak_rss_tree_by_quarter_mb'])} MB "
                          f"(last / second quarter {mem['growth_last_over_second_quarter']:.2f}); largest process "
                          f"{mem['peak_rss_process_mb']:.0f} MB"))
    elif "error" in mem:
        out.append(Target("ingest peak RSS", "< 1024 MB, flat", None, False, mem["error"]))
    return out


def run(cfg: Config, json_path: Path | None = None) -> Results:
    """Every section in order, printing each as it finishes; the results written to ``json_path``
    after each section (a run stopped half way keeps what it measured)."""
    unknown = set(cfg.skip) - set(SECTIONS)
    if unknown:
        raise ValueError(f"unknown section(s) to skip: {', '.join(sorted(unknown))} (known: {', '.join(SECTIONS)})")
    given = corpus_of(Path(cfg.corpus)) if cfg.corpus else None  # refused before anything is written
    started = time.perf_counter()
    res = Results(datetime.now(timezone.utc).replace(microsecond=0).isoformat(), config=asdict(cfg),
                  environment=environment())
    own_dir = cfg.workdir is None
    workdir = Path(cfg.workdir or tempfile.mkdtemp(prefix="tracker-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if cfg.rules:
        env["TRACKER_RULES"] = str(Path(cfg.rules).resolve())

    def save() -> None:
        res.finished_at = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        res.seconds = time.perf_counter() - started
        res.targets = evaluate(res)
        if json_path is not None:
            json_path.parent.mkdir(parents=True, exist_ok=True)
            json_path.write_text(res.to_json() + "\n", encoding="utf-8")

    try:
        e = res.environment
        _say(f"tracker bench: {e['cpus']} CPUs, {e['memory_available_mb']:.0f} of {e['memory_total_mb']:.0f} MB "
             f"available, load {', '.join(f'{x:.1f}' for x in e['load_average'])}; python {e['python']}, "
             f"duckdb {e['duckdb']}; work files in {workdir}")
        pool = text_pool()
        corpus = given or write_corpus(workdir / "corpus.jsonl", cfg.articles, seed=cfg.seed, pool=pool)
        res.corpus = {**asdict(corpus), "mb": corpus.mb, "mean_kb": corpus.bytes / corpus.articles / 1000,
                      "pool": {"paragraphs": len(pool.paragraphs), "sentences": len(pool.sentences),
                               "titles": len(pool.titles)}}
        named = f" {corpus.path}" if cfg.corpus else ""
        _say(f"corpus{named}: {corpus.articles:,} articles, {corpus.mb:.2f} MB UTF-8 "
             f"(mean {res.corpus['mean_kb']:.1f} KB), {cfg.repeat} runs of each pass")

        _say("\n== 1-2. baseline and passes (one core, in this process) ==")
        _say(throughput_header())
        base, texts = measure_baseline(corpus, cfg.repeat)
        res.baseline = base
        _say(throughput_line(base))
        if "passes" not in cfg.skip:
            res.passes = measure_passes(texts, corpus, cfg.repeat, base, Path(cfg.rules) if cfg.rules else None)
        save()

        if "ingest" not in cfg.skip:
            _say("\n== 3. end-to-end `tracker ingest` into a fresh DuckDB file (child process) ==")
            _say(throughput_header())
            runs, pairs = measure_ingest(corpus, cfg.repeat, workdir, base, env=env)
            for w in (1, 2):
                _say(throughput_line(runs[w]) + f"  claims {runs[w].items:,}")
            res.ingest = {f"workers_{w}": t for w, t in runs.items()}
            res.ingest["speedup_2_over_1"] = runs[1].wall.median / runs[2].wall.median
            res.ingest["pairs"] = pairs
            res.ingest["cpu_speedup_note"] = ("CPU seconds of the whole tree: "
                                              f"{runs[1].cpu.median:.1f} (1 worker), {runs[2].cpu.median:.1f} (2 workers)")
            pr = pairs["pair_ratio"]
            _say(f"  --workers 2 / --workers 1: {res.ingest['speedup_2_over_1']:.2f}x (medians); by pair of "
                 f"back-to-back runs median {pr.median:.2f}x (min {pr.min:.2f}, max {pr.max:.2f}); cores available "
                 f"to two processes before each pair: {', '.join(f'{c:.2f}' for c in pairs['cores_available'])}")
            save()

        if "bulk" not in cfg.skip:
            _say("\n== bulk loading of claim rows through the store (store.save_ingest_batch) ==")
            res.bulk_load = measure_bulk(cfg.bulk_rows, workdir, cfg.repeat, texts)
            save()

        if "queries" not in cfg.skip:
            _say("\n== 4. dashboard queries (tracker.queries on a snapshot, as the dashboard calls them) ==")
            for n in cfg.claims:
                out = measure_queries_isolated(n, workdir, corpus.path, cfg.query_repeat)
                res.queries[str(n)] = out
                if "error" in out:
                    _say(f"  {n:,} claims: FAILED: {out['error']}")
                save()

        if "memory" not in cfg.skip:
            _say(f"\n== 5. peak memory of `tracker ingest`, {cfg.memory_articles:,} articles ==")
            try:
                res.memory = measure_memory(cfg.memory_articles, cfg.memory_workers, workdir, cfg.seed, pool, env=env)
                m = res.memory
                _say(f"  {m['articles']:,} articles ({m['mb_text']:.0f} MB) in {m['wall_s']:.0f} s "
                     f"({m['articles_per_s']:.1f} articles/s, {m['claims']:,} claims, db {m['db_mb']:.0f} MB): "
                     f"peak RSS {m['peak_rss_tree_mb']:.0f} MB (process tree), largest process "
                     f"{m['peak_rss_process_mb']:.0f} MB; by quarter of the run "
                     + ", ".join(f"{x:.0f}" for x in m["peak_rss_tree_by_quarter_mb"]) + " MB")
            except Exception as exc:  # noqa: BLE001
                res.memory = {"articles": cfg.memory_articles, "error": f"{type(exc).__name__}: {exc}"}
                _say(f"  FAILED: {res.memory['error']}")
            save()
    finally:
        save()
        if own_dir:
            shutil.rmtree(workdir, ignore_errors=True)

    _say("\n== targets ==")
    for t in res.targets:
        mark = "MET " if t.met else "MISS" if t.met is not None else "n/a "
        value = "-" if t.value is None else f"{t.value:,.4g}"
        _say(f"  [{mark}] {t.name}: {value} (target {t.goal}){'; ' + t.detail if t.detail else ''}")
    _say(f"\ndone in {res.seconds:.0f} s" + (f"; results in {json_path}" if json_path else ""))
    return res
