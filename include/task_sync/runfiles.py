"""DataFrames between DAG tasks: Parquet files in a per-run folder, never XCom.

XComs stay small (paths and counts); the frames live under
``SALES_CONNECT_SYNC_WORK_DIR/<dag run>/<shard>/`` which every worker must
share (a volume in docker-compose). Parquet keeps 100k+ rows compact and
typed; columns holding dicts (the link's stored values) are written as JSON
text and read back as dicts, marked in the file's metadata.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

_JSON_COLUMNS_KEY = b"sales_connect.json_columns"


def run_folder(work_dir: Path, dag_run_id: str) -> Path:
    """The folder of one DAG run; the run id is made safe as a path component."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", dag_run_id)
    return work_dir / safe


def write_frame(path: Path, frame: pd.DataFrame) -> str:
    """Write ``frame`` to ``path`` (Parquet) and return the path as text for an XCom."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = frame.copy()
    json_columns = [c for c in data.columns if _holds_containers(data[c])]
    for column in json_columns:
        data[column] = data[column].map(lambda v: None if v is None else json.dumps(v, default=str))
    table = pa.Table.from_pandas(data, preserve_index=False)
    metadata = dict(table.schema.metadata or {})
    metadata[_JSON_COLUMNS_KEY] = json.dumps(json_columns).encode()
    pq.write_table(table.replace_schema_metadata(metadata), path)
    return str(path)


def read_frame(path: str | Path) -> pd.DataFrame:
    table = pq.read_table(path)
    json_columns = json.loads((table.schema.metadata or {}).get(_JSON_COLUMNS_KEY, b"[]"))
    frame = table.to_pandas()
    for column in json_columns:
        # A missing value comes back as None or, beside other types in the column, as NaN.
        frame[column] = frame[column].map(lambda v: json.loads(v) if isinstance(v, str | bytes) else None)
    return frame.astype(object).where(frame.notna(), None) if len(frame) else frame


def remove_run_folder(work_dir: Path, dag_run_id: str) -> None:
    shutil.rmtree(run_folder(work_dir, dag_run_id), ignore_errors=True)


def _holds_containers(series: pd.Series) -> bool:
    if series.dtype != object:
        return False
    return any(isinstance(v, dict | list) for v in series.head(1000)) or any(
        isinstance(v, dict | list) for v in series.dropna()
    )


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts with ``None`` for missing values."""
    if frame.empty:
        return []
    clean = frame.astype(object).where(frame.notna(), None)
    return clean.to_dict(orient="records")
