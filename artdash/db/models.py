"""The catalog schema: titles, artwork variants and one faceted tag taxonomy.

Editable rows carry a ``version`` (SQLAlchemy's version counter) so that a stale edit
is refused rather than silently overwriting someone else's work.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from artdash import clock

TITLE_KINDS = ("movie", "series")
VARIANT_STATUSES = ("draft", "active", "retired")
LINEAGE_KINDS = ("crop", "localisation")
SUGGESTION_STATES = ("pending", "accepted", "rejected")


def touch(row: Any, actor: str) -> None:
    """Record that ``actor`` changed ``row`` now — as an UPDATE of the row itself, even when only
    its associations (tags, tastes) changed or the clock has not moved since the last edit — so
    its version steps and a concurrent edit from the same version is refused
    (``UPDATE … WHERE version = v``)."""
    from sqlalchemy.orm.attributes import flag_modified

    row.updated_by = actor
    row.updated_at = clock.now()
    flag_modified(row, "updated_at")


def utcnow() -> datetime:
    """Row timestamps: the clock's now (frozen in tests)."""
    return clock.now()


class Base(DeclarativeBase):
    """Declarative base of every catalog table."""
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Facet(Base):
    """A facet of the taxonomy (genre, theme, tone, cast, visual)."""
    __tablename__ = "facets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    tags: Mapped[list[Tag]] = relationship(back_populates="facet", order_by="Tag.key")


class Tag(Base):
    """One tag of a facet; titles, variants and tastes all speak this vocabulary."""
    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("facet_id", "key", name="uq_tags_facet_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    facet_id: Mapped[int] = mapped_column(ForeignKey("facets.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    # Case- and whitespace-folded name: two tags that differ only in case collide here.
    key: Mapped[str] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer, default=1)

    facet: Mapped[Facet] = relationship(back_populates="tags")

    __mapper_args__ = {"version_id_col": version}


class Title(Base):
    """A movie or series."""
    __tablename__ = "titles"
    __table_args__ = (CheckConstraint("kind in ('movie', 'series')", name="ck_titles_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    year: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10), default="movie")
    synopsis: Mapped[str] = mapped_column(Text, default="")
    cast_order: Mapped[list[Any]] = mapped_column(default=list)   # cast tag ids in billing order
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))
    updated_by: Mapped[str] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer, default=1)

    tags: Mapped[list[Tag]] = relationship(secondary="title_tags", order_by="Tag.key")
    variants: Mapped[list[Variant]] = relationship(
        back_populates="title", order_by="Variant.id", foreign_keys="Variant.title_id"
    )

    __mapper_args__ = {"version_id_col": version}


