"""How long must a series be for the LSTM forecaster to beat the naive forecasts?

The advisor warns when a series is shorter than `series_min_steps` (advisor/rules.toml) and
suggests exponential smoothing or ARIMA instead. This measures where that line lies: the
lstm-forecaster recipe, with its defaults, on the shipped taylor series (half-hourly
electricity demand) cut to its first or last N rows, against persistence and the seasonal
naive forecast on the same test windows. Results: benchmarks/series_length.md.

    python -m benchmarks.series_length                       # the cuts in series_length.md
    python -m benchmarks.series_length --cuts 300 500 last500 --seeds 0 1
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CUTS = ["150", "300", "500", "last500", "800", "last800", "1200", "2000", "4032"]


def measure(cut: str, seed: int, workdir: Path) -> dict:
    import pandas as pd

    frame = pd.read_csv(ROOT / "datasets" / "taylor.csv")
    rows = int(cut.removeprefix("last"))
    part = frame.iloc[-rows:] if cut.startswith("last") else frame.iloc[:rows]
    path = workdir / f"taylor-{cut}.csv"
    part.to_csv(path, index=False)
    output = workdir / f"run-{cut}-{seed}"
    subprocess.run([sys.executable, "-m", "recipes.runner", "lstm-forecaster", "--data", str(path),
                    "--target", "demand_mw", "--time-col", "timestamp", "--seed", str(seed),
                    "--quiet", "--json", "--output", str(output)],
                   cwd=ROOT, check=True, capture_output=True)
    test = json.loads((output / "metrics.json").read_text())["test"]
    scores = {name: round(test[name]["mae"], 1)
              for name in ("model", "persistence", "seasonal_naive")}
    best = min(scores["persistence"], scores["seasonal_naive"])
    return {"cut": cut, "rows": rows, "seed": seed, **scores,
            "beats_both": scores["model"] < best, "vs_best_baseline": round(
                scores["model"] / best, 3)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cuts", nargs="+", default=CUTS,
                        help="N (the first N rows) or lastN (the last N rows)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    args = parser.parse_args(argv)
    print("| rows | part | seed | LSTM MAE | persistence | seasonal naive | LSTM / best baseline |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as workdir:
        for cut in args.cuts:
            for seed in args.seeds:
                r = measure(cut, seed, Path(workdir))
                part = "last" if cut.startswith("last") else "first"
                print(f"| {r['rows']:,} | {part} | {seed} | {r['model']:,} | "
                      f"{r['persistence']:,} | {r['seasonal_naive']:,} | "
                      f"{r['vs_best_baseline']:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
