"""Shadow mode (Personalizer's "apprentice"): a candidate policy's choice is computed and
logged beside every served decision, shown to no one, so it can be evaluated on live
traffic before anyone sees it.

The record of which policy runs in shadow is an append-only history in the catalog (who
started or stopped it, when, why). The readout is computed from the decision log by one
aggregate query: how often the shadow would have chosen what was shown (match rate), what
was served's quality take rate, the shadow's self-normalised IPS estimate (its weight on a
decision is the probability it gave the shown variant over the served propensity), and the
difference with a delta-method interval. Promotion from shadow is allowed only when that
interval lies above zero; otherwise :func:`readout` says why not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from artdash import numbers
from artdash.access.auth import authorize
from artdash.catalog.eligibility import aware
from artdash.clock import epoch_ms
from artdash.db.models import PolicyShadow
from artdash.errors import ValidationError
from artdash.lab.estimates import Estimate
from artdash.lab.promotions import PromotionView, current_policy
from artdash.policy import registry
from artdash.policy.registry import DEFAULT_POLICY, LABELS
from artdash.results.quality import quality_sql
from artdash.stats import two_sided_z

if TYPE_CHECKING:
    import pandas as pd

MIN_RESOLVED = 500          # resolved shadowed decisions before a promotion can be supported
LIVE_WITHIN = timedelta(days=7)   # a service that decided this recently is live: promote through shadow
MIN_EFFECTIVE = 100         # … and at least this effective sample size of the shadow's weights
CONFIDENCE = 0.95
Interval = tuple[float, float, float]   # value, low, high


@dataclass(frozen=True)
class ShadowView:
    """One entry of the shadow history: ``policy`` started (None: shadow mode stopped)."""

    id: int
    policy: str | None
    at: datetime
    by: str
    note: str

    @property
    def label(self) -> str:
        """The policy's name as pages show it."""
        return LABELS.get(self.policy or "", self.policy or "none")


def _view(row: PolicyShadow) -> ShadowView:
    return ShadowView(row.id, row.policy, aware(row.at), row.by, row.note)


def current_shadow(session: Session) -> ShadowView | None:
    """The entry that started the policy running in shadow now (None: no shadow)."""
    latest = session.scalars(select(PolicyShadow).order_by(PolicyShadow.id.desc()).limit(1)).first()
    return None if latest is None or latest.policy is None else _view(latest)


def served_name(session: Session) -> str:
    """The policy the service serves: the promoted one, else the default."""
    promoted, _ = current_policy(session)
    return promoted if promoted is not None and promoted in registry.names(servable_only=True) else DEFAULT_POLICY


def start_shadow(session: Session, policy: str, actor: str, note: str = "") -> ShadowView:
    """Run ``policy`` in shadow from now on (admins): the service logs its choice beside every
    decision from its next refresh. Replaces a running shadow."""
    authorize(session, actor, "admin")
    registry.check_servable(policy)
    served = served_name(session)
    if policy == served:
        raise ValidationError(f"{LABELS.get(policy, policy)} is the policy being served; pick another one to "
                              "run beside it")
    entry = PolicyShadow(policy=policy, by=actor, note=(note or "").strip()[:2000])
    session.add(entry)
    session.flush()
    return _view(entry)


def stop_shadow(session: Session, actor: str, note: str = "") -> ShadowView:
    """Stop shadow mode (admins); what it logged stays in the decision log."""
    authorize(session, actor, "admin")
    running = current_shadow(session)
    if running is None:
        raise ValidationError("no policy is running in shadow")
    entry = PolicyShadow(policy=None, by=actor, note=(note or "").strip()[:2000] or f"stopped {running.label}")
    session.add(entry)
    session.flush()
    return _view(entry)


def shadow_history(session: Session) -> pd.DataFrame:
    """The shadow history, newest first, as a table."""
    import pandas as pd  # heavy: only the pages that show the history load it

    rows = session.scalars(select(PolicyShadow).order_by(PolicyShadow.id.desc())).all()
    return pd.DataFrame([{"when": aware(r.at), "action": "start" if r.policy else "stop",
                          "policy": LABELS.get(r.policy, r.policy) if r.policy else "", "by": r.by, "note": r.note}
                         for r in rows], columns=["when", "action", "policy", "by", "note"])