class TitleTag(Base):
    """A tag of a title."""
    __tablename__ = "title_tags"

    title_id: Mapped[int] = mapped_column(ForeignKey("titles.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True)


class Variant(Base):
    """One artwork image of a title: file facts, features, status, lineage, version."""
    __tablename__ = "variants"
    __table_args__ = (
        CheckConstraint("status in ('draft', 'active', 'retired')", name="ck_variants_status"),
        CheckConstraint(
            "lineage_kind is null or lineage_kind in ('crop', 'localisation')", name="ck_variants_lineage_kind"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title_id: Mapped[int] = mapped_column(ForeignKey("titles.id", ondelete="RESTRICT"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="draft")
    # Content address of the stored (normalised) file; exact duplicates collide here.
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    source_sha256: Mapped[str] = mapped_column(String(64), index=True)
    media_ext: Mapped[str] = mapped_column(String(5))
    format: Mapped[str] = mapped_column(String(10))
    source_format: Mapped[str] = mapped_column(String(10))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    n_bytes: Mapped[int] = mapped_column(Integer)
    source_n_bytes: Mapped[int] = mapped_column(Integer)
    phash: Mapped[str] = mapped_column(String(16), index=True)
    brightness: Mapped[float] = mapped_column(Float)
    contrast: Mapped[float] = mapped_column(Float)
    colourfulness: Mapped[float] = mapped_column(Float)
    warmth: Mapped[float] = mapped_column(Float)
    dominant_colours: Mapped[list[Any]] = mapped_column(default=list)
    warnings: Mapped[list[Any]] = mapped_column(default=list)
    near_duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("variants.id", ondelete="SET NULL"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("variants.id", ondelete="SET NULL"), index=True)
    lineage_kind: Mapped[str | None] = mapped_column(String(20))
    locale: Mapped[str | None] = mapped_column(String(20))
    # Where, when and to whom it may be shown (artdash.catalog.eligibility): a hard filter.
    territories: Mapped[list[Any]] = mapped_column(default=list)        # ISO country codes; [] = everywhere
    languages: Mapped[list[Any]] = mapped_column(default=list)          # language tags; [] = every language
    available_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    available_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    maturity: Mapped[str] = mapped_column(String(4), default="all")
    approved: Mapped[bool] = mapped_column(default=True)
    # What ArtDash read off the image (artdash.media.images.annotate) and where it came from.
    focal_x: Mapped[float | None] = mapped_column(Float, nullable=True)   # fraction of the width; None = centre
    focal_y: Mapped[float | None] = mapped_column(Float, nullable=True)
    faces: Mapped[list[Any]] = mapped_column(default=list)                # [[x, y, w, h] as fractions]
    annotations: Mapped[dict[str, Any]] = mapped_column(default=dict)
    origin: Mapped[str | None] = mapped_column(String(300), nullable=True)  # "frame 00:12:31.4 of trailer.mp4"
    source_video_id: Mapped[int | None] = mapped_column(
        ForeignKey("source_videos.id", ondelete="SET NULL", name="fk_variants_source_video"), nullable=True)
    frame_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    crop_box: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)  # [l, t, r, b] in the parent's pixels
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))
    updated_by: Mapped[str] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer, default=1)

    title: Mapped[Title] = relationship(back_populates="variants", foreign_keys=[title_id])
    tags: Mapped[list[Tag]] = relationship(secondary="variant_tags", order_by="Tag.key", viewonly=True)

    __mapper_args__ = {"version_id_col": version}


class SourceVideo(Base):
    """A video stills were taken from; its bytes are in the media store only if ``kept``."""
    __tablename__ = "source_videos"
    __table_args__ = (UniqueConstraint("title_id", "sha256", name="uq_source_videos_title_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title_id: Mapped[int] = mapped_column(ForeignKey("titles.id", ondelete="RESTRICT"), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    kept: Mapped[bool] = mapped_column(default=False)
    media_ext: Mapped[str] = mapped_column(String(5))
    n_bytes: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    codec: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))


class VariantTag(Base):
    """A tag of a variant."""
    __tablename__ = "variant_tags"

    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True)
    added_by: Mapped[str] = mapped_column(String(80), default="")
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TagSuggestion(Base):
    """A tag proposed from an image's visual features, waiting for an editor's yes or no."""

    __tablename__ = "tag_suggestions"
    __table_args__ = (
        CheckConstraint("status in ('pending', 'accepted', 'rejected')", name="ck_tag_suggestions_status"),
    )

    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(10), default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


PERSONA_KINDS = ("synthetic", "member")
DEVICES = ("tv", "mobile", "tablet", "web")


