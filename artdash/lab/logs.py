"""A run's impressions as a log file would have them, for the results database."""

from __future__ import annotations

import numpy as np
import pandas as pd

from artdash import clock
from artdash.lab.online import LabResult
from artdash.simulator.logs import numbered_ids, play_seconds, simulated_member_ids
from artdash.simulator.world import LabWorld


def run_log(world: LabWorld, result: LabResult, run_key: str, end: pd.Timestamp | None = None,
            days: int = 14) -> pd.DataFrame:
    """The run's impressions as a log file would have them: one row per impression, every
    policy's stream as a cell of the experiment ``lab-<run_key>``; member ids carry the
    archetype (``lab<run>-a<persona id>-m<n>``) so offline evaluation can find it again."""
    config = result.config
    rng = np.random.default_rng([config.seed, 3])
    end = end if end is not None else pd.Timestamp(clock.now()).floor("h")
    frames = []
    for name, trace in result.traces.items():
        if not trace.rounds:
            continue
        r = trace.all_rounds()
        members = np.concatenate(trace.members)
        n = len(r)
        seconds = play_seconds(rng, r.played, r.quality, config.quality_seconds)
        offsets = np.sort(rng.uniform(0, days * 86400, n))[::-1]
        when = (end - pd.to_timedelta(offsets, unit="s")).strftime("%Y-%m-%dT%H:%M:%SZ")
        archetype_ids = world.archetype_ids[r.group]
        frames.append(pd.DataFrame({
            "event_id": numbered_ids(f"lab{run_key}-{name}-", n),
            "timestamp": when,
            "member_id": simulated_member_ids(f"lab{run_key}", archetype_ids, members),
            "title_id": world.title_ids[r.title], "variant_id": world.variant_ids[r.title, r.action],
            "policy": name, "experiment": f"lab-{run_key}", "cell": name,
            "propensity": np.round(r.propensity, 9), "played": r.played, "play_seconds": seconds.round(1),
            "country": np.array(world.archetype_country)[r.group],
            "device": np.array(world.archetype_device)[r.group],
        }))
    return pd.concat(frames, ignore_index=True)
