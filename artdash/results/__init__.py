"""The results database: the impression log, daily rollups kept up to date on ingest, and
the aggregations the Results page reads (SQLAlchemy Core, portable across SQLite,
PostgreSQL and DuckDB)."""
