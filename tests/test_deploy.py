"""The deployment files, without a Docker engine or systemd: what the Dockerfile, docker-compose.yml and
the systemd units must keep true is checked, not what they say word for word, and each command they run
is run here, with their environment, against the machine's Redis and PostgreSQL.

The invariants: the image runs as an unprivileged user it creates, installs the project with every
package, bakes in no password, and its ENTRYPOINT, CMD and HEALTHCHECK are real commands; compose writes no
password (only ``${VAR}`` references), every service runs a real ``newsdedup`` or ``celery`` command (click
resolves it), waits for the database, Redis and the migrations it needs, and the long-running ones restart;
each systemd unit runs a real command as a user other than root, restarts on failure and reads the env
file that deploy/newsdedup.env.example says to install. "A real command" is one that click parses through
the program's command groups, as it would when running it, without running it.

To run them, a compose service's environment is taken from docker-compose.yml with its ``${...}``
references filled in as compose does; its database and Redis URLs, which name the compose services
``postgres`` and ``redis``, become the test's own PostgreSQL schema and Redis database on 127.0.0.1, and a
file mounted into the container is read from where the volume takes it. The systemd units get the same
from deploy/newsdedup.env.example. Also here: ``newsdedup db upgrade|check``, ``newsdedup schedule`` and
the TIMEZONE setting.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shlex
import subprocess
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from fnmatch import fnmatch
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import click
import psycopg
import pytest
import redis
import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the test extras
from alembic.script import ScriptDirectory
from celery import Celery
from celery.app.utils import find_app
from celery.bin.celery import celery
from click.testing import CliRunner
from packaging.requirements import Requirement
from sqlalchemy import text

from config import ConfigError, load_settings
from newsdedup.cli import app
from storage.db import alembic_config, create_db_engine
from tests.celery_worker import Worker, child_env, stop, wait_until
from tests.conftest import POSTGRES, ROOT
from workers.schedule import BEAT_KEY_PREFIX

DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE = ROOT / "docker-compose.yml"
PYPROJECT = ROOT / "pyproject.toml"
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
# The programs a deployment may run, and the click command line each one is: `newsdedup` is the project's
# console script (newsdedup.cli:main runs `app`), `celery` Celery's own (Flower is a plugin of it).
PROGRAMS: dict[str, click.Command] = {"newsdedup": app, "celery": celery}
# The newsdedup commands that start a Celery process (they need the broker, and a restart when they fail).
CELERY_PROCESSES = {"worker", "beat"}
# An environment variable or build argument named like one of these holds a secret.
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|API_?KEY", re.IGNORECASE)


# --- reading the files -------------------------------------------------------------------------------

Instruction = tuple[str, str]


def dockerfile() -> list[Instruction]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    logical = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    lines = [line.strip() for line in logical.splitlines()]
    return [
        (keyword.upper(), rest.strip())
        for keyword, _, rest in (line.partition(" ") for line in lines if line and not line.startswith("#"))
    ]


def stages(instructions: list[Instruction]) -> dict[str, list[Instruction]]:
    """Each build stage's instructions from its FROM on, by its name (``AS name``, else its index)."""
    found: dict[str, list[Instruction]] = {}
    current: list[Instruction] = []  # ARGs before the first FROM belong to no stage
    for keyword, args in instructions:
        if keyword == "FROM":
            words = args.split()
            name = words[-1] if len(words) >= 3 and words[-2].upper() == "AS" else str(len(found))
            current = found.setdefault(name, [])
        current.append((keyword, args))
    return found


def final_stage(instructions: list[Instruction]) -> list[Instruction]:
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def exec_form(args: str, what: str) -> list[str]:
    """The JSON (exec form) argument list of an instruction: a shell-form one would run through /bin/sh."""
    try:
        words = json.loads(args)
    except json.JSONDecodeError:
        words = None
    assert isinstance(words, list), f"{what}: not exec form: {args}"
    assert all(isinstance(w, str) for w in words), f"{what}: not exec form: {args}"
    return words


def image_command(keyword: str) -> list[str]:
    """The final stage's ENTRYPOINT or CMD (the last one counts), [] when it has none."""
    given = [args for word, args in final_stage(dockerfile()) if word == keyword]
    return exec_form(given[-1], keyword) if given else []


