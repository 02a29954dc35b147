"""Cleaning a page to its story: extraction, repost residue, the claimed origin link."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml.html import fromstring

from dedup import residue
from dedup.document import NoStoryText, prepare
from dedup.extract import extract, strip_site_name
from dedup.params import Params
from dedup.residue import claimed_origin, strip_residue
from dedup.signature import Signer
from newsdedup.demo.server import SITES
from tests.conftest import EXAMPLES, FIXTURES

ARTICLE_SIGNS = FIXTURES / "article-signs" / "harbourgazette.example"

EXAMPLE = EXAMPLES / "repost-id-cnn-liveblog.txt"
needs_example = pytest.mark.skipif(
    not EXAMPLE.exists(),
    reason=f"the example repost is not here ({EXAMPLE}); it sits beside the checkout in CI",
)

CNN_LIVE = "https://edition.cnn.com/europe/live-news/russia-ukraine-war-news-08-17-22"
STORY = [
    "The city council approved the tram extension on Wednesday night after a five-hour debate.",
    "Councillors voted 31 to 17 in favour of the plan, which adds nine stops along Millfield Road.",
    "Construction is due to start next spring and take three years, the council said.",
]


@needs_example
def test_example_repost_loses_markers_and_trailer_and_keeps_the_story() -> None:
    """The real repost that started the project: [ad_N] markers and the Source link trailer go, every
    story paragraph stays, in order and unchanged."""
    raw = EXAMPLE.read_text(encoding="utf-8")
    story_lines = [line.strip() for line in raw.splitlines()[1:-2]]  # between [ad_1] and [ad_2]

    cleaned = strip_residue(raw)

    assert "[ad_" not in cleaned
    assert "Source link" not in cleaned
    assert cleaned.splitlines() == story_lines
    assert cleaned.startswith("Tentara Pembebasan Rakyat China akan mengirim pasukan ke Rusia")
    assert cleaned.endswith("Uliana Pavlova dari CNN berkontribusi melaporkan ke pos ini.")


@needs_example
def test_example_repost_as_html_gives_the_same_story() -> None:
    """Wrapped in an autoblog page the way the plugins publish it, the example cleans to the same text."""
    raw = EXAMPLE.read_text(encoding="utf-8").splitlines()
    paragraphs = "".join(f"<p>{line}</p>" for line in raw[1:-2])
    html = (
        "<html><head><title>Berita</title></head><body><article><h1>Latihan Vostok-2022</h1>"
        '<div class="entry-content"><div class="code-block">[ad_1]</div>'
        f'{paragraphs}<div class="code-block">[ad_2]</div>'
        f'<p><a href="{CNN_LIVE}">Source link</a></p>'
        "</div></article></body></html>"
    )
    document = prepare(Signer(128), Params(), url="https://berita.example/archives/1", html=html)

    assert document.text.splitlines() == [line.strip() for line in raw[1:-2]]
    assert document.claimed_source_url == CNN_LIVE
    assert document.language in ("id", "ms")  # langid does not always tell Indonesian from Malay


@pytest.mark.parametrize(
    ("trailer", "kept"),
    [
        ("Source link", False),
        ("Source: The Daily Courier", False),
        ("Quelle: Tagesschau", False),
        ("Read more at The Guardian", False),
        ("Weiterlesen bei Spiegel Online", False),
        ("Sources say the minister will resign next week.", True),
        ("Via Appia was the first of the great Roman roads.", True),
    ],
)
def test_attribution_trailers_go_and_sentences_that_look_alike_stay(trailer: str, kept: bool) -> None:
    """A trailing attribution line is removed; a story sentence that merely starts with 'Sources' or
    'Via' is not."""
    cleaned = strip_residue("\n".join([*STORY, trailer]))
    assert cleaned.splitlines() == ([*STORY, trailer] if kept else STORY)


def test_shortcodes_share_labels_cookie_notes_and_interstitials_are_removed() -> None:
    """Residue inside the text goes, and only the residue: shortcodes anywhere, share-button rows,
    cookie notices and 'ALSO READ: <other headline>' lines."""
    text = "\n".join(
        [
            "[ad_1]",
            STORY[0],
            "Share this: Facebook Twitter WhatsApp",
            "ALSO READ: Ten hidden beaches you need to visit this summer",
            STORY[1] + " [ad_3]",
            "We use cookies to give you the best experience on our website.",
            '[adinserter block="2"]',
            STORY[2],
            "[ad_2]",
        ]
    )
    assert strip_residue(text).splitlines() == STORY


def test_claimed_origin_is_the_attribution_link_to_another_host() -> None:
    """The Source link's target is kept; links to the page's own host and plain links are not claims."""
    html = (
        '<html><body><p>Story text.</p><p><a href="http://blog.example/other">Related</a></p>'
        '<p><a href="http://blog.example/2026/03/source">Source link</a></p>'
        '<p>Source: <a href="https://www.origin.example/2026/03/12/story/">Origin Daily</a></p>'
        "</body></html>"
    )
    assert claimed_origin(fromstring(html), "http://blog.example/2026/03/13/copy/") == (
        "https://www.origin.example/2026/03/12/story/"
    )
    home_link = fromstring("<p><a href='https://x.example/'>Home</a></p>")
    assert claimed_origin(home_link, "http://blog.example/a") is None


def test_claimed_origin_compares_hosts_with_their_ports() -> None:
    """Two sites served on one address (127.0.0.1, ports 8001 and 8002) are two sites: the Source link
    from one to the other is a claim; a link to the page's own port is navigation; port 443 of an
    https link is its default, the same site as without it."""
    trailer = "<p><a href='{}'>Source link</a></p>"
    other_port = fromstring(trailer.format("http://127.0.0.1:8002/2026/03/story"))
    assert claimed_origin(other_port, "http://127.0.0.1:8001/copy") == "http://127.0.0.1:8002/2026/03/story"
    same_port = fromstring(trailer.format("http://127.0.0.1:8001/2026/03/story"))
    assert claimed_origin(same_port, "http://127.0.0.1:8001/copy") is None
    default_port = fromstring(trailer.format("https://blog.example:443/2026/03/story"))
    assert claimed_origin(default_port, "https://www.blog.example/copy") is None


def test_fixture_repost_page_extracts_title_date_text_and_origin() -> None:
    """A demo autoblog page: headline without the site-name suffix, the publication time, the story
    without the ad markers, and the origin named by its Source link."""
    page = SITES / "newsflash-hub.example" / "2026" / "03" / "13" / "tram-extension-approved" / "index.html"
    html = page.read_text(encoding="utf-8")
    url = "http://newsflash-hub.example/2026/03/13/tram-extension-approved/"

    extracted = extract(html, url)
    document = prepare(Signer(128), Params(), url=url, html=html)

    assert extracted.published_at is not None
    assert extracted.published_at.isoformat().startswith("2026-03-1")
    assert "[ad_" not in document.text
    assert "Source link" not in document.text
    assert document.text.startswith("Eastbrook City Council has approved a £212 million extension")
    assert (
        document.claimed_source_url
        == "http://dailycourier.example/2026/03/12/city-council-approves-tram-extension/"
    )
    assert document.language == "en"
    assert document.signature is not None
    assert document.signature.shape == (128,)


def test_site_name_suffix_is_stripped_only_when_it_names_the_site() -> None:
    """' | Trend Digest' goes from a Trend Digest page's title; a title that is only the site name, or
    whose ending is not the site name, stays as it is."""
    assert strip_site_name("Fire in Westgate | Trend Digest", "Trend Digest") == "Fire in Westgate"
    assert strip_site_name("Stadtrat tagt - Nachrichten Blitz", "Nachrichten Blitz") == "Stadtrat tagt"
    assert strip_site_name("Trend Digest", "Trend Digest") == "Trend Digest"
    assert strip_site_name("Storm - live updates", "Trend Digest") == "Storm - live updates"


def test_a_page_without_story_text_is_rejected() -> None:
    """A page whose text is too short after cleaning (an empty template with a caption) is rejected,
    not stored as a story; the reason says how much text was left."""
    html = (
        "<html><head><title>Gallery</title></head>"
        "<body><article><p>Photo: the quay at dawn.</p></article></body></html>"
    )
    with pytest.raises(NoStoryText, match=r"^24 characters of text after cleaning \(at least 200\)$"):
        prepare(Signer(128), Params(), url="http://harbourgazette.example/gallery/", html=html)


def test_a_real_article_is_not_refused_for_its_og_type() -> None:
    """A news article whose Open Graph type says "website" (as many news sites' pages do) is processed:
    og:type is metadata, not a verdict on the page; its whole story text is kept."""
    page = ARTICLE_SIGNS / "2026" / "04" / "02" / "night-ferries-to-the-islands-from-may" / "index.html"
    html = page.read_text(encoding="utf-8")
    assert '<meta property="og:type" content="website">' in html
    document = prepare(
        Signer(128), Params(), url="http://harbourgazette.example/2026/04/02/night-ferries/", html=html
    )
    assert document.language == "en"
    assert len(document.text) > 1000


# The languages the phrase file must cover: the ones most present in news.
PHRASE_LANGUAGES = "en de fr es it pt nl ru uk pl tr id ar zh ja ko hi vi sv ro cs el hu fa".split()


def phrase_file() -> dict[str, Any]:
    with residue.PHRASES_FILE.open("rb") as f:
        return tomllib.load(f)


def test_every_language_of_the_phrase_file_has_entries_of_every_kind() -> None:
    """The phrase file has a table for each of the news languages, and every table of it has all six
    kinds, each a non-empty list of distinct, non-empty strings (and nothing else)."""
    data = phrase_file()
    languages = {key: value for key, value in data.items() if key != residue.NETWORKS_KEY}
    assert set(PHRASE_LANGUAGES) <= set(languages)
    for code, table in languages.items():
        assert sorted(table) == sorted(residue.KINDS), code
        for kind, entries in table.items():
            assert entries, (code, kind)
            assert all(isinstance(e, str) and e.strip() for e in entries), (code, kind)
            assert len(set(entries)) == len(entries), (code, kind)
    assert data[residue.NETWORKS_KEY][:3] == ["facebook", "twitter", "x"]


def test_the_phrase_file_parses_and_every_entry_compiles() -> None:
    """Every regular-expression entry compiles as written and as matched (accents folded, spaces as white
    space), and none matches an empty line; the module's loader accepts the file and reads what it holds."""
    data = phrase_file()
    count = 0
    for code, table in data.items():
        if code == residue.NETWORKS_KEY:
            continue
        for kind in residue.REGEX_KINDS:
            for entry in table[kind]:
                re.compile(entry, re.IGNORECASE)
                compiled = re.compile(residue._expression(entry), re.IGNORECASE)
                assert compiled.fullmatch("") is None, (code, kind, entry)
                count += 1
    assert count > 24 * 5 * 2
    loaded = residue.load_phrases()
    assert {code: {k: list(v) for k, v in t.items()} for code, t in loaded.languages.items()} == {
        code: table for code, table in data.items() if code != residue.NETWORKS_KEY
    }
    assert list(loaded.networks) == data[residue.NETWORKS_KEY]


# Per language: a three-line story, then its "read also" line, its share row and its attribution trailer.
LANGUAGE_RESIDUE = {
    "it": (
        [
            "Il consiglio comunale ha approvato mercoledì sera il prolungamento della linea del tram dopo "
            "cinque ore di dibattito.",
            "I consiglieri hanno votato 31 a 17 a favore del progetto, che aggiunge nove fermate lungo via "
            "Roma.",
            "I lavori dovrebbero iniziare la prossima primavera e durare tre anni, ha detto il Comune.",
        ],
        "Leggi anche: Dieci spiagge nascoste da visitare quest'estate",
        "Condividi su Facebook WhatsApp",
        "Fonte: ANSA",
    ),
    "pt": (
        [
            "A câmara municipal aprovou na noite de quarta-feira a extensão do bonde após cinco horas de "
            "debate.",
            "Os vereadores votaram 31 a 17 a favor do plano, que acrescenta nove paradas ao longo da Rua "
            "Augusta.",
            "As obras devem começar na próxima primavera e durar três anos, informou a prefeitura.",
        ],
        "LEIA TAMBÉM: Dez praias escondidas para visitar neste verão",
        "Compartilhe: Facebook Twitter WhatsApp",
        "Fonte: Agência Brasil",
    ),
    "tr": (
        [
            "Belediye meclisi, beş saatlik tartışmanın ardından çarşamba akşamı tramvay hattının "
            "uzatılmasını onayladı.",
            "Meclis üyeleri, Millet Caddesi boyunca dokuz durak ekleyen plana 31'e karşı 17 oyla destek "
            "verdi.",
            "Belediyenin açıklamasına göre inşaatın önümüzdeki bahar başlaması ve üç yıl sürmesi bekleniyor.",
        ],
        "İLGİLİ HABER: Bu yaz görmeniz gereken on gizli plaj",
        "Paylaş: Facebook Twitter WhatsApp",
        "Kaynak: Anadolu Ajansı",
    ),
    "uk": (
        [
            "Міська рада в середу ввечері після п'ятигодинних дебатів схвалила продовження трамвайної лінії.",
            "Депутати проголосували 31 голосом проти 17 за план, який додає дев'ять зупинок уздовж вулиці "
            "Шевченка.",
            "Будівництво має розпочатися наступної весни й триватиме три роки, повідомили в міськраді.",
        ],
        "Читайте також: Десять прихованих пляжів, які варто відвідати цього літа",
        "Поділитися: Facebook Telegram",
        "Джерело: Укрінформ",
    ),
    "es": (
        [
            "El ayuntamiento aprobó el miércoles por la noche la ampliación del tranvía tras un debate "
            "de cinco horas.",
            "Los concejales votaron 31 a 17 a favor del plan, que añade nueve paradas a lo largo de la "
            "calle Mayor.",
            "Las obras comenzarán la próxima primavera y durarán tres años, según el ayuntamiento.",
        ],
        "Lee también: Diez playas escondidas que debes visitar este verano",
        "Compartir: Facebook Twitter WhatsApp",
        "Fuente: EFE",
    ),
    "fr": (
        [
            "Le conseil municipal a approuvé mercredi soir le prolongement du tramway après cinq heures de "
            "débat.",
            "Les élus ont voté à 31 voix contre 17 en faveur du projet, qui ajoute neuf arrêts rue "
            "Nationale.",
            "Les travaux doivent commencer au printemps prochain et durer trois ans, selon la mairie.",
        ],
        "Lire aussi | Dix plages cachées à découvrir cet été",
        "Partager : Facebook Twitter E-mail",
        "Source : AFP",
    ),
    "pl": (
        [
            "Rada miasta zatwierdziła w środę wieczorem przedłużenie linii tramwajowej po pięciogodzinnej "
            "debacie.",
            "Radni głosowali 31 do 17 za planem, który dodaje dziewięć przystanków wzdłuż ulicy Długiej.",
            "Budowa ma się rozpocząć wiosną przyszłego roku i potrwać trzy lata, poinformował urząd miasta.",
        ],
        "Czytaj także: Dziesięć ukrytych plaż, które warto odwiedzić tego lata",
        "Udostępnij: Facebook Twitter",
        "Źródło: PAP",
    ),
    "ro": (
        [
            "Consiliul local a aprobat miercuri seara prelungirea liniei de tramvai după o dezbatere de "
            "cinci ore.",
            "Consilierii au votat cu 31 la 17 planul, care adaugă nouă stații de-a lungul străzii Victoriei.",
            "Lucrările ar urma să înceapă în primăvara viitoare și să dureze trei ani, a anunțat primăria.",
        ],
        "Citeşte şi: Zece plaje ascunse pe care merită să le vizitezi vara aceasta",
        "Distribuie: Facebook WhatsApp",
        "Sursa: Agerpres",
    ),
    "el": (
        [
            "Το δημοτικό συμβούλιο ενέκρινε την Τετάρτη το βράδυ την επέκταση του τραμ μετά από πεντάωρη "
            "συζήτηση.",
            "Οι σύμβουλοι ψήφισαν με 31 υπέρ και 17 κατά το σχέδιο, που προσθέτει εννέα στάσεις στην οδό "
            "Ερμού.",
            "Οι εργασίες αναμένεται να ξεκινήσουν την επόμενη άνοιξη και να διαρκέσουν τρία χρόνια.",
        ],
        "ΔΙΑΒΑΣΤΕ ΕΠΙΣΗΣ: Δέκα κρυφές παραλίες που πρέπει να επισκεφθείτε αυτό το καλοκαίρι",
        "Κοινοποίηση: Facebook Twitter",
        "Πηγή: ΑΠΕ-ΜΠΕ",
    ),
    "ar": (
        [
            "وافق المجلس البلدي مساء الأربعاء على تمديد خط الترام بعد نقاش استمر خمس ساعات.",
            "وصوت الأعضاء بأغلبية 31 مقابل 17 لصالح الخطة التي تضيف تسع محطات على طول شارع الجمهورية.",
            "ومن المقرر أن تبدأ أعمال البناء في الربيع المقبل وتستمر ثلاث سنوات، بحسب البلدية.",
        ],
        "اقرأ أيضاً: عشرة شواطئ مخفية يجب زيارتها هذا الصيف",
        "شارك: فيسبوك تويتر واتساب",
        "المصدر: وكالة الأنباء الألمانية",
    ),
    "zh": (
        [
            "市议会周三晚上经过五个小时的辩论，批准了有轨电车延长线。",
            "议员们以31票对17票支持该计划，新线将沿中山路增设九个车站。",
            "市政府表示，工程预计明年春天动工，工期三年。",
        ],
        "延伸阅读：今夏必去的十个隐秘海滩",
        "分享到：微信 微博 QQ空间",
        "来源：新华社",
    ),
    "ja": (
        [
            "市議会は水曜日の夜、5時間に及ぶ議論の末、路面電車の延伸を承認した。",
            "議員らは31対17で計画に賛成し、中央通り沿いに9つの停留所が新設される。",
            "市によると、工事は来春に始まり、3年かかる見込みだ。",
        ],
        "【関連記事】この夏に訪れたい10の隠れビーチ",
        "シェア ツイート LINEで送る",
        "出典：共同通信",
    ),
}


@pytest.mark.parametrize("language", sorted(LANGUAGE_RESIDUE))
def test_read_also_line_share_row_and_source_trailer_go_in_each_language(language: str) -> None:
    """In each of these languages, a story with that language's "read also" line (in capitals, or with
    the other spelling of its accents, in some), a share-button row and a "source:" trailer comes out as
    only the story, unchanged."""
    story_lines, read_also, share_row, trailer = LANGUAGE_RESIDUE[language]
    text = "\n".join([story_lines[0], read_also, story_lines[1], share_row, story_lines[2], trailer])
    assert strip_residue(text).splitlines() == story_lines


def test_a_news_line_about_cookies_stays_and_a_cookie_notice_goes() -> None:
    """Lines that report on cookies (the EU cookie law, a fine, guidelines) are story and stay; lines of
    cookie notices, in several languages, go."""
    news = [
        "The EU cookie law takes effect on Monday: websites must ask before they store cookies on a device.",
        "Regulators fined the publisher because its banner made refusing cookies harder than accepting them.",
        "Die neue Cookie-Verordnung der EU tritt am Montag in Kraft.",
        "Il Garante della privacy ha pubblicato nuove linee guida sui cookie e sugli altri strumenti di "
        "tracciamento.",
    ]
    notices = [
        "We use cookies to give you the best experience on our website.",
        "This site uses cookies. By continuing to browse the site you are agreeing to our use of cookies.",
        "Wir verwenden Cookies, um Ihnen ein optimales Nutzererlebnis zu bieten.",
        "Utilizziamo i cookie per migliorare la tua esperienza di navigazione.",
        "Usamos cookies para melhorar sua experiência. Ao continuar navegando, você concorda com isso.",
        "Bu sitede çerezler kullanılmaktadır.",
        "Ми використовуємо файли cookie, щоб покращити роботу сайту.",
    ]
    text = "\n".join(line for pair in zip(news + [""] * 3, notices, strict=True) for line in pair)
    assert strip_residue(text).splitlines() == news


def test_a_hyphen_joined_to_a_word_is_not_a_separator() -> None:
    """'Related-party' and 'Source-code' start story sentences, not an interstitial line or a trailer; with
    a spaced dash the same words are residue."""
    related = "Related-party transactions rose to 12% of revenue last year, the filing shows."
    source = "Source-code leaks at the company have become more frequent, the report says."
    text = "\n".join([STORY[0], related, STORY[1], "Related - Ten hidden beaches", STORY[2], source])
    assert strip_residue(text).splitlines() == [STORY[0], related, STORY[1], STORY[2], source]
    assert strip_residue("\n".join([*STORY, "Source - Daily Courier"])).splitlines() == STORY


def test_a_read_also_line_alone_in_a_story_does_not_end_it() -> None:
    """An Italian "Leggi anche" alone on a line in the second half introduces one teaser: the story
    paragraph after it is kept (only English, German and Indonesian "read also" headings end a story)."""
    lines = [
        "Netflix ospiterà il remake in computer grafica della serie animata.",
        "Gli appassionati sono già sul piede di guerra dopo il primo esperimento.",
        "Leggi anche",
        "I Cavalieri dello Zodiaco diventeranno un film?",
        "Tornando al remake, la prima stagione dovrebbe essere di 12 episodi.",
    ]
    assert strip_residue("\n".join(lines)).splitlines() == lines


@pytest.fixture
def phrase_file_at(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[[str], None]]:
    """Makes dedup.residue read the given TOML text as its phrase file; the real one is read again after."""

    def use(text: str) -> None:
        path = tmp_path / "residue_phrases.toml"
        path.write_text(text, encoding="utf-8")
        monkeypatch.setattr(residue, "PHRASES_FILE", path)
        residue._rules.cache_clear()

    yield use
    residue._rules.cache_clear()


def test_a_language_added_to_the_file_alone_applies(phrase_file_at: Callable[[str], None]) -> None:
    """A contributor adds Esperanto by adding an [eo] table to the file, nothing else: its "read also"
    line, share row and source trailer then go, and the other languages still apply."""
    eo = (
        '\n[eo]\nattribution = ["fonto"]\nread_at = ["legu pli (?:ĉe|en)"]\ninterstitial = ["legu ankaŭ"]\n'
        'related_heading = ["rilataj artikoloj"]\nshare = ["kunhavigi"]\ncookie = ["ni uzas kuketojn"]\n'
    )
    phrase_file_at(residue.PHRASES_FILE.read_text(encoding="utf-8") + eo)
    text = "\n".join(
        [
            STORY[0],
            "Legu ankaŭ: Dek kaŝitaj strandoj",
            STORY[1],
            "Kunhavigi: Facebook",
            STORY[2],
            "Fonto: Libera Folio",
        ]
    )
    assert strip_residue(text).splitlines() == STORY
    assert strip_residue("\n".join([*STORY, "Quelle: dpa"])).splitlines() == STORY


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[xx]\nshares = ["share"]\n', r"\[xx\] has unknown keys \['shares'\]"),
        (
            '[xx]\ninterstitial = ["read (also"]\n',
            r"\[xx\] interstitial entry 'read \(also' is not a regular",
        ),
        ('[xx]\ncookie = ["(?:cookies)?"]\n', r"\[xx\] cookie entry .* matches an empty line"),
        (
            '[xx]\nread_at = ["read more ?at"]\n',
            r"\[xx\] read_at entry 'read more \?at': a space means white",
        ),
        ('[xx]\nshare = "share"\n', r"\[xx\] share must be a list of non-empty strings"),
    ],
)
def test_a_mistake_in_the_phrase_file_is_named(
    phrase_file_at: Callable[[str], None], table: str, message: str
) -> None:
    """An unknown key, an entry that is not a regular expression, one that would match every line, a space
    before a quantifier and a value that is not a list stop the loading with a message naming the table and
    the entry."""
    phrase_file_at(table)
    with pytest.raises(residue.PhraseFileError, match=message):
        strip_residue("\n".join(STORY))


