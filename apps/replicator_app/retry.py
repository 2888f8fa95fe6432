"""Every retry of the service, on tenacity (Debian's python3-tenacity).

Three shapes occur: a call retried with exponential backoff until it succeeds
(delivery to a consumer, the OMS schema), the same with a deadline (a venue's
send), and a condition polled until it holds or time runs out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    retry_if_result,
    stop_after_delay,
    stop_never,
    wait_exponential,
    wait_fixed,
)

T = TypeVar("T")
OnRetry = Callable[[RetryCallState], None]


def backoff(first: float, cap: float) -> wait_exponential:
    """first, 2 x first, 4 x first ... capped at `cap` seconds."""
    return wait_exponential(multiplier=first, min=first, max=cap)


async def until_done(call: Callable[[], Awaitable[T]], done: Callable[[T], bool], *,
                     first: float, cap: float, deadline: float | None = None,
                     on_retry: OnRetry | None = None) -> T:
    """`await call()` until `done(result)`, backing off between attempts; after
    `deadline` seconds (if given) the last result is returned as it is."""
    retrying = AsyncRetrying(
        retry=retry_if_result(lambda result: not done(result)),
        wait=backoff(first, cap),
        stop=stop_never if deadline is None else stop_after_delay(deadline),
        before_sleep=on_retry,
        retry_error_callback=lambda state: state.outcome.result(),
    )
    return await retrying(call)


async def until_no_error(call: Callable[[], Awaitable[T]], errors: tuple[type[Exception], ...],
                         *, first: float, cap: float, on_retry: OnRetry | None = None) -> T:
    """`await call()` until it raises none of `errors` (anything else propagates)."""
    retrying = AsyncRetrying(retry=retry_if_exception_type(errors), wait=backoff(first, cap),
                             stop=stop_never, before_sleep=on_retry, reraise=True)
    return await retrying(call)


async def poll(call: Callable[[], Awaitable[T]], done: Callable[[T], bool], *,
               every: float, timeout: float) -> T:
    """`await call()` every `every` seconds until `done(result)` or `timeout`;
    returns the last result (the caller judges it)."""
    retrying = AsyncRetrying(retry=retry_if_result(lambda result: not done(result)),
                             wait=wait_fixed(every), stop=stop_after_delay(timeout),
                             retry_error_callback=lambda state: state.outcome.result())
    return await retrying(call)


def attempts(state: RetryCallState) -> int:
    return state.attempt_number


def last_result(state: RetryCallState) -> Any:
    return state.outcome.result() if state.outcome is not None else None
