"""The "CSV for Excel" export opened by a real spreadsheet engine.

`jhe export --format excel-csv` against the sandbox; Gnumeric's `ssconvert` (a spreadsheet
engine with its own CSV import, as Excel and LibreOffice have) turns each file into .xlsx, and
openpyxl reads the cells back: the times must be date cells (not text), the values numbers
equal to what the server sent, the header free of the byte-order mark, and participants.csv
must list every participant with the identifier and consents.

The `jhe` binary is $JHE_CLI_BIN, or ${CARGO_TARGET_DIR:-target}/debug/jhe (built by
`cargo test --workspace`). Skipped only when ssconvert is missing *and* JHE_REQUIRE_SPREADSHEET
is unset; scripts/test.sh installs Gnumeric and sets it, so there it always runs.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import subprocess
import warnings
from pathlib import Path

import openpyxl
import pytest

from conftest import REPO_ROOT

STUDY = 30006
MARY = "manager_mary@example.com"


def jhe_binary() -> Path:
    explicit = os.environ.get("JHE_CLI_BIN")
    path = Path(explicit) if explicit else Path(os.environ.get("CARGO_TARGET_DIR") or "target") / "debug" / "jhe"
    return path if path.is_absolute() else REPO_ROOT / path


def spreadsheet(csv_path: Path, tmp: Path) -> list[tuple]:
    """The rows of `csv_path` as a spreadsheet engine reads them (cells with their types)."""
    out = tmp / (csv_path.stem + ".xlsx")
    subprocess.run(["ssconvert", str(csv_path), str(out)], check=True, capture_output=True, timeout=60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Workbook contains no default style"
        ws = openpyxl.load_workbook(out).active
    return list(ws.iter_rows(values_only=True))


@pytest.fixture(scope="module")
def excel_export(sandbox, tmp_path_factory) -> Path:
    if shutil.which("ssconvert") is None:
        if os.environ.get("JHE_REQUIRE_SPREADSHEET"):
            pytest.fail("ssconvert (Gnumeric) is not installed; scripts/test.sh installs it")
        pytest.skip("ssconvert (Gnumeric) is not installed")
    jhe = jhe_binary()
    assert jhe.is_file(), f"no jhe binary at {jhe}: run cargo test --workspace first"
    out = tmp_path_factory.mktemp("excel")
    env = {**os.environ, "JHE_URL": sandbox.url, "JHE_API_KEY": sandbox.api_key(MARY)}
    subprocess.run(
        [str(jhe), "--quiet", "export", "--study", str(STUDY), "--format", "excel-csv", "--out", str(out)],
        check=True,
        capture_output=True,
        timeout=180,
        env=env,
    )
    return out


def test_times_are_date_cells_and_values_are_the_numbers_the_server_sent(sandbox, excel_export, tmp_path):
    path = excel_export / "blood_glucose.csv"
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 byte-order mark, so Excel picks the encoding"
    with path.open(encoding="utf-8-sig", newline="") as f:
        text_rows = list(csv.DictReader(f))
    assert text_rows, "the sandbox's participants have glucose readings"
    assert text_rows[0]["time_utc"].count(":") == 2 and "T" not in text_rows[0]["time_utc"]

    rows = spreadsheet(path, tmp_path)
    header = list(rows[0])
    assert header[0] == "observation_id", header[0]  # no BOM glued to the first name
    col = {name: i for i, name in enumerate(header)}
    cells = rows[1:]
    assert len(cells) == len(text_rows)
    for r in cells:
        assert isinstance(r[col["time_utc"]], dt.datetime), r
        assert isinstance(r[col["time_local"]], dt.datetime), r
        assert isinstance(r[col["last_updated_utc"]], dt.datetime), r
        assert isinstance(r[col["glucose_mg_dl"]], (int, float)), r
        assert r[col["device"]], "the device (or the source app) is filled in"

    # The numbers and times are the server's: compare with the observations themselves.
    s = sandbox.session(MARY)
    by_id = {int(r[col["observation_id"]]): r for r in cells}
    checked = 0
    for oid in list(by_id)[:25]:
        obs = s.get(f"{sandbox.url}/api/v1/observations/{oid}", timeout=30).json()
        body = obs["omhData"]["body"]
        if body["blood_glucose"]["unit"] != "mg/dL":
            continue
        r = by_id[oid]
        assert r[col["glucose_mg_dl"]] == body["blood_glucose"]["value"]
        when = body["effective_time_frame"].get("date_time")
        if when and when.endswith("Z"):
            expected = dt.datetime.fromisoformat(when.replace("Z", "+00:00")).replace(tzinfo=None, microsecond=0)
            assert r[col["time_utc"]] == expected
        checked += 1
    assert checked >= 10, checked


def test_participants_csv_lists_everyone_with_their_consents(sandbox, excel_export, tmp_path):
    rows = spreadsheet(excel_export / "participants.csv", tmp_path)
    header = list(rows[0])
    col = {name: i for i, name in enumerate(header)}
    for name in ["patient_id", "identifier_mrn", "consent_blood_glucose", "observations_blood_glucose", "first_data_utc", "last_data_utc"]:
        assert name in col, (name, header)
    s = sandbox.session(MARY)
    enrolled = s.get(f"{sandbox.url}/api/v1/studies/{STUDY}/patients?page_size=1000", timeout=30).json()["results"]
    assert sorted(int(r[col["patient_id"]]) for r in rows[1:]) == sorted(p["id"] for p in enrolled)
    with (excel_export / "blood_glucose.csv").open(encoding="utf-8-sig", newline="") as f:
        per_patient: dict[int, int] = {}
        for r in csv.DictReader(f):
            per_patient[int(r["patient_id"])] = per_patient.get(int(r["patient_id"]), 0) + 1
    for r in rows[1:]:
        pid = int(r[col["patient_id"]])
        assert r[col["identifier_mrn"]], pid
        assert r[col["consent_blood_glucose"]] in {"consented", "declined", "pending"}
        assert int(r[col["observations_blood_glucose"]]) == per_patient.get(pid, 0)
        if per_patient.get(pid):
            assert isinstance(r[col["first_data_utc"]], dt.datetime)
            assert r[col["first_data_utc"]] <= r[col["last_data_utc"]]
