"""Results tables (SQLAlchemy Core). Integer keys are assigned by ArtDash, never by the
database, so the same DDL works on SQLite, PostgreSQL and DuckDB."""

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)

metadata = MetaData()

imports = Table(
    "results_imports", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("kind", String(12), nullable=False),          # import | demo | simulation
    Column("source", String(300), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(80), nullable=False),
    Column("n_rows", BigInteger, nullable=False),
    Column("n_already_present", BigInteger, nullable=False),
    Column("n_skipped", BigInteger, nullable=False),
    Column("quality_seconds", Float, nullable=False),
    Column("experiments", Text, nullable=True),            # JSON list of the experiments it holds
)

impressions = Table(
    "impressions", metadata,
    # Row ids are assigned by ArtDash in import order, so the table only ever grows at its end
    # (on SQLite the id is the rowid); a 63-bit hash of the event id, unique, makes re-imports
    # idempotent — its index is small enough to stay in memory while a large log goes in.
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False),
    Column("event_key", BigInteger, nullable=False),
    Column("event_id", String(100), nullable=False),
    Column("ts", BigInteger, nullable=False),            # seconds since the epoch, UTC
    Column("day", Integer, nullable=False),              # days since the epoch, UTC
    Column("member_id", String(100), nullable=False),
    Column("title_id", Integer, nullable=False),
    Column("variant_id", Integer, nullable=False),
    Column("policy", String(40), nullable=False),
    Column("experiment", String(80), nullable=False, server_default=""),
    Column("cell", String(40), nullable=False, server_default=""),
    Column("propensity", Float, nullable=False),
    Column("played", SmallInteger, nullable=False),
    Column("play_seconds", Float, nullable=False),
    Column("country", String(2), nullable=False, server_default=""),
    Column("device", String(10), nullable=False, server_default=""),
    Column("import_id", Integer, nullable=False),
    Index("ux_impressions_event_key", "event_key", unique=True),
    Index("ix_impressions_import_id", "import_id"),
)

SEGMENT_KINDS = ("country", "device", "policy")
SUMS = ("impressions", "plays", "quality_plays", "play_seconds")


def _sums() -> list[Column]:
    return [Column("impressions", BigInteger, nullable=False), Column("plays", BigInteger, nullable=False),
            Column("quality_plays", BigInteger, nullable=False), Column("play_seconds", Float, nullable=False)]


# Daily rollups, one narrow relation per grain, kept up to date by every import. They are not
# tables of the database: each grain is stored as generations of columnar rows
# (``rollup_generations``: Parquet, added by an import, merged now and then) and read by DuckDB
# (artdash.results.rollup_store). These describe the columns DuckDB sees; title_id rides
# along (a variant never changes title). A key may appear in more than one generation: every
# query sums.
rollup_shape = MetaData()
rollup_variants = Table(
    "rollup_variants", rollup_shape,
    Column("day", Integer, primary_key=True),
    Column("variant_id", Integer, primary_key=True),
    Column("experiment", String(80), primary_key=True),
    Column("title_id", Integer, nullable=False),
    *_sums(),
)

# Per experiment cell and day (the sample-ratio check).
rollup_cells = Table(
    "rollup_cells", rollup_shape,
    Column("day", Integer, primary_key=True),
    Column("experiment", String(80), primary_key=True),
    Column("cell", String(40), primary_key=True),
    *_sums(),
)

# Per segment value (country, device, policy): the same sums, without the cell.
rollup_segments = Table(
    "rollup_segments", rollup_shape,
    Column("day", Integer, primary_key=True),
    Column("variant_id", Integer, primary_key=True),
    Column("experiment", String(80), primary_key=True),
    Column("segment_kind", String(10), primary_key=True),
    Column("segment", String(40), primary_key=True),
    Column("title_id", Integer, nullable=False),
    *_sums(),
)

# The rollups' storage: each row one generation of one grain — what an import (or a merge of
# generations) adds, as a Parquet file of that grain's columns. Never changed once written;
# the token names its content (readers cache decoded generations by it).
rollup_generations = Table(
    "rollup_generations", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("grain", String(10), nullable=False),
    Column("token", String(32), nullable=False, unique=True),
    Column("n_rows", BigInteger, nullable=False),
    Column("data", LargeBinary, nullable=False),
)

# How each experiment was planned: the share of traffic each cell should get (what the
# sample-ratio check compares the observed split to) and the day it should end (until then
# the Results page reviews it with sequential intervals, which stay valid at every look).
experiment_plans = Table(
    "experiment_plans", metadata,
    Column("experiment", String(80), primary_key=True),
    Column("weights", Text, nullable=False),                # JSON {cell: weight > 0}
    Column("planned_end_day", Integer, nullable=True),      # days since 1970-01-01
    Column("metric", String(20), nullable=True),            # "quality_plays", "plays"; NULL: what the log supports
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(120), nullable=False),
)

