"""One decision: what the decision service answers a member, what Preview shows and what the
lab evaluates as "served" are the same function over the same model version.

- :mod:`~artdash.decision.catalog` the catalog as policies see it (candidates, eligibility, fingerprint)
- :mod:`~artdash.decision.snapshot` the catalog as arrays, loaded once and swapped whole
- :mod:`~artdash.decision.models` trained versions of every policy, stored as artifacts
- :mod:`~artdash.decision.timeline` which version serves a member: the one in effect when their window began
- :mod:`~artdash.decision.decide` one request → a decision per title (vectorised, sticky, with propensities)

Deciding writes nothing: the service logs what :func:`~artdash.decision.decide.decide`
returns; Preview and ``artdash preview`` show it and log nothing.
"""
