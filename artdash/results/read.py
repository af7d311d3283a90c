"""Reading an impression log: CSV or Parquet in Arrow chunks, columns renamed to ArtDash's names (a mapping for files that name them differently)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import pyarrow as pa

from artdash import intake
from artdash.errors import ValidationError
from artdash.results.validate import IngestError

COLUMNS = ("event_id", "timestamp", "member_id", "title_id", "variant_id", "policy", "experiment", "cell",
           "propensity", "played", "play_seconds", "country", "device")
REQUIRED = ("event_id", "timestamp", "member_id", "title_id", "variant_id", "policy", "propensity", "played")
# Without play_seconds (a log of clicks) every play has no duration: the import says so, and the
# readout counts plays (the take rate) unless the experiment's plan says otherwise.
OPTIONAL = ("experiment", "cell", "country", "device", "play_seconds")
CHUNK_ROWS = 250_000
MAPPING_EXAMPLE = "ts=timestamp, image=variant_id"
# A log may be wide (a public bandit log has 80+ columns): only the columns ArtDash uses are
# read, so what bounds the work is those 13, not the file's width (its header is bounded at 64 KB).
MAX_FILE_COLUMNS = 4_096


def parse_column_mapping(mapping: str | Sequence[str]) -> dict[str, str]:
    """The column mapping people type — ``ts=timestamp, image=variant_id`` (commas or
    semicolons between pairs), or one ``FILE_COLUMN=COLUMN`` per item (the CLI's ``--map``) —
    as {file column: ArtDash column}. The page and the CLI both read it here, with one rule:
    every pair needs both sides, the right side must be one of ArtDash's columns, and no file
    column or ArtDash column may be mapped twice. A file column keeps its case (``userId``: a
    database's columns are case-sensitive), and an empty left side (``=event_id``) is the
    file's unnamed column (a header that starts with a comma)."""
    items = mapping.replace(";", ",").split(",") if isinstance(mapping, str) else list(mapping)
    out: dict[str, str] = {}
    for item in (i.strip() for i in items):
        if not item:
            continue
        source, sep, target = (part.strip() for part in item.partition("="))
        if not sep or not target:
            raise ValidationError(f"the column mapping must look like {MAPPING_EXAMPLE} (got {item!r}); "
                                  "=event_id names a column with no name")
        if target.lower() not in COLUMNS:
            raise ValidationError(f"{target!r} is not an ArtDash column; map file columns onto one of "
                                  f"{', '.join(COLUMNS)}")
        if source in out:
            raise ValidationError(f"the file column {source!r} is mapped twice")
        if target.lower() in out.values():
            raise ValidationError(f"two file columns are mapped onto {target.lower()!r}; keep one")
        out[source] = target.lower()
    return out


def used_columns(names: Sequence[str], mapping: Mapping[str, str]) -> dict[int, str]:
    """{position in the file: ArtDash column} for the file's columns ArtDash reads — a mapped
    column (its exact name, else the one name equal to it ignoring case and spaces) or one
    already named as ArtDash names it; every other column is left unread. A mapped column
    takes the place of one that only happens to bear the name."""
    folded = [str(n).strip().lower() for n in names]
    chosen: dict[int, str] = {}
    for source, target in mapping.items():
        exact = [i for i, n in enumerate(names) if str(n) == source]
        loose = [i for i, f in enumerate(folded) if f == source.strip().lower()]
        found = exact or loose
        if len(found) > 1:
            raise IngestError(f"the file has {len(found)} columns named {source!r}; rename one, or map it by its "
                              "exact name")
        if found:
            chosen[found[0]] = target
    taken = set(chosen.values())
    for i, f in enumerate(folded):
        if i not in chosen and f in COLUMNS and f not in taken:
            chosen[i] = f
            taken.add(f)
    return dict(sorted(chosen.items()))


def read_chunks(source: bytes | Path | pa.Table, file_name: str, mapping: Mapping[str, str] | None = None,
                chunk_rows: int = CHUNK_ROWS) -> Iterator[tuple[pa.Table, int]]:
    """(chunk with canonical column names, line number of its first row) — streamed, reading
    only the columns ArtDash uses."""
    mapping = dict(mapping or {})
    if isinstance(source, pa.Table):     # rows ArtDash made itself (a lab run, the demo, the live log)
        yield from _table_chunks(source, mapping, chunk_rows)
        return
    if isinstance(source, Path):
        if source.stat().st_size == 0:
            raise IngestError("the file is empty; export the impression log again")
        with source.open("rb") as f:
            head = f.read(4)
    else:
        if not source:
            raise IngestError("the file is empty; export the impression log again")
        head = source[:4]
    if head == b"PAR1" or file_name.lower().endswith(".parquet"):
        yield from _parquet_chunks(source, mapping, chunk_rows)
    else:
        yield from _csv_chunks(source, mapping, chunk_rows)


def _table_chunks(table: pa.Table, mapping: Mapping[str, str], chunk_rows: int) -> Iterator[tuple[pa.Table, int]]:
    """An Arrow table's rows as chunks, as a Parquet file of the same columns would give them
    (no round trip through CSV text)."""
    names = table.column_names
    used = _typed_use(names, mapping)
    yield from _numbered(table.select([names[i] for i in used]).to_batches(max_chunksize=chunk_rows), used)


def _typed_use(names: list[str], mapping: Mapping[str, str]) -> dict[int, str]:
    """The used columns of a typed source (Parquet, Arrow): how many it has checked first."""
    try:
        intake.check_columns(names, REQUIRED, MAX_FILE_COLUMNS)
    except ValidationError as exc:
        raise IngestError(str(exc)) from None
    return _checked_use(names, mapping)


def _numbered(batches: Iterable[pa.RecordBatch], used: dict[int, str]) -> Iterator[tuple[pa.Table, int]]:
    """Each batch as a chunk of the log's columns, with the row number of its first row."""
    first = 1
    for batch in batches:
        chunk = pa.Table.from_batches([batch])
        yield _canonical(chunk, list(used.values())), first
        first += chunk.num_rows


def _parquet_chunks(source: bytes | Path, mapping: Mapping[str, str],
                    chunk_rows: int) -> Iterator[tuple[pa.Table, int]]:
    import pyarrow.parquet as pq

    try:
        # Read as it goes (pre-buffering kept every column chunk read so far: 2.5 GB for 100M rows).
        parquet = pq.ParquetFile(source if isinstance(source, Path) else io.BytesIO(source), pre_buffer=False,
                                 buffer_size=1 << 20)
    except Exception as exc:
        raise IngestError("the file is not a readable Parquet file: it may be damaged, cut short or not Parquet at "
                          f"all (the reader said: {str(exc).strip()[:120]}); export the log again") from None
    names = parquet.schema_arrow.names
    used = _typed_use(names, mapping)
    yield from _numbered(parquet.iter_batches(batch_size=chunk_rows, columns=[names[i] for i in used]), used)


def _csv_chunks(source: bytes | Path, mapping: Mapping[str, str], chunk_rows: int) -> Iterator[tuple[pa.Table, int]]:
    import pyarrow.csv as pacsv

    raw = source.open("rb") if isinstance(source, Path) else io.BytesIO(source)
    try:
        try:
            header_line = intake.header_line(raw.read(intake.MAX_HEADER_BYTES + 1))
        except ValidationError as exc:
            raise IngestError(str(exc)) from None
        try:
            names = next(csv.reader([header_line.decode("utf-8-sig").rstrip("\r\n")]), [])
        except UnicodeDecodeError:
            raise IngestError("the file is not UTF-8 text (the header row has invalid bytes); save it as UTF-8 "
                              "and import again") from None
        except csv.Error as exc:
            raise IngestError(f"the header row is not valid CSV ({exc}); the first line must name the columns, "
                              "separated by commas") from None
        if not [n for n in names if n.strip()]:
            raise IngestError("the file has no header row; the first line must name the columns")
        try:
            intake.check_columns(names, REQUIRED, MAX_FILE_COLUMNS)
        except ValidationError as exc:
            raise IngestError(str(exc)) from None
        used = _checked_use(names, mapping)
        # Arrow names the columns itself (its own names for unnamed or repeated ones): read
        # the used ones by position, as Arrow names them.
        arrow_names = [f"c{i}" for i in range(len(names))]
        raw.seek(0)
        reader = pacsv.open_csv(
            raw, read_options=pacsv.ReadOptions(block_size=intake.MAX_FIELD_BYTES, column_names=arrow_names,
                                                skip_rows=1),
            convert_options=pacsv.ConvertOptions(column_types={arrow_names[i]: pa.string() for i in used},
                                                 include_columns=[arrow_names[i] for i in used], null_values=[],
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
        first = 2  # line 1 is the header
        for batch in reader:
            for start in range(0, batch.num_rows, chunk_rows):
                piece = pa.Table.from_batches([batch.slice(start, chunk_rows)])
                yield _canonical(piece, list(used.values())), first
                first += piece.num_rows
    except pa.ArrowInvalid as exc:
        message = str(exc)
        if "UTF8" in message or "UTF-8" in message:
            raise IngestError("the file is not UTF-8 text (it has bytes that are not valid UTF-8); save it as "
                              "UTF-8 and import again") from None
        if "Empty CSV file" in message:
            raise IngestError("the file has no header row; the first line must name the columns") from None
        if "straddling" in message or "block" in message.lower():
            raise IngestError(f"a field is larger than {intake.MAX_FIELD_BYTES >> 20} MB (or a quote is never "
                              "closed); no cell of an impression log is that long — check the export") from None
        raise IngestError(f"the file is not valid CSV ({message[:160]})") from None
    finally:
        raw.close()


def _checked_use(names: Sequence[str], mapping: Mapping[str, str]) -> dict[int, str]:
    """The used columns (:func:`used_columns`); refuses a mapping naming a column the file does
    not have, and a file without a required column."""
    used = used_columns(names, mapping)
    folded = {str(n).strip().lower() for n in names}
    absent = [s for s in mapping if s not in names and s.strip().lower() not in folded]
    if absent:
        raise IngestError(f"the file has no column {', '.join(repr(a) for a in absent)} to map; it has: "
                          f"{intake.some(names)}" + (" (an unnamed column is mapped as =column)" if "" in absent
                                                     else ""))
    missing = [c for c in REQUIRED if c not in used.values()]
    if missing:
        raise IngestError(
            f"missing column(s): {', '.join(missing)}. The file has: {intake.some(names)}. "
            "If they are there under other names, map them (e.g. --map ts=timestamp)")
    return used


def _canonical(table: pa.Table, names: list[str]) -> pa.Table:
    """The used columns (in file order, named ``names``) as the log's 13 columns."""
    table = table.rename_columns(names)
    columns = []
    for name in COLUMNS:
        if name in names:
            columns.append(table.column(names.index(name)))
        else:
            columns.append(pa.array([""] * table.num_rows, pa.string()))
    return pa.table(columns, names=list(COLUMNS))
