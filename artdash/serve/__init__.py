"""The decision service: which artwork to show a member, logged with its propensity, joined with
what the member did, learnt from — the live loop.

The decision itself — the catalog as arrays, the trained versions, which version serves a
member, one request → a decision per title — is :mod:`artdash.decision`, shared with Preview.

- :mod:`~artdash.serve.journal` each worker's append-only journal (acknowledged means on disk)
  and the mover that takes it into the results store in bulk
- :mod:`~artdash.serve.writer` group commit to the store (embedded use, and outcomes of old ids)
- :mod:`~artdash.serve.log` writing decisions, joining outcomes (late, unknown, duplicate)
- :mod:`~artdash.serve.settings` settings and refusals; :mod:`~artdash.serve.keys` API keys
- :mod:`~artdash.serve.learn` resolved decisions → the impression log (live traffic in Results)
- :mod:`~artdash.serve.service` the core without HTTP; :mod:`~artdash.serve.http` FastAPI on top
- :mod:`~artdash.serve.client` the same calls in-process or over HTTP
- :mod:`~artdash.serve.mover` the journal mover's own process (the bulk moves off the workers' GIL)

Its modules load on first use (:mod:`artdash.lazy`): the mover process imports only what moving needs.
"""

from typing import TYPE_CHECKING

from artdash import lazy

if TYPE_CHECKING:
    from artdash.serve.client import HttpClient, LocalClient
    from artdash.serve.service import DecisionService
    from artdash.serve.settings import ServiceError, ServiceSettings

__all__ = ["DecisionService", "HttpClient", "LocalClient", "ServiceError", "ServiceSettings"]

__getattr__, __dir__ = lazy.exports(__name__, {
    "artdash.serve.client": ("HttpClient", "LocalClient"),
    "artdash.serve.service": ("DecisionService",),
    "artdash.serve.settings": ("ServiceError", "ServiceSettings"),
})
