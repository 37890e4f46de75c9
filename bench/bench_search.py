"""Search benchmark on the embedded backend: rebuild throughput, query latency, index size,
peak memory of the rebuild, at N generated Vietnamese items (default 100,000).

Run: .venv/bin/python bench/bench_search.py [--items 100000] [--repeat 5]
Uses a throw-away SQLite database under a temporary folder unless DATABASE_URL is set (then
that database: its search index is rebuilt). Targets: rebuild >= 500 items/s, p95 <= 50 ms.

The rebuild runs in a child process so that its peak resident memory (ru_maxrss) is the
rebuild's own, not the generator's.
"""

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("NGUON_VAR_DIR", tempfile.mkdtemp(prefix="nguon-bench-search-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.pop("ELASTICSEARCH_URL", None)  # the embedded backend is what is measured

PLACES = [
    "Đồng Xoài", "Bù Đăng", "Tân Đồng", "Tân Bình", "Minh Hưng", "Phước Long", "Bình Long",
    "Lộc Ninh", "Hớn Quản", "Chơn Thành", "Đồng Phú", "Bù Gia Mập", "Phú Riềng", "Bù Đốp",
]  # fmt: skip
TOPICS = {
    "y-te": ["tiêm chủng mở rộng", "phòng chống sốt xuất huyết", "khám sức khỏe miễn phí",
             "bảo hiểm y tế", "vệ sinh an toàn thực phẩm", "tiêm vắc xin cúm"],
    "giao-duc": ["khai giảng năm học", "học bổng cho học sinh nghèo", "thi học sinh giỏi",
                 "xây dựng phòng học", "phổ cập giáo dục", "ngày hội đọc sách"],
    "nong-nghiep": ["thu hoạch điều", "giá cao su", "giống lúa chịu hạn", "nuôi cá lồng",
                    "phòng bệnh lở mồm long móng", "chuyển đổi cây trồng"],
    "giao-thong": ["khánh thành cầu", "sửa chữa đường", "an toàn giao thông",
                   "lắp đèn tín hiệu", "tuần tra kiểm soát", "mở rộng quốc lộ"],
    "thien-tai": ["ứng phó bão", "di dời dân khỏi vùng sạt lở", "cảnh báo lũ quét",
                  "phòng chống cháy rừng", "hạn hán mùa khô", "diễn tập cứu nạn"],
    "van-hoa": ["lễ hội cồng chiêng", "giải bóng đá thanh niên", "thư viện xã",
                "gương người tốt việc tốt", "bảo tồn văn hóa dân tộc", "ngày hội đại đoàn kết"],
    "thong-bao": ["thông báo cắt điện", "lịch tiếp công dân", "tuyển dụng viên chức",
                  "đường dây nóng phản ánh", "cảnh giác lừa đảo", "lịch tiêm chủng"],
}  # fmt: skip
VERBS = ["triển khai", "tổ chức", "tăng cường", "hoàn thành", "phát động", "kiểm tra"]
FILLER = [
    "Ủy ban nhân dân xã đã họp triển khai kế hoạch với sự tham gia của các ban ngành.",
    "Người dân phấn khởi vì công trình đáp ứng nguyện vọng lâu nay.",
    "Cán bộ văn hóa thông tin xã ghi nhận nhiều ý kiến đóng góp của bà con.",
    "Kinh phí thực hiện từ ngân sách tỉnh và nguồn xã hội hóa.",
    "Lãnh đạo huyện đề nghị các đơn vị phối hợp chặt chẽ, báo cáo kết quả trước cuối tháng.",
    "Đài truyền thanh xã sẽ phát thông tin này trên hệ thống loa trong ba ngày liên tiếp.",
    "Trong năm, địa phương đặt mục tiêu nâng cao đời sống vật chất và tinh thần của nhân dân.",
    "Mọi thắc mắc xin liên hệ bộ phận một cửa của Ủy ban nhân dân xã trong giờ hành chính.",
]


def fold(text):
    from search.text import fold as _fold

    return _fold(text)


def percentile(samples, p):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def generate(n: int, seed: int = 7) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from newsroom.models import AdministrativeUnit, Category, NewsItem
    from newsroom.units import UnitSpec, units_load

    T = AdministrativeUnit.Type
    spec = UnitSpec(
        "70",
        "Tỉnh Bình Phước",
        T.PROVINCE,
        children=tuple(
            UnitSpec(
                f"7{d:02d}",
                f"Huyện {PLACES[d]}",
                T.DISTRICT,
                children=tuple(
                    UnitSpec(f"7{d:02d}{c:02d}", f"Xã {PLACES[(d + c + 1) % len(PLACES)]} {c}",
                             T.COMMUNE)
                    for c in range(10)
                ),
            )
            for d in range(10)
        ),
    )  # fmt: skip
    units_load([spec])
    communes = list(AdministrativeUnit.objects.filter(unit_type=T.COMMUNE))
    districts = list(AdministrativeUnit.objects.filter(unit_type=T.DISTRICT))
    owners = communes * 4 + districts + list(AdministrativeUnit.objects.filter(depth=1))
    categories = {
        slug: Category.objects.get_or_create(slug=slug, defaults={"name": slug})[0]
        for slug in TOPICS
    }
    rng = random.Random(seed)
    now = timezone.now()
    kinds = ["article"] * 7 + ["audio"] * 2 + ["video"]
    batch = []
    for i in range(n):
        slug = rng.choice(list(TOPICS))
        topic = rng.choice(TOPICS[slug])
        place = rng.choice(PLACES)
        headline = f"{place} {rng.choice(VERBS)} {topic}"
        sentences = [
            f"Sáng nay, tại {place}, địa phương {rng.choice(VERBS)} {topic}.",
            *rng.sample(FILLER, 4),
            f"Đây là hoạt động thiết thực về {rng.choice(TOPICS[rng.choice(list(TOPICS))])}.",
        ]
        body = "".join(f"<p>{s}</p>" for s in sentences)
        summary = sentences[0]
        if rng.random() < 0.15:  # some reporters type without diacritics
            headline, summary, body = fold(headline), fold(summary), fold(body)
        when = now - timedelta(minutes=rng.randrange(0, 60 * 24 * 730))
        live = rng.random() < 0.9
        batch.append(
            NewsItem(
                unit=rng.choice(owners),
                headline=headline[:255],
                summary=summary,
                body=body,
                slug=f"tin-{i}",
                kind=rng.choice(kinds),
                category=categories[slug],
                live=live,
                first_published_at=when if live else None,
                last_published_at=when if live else None,
                created_at=when,
                version=1 if live else 0,
            )
        )
        if len(batch) == 5000:
            NewsItem.objects.bulk_create(batch)
            batch = []
    if batch:
        NewsItem.objects.bulk_create(batch)


def rebuild_child() -> None:
    """In a fresh process: rebuild, print JSON with time and peak memory."""
    import django

    django.setup()
    from search.services import index_rebuild

    started = time.perf_counter()
    report = index_rebuild()
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"documents": report["documents"], "seconds": seconds, "peak_kb": peak_kb}))