@dataclass(frozen=True)
class ShadowReadout:
    """How a shadow policy would have done on the decisions it was logged beside."""

    policy: str
    since: datetime
    logged: int                 # decisions logged with the shadow's choice
    resolved: int               # … whose outcome arrived or whose reward window closed
    matches: int                # resolved decisions where the shadow chose what was shown
    served: Interval      # quality take rate of what was shown, interval
    shadow: Interval      # the shadow's SNIPS estimate, interval
    difference: Interval  # shadow − served, interval
    effective_sample: float
    supports_promotion: bool
    why: str
    served_policies: tuple[str, ...] = ()

    @property
    def match_rate(self) -> float:
        """Of the resolved decisions, the share where the shadow would have shown the same image."""
        return self.matches / self.resolved if self.resolved else math.nan

    @property
    def label(self) -> str:
        """The shadow policy's name as pages show it."""
        return LABELS.get(self.policy, self.policy)


_SUMS = text(f"""
SELECT COUNT(*) AS clusters, COALESCE(SUM(n), 0) AS n, COALESCE(SUM(m), 0) AS matches, COALESCE(SUM(r), 0) AS r,
       COALESCE(SUM(w), 0) AS w, COALESCE(SUM(wr), 0) AS wr, COALESCE(SUM(w2), 0) AS w2,
       COALESCE(SUM(n * n), 0) AS nn, COALESCE(SUM(r * r), 0) AS rr, COALESCE(SUM(r * n), 0) AS r_n,
       COALESCE(SUM(w * w), 0) AS w_w, COALESCE(SUM(wr * wr), 0) AS wr_wr, COALESCE(SUM(w * wr), 0) AS w_wr,
       COALESCE(SUM(wr * r), 0) AS wr_r, COALESCE(SUM(wr * n), 0) AS wr_n, COALESCE(SUM(w * r), 0) AS w_r,
       COALESCE(SUM(w * n), 0) AS w_n
FROM (
  SELECT COUNT(*) AS n, SUM(m) AS m, SUM(r) AS r, SUM(w) AS w, SUM(w * r) AS wr, SUM(w * w) AS w2
  FROM (
    SELECT d.member_id, d.title_id,
           CASE WHEN d.shadow_variant_id = d.variant_id THEN 1 ELSE 0 END AS m,
           CASE WHEN {quality_sql(":quality", "o.", on_time=True)} THEN 1.0 ELSE 0.0 END AS r,
           COALESCE(d.shadow_p_shown, 0) / d.propensity AS w
    FROM decisions d LEFT JOIN outcomes o ON o.event_id = d.event_id
    WHERE d.shadow_policy = :policy AND d.at_ms >= :since AND (d.at_ms < :closed OR o.event_id IS NOT NULL)
  ) rows_ GROUP BY member_id, title_id
) clusters_
""")
_LOGGED = text("SELECT COUNT(*) FROM decisions WHERE shadow_policy = :policy AND at_ms >= :since")
_SERVED = text("SELECT DISTINCT policy FROM decisions WHERE shadow_policy = :policy AND at_ms >= :since")



@dataclass(frozen=True)
class Estimates:
    """What was served, the target policy's estimate, their difference, each with its interval,
    and the effective sample size of the target's weights."""

    served: Interval
    target: Interval
    difference: Interval
    effective_sample: float