def healthcheck() -> list[str]:
    """The command line of the final stage's HEALTHCHECK (``HEALTHCHECK [options] CMD [...]``)."""
    checks = [args for keyword, args in final_stage(dockerfile()) if keyword == "HEALTHCHECK"]
    assert checks, "the image has no HEALTHCHECK"
    match = re.search(r"(?:^|\s)CMD\s+(.*)$", checks[-1])
    assert match is not None, f"HEALTHCHECK runs no command: {checks[-1]}"
    return exec_form(match.group(1), "HEALTHCHECK")


def assignments(args: str) -> dict[str, str]:
    """The NAME=value pairs of an ENV or ARG instruction (``ENV NAME value`` too; a bare ARG is empty)."""
    words = shlex.split(args)
    if len(words) >= 2 and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}
    return {name: value for name, _, value in (word.partition("=") for word in words)}


def copy_sources(args: str) -> tuple[str | None, list[str], str]:
    """A COPY or ADD: the stage it copies from (None: the build context), its sources and its target."""
    words = exec_form(args, "COPY") if args.startswith("[") else shlex.split(args)
    flags = [w for w in words if w.startswith("--")]
    paths = [w for w in words if not w.startswith("--")]
    source = next((f.split("=", 1)[1] for f in flags if f.startswith("--from=")), None)
    return source, paths[:-1], paths[-1]


def shell_commands(args: str) -> Iterator[list[str]]:
    """The simple commands of a RUN line, split at ``&&``, ``||`` and ``;``, each as its words."""
    for part in re.split(r"&&|\|\||;", args):
        words = shlex.split(part)
        if words:
            yield words


def dockerignored(path: str) -> bool:
    """Whether .dockerignore leaves this path (relative to the context) out of the build context: a line
    that matches it or a folder above it leaves it out, ``!`` takes it back in, the last matching line
    decides (``**/`` is any folders; fnmatch's ``*`` also crosses ``/``, laxer than Docker's, enough here)."""
    parts = path.strip("/").split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    ignored = False
    for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        pattern = line.strip()
        if pattern and not pattern.startswith("#"):
            glob = pattern.removeprefix("!").strip().strip("/")
            if any(fnmatch(p, glob) or fnmatch(p, glob.removeprefix("**/")) for p in prefixes):
                ignored = not pattern.startswith("!")
    return ignored


def pyproject() -> dict[str, Any]:
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return data


def ours(services: Mapping[str, Any]) -> list[str]:
    """The compose services that run the project's image (built from this checkout)."""
    return sorted(name for name, service in services.items() if "build" in service)


def compose_argv(service: Mapping[str, Any]) -> list[str]:
    """The command line a compose service's container runs, as compose and Docker put it together: the
    service's entrypoint, else the image's ENTRYPOINT; then the service's command, else the image's CMD
    (which a service's own entrypoint drops)."""

    def words(value: str | list[str]) -> list[str]:
        return shlex.split(value) if isinstance(value, str) else list(value)

    if "entrypoint" in service:
        return [*words(service["entrypoint"]), *words(service.get("command", []))]
    return [*image_command("ENTRYPOINT"), *words(service.get("command", image_command("CMD")))]


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


def stand_ins() -> dict[str, str]:
    """A value for every variable docker-compose.yml refers to, each its own and none written in the file."""
    names = {match.group(1) for match in _REFERENCE.finditer(COMPOSE.read_text(encoding="utf-8"))}
    return {name: f"from-env-{name.lower().replace('_', '-')}" for name in names if name}


def service_environment(service: Mapping[str, Any], variables: Mapping[str, str]) -> dict[str, str]:
    environment = service.get("environment", {})
    assert isinstance(environment, dict), "environment: use the NAME: value form"
    return {name: interpolate(str(value), variables) for name, value in environment.items()}


def waits_for(services: Mapping[str, Any], name: str) -> dict[str, set[str]]:
    """Every service compose starts before this one (its depends_on, followed through), with the
    conditions it is waited for with."""
    found: dict[str, set[str]] = {}
    todo = [name]
    while todo:
        depends = services[todo.pop()].get("depends_on", {})
        if isinstance(depends, list):
            depends = {dependency: {} for dependency in depends}
        for dependency, spec in depends.items():
            if dependency not in found:
                todo.append(dependency)
            found.setdefault(dependency, set()).add((spec or {}).get("condition", "service_started"))
    return found


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