def index_size_bytes() -> int | None:
    from django.db import connection

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'search_%' "
                "OR name LIKE 'sqlite_autoindex_search_%'"
            )
            return cursor.fetchone()[0]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_total_relation_size('search_searchentry') "
                "+ pg_total_relation_size('search_searchword')"
            )
            return cursor.fetchone()[0]
    return None


def measure(queries, repeat, **query_kwargs):
    from search.backends import SearchQuery, get_backend

    backend = get_backend()
    samples = []
    for _ in range(repeat):
        for text in queries:
            started = time.perf_counter()
            backend.search(SearchQuery(text=text, highlight=True, **query_kwargs))
            samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), percentile(samples, 95), len(samples)


def measure_page(queries, repeat, expect_correction=False):
    from search.selectors import item_search_page

    samples = []
    for _ in range(repeat):
        for text in queries:
            started = time.perf_counter()
            page = item_search_page(text=text, filters={})
            samples.append((time.perf_counter() - started) * 1000)
            if expect_correction and not page.corrected:
                raise SystemExit(f"no correction offered for {text!r}: the figure would lie")
    return statistics.median(samples), percentile(samples, 95), len(samples)


def vocabulary_extend(count: int, seed: int = 11) -> None:
    """Add ``count`` made-up syllables (entries 1) to the vocabulary, so that the correction's
    cost is read at a real province's vocabulary size rather than the generator's few
    hundred words. Removed by the next rebuild."""
    from search.models import SearchWord

    rng = random.Random(seed)
    onsets = ["b", "c", "ch", "d", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng", "ngh",
              "nh", "p", "ph", "qu", "r", "s", "t", "th", "tr", "v", "x", ""]  # fmt: skip
    vowels = ["a", "e", "i", "o", "u", "y", "ai", "ao", "au", "ay", "eo", "ia", "ie", "iu", "oa",
              "oe", "oi", "ua", "ue", "ui", "uo", "uy", "ieu", "uoi", "uye"]  # fmt: skip
    codas = ["", "c", "ch", "m", "n", "ng", "nh", "p", "t"]
    made: set[str] = set(SearchWord.objects.values_list("folded", flat=True))
    rows = []
    while len(rows) < count:
        word = rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas) + str(rng.randrange(10))
        if word not in made:
            made.add(word)
            rows.append(SearchWord(word=word, folded=word, entries=1))
    SearchWord.objects.bulk_create(rows, batch_size=2000)