@dataclass(frozen=True)
class Sums:
    """The sufficient statistics of resolved decisions with 0/1 rewards r and weights w (the
    target's probability of what was shown over its propensity), summed per cluster — a
    member's showings of one title, which stickiness makes one assignment, not independent
    draws — then over clusters: n, Σr, Σw, Σwr over rows; Σw² over rows (for the effective
    sample size); and the cluster totals' squares and products (``nn`` = Σ n_c², ``rr`` =
    Σ R_c², ``w_w`` = Σ W_c², ``wr_wr`` = Σ WR_c², ``w_wr`` = Σ W_c·WR_c, ``r_n``, ``wr_r``,
    ``wr_n``, ``w_r``, ``w_n`` likewise)."""

    clusters: int
    n: int
    r: float
    w: float
    wr: float
    w2: float
    nn: float
    rr: float
    r_n: float
    w_w: float
    wr_wr: float
    w_wr: float
    wr_r: float
    wr_n: float
    w_r: float
    w_n: float

    @staticmethod
    def of(cluster: np.ndarray, r: np.ndarray, w: np.ndarray) -> Sums:
        """The sums of rounds with their cluster labels (each its own cluster: independent rounds)."""
        _, c = np.unique(cluster, return_inverse=True)
        n_c = np.bincount(c).astype(float)
        r_c, w_c, wr_c = (np.bincount(c, weights=x) for x in (r, w, w * r))
        return Sums(len(n_c), len(r), float(r.sum()), float(w.sum()), float((w * r).sum()), float((w * w).sum()),
                    float(n_c @ n_c), float(r_c @ r_c), float(r_c @ n_c), float(w_c @ w_c), float(wr_c @ wr_c),
                    float(w_c @ wr_c), float(wr_c @ r_c), float(wr_c @ n_c), float(w_c @ r_c), float(w_c @ n_c))


def estimate(s: Sums, confidence: float = CONFIDENCE) -> Estimates:
    """What was served (mean of r), the target's SNIPS estimate (as :func:`artdash.ope.snips`)
    and their difference (the delta method on the paired influence functions), with intervals
    whose variance sums each cluster's influence first (cluster-robust: a member shown one
    title's image five times within a window is one assignment seen five times), and the
    effective sample size of the weights. With every round its own cluster these are the
    per-round formulas."""
    nan3 = (math.nan, math.nan, math.nan)
    n = s.n
    if n < 2 or s.clusters < 2:
        return Estimates(nan3, nan3, nan3, 0.0)
    z = two_sided_z(confidence)
    vb = s.r / n
    b2 = max(s.rr - 2 * vb * s.r_n + vb * vb * s.nn, 0.0)           # Σ_c (R_c − Vb n_c)²
    half_b = z * math.sqrt(b2 * s.clusters / (s.clusters - 1)) / n
    served = (vb, vb - half_b, vb + half_b)
    if s.w <= 0:
        return Estimates(served, nan3, nan3, 0.0)
    vs = s.wr / s.w
    a2 = max(s.wr_wr - 2 * vs * s.w_wr + vs * vs * s.w_w, 0.0)     # Σ_c (WR_c − Vs W_c)²
    half_s = z * math.sqrt(a2) / s.w
    shadow = (vs, vs - half_s, vs + half_s)
    m = s.w / n
    # φ_c = (WR_c − Vs W_c)/m̄ − (R_c − Vb n_c): Var(D) ≈ Σ_c φ_c² / n²
    ab = s.wr_r - vb * s.wr_n - vs * s.w_r + vs * vb * s.w_n
    phi2 = max(a2 / (m * m) - 2 * ab / m + b2, 0.0)
    d = vs - vb
    half_d = z * math.sqrt(phi2) / n
    ess = s.w * s.w / s.w2 if s.w2 > 0 else 0.0
    return Estimates(served, shadow, (d, d - half_d, d + half_d), ess)


def _pp(x: float) -> str:
    return f"{x * 100:+.2f}"


def _verdict(label: str, resolved: int, ess: float, difference: Interval,
             min_resolved: int) -> tuple[bool, str]:
    if resolved == 0:
        return False, (f"no resolved decisions with {label} in shadow yet: the service logs its choice from its "
                       "next refresh, and a decision counts once its outcome arrives or its reward window closes")
    if resolved < min_resolved:
        return False, f"only {resolved:,} resolved decisions so far; promotion needs at least {min_resolved:,}"
    if ess < MIN_EFFECTIVE:
        return False, (f"{label} chooses differently from what is served so often that the estimate rests on "
                       f"{ess:,.0f} effective decisions (needs {MIN_EFFECTIVE}); keep it in shadow longer")
    d, lo, hi = difference
    span = f"{_pp(lo)} … {_pp(hi)} percentage points"
    if lo > 0:
        return True, f"{label} is estimated {_pp(d)} points better ({span}, {CONFIDENCE:.0%}): promotion is supported"
    if hi < 0:
        return False, f"{label} is estimated {_pp(d)} points worse ({span}): keep the served policy"
    return False, (f"the {CONFIDENCE:.0%} interval of the difference, {span}, includes no change: keep "
                   f"{label} in shadow longer, or keep the served policy")


