"""Settings (environment over settings file over defaults) and the sources file: values, and the one-line
errors that name the variable, or the file and field, or the file, source and field."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from config import ConfigError, Source, load_settings, load_sources
from config.sources import find_source
from dedup.params import Params
from newsdedup.cli import app

ROOT = Path(__file__).resolve().parent.parent

FEED = '[[source]]\nname = "wire"\nkind = "feed"\nstart_urls = ["http://wire.example/rss"]\n'


def settings_file(tmp_path: Path, content: str) -> Path:
    path = tmp_path / "newsdedup.toml"
    path.write_text(content, encoding="utf-8")
    return path


def sources_file(tmp_path: Path, content: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(content, encoding="utf-8")
    return path


def test_defaults_apply_when_neither_file_nor_environment_sets_a_value() -> None:
    """With an empty settings file and no variables, every threshold is its documented default."""
    settings = load_settings()

    assert settings.num_perm == 128
    assert settings.lsh_threshold == 0.5
    assert settings.min_text_chars == 200
    assert settings.redis_url is None
    assert settings.embedded is True
    assert settings.log_level == "INFO"


def test_every_threshold_of_the_core_is_a_setting_with_the_same_default_and_bounds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each field of dedup.params.Params is a setting of the same name (declared once: Settings inherits
    it) whose default is the core's, whose environment variable sets it, and whose bounds hold there
    too; the core is handed exactly the Params these settings give."""
    settings = load_settings()
    for name, field in Params.model_fields.items():
        assert getattr(settings, name) == field.default, name
    assert settings.params == Params()
    monkeypatch.setenv("NEWSDEDUP_MIN_JACCARD", "0.4")
    assert load_settings().params == Params(min_jaccard=0.4)
    monkeypatch.setenv("NEWSDEDUP_MIN_JACCARD", "1.5")
    with pytest.raises(ConfigError, match=r"^NEWSDEDUP_MIN_JACCARD: Input should be less than or equal to 1"):
        load_settings()


def test_a_removed_setting_in_the_settings_file_says_what_replaced_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A settings file from before the splice and translation rules changed names the setting that
    is gone and what reads the passages now, in one line."""
    monkeypatch.setenv("NEWSDEDUP_CONFIG", str(settings_file(tmp_path, "splice_max_evidence = 0.3\n")))
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert str(raised.value) == (
        f"{tmp_path / 'newsdedup.toml'}: splice_max_evidence: no longer a setting: spliced posts are "
        "recognised from their passages now (SPLICE_MAX_OVERLAP, SPLICE_MAX_SHARED, SPLICE_MAX_AGREEMENT); "
        "remove it"
    )


def test_settings_file_overrides_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Values in the file named by NEWSDEDUP_CONFIG replace the defaults; the others keep theirs."""
    path = settings_file(
        tmp_path,
        'num_perm = 64\nlsh_threshold = 0.7\nredis_url = "redis://127.0.0.1:6379/15"\nlog_level = "DEBUG"\n',
    )
    monkeypatch.setenv("NEWSDEDUP_CONFIG", str(path))

    settings = load_settings()

    assert (settings.num_perm, settings.lsh_threshold) == (64, 0.7)
    assert (settings.redis_url, settings.embedded, settings.log_level) == (
        "redis://127.0.0.1:6379/15",
        False,
        "DEBUG",
    )
    assert settings.shingle_words == 4


def test_environment_overrides_the_settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A NEWSDEDUP_* variable wins over the file's value for the same setting; the file still wins over
    the default for settings the environment leaves alone."""
    path = settings_file(tmp_path, "num_perm = 64\nlsh_threshold = 0.7\nmin_text_chars = 150\n")
    monkeypatch.setenv("NEWSDEDUP_CONFIG", str(path))
    monkeypatch.setenv("NEWSDEDUP_NUM_PERM", "256")
    monkeypatch.setenv("NEWSDEDUP_LSH_THRESHOLD", "0.85")

    settings = load_settings()

    assert (settings.num_perm, settings.lsh_threshold, settings.min_text_chars) == (256, 0.85, 150)


def test_environment_value_hides_an_invalid_file_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A setting the environment provides is not taken from the file, so a bad file value for it
    does no harm."""
    monkeypatch.setenv("NEWSDEDUP_CONFIG", str(settings_file(tmp_path, 'num_perm = "many"\n')))
    monkeypatch.setenv("NEWSDEDUP_NUM_PERM", "32")

    assert load_settings().num_perm == 32


