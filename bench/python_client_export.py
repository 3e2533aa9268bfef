"""The official Python client's way to get a study into a file, timed (used by bench/export.sh).

Usage: python python_client_export.py URL TOKEN STUDY_ID OUT.parquet
Prints one JSON line: {"rows", "seconds", "peak_rss_mb"}.
"""

import json
import os
import resource
import sys
import time

url, token, study, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
os.environ["JHE_URL"] = url
from jupyterhealth_client import JupyterHealthClient  # noqa: E402  (reads JHE_URL on import)

t0 = time.perf_counter()
client = JupyterHealthClient(url, token=token)
df = client.list_observations_df(study_id=study, limit=None)
# Mixed types give mixed columns; stringify objects so Parquet accepts them, as a notebook would.
for col in df.columns:
    if df[col].dtype == object:
        df[col] = df[col].astype(str)
df.to_parquet(out)
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"rows": len(df), "seconds": seconds, "peak_rss_mb": peak}))