def vocabulary_size() -> int:
    from search.models import SearchWord

    return SearchWord.objects.count()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--extra-words",
        type=int,
        default=0,
        help="add this many made-up words to the vocabulary before timing the correction",
    )
    parser.add_argument("--rebuild-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rebuild_child:
        rebuild_child()
        return

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from newsroom.models import NewsItem

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    if not NewsItem.objects.exists():
        generate(args.items)
    generate_s = time.perf_counter() - started
    items = NewsItem.objects.count()
    connection.close()

    child = subprocess.run(
        [sys.executable, __file__, "--rebuild-child"],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
    )
    rebuild = json.loads(child.stdout.strip().splitlines()[-1])
    if args.extra_words:
        vocabulary_extend(args.extra_words)

    single = ["sạt lở", "cao su", "điều", "học bổng", "bão", "thư viện", "cầu", "vắc xin"]
    phrases = [
        "tiêm chủng mở rộng",
        "an toàn giao thông",
        "lễ hội cồng chiêng",
        "di dời dân khỏi vùng sạt lở",
        "giống lúa chịu hạn",
        "lịch tiếp công dân",
    ]
    unaccented = ["tiem chung", "dong xoai", "sat lo", "cao su", "hoc bong", "bu dang",
                  "le hoi cong chieng", "canh bao lu quet"]  # fmt: skip
    faceted = single[:4] + unaccented[:4]
    # The last word cut as a reader types it (issue 16): it matches as a prefix.
    cut = ["Đồng Xo", "tiêm chủ", "học bổ", "lễ hội cồng chi", "Phước Lo", "bao hie",
           "khánh th", "di dời dân khỏi vùng sạ"]  # fmt: skip
    # Misspelt: nothing found, then "Có phải bạn muốn tìm …" (vocabulary + a check search).
    misspelt = ["tiem chungg", "Dong Xai", "hoc bongg", "thuu vien", "Chn Thanh",
                "canh bao lu quett", "giong lua chiu hann", "cao suu"]  # fmt: skip
    # One untimed pass over every query first, so that no row pays for a cold cache.
    for queries in (single, phrases, unaccented, cut, misspelt):
        measure(queries, 1, facets=True, spellcheck=True)
    rows = [
        ("single words", *measure(single, args.repeat)),
        ("phrases", *measure(phrases, args.repeat)),
        ("unaccented", *measure(unaccented, args.repeat)),
        ("faceted (7 facets + highlight)", *measure(faceted, args.repeat, facets=True)),
        ("portal page selector (all of it)", *measure_page(faceted, args.repeat)),
        # The same words with a space typed after the last: whole words only (as before
        # issue 16), to read the cost of the last word's prefix in the rows above.
        ("single words, last word whole", *measure(single, args.repeat, last_word_complete=True)),
        ("unaccented, last word whole", *measure(unaccented, args.repeat, last_word_complete=True)),
        ("last word cut (prefix)", *measure(cut, args.repeat)),
        ("misspelt, search only", *measure(misspelt, args.repeat)),
        ("misspelt + correction", *measure(misspelt, args.repeat, spellcheck=True)),
        ("portal page, misspelt (all of it)", *measure_page(misspelt, args.repeat, True)),
    ]
    size = index_size_bytes()
    throughput = rebuild["documents"] / rebuild["seconds"]

    def row(measure, value, target=""):
        print(f"| {measure:<34} | {value:>24} | {target:>12} |")

    print()
    print(
        f"Search benchmark - embedded backend, {connection.vendor} "
        f"({connection.settings_dict['NAME']}), {items:,} items"
    )
    print(f"(items generated in {generate_s:.0f} s; not part of the figures)")
    if connection.vendor == "postgresql":
        from search.vocabulary import trigram_available

        print(f"(corrections: {'pg_trgm' if trigram_available() else 'Python'} candidates)")
    print()
    row("measure", "value", "target")
    print(f"|{'-' * 36}|{'-' * 26}|{'-' * 14}|")
    verdict = "ok" if throughput >= 500 else "MISSED"
    row("rebuild throughput", f"{throughput:,.0f} items/s", f">= 500 {verdict}")
    row("rebuild time", f"{rebuild['seconds']:.1f} s")
    row("rebuild peak memory (RSS)", f"{rebuild['peak_kb'] / 1024:.0f} MB")
    if size is not None:
        row("index size on disk", f"{size / 1024 / 1024:.0f} MB")
    row("vocabulary (words)", f"{vocabulary_size():,}")
    for name, p50, p95, n in rows:
        verdict = "ok" if p95 <= 50 else "MISSED"
        row(f"p50 / p95 {name}", f"{p50:.1f} / {p95:.1f} ms (n={n})", f"<= 50 {verdict}")


if __name__ == "__main__":
    main()