def test_default_settings_file_is_read_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without NEWSDEDUP_CONFIG the settings come from config/newsdedup.toml in the working directory,
    and from the defaults alone when that file is not there."""
    monkeypatch.delenv("NEWSDEDUP_CONFIG")
    monkeypatch.chdir(tmp_path)
    assert load_settings().num_perm == 128

    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "newsdedup.toml").write_text("num_perm = 96\n", encoding="utf-8")
    assert load_settings().num_perm == 96


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "NEWSDEDUP_NUM_PERM",
            "abc",
            "NEWSDEDUP_NUM_PERM: Input should be a valid integer, unable to parse string as an integer",
        ),
        ("NEWSDEDUP_NUM_PERM", "8", "NEWSDEDUP_NUM_PERM: Input should be greater than or equal to 16"),
        (
            "NEWSDEDUP_LSH_THRESHOLD",
            "0",
            "NEWSDEDUP_LSH_THRESHOLD: Input should be greater than 0",
        ),
        (
            "NEWSDEDUP_LOG_LEVEL",
            "loud",
            "NEWSDEDUP_LOG_LEVEL: Input should be 'DEBUG', 'INFO', 'WARNING' or 'ERROR'",
        ),
    ],
)
def test_invalid_environment_value_names_the_variable(
    variable: str, value: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An invalid NEWSDEDUP_* value is a ConfigError naming the variable; the CLI prints it in one
    line, exit status 2, no traceback."""
    monkeypatch.setenv(variable, value)

    with pytest.raises(ConfigError) as error:
        load_settings()
    assert str(error.value) == message

    result = CliRunner().invoke(app, ["stats"])
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"Error: {message}\n")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (
            'num_perm = "many"\n',
            "num_perm: Input should be a valid integer, unable to parse string as an integer",
        ),
        ("lsh_threshold = 1.5\n", "lsh_threshold: Input should be less than or equal to 1"),
        ('colour = "red"\n', "colour: Extra inputs are not permitted"),
        ("num_perm = \n", "not valid TOML: Invalid value (at line 1, column 12)"),
    ],
)
def test_invalid_settings_file_names_the_file_and_field(
    content: str, reason: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bad value, an unknown key or broken TOML in the settings file is a ConfigError naming the file
    and the field (or the TOML position); the CLI prints it in one line, exit status 2."""
    path = settings_file(tmp_path, content)
    monkeypatch.setenv("NEWSDEDUP_CONFIG", str(path))

    with pytest.raises(ConfigError) as error:
        load_settings()
    assert str(error.value) == f"{path}: {reason}"

    result = CliRunner().invoke(app, ["clusters", "list"])
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"Error: {path}: {reason}\n")


def test_missing_named_settings_file_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A settings file named by NEWSDEDUP_CONFIG that does not exist is an error, not silently ignored."""
    missing = tmp_path / "nope.toml"
    monkeypatch.setenv("NEWSDEDUP_CONFIG", str(missing))

    with pytest.raises(ConfigError) as error:
        load_settings()
    assert str(error.value) == f"{missing}: settings file not found (named by NEWSDEDUP_CONFIG)"

    result = CliRunner().invoke(app, ["stats"])
    assert result.exit_code == 2
    assert result.stderr == f"Error: {missing}: settings file not found (named by NEWSDEDUP_CONFIG)\n"


def test_sources_file_is_read_with_defaults_filled_in(tmp_path: Path) -> None:
    """A source gets its allowed domains from its start URLs, the hourly schedule, no language hint and
    no publisher flag unless the file says otherwise."""
    path = sources_file(
        tmp_path,
        FEED + '\n[[source]]\nname = "origin_1"\nkind = "sitemap"\n'
        'start_urls = ["https://www.origin.example/sitemap.xml", "https://news.origin.example/"]\n'
        'allowed_domains = ["origin.example"]\nschedule = "*/10 6-22 * * 1-5"\n'
        'language = "fr"\npublisher = true\n',
    )

    assert load_sources(path) == [
        Source(
            name="wire",
            kind="feed",
            start_urls=("http://wire.example/rss",),
            allowed_domains=("wire.example",),
            schedule="0 * * * *",
            language=None,
            publisher=False,
        ),
        Source(
            name="origin_1",
            kind="sitemap",
            start_urls=("https://www.origin.example/sitemap.xml", "https://news.origin.example/"),
            allowed_domains=("origin.example",),
            schedule="*/10 6-22 * * 1-5",
            language="fr",
            publisher=True,
        ),
    ]


def test_default_sources_file_falls_back_to_the_packaged_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without NEWSDEDUP_SOURCES and without config/sources.toml in the working directory, the sources
    file installed with the package is read (the four fixture sites)."""
    monkeypatch.delenv("NEWSDEDUP_SOURCES")
    monkeypatch.chdir(tmp_path)

    settings = load_settings()

    assert settings.sources == Path("config/sources.toml")
    assert [s.name for s in load_sources(settings.sources)] == [
        "dailycourier",
        "newsflash-hub",
        "trend-digest",
        "nachrichten-blitz",
    ]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (FEED.replace('"feed"', '"rss"'), "source 'wire': kind: Input should be 'feed', 'sitemap' or 'site'"),
        (
            FEED + 'schedule = "61 * * * *"\n',
            "source 'wire': schedule: minute field: 61 is out of range 0-59",
        ),
        (
            FEED + 'schedule = "0 12 * *"\n',
            "source 'wire': schedule: '0 12 * *' is not a cron expression of 5 fields "
            "(minute hour day month weekday)",
        ),
        (
            FEED.replace("http://wire.example/rss", "ftp://wire.example/rss"),
            "source 'wire': start_urls: 'ftp://wire.example/rss' is not an absolute http(s) URL",
        ),
        (
            FEED.replace("http://wire.example/rss", "wire.example/rss"),
            "source 'wire': start_urls: 'wire.example/rss' is not an absolute http(s) URL",
        ),
        (FEED + FEED.replace('"feed"', '"site"'), "source 'wire': name: defined twice"),
        (FEED + 'colour = "red"\n', "source 'wire': colour: Extra inputs are not permitted"),
        (
            FEED + 'language = "english"\n',
            "source 'wire': language: String should match pattern '^[a-z]{2}$'",
        ),
        (
            FEED + '[[source]]\nkind = "site"\nstart_urls = ["http://b.example/"]\n',
            "source #2: name: Field required",
        ),
        ('[settings]\nlog_level = "DEBUG"\n', "unknown table 'settings': sources are [[source]] tables"),
        ('[source]\nname = "wire"\n', "'source' must be an array of tables: write [[source]]"),
        (
            FEED.replace("[[source]]", "[[source]"),
            "not valid TOML: Expected ']]' at the end of an array declaration (at line 1, column 9)",
        ),
    ],
    ids=[
        "bad-kind",
        "bad-cron-range",
        "cron-of-4-fields",
        "ftp-url",
        "relative-url",
        "duplicate-name",
        "unknown-key",
        "bad-language",
        "no-name",
        "unknown-table",
        "not-an-array",
        "not-toml",
    ],
)
def test_invalid_sources_file_names_file_source_and_field(content: str, reason: str, tmp_path: Path) -> None:
    """Each mistake in the sources file is a ConfigError naming the file, the source (by name, or by
    position when it has none) and the field; every command prints it in one line, exit status 2."""
    path = sources_file(tmp_path, content)

    with pytest.raises(ConfigError) as error:
        load_sources(path)
    assert str(error.value) == f"{path}: {reason}"

    result = CliRunner().invoke(app, ["sources", "list"], env={"NEWSDEDUP_SOURCES": str(path)})
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"Error: {path}: {reason}\n"


def test_missing_sources_file_is_an_error(tmp_path: Path) -> None:
    """A sources file that is not there is named in one line that says how to point at yours."""
    missing = tmp_path / "mine.toml"

    with pytest.raises(ConfigError) as error:
        load_sources(missing)
    assert str(error.value) == f"{missing}: sources file not found (set NEWSDEDUP_SOURCES to yours)"

    result = CliRunner().invoke(app, ["stats"], env={"NEWSDEDUP_SOURCES": str(missing)})
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"Error: {missing}: sources file not found (set NEWSDEDUP_SOURCES to yours)\n"


def test_unknown_source_name_lists_the_known_ones() -> None:
    """`find_source` with a name not in the file is a ConfigError listing the names there are."""
    sources = load_sources(ROOT / "config" / "sources.toml")
    assert find_source(sources, "trend-digest").kind == "site"
    with pytest.raises(ConfigError) as error:
        find_source(sources, "wire")
    assert str(error.value) == (
        "unknown source 'wire'; known sources: dailycourier, newsflash-hub, trend-digest, nachrichten-blitz"
    )


def test_a_bad_setting_stops_every_command_in_one_line() -> None:
    """An invalid setting in the environment stops the installed `newsdedup` command (which imports
    the Celery app, and so reads the settings, before its own error handling runs) with the one
    line that names the variable, exit status 2, and no traceback."""
    env = {**os.environ, "NEWSDEDUP_NUM_PERM": "5"}
    done = subprocess.run(
        ["newsdedup", "sources", "list"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stdout, done.stderr) == (
        2,
        "",
        "Error: NEWSDEDUP_NUM_PERM: Input should be greater than or equal to 16\n",
    )