class Persona(Base):
    """A member profile the policy can be asked about: an archetype set by hand, or a real
    member's tastes derived from their viewing history."""

    __tablename__ = "personas"
    __table_args__ = (CheckConstraint("kind in ('synthetic', 'member')", name="ck_personas_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(10), default="synthetic")
    description: Mapped[str] = mapped_column(Text, default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    device: Mapped[str] = mapped_column(String(10), default="tv")
    member_id: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))
    updated_by: Mapped[str] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class PersonaAffinity(Base):
    """How much a persona likes (weight > 0) or avoids (weight < 0) one tag, in [−1, 1]."""

    __tablename__ = "persona_affinities"
    __table_args__ = (CheckConstraint("weight >= -1 and weight <= 1", name="ck_persona_affinities_weight"),)

    persona_id: Mapped[int] = mapped_column(ForeignKey("personas.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True)
    weight: Mapped[float] = mapped_column(Float)


class EditorsPick(Base):
    """The variant an editor chose as a title's default (the editor's-pick baseline policy)."""

    __tablename__ = "editors_picks"

    title_id: Mapped[int] = mapped_column(ForeignKey("titles.id", ondelete="CASCADE"), primary_key=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id", ondelete="CASCADE"))
    chosen_by: Mapped[str] = mapped_column(String(80))
    chosen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ViewingRecord(Base):
    """One title a real member watched (imported history), the source of their affinities."""

    __tablename__ = "viewing_history"
    __table_args__ = (UniqueConstraint("persona_id", "title_id", "watched_at", name="uq_viewing_history_view"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    persona_id: Mapped[int] = mapped_column(ForeignKey("personas.id", ondelete="CASCADE"), index=True)
    title_id: Mapped[int] = mapped_column(ForeignKey("titles.id", ondelete="CASCADE"), index=True)
    watched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    minutes: Mapped[float] = mapped_column(Float)


class LabRun(Base):
    """A saved policy-lab run: its configuration and seed (enough to run it again), what came
    out (summary table, curves, offline estimates) and the simulated log it wrote, if any."""

    __tablename__ = "lab_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))
    seed: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))          # done | cancelled
    impressions: Mapped[int] = mapped_column(Integer)        # impressions run (per policy)
    seconds: Mapped[float] = mapped_column(Float)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    summary: Mapped[list[Any]] = mapped_column(JSON)
    curves: Mapped[list[Any]] = mapped_column(JSON)
    offline: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    results_import_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    data_removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # LabWorld.fingerprint() of the catalog the run ran on (null for runs saved before 0007)
    catalog_fingerprint: Mapped[str | None] = mapped_column(String(16), nullable=True)


class PolicyPromotion(Base):
    """A change of the policy Preview serves by default: promoted or demoted, by whom, why."""

    __tablename__ = "policy_promotions"
    __table_args__ = (CheckConstraint("action in ('promote', 'demote')", name="ck_policy_promotions_action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    policy: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    by: Mapped[str] = mapped_column(String(80))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("lab_runs.id", ondelete="SET NULL"), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")


class PromotionEstimate(Base):
    """What a promotion was expected to earn, by one source (the lab's simulation, an offline
    evaluation, the shadow readout): the promoted policy's quality take rate with its interval,
    how much data stood behind it, and where it came from."""

    __tablename__ = "promotion_estimates"
    __table_args__ = (CheckConstraint("source in ('lab', 'offline', 'shadow')", name="ck_promotion_estimates_source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    promotion_id: Mapped[int] = mapped_column(ForeignKey("policy_promotions.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(10))
    value: Mapped[float] = mapped_column(Float)
    low: Mapped[float | None] = mapped_column(Float, nullable=True)
    high: Mapped[float | None] = mapped_column(Float, nullable=True)
    sample: Mapped[int] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(String(300))


class ServiceHoldout(Base):
    """A change of the decision service's holdout: the share of members served a fixed
    comparison policy instead of the promoted one (0: none), by whom, when. The newest row is
    in force; the history says which share every past decision was made under."""

    __tablename__ = "service_holdouts"
    __table_args__ = (CheckConstraint("share >= 0 AND share <= 0.5", name="ck_service_holdouts_share"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    share: Mapped[float] = mapped_column(Float)
    policy: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    by: Mapped[str] = mapped_column(String(80))


ROLES = ("viewer", "editor", "admin")


class User(Base):
    """A local account (or, with OIDC sign-in, the role of an e-mail address; no password)."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role in ('viewer', 'editor', 'admin')", name="ck_users_role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    role: Mapped[str] = mapped_column(String(10))
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Bumped when the account signs out: every stay-signed-in cookie issued before is void.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ApiKey(Base):
    """A key a product's backend presents to the decision service: only its hash is kept;
    scoped (decide, outcomes), rate-limited, revocable."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)      # shown in lists; finds the key
    secret_hash: Mapped[str] = mapped_column(String(64))              # sha256 of the whole key, hex
    scopes: Mapped[str] = mapped_column(String(40))                   # comma-separated: decide,outcomes
    rate_per_second: Mapped[int] = mapped_column(Integer, default=1000)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class PolicyShadow(Base):
    """A change of the policy the decision service runs in shadow mode (its choice computed and
    logged beside the served one, shown to no one): started (``policy``) or stopped (None)."""

    __tablename__ = "policy_shadows"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy: Mapped[str | None] = mapped_column(String(40), nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    by: Mapped[str] = mapped_column(String(120))
    note: Mapped[str] = mapped_column(Text, default="")


class AuditEntry(Base):
    """One change: who, when, what (entity and id), and the values before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120), index=True)
    action: Mapped[str] = mapped_column(String(20))          # create | update | delete | import | …
    entity: Mapped[str] = mapped_column(String(40), index=True)
    entity_id: Mapped[str] = mapped_column(String(80), default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
