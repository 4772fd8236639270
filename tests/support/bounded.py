"""A time limit for async tests that wait on things outside their control (a listener, a notification):
such a test must fail when the awaited thing never comes, not hang the whole run."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

import pytest

P = ParamSpec("P")
T = TypeVar("T")


def within(seconds: float) -> Callable[[Callable[P, Coroutine[Any, Any, T]]], Callable[P, Coroutine[Any, Any, T]]]:
    """Fail the decorated async test if it has not finished after ``seconds``."""

    def decorate(test: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, Coroutine[Any, Any, T]]:
        @functools.wraps(test)
        async def bounded(*args: P.args, **kwargs: P.kwargs) -> T:
            limit = asyncio.timeout(seconds)
            try:
                async with limit:
                    return await test(*args, **kwargs)
            except TimeoutError:
                if limit.expired():
                    pytest.fail(f"did not finish within {seconds} s", pytrace=True)
                raise

        return bounded

    return decorate
