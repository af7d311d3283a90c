"""Two clients with the same calls: :class:`LocalClient` (in-process, no HTTP: a notebook or a
test) and :class:`HttpClient` (a running ``artdash serve``). Both return the API's JSON as
dicts and raise :class:`ServiceError` with the API's code and message on a refusal.

    >>> client = LocalClient(DecisionService(Workspace.open()))
    >>> answer = client.decide({"id": "m1", "tastes": {"genre:romance": 0.9}}, [1, 2, 3])
    >>> client.outcome(answer["decisions"][0]["event_id"], played=True, play_seconds=1800)
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Sequence

from artdash.serve.service import DecisionService, ServiceError


class _Calls:
    def _post(self, path: str, body: dict) -> dict:
        raise NotImplementedError

    def _get(self, path: str) -> dict:
        raise NotImplementedError

    def decide(self, member: dict, titles: Sequence[int], explain: bool = False) -> dict:
        """Which variant of each title to show ``member`` (``{"id": …, "tastes": {…}, …}``)."""
        return self._post("/v1/decide", {"member": member, "titles": list(titles), "explain": explain})

    def outcome(self, event_id: str, played: bool, play_seconds: float = 0.0) -> dict:
        """Report what the member did with one decision."""
        return self._post("/v1/outcomes", {"event_id": event_id, "played": played, "play_seconds": play_seconds})

    def outcomes(self, items: Sequence[dict]) -> dict:
        """Report a batch: ``[{"event_id": …, "played": …, "play_seconds": …}, …]``."""
        return self._post("/v1/outcomes", {"outcomes": list(items)})

    def health(self) -> dict:
        """The service's health and counters."""
        return self._get("/v1/health")

    def policy(self) -> dict:
        """What is served, since when, by whom."""
        return self._get("/v1/policy")


class LocalClient(_Calls):
    """The service's calls in this process (keys are not checked: the caller holds the service)."""

    def __init__(self, service: DecisionService):
        self.service = service

    def _post(self, path: str, body: dict) -> dict:
        if path == "/v1/decide":
            return self.service.decide(body)
        return self.service.outcomes(body)

    def _get(self, path: str) -> dict:
        return self.service.health() if path == "/v1/health" else self.service.policy_info()


class HttpClient(_Calls):
    """The service's calls over HTTP to ``base_url`` (e.g. ``http://127.0.0.1:8600``) with ``key``."""

    def __init__(self, base_url: str, key: str | None = None, timeout: float = 10.0, retries: int = 1):
        self.base_url, self.key, self.timeout, self.retries = base_url.rstrip("/"), key, timeout, retries

    def _request(self, path: str, data: bytes | None) -> dict:
        headers = {"Content-Type": "application/json"}
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(self.base_url + path, data=data, headers=headers,
                                             method="POST" if data is not None else "GET")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as e:
                try:
                    error = json.loads(e.read())["error"]
                except (ValueError, KeyError, TypeError):
                    error = {"code": "http_error", "message": f"HTTP {e.code}"}
                raise ServiceError(e.code, error["code"], error["message"]) from None
            except http.client.HTTPException as e:   # the connection dropped mid-answer (the server died)
                # A balancer cannot retry once the dying replica sent its headers; the client can:
                # every call is safe to repeat (a decide that was cut short was never acknowledged —
                # the member's sticky image comes back; outcomes already taken count as duplicates).
                if attempt < self.retries:
                    continue
                raise ServiceError(502, "connection_lost", f"the answer was cut short ({type(e).__name__}): "
                                                           "nothing can be assumed; retry") from None
        raise AssertionError("unreachable")

    def _post(self, path: str, body: dict) -> dict:
        return self._request(path, json.dumps(body).encode())

    def _get(self, path: str) -> dict:
        return self._request(path, None)
