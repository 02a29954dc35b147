"""The deployment files, without a Docker engine or systemd: what the Dockerfile, docker-compose.yml and
the systemd units say is checked, and each command they run is run here, with their environment, against
the machine's Redis and PostgreSQL.

A compose service's environment is taken from docker-compose.yml with its ``${...}`` references filled in
as compose does; its database and Redis URLs, which name the compose services ``postgres`` and ``redis``,
become the test's own PostgreSQL schema and Redis database on 127.0.0.1, and a file mounted into the
container is read from where the volume takes it. The systemd units get the same from
deploy/newsdedup.env.example. Also here: ``newsdedup db upgrade|check``, ``newsdedup schedule`` and the
TIMEZONE setting.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import psycopg
import pytest
import redis
import yaml
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import text

from config import ConfigError, load_settings
from newsdedup.cli import app
from storage.db import alembic_config, create_db_engine
from tests.celery_worker import Worker, child_env, stop, wait_until
from tests.conftest import POSTGRES, ROOT
from workers.schedule import BEAT_KEY_PREFIX

DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "docker-compose.yml"
DEPLOY = ROOT / "deploy"
UNITS = {"worker": DEPLOY / "newsdedup-worker.service", "beat": DEPLOY / "newsdedup-beat.service"}
ENV_EXAMPLE = DEPLOY / "newsdedup.env.example"
SOURCES = ROOT / "config" / "sources.toml"
LOCK_KEY = f"{BEAT_KEY_PREFIX}:lock"  # RedBeat's lock: its key prefix + ":lock"
UNREACHABLE_DATABASE = "postgresql://postgres@127.0.0.1:1/test"
REFUSED = (
    'unhealthy: database: connection failed: connection to server at "127.0.0.1", port 1 failed: '
    "Connection refused\n"
)
# Deadlines only keep a broken process from hanging the suite; nothing is timed.
COMMAND_DEADLINE = 60
PAGE = {
    "url": "http://wire.example/2026/harbour-crane",
    "text": " ".join(
        f"The harbour authority said on Tuesday that crane number {n} would be replaced before the winter."
        for n in range(1, 12)
    ),
}


# --- reading the files -------------------------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    logical = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    lines = [line.strip() for line in logical.splitlines()]
    return [
        (keyword.upper(), rest.strip())
        for keyword, _, rest in (line.partition(" ") for line in lines if line and not line.startswith("#"))
    ]


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return data


_REFERENCE = re.compile(r"\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


class Unset(Exception):
    """A ``${NAME:?message}`` whose variable is not set: compose refuses to start."""


def interpolate(value: str, variables: Mapping[str, str]) -> str:
    """``$$``, ``${NAME}``, ``${NAME:-default}``, ``${NAME-default}``, ``${NAME:?error}``, as compose
    reads them."""

    def fill(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, operator, argument = match.groups()
        present = variables.get(name)
        if operator in (":-", "-"):
            use_default = not present if operator == ":-" else present is None
            return argument if use_default else str(present)
        if operator in (":?", "?") and (not present if operator == ":?" else present is None):
            raise Unset(f"{name}: {argument}")
        return present or ""

    return _REFERENCE.sub(fill, value)


def unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A systemd unit file: section -> key -> its values in order (a key may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, separator, value = line.partition("=")
        assert separator, f"{path.name}: not a key=value line: {raw!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def env_file(path: Path) -> dict[str, str]:
    """An EnvironmentFile: NAME=value lines, comments and blank lines skipped."""
    pairs = (line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines())
    return {
        name.strip(): value.strip() for name, value in (p for p in pairs if len(p) == 2) if name[:1] != "#"
    }


def newsdedup_command(args: list[str]) -> click.Command | None:
    """The newsdedup (sub)command that these arguments run, or None when there is none."""
    command: click.Command = app
    for word in args:
        if not isinstance(command, click.Group) or word.startswith("-"):
            break
        found = command.commands.get(word)
        if found is None:
            return None
        command = found
    return None if command is app else command


# --- the environment of a service, on this machine ----------------------------------------------------

COMPOSE_VARIABLES = {"POSTGRES_PASSWORD": "not-used-here"}


def local_env(
    configured: Mapping[str, str], *, database_url: str, redis_url: str, sources: Path
) -> dict[str, str]:
    """The test's environment plus a service's settings, its database and Redis replaced by the test's."""
    env = child_env(**configured)
    for name, host in (("NEWSDEDUP_DATABASE_URL", "postgres"), ("NEWSDEDUP_REDIS_URL", "redis")):
        assert urlsplit(configured[name]).hostname in (host, "127.0.0.1"), configured[name]
    env.update(
        NEWSDEDUP_DATABASE_URL=database_url, NEWSDEDUP_REDIS_URL=redis_url, NEWSDEDUP_SOURCES=str(sources)
    )
    # Other tests' workers may serve metrics on the default port at the same time.
    env["NEWSDEDUP_METRICS_PORT"] = "0"
    return env