def readout(results: Engine, shadow: ShadowView, quality_seconds: float, closed_before: datetime,
            min_resolved: int = MIN_RESOLVED) -> ShadowReadout:
    """The shadow's evaluation on the decisions logged beside it since it started; a decision
    counts once resolved (its outcome arrived, or it was made before ``closed_before``)."""
    if shadow.policy is None:
        raise ValidationError("no policy is running in shadow")
    params = {"policy": shadow.policy, "since": epoch_ms(shadow.at), "closed": epoch_ms(closed_before),
              "quality": quality_seconds}
    with results.connect() as conn:
        row = conn.execute(_SUMS, params).one()
        logged = int(conn.execute(_LOGGED, params).scalar_one())
        served_by = tuple(sorted(p for (p,) in conn.execute(_SERVED, params)))
    n = int(row.n)
    found = estimate(Sums(int(row.clusters), n, *(float(getattr(row, f)) for f in (
        "r", "w", "wr", "w2", "nn", "rr", "r_n", "w_w", "wr_wr", "w_wr", "wr_r", "wr_n", "w_r", "w_n"))))
    label = LABELS.get(shadow.policy, shadow.policy)
    ok, why = _verdict(label, n, found.effective_sample, found.difference, min_resolved)
    return ShadowReadout(shadow.policy, shadow.at, logged, n, int(row.matches), found.served, found.target,
                         found.difference, found.effective_sample, ok, why, served_by)


def promote_shadow(session: Session, result: ShadowReadout, actor: str, note: str = "") -> PromotionView:
    """Promote the shadow policy (admins) when its readout supports it, and stop shadow mode;
    refuses with the readout's reason otherwise."""
    from artdash.lab.store import promote  # the lab's tables and frames: loaded only to promote

    authorize(session, actor, "admin")
    running = current_shadow(session)
    if running is None or running.policy != result.policy:
        raise ValidationError("the shadow changed since this readout was computed; reload and look again")
    if not result.supports_promotion:
        raise ValidationError(f"{result.label} cannot be promoted yet: {result.why}")
    d, lo, hi = result.difference
    evidence = (f"from shadow: {result.resolved:,} decisions, {_pp(d)} points ({_pp(lo)} … {_pp(hi)}), "
                f"match rate {numbers.rate(result.match_rate)}")
    value, low, high = result.shadow
    expected = Estimate("shadow", value, low, high, result.resolved,
                        f"shadow since {result.since:%Y-%m-%d %H:%M} UTC, SNIPS on {result.resolved:,} decisions")
    entry = promote(session, result.policy, actor, note=f"{note.strip()} — {evidence}" if note.strip() else evidence,
                    expected=[expected])
    session.add(PolicyShadow(policy=None, by=actor, note=f"promoted {result.label}"))
    session.flush()
    return entry


def direct_promotion_refusal(results: Engine, now: datetime) -> str | None:
    """Why a policy may not be promoted straight from a simulation or an offline evaluation
    now (None: it may): while the decision service is serving members, a new policy is first
    run in shadow on their traffic and promoted from there (:func:`promote_shadow`)."""
    with results.connect() as conn:
        last = conn.execute(text("SELECT MAX(at_ms) FROM decisions")).scalar_one()
    if last is None or last < epoch_ms(now - LIVE_WITHIN):
        return None
    at = datetime.fromtimestamp(last / 1000, aware(now).tzinfo)
    return (f"the decision service is serving members (last decision {at:%Y-%m-%d %H:%M} UTC): run the policy in "
            "shadow (Policy lab → Live) and promote it there once its interval supports it")