# Logs read where they live: a table (or view) in another database, its columns mapped onto
# the impression log's, aggregated there by SQL and added to the rollups as one import of kind
# "source". The URL is kept only without a password (or as ``env:VARIABLE``, read at each
# refresh); what the source last added is kept so a refresh replaces exactly that.
results_sources = Table(
    "results_sources", metadata,
    Column("name", String(80), primary_key=True),
    Column("url", Text, nullable=False),
    Column("table_name", String(200), nullable=False),
    Column("mapping", Text, nullable=False),                # JSON {artdash column: source column}
    Column("import_id", Integer, nullable=True),            # its import in results_imports
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(120), nullable=False),
    Column("refreshed_at", DateTime(timezone=True), nullable=True),
    Column("impressions", BigInteger, nullable=False, server_default="0"),
)
source_contributions = Table(
    "source_contributions", metadata,
    Column("source", String(80), primary_key=True),
    Column("grain", String(10), primary_key=True),
    Column("rows", Text, nullable=False),                   # JSON records of its rollup rows
)

# --- the decision service (artdash.serve) ----------------------------------------------------
# Every decision the service answered, written before the answer is sent (a crash loses no
# acknowledged decision), with what offline evaluation needs: the propensity of the shown
# variant, every candidate's probability, the policy and model version, and the context.
decisions = Table(
    "decisions", metadata,
    Column("event_id", String(40), primary_key=True),
    Column("at_ms", BigInteger, nullable=False),            # milliseconds since the epoch, UTC
    Column("member_id", String(100), nullable=False),
    Column("title_id", Integer, nullable=False),
    Column("variant_id", Integer, nullable=False),
    Column("propensity", Float, nullable=False),
    Column("candidates", Text, nullable=False),             # JSON [[variant id, probability], …]
    Column("policy", String(40), nullable=False),
    Column("model_version", Integer, nullable=False),
    Column("context_hash", String(16), nullable=False),
    Column("country", String(2), nullable=False, server_default=""),
    Column("device", String(10), nullable=False, server_default=""),
    Column("shadow_policy", String(40), nullable=True),     # a candidate policy's choice, logged beside
    Column("shadow_variant_id", Integer, nullable=True),
    Column("shadow_propensity", Float, nullable=True),      # … with the probability it gave its choice
    Column("shadow_p_shown", Float, nullable=True),         # … and the probability it gave the shown variant
    Column("import_id", Integer, nullable=True),            # the impression-log import it went to
    Index("ix_decisions_at_ms", "at_ms"),
    Index("ix_decisions_import_id", "import_id"),
)

# The contexts decisions were made for, once each (decisions carry the hash): what the
# personalised policy retrains on, without a copy of every member's tastes per decision.
decision_contexts = Table(
    "decision_contexts", metadata,
    Column("context_hash", String(16), primary_key=True),
    Column("affinities", Text, nullable=False),             # JSON {tag id: weight}
    Column("country", String(2), nullable=False, server_default=""),
    Column("device", String(10), nullable=False, server_default=""),
)

# What the member did, joined to its decision by event id. ``late``: it came after the
# reward window had closed (kept, flagged, and not counted in what was learnt or logged).
outcomes = Table(
    "outcomes", metadata,
    Column("event_id", String(40), primary_key=True),
    Column("at_ms", BigInteger, nullable=False),
    Column("played", SmallInteger, nullable=False),
    Column("play_seconds", Float, nullable=False),
    Column("late", SmallInteger, nullable=False, server_default="0"),
    Index("ix_outcomes_at_ms", "at_ms"),        # training folds in the outcomes that arrived since the last
)

# Secrets every worker and replica of the decision service shares (r0010): "event_ids" signs
# the event ids it hands out (artdash.decision.event_ids).
service_secrets = Table(
    "service_secrets", metadata,
    Column("name", String(40), primary_key=True),
    Column("value", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Counters every worker and replica adds to (r0010): "outcomes_moved", the on-time outcomes
# taken from the journals into the store (the learner retrains every so many).
service_counters = Table(
    "service_counters", metadata,
    Column("name", String(40), primary_key=True),
    Column("value", BigInteger, nullable=False, server_default="0"),
)

# Every trained version of a served policy: the version each decision names.
policy_models = Table(
    "policy_models", metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("policy", String(40), nullable=False),
    Column("trained_at", DateTime(timezone=True), nullable=False),
    Column("n_rows", BigInteger, nullable=False),
    Column("state", LargeBinary, nullable=False),           # numpy arrays (np.savez), see artdash.decision.models
    Column("note", Text, nullable=False, server_default=""),
    # what it was trained on, by whom, and from when members are served it (r0009)
    Column("source", String(20), nullable=False, server_default="live"),     # live, lab or import
    Column("trained_by", String(120), nullable=False, server_default=""),
    Column("catalog_fingerprint", String(32), nullable=False, server_default=""),
    Column("data_from", DateTime(timezone=True), nullable=True),
    Column("data_to", DateTime(timezone=True), nullable=True),
    Column("effective_at", DateTime(timezone=True), nullable=True),        # None: when it was trained
)