def test_a_phrase_file_that_passed_is_not_compiled_entry_by_entry_again(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The first load of a phrase file checks each expression and leaves a marker in the cache folder;
    a second load of the same bytes checks none; a changed file is checked again, and its mistake is
    named."""
    monkeypatch.setattr(residue.cache_folder, "_folder", tmp_path / "cache")
    path = tmp_path / "phrases.toml"
    path.write_text('[xx]\nattribution = ["quelle"]\n', encoding="utf-8")
    checked: list[str] = []
    check = residue._check_expression
    monkeypatch.setattr(
        residue, "_check_expression", lambda p, where, entry: (checked.append(entry), check(p, where, entry))
    )

    residue.load_phrases(path)
    residue.load_phrases(path)
    assert checked == ["quelle"]
    assert len(list((tmp_path / "cache" / "residue-phrases-checked").iterdir())) == 1

    path.write_text('[xx]\nattribution = ["quelle", "(a"]\n', encoding="utf-8")
    with pytest.raises(residue.PhraseFileError, match=r"\[xx\] attribution entry '\(a' is not a regular"):
        residue.load_phrases(path)
    assert checked == ["quelle", "quelle", "(a"]


def _fixture_pages() -> list[tuple[str, str]]:
    """(url, html) of every HTML page of the demo's sites and of the article-signs fixture."""
    pages = []
    for root in (SITES, ARTICLE_SIGNS.parent):
        for file in sorted(root.rglob("*.html")):
            host = file.relative_to(root).parts[0]
            path = "/".join(file.relative_to(root / host).parts)
            pages.append((f"http://{host}/{path}", file.read_bytes().decode("utf-8", errors="replace")))
    return pages


def test_metadata_reads_what_trafilatura_extract_metadata_reads() -> None:
    """dedup.extract.metadata, which skips trafilatura's author, category, tag and license search,
    gives the same title, date, URL, site name and page type as trafilatura's own extract_metadata
    with the same date settings, on every fixture page (a trafilatura release that changes either
    shows here)."""
    from trafilatura.metadata import extract_metadata
    from trafilatura.utils import load_html

    from dedup.extract import metadata

    date_config = {"outputformat": "%Y-%m-%dT%H:%M:%S%z", "extensive_search": False, "original_date": True}
    fields = ("title", "date", "url", "sitename", "pagetype")
    pages = _fixture_pages()
    assert len(pages) >= 20
    for url, html in pages:
        ours, theirs = metadata(load_html(html), url), extract_metadata(load_html(html), url, date_config)
        assert [getattr(ours, f) for f in fields] == [getattr(theirs, f) for f in fields], url


def test_claimed_origin_ignores_relative_links_however_worded() -> None:
    """A relative link stays on the page's host, so even worded as an attribution it claims nothing;
    the same words on a link with a host of its own, or a scheme-relative one, do."""
    page = "https://copy.example/post/1"

    def claimed(href: str) -> str | None:
        return claimed_origin(
            fromstring(f'<html><body><p><a href="{href}">Source link</a></p></body></html>'), page
        )

    assert claimed("/elsewhere/story") is None
    assert claimed("story.html") is None
    assert claimed("https://origin.example/story") == "https://origin.example/story"
    assert claimed("//origin.example/story") == "https://origin.example/story"
    assert claimed("https://copy.example/other") is None
