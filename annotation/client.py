"""Reaching a Label Studio server: connection from the environment, retries, one kind of error."""

from __future__ import annotations

import logging
import os
import random
import time
from dataclasses import dataclass, field
from typing import Callable, TypeVar

import httpx

log = logging.getLogger(__name__)
T = TypeVar("T")
URL_ENV = "LABEL_STUDIO_URL"
API_KEY_ENV = "LABEL_STUDIO_API_KEY"
TRANSIENT_STATUS = {408, 425, 429, 500, 502, 503, 504}


class LabelStudioError(Exception):
    """Label Studio could not do what was asked; the message names the server, the step and the cause."""

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient


@dataclass
class Connection:
    url: str
    api_key: str = field(repr=False)
    timeout: float = 120.0
    retries: int = 4
    backoff: float = 0.5

    @classmethod
    def from_env(cls, default_url: str | None = None, default_key: str | None = None, **options) -> "Connection":
        """The server named by LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY, else the defaults (the local server's).

        The two variables go together: a URL set alone would otherwise receive the local server's key."""
        url, key = os.environ.get(URL_ENV, "").strip(), os.environ.get(API_KEY_ENV, "").strip()
        if bool(url) != bool(key):
            missing = API_KEY_ENV if url else URL_ENV
            raise LabelStudioError(f"{URL_ENV} and {API_KEY_ENV} must be set together; {missing} is not set")
        if not url:
            url, key = default_url or "", default_key or ""
        if not url or not key:
            raise LabelStudioError(f"set {URL_ENV} and {API_KEY_ENV}, or start the local server: warta labelstudio start")
        return cls(url.rstrip("/"), key, **options)

    def client(self):
        """The SDK client with its own retries off: its default retries 5xx answers blindly, which would
        repeat a committed import; every retry goes through `call`, where each caller decides what is safe."""
        from label_studio_sdk import LabelStudio

        return LabelStudio(base_url=self.url, api_key=self.api_key, timeout=self.timeout, max_retries=0)

    def call(self, what: str, action: Callable[[], T], retries: int | None = None,
             done: Callable[[], bool] | None = None) -> T | None:
        """Run one API call; transient failures are retried with exponential backoff and jitter.

        A write that is not safe to repeat blindly passes `done`, a read that says whether the server
        committed it before failing: it is sent again only if not, and the call returns None if so. Or it
        passes retries=0 (the caller then re-syncs and retries itself, as push does for a batch).
        """
        from label_studio_sdk.core.api_error import ApiError

        retries = self.retries if retries is None else retries
        for attempt in range(retries + 1):
            try:
                return action()
            except httpx.TransportError as error:
                cause = f"cannot reach Label Studio at {self.url} ({type(error).__name__}: {error or 'no answer'})"
                transient = True
            except ApiError as error:
                status = error.status_code or 0
                if status in (401, 403):
                    raise LabelStudioError(f"{what}: Label Studio at {self.url} refused the API key ({status}); "
                                           f"check {API_KEY_ENV}") from None
                cause = f"Label Studio at {self.url} answered {status}: {_short(error.body)}"
                transient = status in TRANSIENT_STATUS
            if not transient or attempt == retries:
                raise LabelStudioError(f"{what}: {cause}" + (f" (after {attempt + 1} attempts)" if transient else ""),
                                       transient=transient)
            if done is not None and self.call(f"{what} (checking whether it was done)", done):
                log.warning("%s: %s, but the server had done it", what, cause)
                return None
            delay = self.pause(attempt)
            log.warning("%s: %s; retrying in %.1fs", what, cause, delay)
            time.sleep(delay)
        raise AssertionError("unreachable")

    def pause(self, attempt: int) -> float:
        """Exponential backoff with jitter, so many clients do not retry in lockstep."""
        return self.backoff * (2**attempt) * (0.5 + random.random())


def find_project_by_title(connection: Connection, title: str):
    """The oldest project with exactly this title (Label Studio's title filter also matches substrings)."""
    client = connection.client()
    projects = connection.call("list projects", lambda: list(client.projects.list(title=title)))
    matches = sorted((p for p in projects if p.title == title), key=lambda p: p.id)
    return matches[0] if matches else None


def _short(body: object, limit: int = 400) -> str:
    text = str(body)
    return text if len(text) <= limit else text[:limit] + "..."