def env_example_target() -> str:
    """Where deploy/newsdedup.env.example says to install itself: the one absolute path in its comments
    that has its name without ``.example``."""
    name = ENV_EXAMPLE.name.removesuffix(".example")
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    comments = " ".join(line for line in lines if line.startswith("#"))
    targets: set[str] = {
        path for path in re.findall(r"(?<![\w.])/[\w./-]*\w", comments) if Path(path).name == name
    }
    assert len(targets) == 1, f"{ENV_EXAMPLE.name}: where to copy it: {sorted(targets)}"
    return targets.pop()


def resolve(root: click.Command, program: str, args: Sequence[str]) -> click.Context:
    """Parse a command line as click does before it runs it, each group's options and then its
    subcommand in turn, without invoking anything: the context of the command it would run. A
    click.UsageError (no such command or option, a group without its subcommand ...) when it runs none."""
    context = root.make_context(program, list(args))
    while isinstance(context.command, click.Group):
        group = context.command
        # What Group.invoke hands on: the subcommand's name and the words after it.
        words = [*context._protected_args, *context.args]
        if not words:
            raise click.UsageError("a command group, without one of its commands", context)
        name, command, rest = group.resolve_command(context, words)
        if name is None or command is None:
            raise click.UsageError(f"no such command: {words[0]}", context)
        context = command.make_context(name, rest, parent=context)
    return context


def command_context(argv: Sequence[str], where: str) -> click.Context:
    """The click context of the newsdedup or celery command this command line runs (its program may be a
    path to one); the test fails, naming where the line comes from, when it runs no real command."""
    assert argv, f"{where}: no command"
    program = Path(argv[0]).name
    root = PROGRAMS.get(program)
    assert root is not None, f"{where}: {argv[0]} is neither of {sorted(PROGRAMS)}"
    try:
        return resolve(root, program, argv[1:])
    except click.UsageError as error:
        pytest.fail(f"{where}: {shlex.join(argv)}: not a command: {error.format_message()}")


def newsdedup_command(argv: Sequence[str], where: str) -> click.Command | None:
    """The newsdedup command this command line runs, or None when it runs another program."""
    if Path(argv[0]).name != "newsdedup":
        return None
    return command_context(argv, where).command


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
    configured = service_environment(service, COMPOSE_VARIABLES)
    mounts = {}
    for volume in service.get("volumes", []):
        host, container = interpolate(volume, {}).split(":")[:2]
        mounts[container] = (COMPOSE.parent / host).resolve()
    return compose_argv(service), configured, mounts[configured["NEWSDEDUP_SOURCES"]]


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


def test_the_image_runs_as_an_unprivileged_user_that_it_creates() -> None:
    """The final stage ends as a USER other than root (by name or uid 0), and when that user is a name,
    the stage creates it (useradd/adduser): Docker cannot start a container as an unknown user."""
    final = final_stage(dockerfile())
    users = [args for keyword, args in final if keyword == "USER"]
    assert users, "the final stage has no USER: the container would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), f"USER {users[-1]}: the container would run as root"
    if not user.isdigit():
        runs = " && ".join(args for keyword, args in final if keyword == "RUN")
        created = rf"\b(?:useradd|adduser)\b[^&;|]*\s{re.escape(user)}(?:\s|$)"
        assert re.search(created, runs), f"USER {user}: the final stage does not create that user"


def test_the_image_entrypoint_default_command_and_health_check_are_real_newsdedup_commands() -> None:
    """What `docker run IMAGE` starts (ENTRYPOINT, then CMD) and the HEALTHCHECK are exec-form command
    lines of the `newsdedup` program whose commands exist: click resolves each through the CLI's groups."""
    started = image_command("ENTRYPOINT") + image_command("CMD")
    assert newsdedup_command(started, "Dockerfile ENTRYPOINT + CMD") is not None, f"not newsdedup: {started}"
    check = healthcheck()
    assert newsdedup_command(check, "Dockerfile HEALTHCHECK") is not None, f"not newsdedup: {check}"


