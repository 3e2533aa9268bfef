"""The partitioned export queried with DuckDB, as a data manager would.

`jhe export --format parquet --layout partitioned` of the demo study (and of studies 30001 and
30002, which share two participants) against the sandbox, beside a per-type export of the demo
study; then DuckDB's `read_parquet(..., hive_partitioning = true)` over globs must give, per
table, the per-type file's rows and columns plus `study_id`, and many studies' exports under one
parent folder must query as one dataset.

The `jhe` binary is $JHE_CLI_BIN, or ${CARGO_TARGET_DIR:-target}/debug/jhe (built by
`cargo test --workspace`).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import duckdb
import pytest

from conftest import REPO_ROOT

DEMO_STUDY = 30006
MARY = "manager_mary@example.com"


def jhe_binary() -> Path:
    explicit = os.environ.get("JHE_CLI_BIN")
    path = Path(explicit) if explicit else Path(os.environ.get("CARGO_TARGET_DIR") or "target") / "debug" / "jhe"
    return path if path.is_absolute() else REPO_ROOT / path


def jhe_export(sandbox, study: int, out: Path, *args: str) -> subprocess.CompletedProcess:
    jhe = jhe_binary()
    assert jhe.is_file(), f"no jhe binary at {jhe}: run cargo test --workspace first"
    env = {**os.environ, "JHE_URL": sandbox.url, "JHE_API_KEY": sandbox.api_key(MARY)}
    return subprocess.run(
        [str(jhe), "--quiet", "export", "--study", str(study), "--out", str(out), *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )


def export(sandbox, study: int, out: Path, layout: str) -> dict:
    r = jhe_export(sandbox, study, out, "--format", "parquet", "--layout", layout)
    assert r.returncode == 0, r.stderr
    return json.loads((out / "manifest.json").read_text())


@pytest.fixture(scope="module")
def exports(sandbox, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("partitioned")
    per_type = root / "per-type"
    studies = root / "studies"
    out = {"per_type": per_type, "per_type_manifest": export(sandbox, DEMO_STUDY, per_type, "per-type"), "studies": studies}
    out["manifests"] = {s: export(sandbox, s, studies / f"study-{s}", "partitioned") for s in (DEMO_STUDY, 30001, 30002)}
    return out


def columns(con, relation: str) -> list[str]:
    return [r[0] for r in con.sql(f"DESCRIBE SELECT * FROM {relation}").fetchall()]


def test_each_table_scans_with_the_per_type_files_rows_and_columns_plus_study_id(exports):
    con = duckdb.connect()
    part = exports["studies"] / f"study-{DEMO_STUDY}"
    manifest = exports["manifests"][DEMO_STUDY]
    assert manifest["layout"] == "partitioned"
    tables = [f for f in exports["per_type_manifest"]["files"] if f["role"] == "data"]
    assert len(tables) >= 5, tables
    for f in tables:
        table = f["table"]
        per_type = f"read_parquet('{exports['per_type'] / f['name']}')"
        scanned = f"read_parquet('{part / table}/**/*.parquet', hive_partitioning = true)"
        assert columns(con, scanned) == columns(con, per_type) + ["study_id"], table
        n = con.sql(f"SELECT count(*) FROM {scanned}").fetchall()[0][0]
        assert n == f["rows"] == manifest["table_rows"][table], table
        # The same rows, value for value, both ways round (EXCEPT ALL keeps duplicates).
        for a, b in [(f"SELECT * EXCLUDE (study_id) FROM {scanned}", f"SELECT * FROM {per_type}"),
                     (f"SELECT * FROM {per_type}", f"SELECT * EXCLUDE (study_id) FROM {scanned}")]:
            assert con.sql(f"SELECT count(*) FROM ({a} EXCEPT ALL {b})").fetchall()[0][0] == 0, table
        # The folders' keys are the files' own values.
        wrong = con.sql(
            f"SELECT count(*) FROM read_parquet('{part / table}/**/*.parquet', hive_partitioning = false, filename = true) "
            "WHERE filename NOT LIKE '%/study_id=' || study_id || '/patient_id=' || patient_id || '/part-0.parquet'"
        ).fetchall()[0][0]
        assert wrong == 0, table
        assert con.sql(f"SELECT DISTINCT study_id FROM {scanned}").fetchall() == [(DEMO_STUDY,)]


def test_many_studies_exports_under_one_folder_query_as_one_dataset(exports):
    con = duckdb.connect()
    root = exports["studies"]
    rows = con.sql(
        f"""
        SELECT study_id, patient_id, count(*) AS readings, round(avg(systolic_mmhg), 1) AS mean_systolic
        FROM read_parquet('{root}/*/blood_pressure/**/*.parquet', hive_partitioning = true)
        GROUP BY study_id, patient_id ORDER BY study_id, patient_id
        """
    ).fetchall()
    per_study: dict[int, int] = {}
    for study, _, n, _ in rows:
        per_study[study] = per_study.get(study, 0) + n
    assert per_study == {s: m["table_rows"]["blood_pressure"] for s, m in exports["manifests"].items()}
    # A participant of two studies is in both, told apart by the study key.
    assert sorted(s for s, p, _, _ in rows if p == 40001) == [30001, 30002]
    # Each study's numbers are those of its own export read alone.
    for s in exports["manifests"]:
        alone = con.sql(
            f"""
            SELECT patient_id, count(*), round(avg(systolic_mmhg), 1)
            FROM read_parquet('{root}/study-{s}/blood_pressure/**/*.parquet') GROUP BY patient_id ORDER BY patient_id
            """
        ).fetchall()
        assert alone == [(p, n, m) for st, p, n, m in rows if st == s]


def test_a_partitioned_csv_export_is_refused_with_a_plain_message(sandbox, tmp_path):
    r = jhe_export(sandbox, DEMO_STUDY, tmp_path / "csv", "--format", "csv", "--layout", "partitioned")
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "--format parquet" in r.stderr, r.stderr
    assert not (tmp_path / "csv").exists()