def compose_service(name: str) -> tuple[list[str], dict[str, str], Path]:
    """A compose service's command line (entrypoint and command), its settings, and the host file that its
    volume mounts as the sources file."""
    service = compose()["services"][name]
    configured = {k: interpolate(str(v), COMPOSE_VARIABLES) for k, v in service["environment"].items()}
    mounts = {}
    for volume in service.get("volumes", []):
        host, container = interpolate(volume, {}).split(":")[:2]
        mounts[container] = (COMPOSE.parent / host).resolve()
    entrypoint = service.get("entrypoint", ["newsdedup"])
    return [*entrypoint, *service["command"]], configured, mounts[configured["NEWSDEDUP_SOURCES"]]


def unit_command(role: str, key: str = "ExecStart") -> list[str]:
    """The unit's command line, its program named by its file name (installed elsewhere here)."""
    program, *args = shlex.split(unit(UNITS[role])["Service"][key][0])
    return [Path(program).name, *args]


def service_env(kind: str, role: str, database_url: str, redis_url: str) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of a compose service or a systemd unit, on this machine."""
    if kind == "compose":
        command, configured, sources = compose_service(role)
    else:
        command, configured, sources = unit_command(role), env_file(ENV_EXAMPLE), SOURCES
        configured.pop("POSTGRES_PASSWORD")
    return command, local_env(configured, database_url=database_url, redis_url=redis_url, sources=sources)


def run(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=COMMAND_DEADLINE, check=False
    )


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def revision_count() -> int:
    return len(list(ScriptDirectory.from_config(alembic_config()).walk_revisions()))


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test starts; each is stopped (SIGTERM, then SIGKILL to its group) at the end."""
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        stop(process)


