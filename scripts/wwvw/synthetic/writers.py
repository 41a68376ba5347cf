"""Write CBS tables block by block in the formats the contract allows: .sav, .csv and .parquet.

SPSS files: pyreadstat writes the dictionary (variable names, string widths, variable and value
labels) from one sample row, and the cases are appended in SPSS's uncompressed layout (each string
space-padded to a multiple of 8 bytes), after which the case count in the header is set. That keeps
memory bounded and writes tens of millions of rows a minute; pyreadstat reads the result back
(tests/test_synthetic_writers.py).
"""

from __future__ import annotations

import struct
import tempfile
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pyreadstat

SAV_NOMINAL_CASE_SIZE_OFFSET = 68
SAV_CASE_COUNT_OFFSET = 80
SAV_CREATION_OFFSET = 92  # 9 bytes date "dd mmm yy" + 8 bytes time "hh:mm:ss"
FIXED_CREATION = b"01 Jan 19" + b"00:00:00"  # no timestamps in data files: same seed, same bytes
CASES_PER_WRITE = 100_000  # cases joined into one string at a time: bounds the writer's memory


class SavWriter:
    """Append polars blocks of string columns to an SPSS .sav file with fixed string widths."""

    def __init__(
        self,
        path: Path,
        widths: dict[str, int],
        column_labels: dict[str, str] | None = None,
        value_labels: dict[str, dict[str, str]] | None = None,
        file_label: str = "",
    ):
        self.path = Path(path)
        self.widths = widths
        self.segments = {c: -(-w // 8) * 8 for c, w in widths.items()}
        self.case_bytes = sum(self.segments.values())
        self.rows = 0
        self._handle = self.path.open("wb")
        self._handle.write(self._dictionary(column_labels or {}, value_labels or {}, file_label))

    def _dictionary(self, column_labels, value_labels, file_label) -> bytes:
        sample = pl.DataFrame({c: ["X" * w] for c, w in self.widths.items()}).to_pandas()
        with tempfile.TemporaryDirectory() as tmp:
            probe = Path(tmp) / "dictionary.sav"
            pyreadstat.write_sav(
                sample,
                probe,
                file_label=file_label,
                column_labels={c: column_labels.get(c) for c in self.widths},
                variable_value_labels=value_labels,
                variable_format={c: f"A{w}" for c, w in self.widths.items()},
            )
            raw = probe.read_bytes()
        case_bytes = self.case_bytes
        nominal = struct.unpack(
            "<i", raw[SAV_NOMINAL_CASE_SIZE_OFFSET : SAV_NOMINAL_CASE_SIZE_OFFSET + 4]
        )[0]
        if nominal * 8 != case_bytes:
            raise RuntimeError(
                f"{self.path.name}: unexpected SPSS case layout ({nominal} x 8 bytes)"
            )
        header = bytearray(raw[:-case_bytes])
        header[SAV_CREATION_OFFSET : SAV_CREATION_OFFSET + len(FIXED_CREATION)] = FIXED_CREATION
        return bytes(header)

    def write(self, block: pl.DataFrame) -> None:
        """Append the block's cases: each row's strings padded to their segments and joined, all
        rows joined into one byte string in polars (no per-value numpy strings: those were a
        third of the generator's time)."""
        for column in self.segments:
            too_wide = block[column].fill_null("").str.len_bytes() > self.widths[column]
            if too_wide.any():
                raise ValueError(f"{self.path.name}: {column} wider than {self.widths[column]}")
        case = pl.concat_str(
            [pl.col(c).fill_null("").str.pad_end(s) for c, s in self.segments.items()]
        )
        for piece in block.iter_slices(CASES_PER_WRITE):
            cases = piece.select(case.str.join("")).item()
            if not cases.isascii():  # padding counts characters; the layout needs one byte each
                raise ValueError(f"{self.path.name}: a string that is not ASCII")
            self._handle.write(cases.encode("ascii"))
        self.rows += block.height

    def close(self) -> None:
        self._handle.seek(SAV_CASE_COUNT_OFFSET)
        self._handle.write(struct.pack("<i", self.rows))
        self._handle.close()


class CsvWriter:
    """A converted copy as CBS users make them: ';' separated, an unnamed row-number column."""

    def __init__(self, path: Path, widths: dict[str, int], **_: object):
        self.path = Path(path)
        self.columns = list(widths)
        self.rows = 0
        self._handle = self.path.open("wb")
        self._handle.write((";".join(["", *self.columns]) + "\n").encode())

    def write(self, block: pl.DataFrame) -> None:
        numbered = block.select(self.columns).with_columns(
            pl.int_range(self.rows, self.rows + block.height).alias("__row")
        )
        numbered.select(["__row", *self.columns]).write_csv(
            self._handle, separator=";", include_header=False
        )
        self.rows += block.height

    def close(self) -> None:
        self._handle.close()


class ParquetWriter:
    def __init__(self, path: Path, widths: dict[str, int], **_: object):
        self.path = Path(path)
        self.columns = list(widths)
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None

    def write(self, block: pl.DataFrame) -> None:
        table = block.select(self.columns).to_arrow()
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, table.schema, compression="zstd")
        self._writer.write_table(table)
        self.rows += block.height

    def close(self) -> None:
        if self._writer is None:
            empty = pl.DataFrame({c: pl.Series([], dtype=pl.String) for c in self.columns})
            empty.write_parquet(self.path)
        else:
            self._writer.close()


WRITERS = {".sav": SavWriter, ".csv": CsvWriter, ".parquet": ParquetWriter}


def open_writer(
    path: Path, widths: dict[str, int], **labels
) -> SavWriter | CsvWriter | ParquetWriter:
    return WRITERS[Path(path).suffix](path, widths, **labels)