def test_the_image_build_copies_pyproject_and_every_package_it_includes() -> None:
    """The build copies pyproject.toml and every top-level package its package search includes from the
    context: a package left out would be missing from the installed project."""
    include = pyproject()["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {init.parent.name for init in ROOT.glob("*/__init__.py")}
    needed = {"pyproject.toml", *(p for p in packages if any(fnmatch(p, glob) for glob in include))}
    copied = set()
    for keyword, args in dockerfile():
        stage, sources, _ = copy_sources(args) if keyword in ("COPY", "ADD") else ("", [], "")
        copied |= {Path(source).parts[0] for source in sources if stage is None}
    assert "." in copied or needed <= copied, f"not copied: {sorted(needed - copied)}"


def test_the_image_installs_the_project_with_pip_and_runs_that_install() -> None:
    """A RUN installs the project with pip (`.`, or a wheel of it); when in another stage than the final one,
    into a folder that the final stage copies from it and whose bin folder (the console scripts,
    `newsdedup` among them) is on the final stage's PATH."""
    wheel = re.compile(rf"\b{re.escape(pyproject()['project']['name'])}-\S*\.whl")
    installs = [
        (stage, words[0])
        for stage, instructions in stages(dockerfile()).items()
        for keyword, args in instructions
        if keyword == "RUN"
        for words in shell_commands(args)
        if "pip" in Path(words[0]).name and words[1:2] == ["install"]
        if any(re.fullmatch(r"\.(\[.*\])?", w) or wheel.search(w) for w in words[2:])
    ]
    assert installs, "no RUN installs the project with pip"
    final_name, final = list(stages(dockerfile()).items())[-1]
    if any(stage == final_name for stage, _ in installs):
        return
    final_env: dict[str, str] = {}
    for keyword, args in final:
        final_env.update(assignments(args) if keyword == "ENV" else {})
    on_path = final_env.get("PATH", "").split(":")
    for stage, pip in installs:
        scripts = Path(pip).parent
        for keyword, args in final:
            source_stage, sources, target = copy_sources(args) if keyword == "COPY" else ("", [], "")
            for source in (s for s in sources if source_stage == stage and scripts.is_relative_to(s)):
                installed = str(Path(target) / scripts.relative_to(source))
                assert installed in on_path, f"{installed} is not on the final stage's PATH: {on_path}"
                return
    pytest.fail(f"the final stage copies none of the installs (stage, pip): {installs}")


def test_the_image_bakes_in_no_password() -> None:
    """No ENV or ARG of any stage is named like a password or holds a URL with one (both are kept in the
    image and its history), and no env file (where the passwords live) is copied into it."""
    for keyword, args in dockerfile():
        if keyword in ("ENV", "ARG"):
            for name, value in assignments(args).items():
                assert not SECRET_NAME.search(name), f"{keyword} {name}: a secret baked into the image"
                assert not urlsplit(value).password, f"{keyword} {name}: a URL with a password in the image"
        if keyword in ("COPY", "ADD"):
            for source in copy_sources(args)[1]:
                name = Path(source).name
                assert not fnmatch(name, "*.env"), f"{keyword} {source}: an env file in the image"
                assert not fnmatch(name, ".env*"), f"{keyword} {source}: an env file in the image"


def test_dockerignore_keeps_env_files_and_git_out_but_not_what_the_build_copies() -> None:
    """The env files where the passwords live (.env, NAME.env) and the git history never reach the build
    context; everything the Dockerfile copies from the context exists and is not ignored (the build would
    fail without it)."""
    for kept_out in (".env", ".env.local", "newsdedup.env", ".git/config"):
        assert dockerignored(kept_out), f"{kept_out} is sent to the Docker build"
    for keyword, args in dockerfile():
        if keyword in ("COPY", "ADD"):
            stage, sources, _ = copy_sources(args)
            for source in sources if stage is None else []:
                assert (ROOT / source).exists(), f"{keyword} {source}: not in the checkout"
                assert source == "." or not dockerignored(source), (
                    f"{keyword} {source}: .dockerignore drops it"
                )


def test_flower_comes_with_an_extra_that_the_image_installs_by_default() -> None:
    """Flower (the compose profile "flower") is no dependency of the package: an optional extra brings it,
    and a build argument that a pip install in the Dockerfile uses names that extra by default, so the
    image has Flower unless built without it."""
    project = pyproject()["project"]
    assert not any(Requirement(d).name == "flower" for d in project["dependencies"])
    bringing = {
        extra
        for extra, requirements in project.get("optional-dependencies", {}).items()
        if any(Requirement(r).name == "flower" for r in requirements)
    }
    assert bringing, "no extra brings Flower"
    runs = " ".join(args for keyword, args in dockerfile() if keyword == "RUN" and "pip" in args)
    defaults = {
        name: value
        for keyword, args in dockerfile()
        if keyword == "ARG"
        for name, value in assignments(args).items()
        if re.search(rf"\$\{{?{name}\b", runs)
    }
    assert any(bringing & set(value.split(",")) for value in defaults.values()), defaults


# --- docker-compose.yml --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ours(compose()["services"]))
def test_compose_service_runs_a_real_newsdedup_or_celery_command(name: str) -> None:
    """The command line the service's container runs (its entrypoint and command, or the image's) is a
    newsdedup or celery command that click resolves; a celery one names a Celery application (-A). A
    Celery command that a plugin brings (Flower, from one of the project's extras) is resolved only where
    the plugin is installed; any other unknown command fails."""
    argv = compose_argv(compose()["services"][name])
    where = f"docker-compose.yml: {name}"
    if argv and Path(argv[0]).name == "celery":
        group = celery.make_context("celery", argv[1:])
        application = group.params["app"]
        try:
            found = find_app(application)
        except ImportError as error:
            pytest.fail(f"{where}: -A {application}: {error}")
        assert isinstance(found, Celery), f"{where}: -A {application} is not a Celery application"
        subcommand = [*group._protected_args, *group.args][:1]
        extras = pyproject()["project"].get("optional-dependencies", {})
        plugins = {Requirement(r).name for requirements in extras.values() for r in requirements}
        if subcommand and subcommand[0] in plugins and celery.get_command(group, subcommand[0]) is None:
            try:
                distribution(subcommand[0])
            except PackageNotFoundError:
                pytest.skip(
                    f"{where}: `celery {subcommand[0]}` comes with {subcommand[0]}, not installed here"
                )
    command_context(argv, where)


def test_compose_runs_every_newsdedup_service_from_one_image_built_here() -> None:
    """All the services of the project's image are built from this checkout's Dockerfile and tagged alike,
    so that `docker compose build` makes one image for every role."""
    services = compose()["services"]
    names = ours(services)
    assert names
    for name in names:
        build = services[name]["build"]
        context = build if isinstance(build, str) else build.get("context", ".")
        assert (COMPOSE.parent / context).resolve() == ROOT, f"{name}: build: {build}"
    assert len({services[name].get("image") for name in names}) == 1


def test_compose_writes_no_password_only_references_to_the_environment() -> None:
    """No service's environment has a password written in docker-compose.yml: every value named like a
    secret, and every password in a URL, is a ``${VAR}`` that compose fills from the environment or the
    .env file, with no default; without the variable set, compose refuses to start."""
    variables = stand_ins()
    checked = 0
    for name, service in compose()["services"].items():
        raw = service.get("environment", {})
        for key, value in service_environment(service, variables).items():
            secret = value if SECRET_NAME.search(key) else urlsplit(value).password
            if not secret:
                continue
            checked += 1
            assert secret in variables.values(), f"{name}: {key}: a password written in docker-compose.yml"
            with pytest.raises(Unset):
                interpolate(str(raw[key]), {})
    assert checked, "no password found to check: the database URL has one"


def test_compose_urls_name_the_database_compose_creates_and_its_redis() -> None:
    """Each newsdedup service's database URL names a compose service and connects to the database that
    service creates, as its user with its password (the postgres image's POSTGRES_DB, POSTGRES_USER,
    POSTGRES_PASSWORD); its Redis URL names a compose service too."""
    services = compose()["services"]
    variables = stand_ins()
    for name in ours(services):
        environment = service_environment(services[name], variables)
        database = urlsplit(environment["NEWSDEDUP_DATABASE_URL"])
        assert database.hostname in services, f"{name}: {database.hostname} is no compose service"
        postgres = service_environment(services[database.hostname], variables)
        user = postgres.get("POSTGRES_USER", "postgres")
        assert (database.username, database.password) == (user, postgres["POSTGRES_PASSWORD"]), name
        assert database.path.lstrip("/") == postgres.get("POSTGRES_DB", user), name
        broker = urlsplit(environment["NEWSDEDUP_REDIS_URL"]).hostname
        assert broker in services, f"{name}: {broker} is no compose service"


def test_compose_services_wait_for_the_database_redis_and_migrations_they_need() -> None:
    """Every newsdedup service starts after its database is healthy; every Celery process (worker, beat,
    Flower) after Redis is healthy; every newsdedup service but the migration (`db upgrade`) after the
    migration has completed. Those waited for as healthy have a health check."""
    services = compose()["services"]
    variables = stand_ins()
    upgrade = resolve(app, "newsdedup", ["db", "upgrade"]).command
    commands = {name: newsdedup_command(compose_argv(services[name]), name) for name in ours(services)}
    migrations = [name for name, command in commands.items() if command is upgrade]
    assert len(migrations) == 1, f"one service runs the migrations: {migrations}"
    for name, command in commands.items():
        environment = service_environment(services[name], variables)
        needs = {}
        if command is not None:
            needs[urlsplit(environment["NEWSDEDUP_DATABASE_URL"]).hostname] = "service_healthy"
            if command is not upgrade:
                needs[migrations[0]] = "service_completed_successfully"
        if command is None or command.name in CELERY_PROCESSES:
            needs[urlsplit(environment["NEWSDEDUP_REDIS_URL"]).hostname] = "service_healthy"
        waited = waits_for(services, name)
        for dependency, condition in needs.items():
            assert condition in waited.get(str(dependency), set()), (
                f"{name} must wait: {dependency} {condition}"
            )
    for name in services:
        for dependency, conditions in waits_for(services, name).items():
            if "service_healthy" in conditions:
                check = services[dependency].get("healthcheck", {})
                assert check.get("test"), f"{dependency}: waited for as healthy, without a health check"
                assert not check.get("disable"), f"{dependency}: its health check is disabled"


def test_compose_restarts_the_celery_processes_but_not_the_migration() -> None:
    """Worker, beat and Flower come back when they fail or the host reboots (a restart policy); the one-off
    migration does not (restarting it would run it again and again)."""
    services = compose()["services"]
    upgrade = resolve(app, "newsdedup", ["db", "upgrade"]).command
    for name in ours(services):
        command = newsdedup_command(compose_argv(services[name]), name)
        restart = services[name].get("restart", "no")
        if command is upgrade:
            assert restart == "no", f"{name}: restart: {restart}"
        elif command is None or command.name in CELERY_PROCESSES:
            assert restart in ("always", "unless-stopped", "on-failure"), f"{name}: restart: {restart}"


def test_compose_publishes_ports_only_on_the_loopback_interface() -> None:
    """A port compose publishes (Flower has no login) is bound to 127.0.0.1 or ::1, not to every interface
    of the host."""
    for name, service in compose()["services"].items():
        for port in service.get("ports", []):
            if isinstance(port, dict):
                host_ip = port.get("host_ip", "")
            else:
                host_ip = str(port).rsplit(":", 2)[0] if str(port).count(":") >= 2 else ""
            host_ip = host_ip.strip("[]")
            assert host_ip, f"{name}: ports: {port}: published on every interface"
            assert ipaddress.ip_address(host_ip).is_loopback, f"{name}: ports: {port}"


# --- systemd -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(UNITS))
def test_systemd_unit_runs_a_real_command_as_a_user_and_restarts_on_failure(role: str) -> None:
    """The unit's ExecStart (and any ExecStartPre) is an absolute path to a `newsdedup` program with a
    command that exists, without the ``+`` or ``!`` prefix that would give it privileges; User= is not
    root; Restart= brings it back when it fails; it stops with SIGTERM, Celery's warm shutdown, which the
    tests below send; and its EnvironmentFile= is where deploy/newsdedup.env.example says to install it."""
    service = unit(UNITS[role])["Service"]
    lines = [line for key in ("ExecStartPre", "ExecStart") for line in service.get(key, [])]
    assert service.get("ExecStart"), "no ExecStart"
    for line in lines:
        prefix = re.match(r"[-@:+!]*", line)
        assert prefix is not None
        assert not set(prefix.group(0)) & set("+!"), f"privileged: {line}"
        argv = shlex.split(line[prefix.end() :])
        assert Path(argv[0]).is_absolute(), line
        assert newsdedup_command(argv, f"{UNITS[role].name}: {line}") is not None, line
    users = service.get("User", [])
    assert users, "no User=: the service would run as root"
    assert users[-1] not in ("root", "0"), f"User={users[-1]}: the service would run as root"
    restart = service.get("Restart", ["no"])[-1]
    assert restart in ("on-failure", "on-abnormal", "always"), f"Restart={restart}"
    stop_signal = service.get("KillSignal", ["SIGTERM"])[-1]
    assert stop_signal == "SIGTERM", f"KillSignal={stop_signal}: not Celery's warm shutdown"
    files = [path.lstrip("-") for path in service.get("EnvironmentFile", [])]
    assert env_example_target() in files, f"EnvironmentFile={files}"


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
    schedule = {m.decode() for m in cast("list[bytes]", client.zrange(f"{BEAT_KEY_PREFIX}:schedule", 0, -1))}
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
    check = healthcheck()
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
