"""What one invocation of ``newsdedup`` works with: its settings and runtime, built once by the root
command on first use and handed to each command by a decorator (rq's ``pass_cli_config`` style).

A command says what it does with the database: ``reads`` (the schema must be current: a read never
migrates), ``writes`` (the schema is migrated first) or neither (``uses_runtime``, ``uses_settings``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property, update_wrapper
from typing import Concatenate, ParamSpec, TypeVar

import click

from config import Settings, load_settings
from newsdedup.service.runtime import Runtime

P = ParamSpec("P")
R = TypeVar("R")


class Invocation:
    """The settings (read once, on first use) and the runtime of one command line."""

    @cached_property
    def settings(self) -> Settings:
        return load_settings()

    @cached_property
    def runtime(self) -> Runtime:
        return Runtime.from_settings(self.settings)

    def close(self) -> None:
        if "runtime" in self.__dict__:
            self.runtime.close()


def current() -> Invocation:
    """This command line's invocation (the root command made it; a command invoked alone gets one)."""
    ctx = click.get_current_context()
    invocation = ctx.find_object(Invocation)
    if invocation is None:
        invocation = ctx.ensure_object(Invocation)
        ctx.call_on_close(invocation.close)
    return invocation


def _passing(
    get: Callable[[Invocation], object],
) -> Callable[[Callable[Concatenate[R, P], object]], Callable[P, object]]:
    def decorator(command: Callable[Concatenate[R, P], object]) -> Callable[P, object]:
        def run(*args: P.args, **kwargs: P.kwargs) -> object:
            return command(get(current()), *args, **kwargs)  # type: ignore[arg-type]  # get returns what the command takes

        return update_wrapper(run, command)

    return decorator


#: The command takes the settings as its first argument.
uses_settings = _passing(lambda i: i.settings)
#: The command takes the runtime as its first argument and does not touch the schema.
uses_runtime = _passing(lambda i: i.runtime)
#: The command only reads the database: the runtime, its schema checked to be current.
reads = _passing(lambda i: i.runtime.require_current_schema())
#: The command writes to the database: the runtime, its schema migrated first.
writes = _passing(lambda i: i.runtime.migrate())
