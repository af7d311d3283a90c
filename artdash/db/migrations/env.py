"""Alembic environment: runs against the engine handed over by artdash.db.migrate."""

from alembic import context
from sqlalchemy import engine_from_config, pool

from artdash.db.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        engine = engine_from_config(config.get_section(config.config_ini_section, {}),
                                    prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters need table copies
            compare_type=True,
            # The results tables may share this database; they have their own history.
            include_name=lambda name, type_, parent: type_ != "table" or name in target_metadata.tables,
        )
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `artdash db upgrade`")
run_migrations_online()