def start(command: list[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


# --- Dockerfile ----------------------------------------------------------------------------------------


def test_dockerfile_builds_in_two_stages_and_runs_newsdedup_as_a_user_with_a_health_check() -> None:
    """The Dockerfile has a builder stage and a final python:3.11-slim stage that copies the builder's
    virtual environment; the final stage runs as the user `newsdedup`, its HEALTHCHECK runs `newsdedup
    health` (a real command), its ENTRYPOINT is `newsdedup` and its default command `worker` is one too."""
    instructions = dockerfile()
    froms = [args for keyword, args in instructions if keyword == "FROM"]
    assert froms == ["python:3.11-slim AS builder", "python:3.11-slim"]
    final = final_stage(instructions)
    assert ("COPY", "--from=builder /opt/newsdedup /opt/newsdedup") in final
    users = [args for keyword, args in final if keyword == "USER"]
    assert users == ["newsdedup"]
    healthcheck = next(args for keyword, args in final if keyword == "HEALTHCHECK")
    options, _, check = healthcheck.partition(" CMD ")
    assert options == "--interval=30s --timeout=10s --start-period=60s --retries=3"
    assert json.loads(check) == ["newsdedup", "health"]
    assert newsdedup_command(["health"]) is not None
    assert [json.loads(args) for keyword, args in final if keyword == "ENTRYPOINT"] == [["newsdedup"]]
    assert [json.loads(args) for keyword, args in final if keyword == "CMD"] == [["worker"]]
    assert newsdedup_command(["worker"]) is not None


def test_dockerignore_keeps_the_build_context_to_the_packages() -> None:
    """.dockerignore leaves out the git history, caches, tests, local data and env files (passwords)."""
    ignored = set((ROOT / ".dockerignore").read_text(encoding="utf-8").split("\n"))
    assert {".git", "tests", "data", "*.env", ".env*", "**/__pycache__"} <= ignored


# --- docker-compose.yml --------------------------------------------------------------------------------


def test_compose_runs_every_newsdedup_role_from_one_image_after_healthy_databases() -> None:
    """Compose defines redis and postgres (named volumes, health checks), a one-shot migration, worker, beat,
    a cli and Flower under the profile "flower", every newsdedup service from one image; worker and beat
    wait for healthy databases and finished migrations; every service's command is a newsdedup command."""
    data = compose()
    services = data["services"]
    assert set(services) == {"redis", "postgres", "migrate", "worker", "beat", "cli", "flower"}
    assert set(data["volumes"]) == {"postgres-data", "redis-data"}
    assert services["postgres"]["volumes"] == ["postgres-data:/var/lib/postgresql/data"]
    assert services["postgres"]["healthcheck"]["test"] == [
        "CMD",
        "pg_isready",
        "-U",
        "newsdedup",
        "-d",
        "newsdedup",
    ]
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    ours = {name for name, service in services.items() if service.get("build") == "."}
    assert ours == {"migrate", "worker", "beat", "cli", "flower"}
    assert {services[name]["image"] for name in ours} == {"newsdedup:latest"}
    healthy = {"condition": "service_healthy"}
    for role in ("worker", "beat"):
        assert services[role]["depends_on"] == {
            "redis": healthy,
            "postgres": healthy,
            "migrate": {"condition": "service_completed_successfully"},
        }
    assert services["migrate"]["depends_on"] == {"postgres": healthy}
    assert {name: services[name].get("profiles") for name in ours} == {
        "migrate": None,
        "worker": None,
        "beat": None,
        "cli": ["cli"],
        "flower": ["flower"],
    }
    for name in ours - {"flower"}:
        assert newsdedup_command(services[name]["command"]) is not None, name
    assert services["flower"]["entrypoint"] == ["celery", "-A", "workers.app", "flower", "--port=5555"]
    assert services["flower"]["ports"] == ["127.0.0.1:5555:5555"]


def test_compose_takes_the_database_password_from_the_environment() -> None:
    """No password is written in docker-compose.yml: the database URL and the postgres service take it
    from POSTGRES_PASSWORD, and compose refuses to start without it, saying where to look."""
    services = compose()["services"]
    url = services["worker"]["environment"]["NEWSDEDUP_DATABASE_URL"]
    password = services["postgres"]["environment"]["POSTGRES_PASSWORD"]
    assert (
        interpolate(url, {"POSTGRES_PASSWORD": "s3cret"})
        == "postgresql://newsdedup:s3cret@postgres:5432/newsdedup"
    )
    assert interpolate(password, {"POSTGRES_PASSWORD": "s3cret"}) == "s3cret"
    with pytest.raises(Unset) as unset:
        interpolate(url, {})
    assert str(unset.value) == "POSTGRES_PASSWORD: set POSTGRES_PASSWORD (see deploy/newsdedup.env.example)"
    assert "s3cret" not in COMPOSE.read_text(encoding="utf-8")


def test_flower_is_an_optional_extra() -> None:
    """`pip install newsdedup[flower]` brings Flower for the compose profile; it is not a dependency."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["optional-dependencies"]["flower"] == ["flower>=2,<3"]
    assert not any(d.startswith("flower") for d in project["dependencies"])


# --- systemd -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["worker", "beat"])
def test_systemd_units_run_newsdedup_as_its_user_and_stop_celery_warmly(role: str) -> None:
    """Each unit reads /etc/newsdedup/newsdedup.env, runs as the user newsdedup, restarts on failure, stops
    with SIGTERM (Celery's warm shutdown) to the main process first (KillMode=mixed), and its ExecStart
    (and ExecStartPre) are newsdedup commands of the virtual environment the Dockerfile builds too."""
    service = unit(UNITS[role])["Service"]
    assert service["EnvironmentFile"] == ["/etc/newsdedup/newsdedup.env"]
    assert (service["User"], service["Group"]) == (["newsdedup"], ["newsdedup"])
    assert service["Restart"] == ["on-failure"]
    assert (service["KillSignal"], service["KillMode"]) == (["SIGTERM"], ["mixed"])
    assert service["TimeoutStopSec"] == {"worker": ["300"], "beat": ["30"]}[role]
    commands = [shlex.split(line) for key in ("ExecStartPre", "ExecStart") for line in service.get(key, [])]
    assert (
        commands
        == {
            "worker": [
                ["/opt/newsdedup/bin/newsdedup", "db", "upgrade"],
                ["/opt/newsdedup/bin/newsdedup", "worker"],
            ],
            "beat": [["/opt/newsdedup/bin/newsdedup", "beat"]],
        }[role]
    )
    for command in commands:
        assert newsdedup_command(command[1:]) is not None
    assert env_file(ENV_EXAMPLE)["NEWSDEDUP_SOURCES"] == "/etc/newsdedup/sources.toml"


# --- the commands, run with each service's environment -----------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["compose", "systemd"])
def test_worker_migrates_starts_and_processes_a_page(
    kind: str, redis_url: str, postgres_url: str, tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    """With the service's environment: the migration step (compose `migrate`, the unit's ExecStartPre)
    brings a fresh schema to the head revision; the worker starts, and a page sent to it with `newsdedup
    ingest --enqueue` is stored."""
    migrate_command = (
        compose_service("migrate")[0] if kind == "compose" else unit_command("worker", "ExecStartPre")
    )
    command, env = service_env(kind, "worker", postgres_url, redis_url)
    migrated = run(migrate_command, env, tmp_path)
    assert (migrated.returncode, migrated.stdout) == (
        0,
        f"applied {revision_count()} migrations; the database is at {head_revision()} (head)\n",
    ), migrated.stderr

    log = tmp_path / "worker.log"
    started.append(start(command, env, tmp_path, log))
    worker = Worker(started[-1], log, postgres_url, env)
    pages = tmp_path / "page.jsonl"
    pages.write_text(json.dumps(PAGE) + "\n", encoding="utf-8")
    sent = run(["newsdedup", "ingest", str(pages), "--enqueue", "-q"], env, tmp_path)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    try:
        worker.wait_for(tasks=1, articles=1)
        assert [o["url"] for o in worker.outcomes()] == [PAGE["url"]]
    finally:
        worker.close()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["compose", "systemd"])
def test_beat_starts_takes_its_lock_and_gives_it_back_on_sigterm(
    kind: str, redis_url: str, postgres_url: str, tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    """With the service's environment the beat starts and takes RedBeat's lock in Redis, with one entry per
    source in its schedule; SIGTERM (the stop signal of compose and the unit) ends it with status 0 and the
    lock released, so that another beat need not wait for it to expire."""
    command, env = service_env(kind, "beat", postgres_url, redis_url)
    client = redis.Redis.from_url(redis_url)
    started.append(start(command, env, tmp_path, tmp_path / "beat.log"))
    beat = started[-1]
    wait_until(lambda: client.exists(LOCK_KEY) == 1 or beat.poll() is not None, "the beat holds the lock")
    assert beat.poll() is None, (tmp_path / "beat.log").read_text()
    schedule = {m.decode() for m in client.zrange(f"{BEAT_KEY_PREFIX}:schedule", 0, -1)}
    names = ("dailycourier", "newsflash-hub", "trend-digest", "nachrichten-blitz")
    assert schedule == {f"{BEAT_KEY_PREFIX}crawl {name}" for name in names}
    beat.terminate()
    assert beat.wait(timeout=COMMAND_DEADLINE) == 0
    assert client.exists(LOCK_KEY) == 0
    client.close()


ROLES = {"compose": ["worker", "beat", "flower", "cli"], "systemd": ["worker", "beat"]}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["compose", "systemd"])
def test_health_check_passes_against_the_services_and_fails_without_the_database(
    kind: str, redis_url: str, postgres_url: str, tmp_path: Path
) -> None:
    """The Dockerfile's HEALTHCHECK command, with the services' environment (one for all roles of a kind:
    checked): exit status 0 and one line while PostgreSQL and Redis answer; exit status 1 and one line
    naming the database when it does not."""
    healthcheck = next(args for keyword, args in final_stage(dockerfile()) if keyword == "HEALTHCHECK")
    check = json.loads(healthcheck.partition(" CMD ")[2])
    envs = [service_env(kind, role, postgres_url, redis_url)[1] for role in ROLES[kind]]
    assert all(env == envs[0] for env in envs)
    env = envs[0]
    healthy = run(check, env, tmp_path)
    assert (healthy.returncode, healthy.stdout, healthy.stderr) == (0, "healthy: database, redis\n", "")
    env["NEWSDEDUP_DATABASE_URL"] = UNREACHABLE_DATABASE
    unhealthy = run(check, env, tmp_path)
    assert (unhealthy.returncode, unhealthy.stdout, unhealthy.stderr) == (1, REFUSED, "")


def test_health_reports_redis_when_it_does_not_answer(tmp_path: Path) -> None:
    """In service mode an unreachable Redis is unhealthy too: exit status 1, one line naming Redis."""
    result = CliRunner().invoke(app, ["health"], env={"NEWSDEDUP_REDIS_URL": "redis://127.0.0.1:1/0"})
    assert (result.exit_code, result.stdout) == (
        1,
        "unhealthy: redis: Error 111 connecting to 127.0.0.1:1. Connection refused.\n",
    )


# --- newsdedup db upgrade | check ----------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty SQLite file or PostgreSQL schema, as NEWSDEDUP_DATABASE_URL."""
    url = (
        f"sqlite:///{tmp_path / 'db.sqlite'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    monkeypatch.setenv("NEWSDEDUP_DATABASE_URL", url)
    return str(url)


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout


def test_db_check_reports_pending_migrations_upgrade_applies_them_then_no_drift(empty_database: str) -> None:
    """On an empty database `db check` lists every migration as pending (exit status 1); `db upgrade`
    applies them all and says the head revision; then `db check` finds no drift (exit 0), and a second
    upgrade applies nothing."""
    script = ScriptDirectory.from_config(alembic_config())
    revisions = list(reversed(list(script.walk_revisions())))
    assert invoke("db", "check") == (
        1,
        "".join(f"pending migration {r.revision}: {r.doc}\n" for r in revisions),
    )
    head = head_revision()
    assert invoke("db", "upgrade") == (
        0,
        f"applied {len(revisions)} migrations; the database is at {head} (head)\n",
    )
    assert invoke("db", "check") == (
        0,
        "no drift: the database is at the newest migration and matches the models\n",
    )
    assert invoke("db", "upgrade") == (0, f"applied 0 migrations; the database is at {head} (head)\n")


def test_db_check_reports_a_column_the_models_do_not_have(empty_database: str) -> None:
    """A column added to the database by hand (real drift) is reported in one line, exit status 1."""
    assert invoke("db", "upgrade")[0] == 0
    engine = create_db_engine(empty_database)
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE articles ADD COLUMN notes TEXT"))
    engine.dispose()
    assert invoke("db", "check") == (1, "column articles.notes is in the database but not in the models\n")


def test_db_check_reports_a_database_behind_the_newest_migration(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database at an older revision has the later migrations reported as pending, the newest last."""
    monkeypatch.setenv("NEWSDEDUP_DATABASE_URL", postgres_url)
    assert invoke("db", "upgrade")[0] == 0
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_revision(head_revision())
    assert head is not None
    assert isinstance(head.down_revision, str)
    schema = postgres_url.rsplit("%3D", 1)[1]
    with psycopg.connect(POSTGRES, autocommit=True) as connection:
        connection.execute(f'UPDATE "{schema}".alembic_version SET version_num = %s', (head.down_revision,))
    assert invoke("db", "check") == (1, f"pending migration {head.revision}: {head.doc}\n")


def test_db_commands_refuse_a_database_migrated_by_a_newer_version(
    empty_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database at a revision these migrations do not have (a newer newsdedup migrated it): `db check`
    says so in one line and `db upgrade` refuses with that line, both with exit status 1."""
    assert invoke("db", "upgrade")[0] == 0
    engine = create_db_engine(empty_database)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    line = (
        "the database is at revision 9999, which this version of newsdedup does not have "
        "(a newer version migrated it): upgrade newsdedup"
    )
    assert invoke("db", "check") == (1, line + "\n")
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"Error: {line}\n")


# --- newsdedup schedule and TIMEZONE -------------------------------------------------------------------

FOUR_SOURCES = {
    "dailycourier": "*/30 * * * *",
    "newsflash-hub": "5 * * * *",
    "trend-digest": "15 */2 * * *",
    "nachrichten-blitz": "45 * * * *",
}


def test_schedule_lists_each_source_and_its_next_three_runs_in_utc() -> None:
    """`newsdedup schedule --json` gives each source's cron expression and its next three runs after
    --after, in UTC by default."""
    code, out = invoke("schedule", "--json", "--after", "2026-11-27T09:47")
    assert code == 0
    assert json.loads(out) == {
        "timezone": "UTC",
        "sources": [
            {
                "source": "dailycourier",
                "schedule": "*/30 * * * *",
                "next_runs": [
                    "2026-11-27T10:00:00+00:00",
                    "2026-11-27T10:30:00+00:00",
                    "2026-11-27T11:00:00+00:00",
                ],
            },
            {
                "source": "newsflash-hub",
                "schedule": "5 * * * *",
                "next_runs": [
                    "2026-11-27T10:05:00+00:00",
                    "2026-11-27T11:05:00+00:00",
                    "2026-11-27T12:05:00+00:00",
                ],
            },
            {
                "source": "trend-digest",
                "schedule": "15 */2 * * *",
                "next_runs": [
                    "2026-11-27T10:15:00+00:00",
                    "2026-11-27T12:15:00+00:00",
                    "2026-11-27T14:15:00+00:00",
                ],
            },
            {
                "source": "nachrichten-blitz",
                "schedule": "45 * * * *",
                "next_runs": [
                    "2026-11-27T10:45:00+00:00",
                    "2026-11-27T11:45:00+00:00",
                    "2026-11-27T12:45:00+00:00",
                ],
            },
        ],
    }


def test_schedule_runs_in_the_configured_time_zone_across_a_clock_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With NEWSDEDUP_TIMEZONE=Europe/Berlin the runs are Berlin wall-clock times: a daily 02:30 run skips
    to 03:30 on the night the clocks go forward (02:30 does not exist), and a run on the first Monday
    that is also the first of the month (Celery needs both fields) comes months apart. The table shows
    the zone in its title and each run."""
    sources = tmp_path / "sources.toml"
    sources.write_text(
        '[[source]]\nname = "nightly"\nkind = "feed"\nstart_urls = ["http://a.example/feed"]\n'
        'schedule = "30 2 * * *"\n\n'
        '[[source]]\nname = "monday-first"\nkind = "feed"\nstart_urls = ["http://b.example/feed"]\n'
        'schedule = "0 12 1 * 1"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("NEWSDEDUP_SOURCES", str(sources))
    monkeypatch.setenv("NEWSDEDUP_TIMEZONE", "Europe/Berlin")
    code, out = invoke("schedule", "--json", "--after", "2027-03-27T12:00")
    assert code == 0
    assert [s["next_runs"] for s in json.loads(out)["sources"]] == [
        ["2027-03-28T03:30:00+02:00", "2027-03-29T02:30:00+02:00", "2027-03-30T02:30:00+02:00"],
        ["2027-11-01T12:00:00+01:00", "2028-05-01T12:00:00+02:00", "2029-01-01T12:00:00+01:00"],
    ]
    result = CliRunner().invoke(app, ["schedule", "--after", "2027-03-27T12:00"], env={"COLUMNS": "100"})
    assert [line.rstrip() for line in result.stdout.splitlines()] == [
        "next runs (Europe/Berlin)",
        "┏━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━┓",
        "┃ source       ┃ schedule   ┃ next runs             ┃",
        "┡━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━┩",
        "│ nightly      │ 30 2 * * * │ 2027-03-28 03:30 CEST │",
        "│              │            │ 2027-03-29 02:30 CEST │",
        "│              │            │ 2027-03-30 02:30 CEST │",
        "│ monday-first │ 0 12 1 * 1 │ 2027-11-01 12:00 CET  │",
        "│              │            │ 2028-05-01 12:00 CEST │",
        "│              │            │ 2029-01-01 12:00 CET  │",
        "└──────────────┴────────────┴───────────────────────┘",
    ]


def test_an_unknown_time_zone_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """NEWSDEDUP_TIMEZONE must be an IANA zone name; another value stops the program with one line."""
    monkeypatch.setenv("NEWSDEDUP_TIMEZONE", "Mars/Olympus_Mons")
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert str(error.value) == (
        "NEWSDEDUP_TIMEZONE: 'Mars/Olympus_Mons' is not a time zone name (like UTC or Europe/Berlin)"
    )


@pytest.mark.parametrize(
    ("schedule", "reason"),
    [
        ("61 * * * *", "minute field: 61 is out of range 0-59"),
        ("0 24 * * *", "hour field: 24 is out of range 0-23"),
        ("0 0 32 * *", "day-of-month field: 32 is out of range 1-31"),
        ("0 0 * 0 *", "month field: 0 is out of range 1-12"),
        ("0 0 * * 7", "day-of-week field: 7 is out of range 0-6"),
        ("*/5 1-30 * * *", "hour field: 30 is out of range 0-23"),
        (
            "0 0 * * someday",
            "day-of-week field: 'someday' is not a number, a range (1-5), a list (1,3) or a step (*/5)",
        ),
    ],
)
def test_a_bad_cron_field_is_named_with_the_file_and_the_source(
    schedule: str, reason: str, tmp_path: Path
) -> None:
    """A schedule with a bad field stops `newsdedup schedule` (and every command) with one line naming the
    sources file, the source, and the field and why (exit status 2)."""
    sources = tmp_path / "sources.toml"
    sources.write_text(
        '[[source]]\nname = "x"\nkind = "feed"\nstart_urls = ["http://x.example/feed"]\n'
        f'schedule = "{schedule}"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["schedule"], env={"NEWSDEDUP_SOURCES": str(sources)})
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"Error: {sources}: source 'x': schedule: {reason}\n"


@pytest.mark.parametrize(
    "expression",
    ["*/30 * * * *", "15 */2 * * *", "0 12 1 * 1", "0 9 * * mon-fri", "0 0 29 2 *", "5 4 31 * *"],
)
def test_schedule_runs_are_those_celery_beat_computes(expression: str) -> None:
    """In UTC, the next runs `newsdedup schedule` lists are the ones Celery's crontab computes for beat
    (its remaining_estimate from each run to the next), day-of-month and day-of-week both required."""
    from datetime import UTC, datetime

    from celery.schedules import crontab

    from newsdedup.cli.schedule import Cron, next_runs

    after = datetime(2026, 11, 27, 9, 47, 30, tzinfo=UTC)
    minute, hour, day, month, weekday = expression.split()
    celery_runs, last = [], after
    for _ in range(3):
        now = last
        cron = crontab(minute, hour, weekday, day, month, nowfun=lambda now=now: now)
        last = last + cron.remaining_estimate(last)
        celery_runs.append(last)
    assert next_runs(Cron.parse(expression), after) == celery_runs


@pytest.mark.slow
def test_beat_runs_the_schedules_in_the_configured_time_zone(
    redis_url: str, tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    """With NEWSDEDUP_TIMEZONE=Europe/Berlin a beat schedules a source's "0 12 * * *" at the next noon in
    Berlin: RedBeat's schedule in Redis holds that instant (to the second it rounds to)."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    sources = tmp_path / "sources.toml"
    sources.write_text(
        '[[source]]\nname = "noon"\nkind = "feed"\nstart_urls = ["http://a.example/feed"]\n'
        'schedule = "0 12 * * *"\n',
        encoding="utf-8",
    )
    env = child_env(
        NEWSDEDUP_REDIS_URL=redis_url, NEWSDEDUP_SOURCES=str(sources), NEWSDEDUP_TIMEZONE="Europe/Berlin"
    )
    client = redis.Redis.from_url(redis_url)
    started.append(start(["newsdedup", "beat"], env, tmp_path, tmp_path / "beat.log"))
    wait_until(
        lambda: client.exists(LOCK_KEY) == 1 or started[-1].poll() is not None, "the beat holds the lock"
    )
    berlin = datetime.now(ZoneInfo("Europe/Berlin"))
    noon = berlin.replace(hour=12, minute=0, second=0, microsecond=0)
    if noon <= berlin:
        noon = (noon + timedelta(days=1)).replace(hour=12)  # wall-clock noon, also across a clock change
    due = client.zscore(f"{BEAT_KEY_PREFIX}:schedule", f"{BEAT_KEY_PREFIX}crawl noon")
    assert due is not None, (tmp_path / "beat.log").read_text()
    assert abs(datetime.fromtimestamp(due, UTC) - noon.astimezone(UTC)) <= timedelta(seconds=1)
    client.close()
