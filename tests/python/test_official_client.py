"""The official Python client (jupyterhealth-client) against jhe-sandbox.

The point: a researcher's notebook that uses `jupyterhealth_client.JupyterHealthClient` sees exactly
the data set the sandbox holds -- no rows lost or duplicated by pagination, filters or encoding.
Every count the client produces is compared with what the sandbox itself reports through its own
API (Admin `count`, FHIR `_summary=count` `total`), walked independently of the client.

What the client sends (jupyterhealth-client 0.5.0):
  list_studies()            GET /api/v1/studies                      then follows `next` (absolute URL)
  list_patients(study_id=)  GET /api/v1/patients?study_id=N          then follows `next`
  list_observations(...)    GET /FHIR/R5/Observation?patient._has%3AGroup%3Amember%3A_id=N&_count=1000
                            then follows Bundle.link[relation=next]; default limit=2000 records
"""

from __future__ import annotations

import base64
from collections import Counter

import pandas as pd
import pytest
import requests
from jupyterhealth_client import JupyterHealthClient

MARY = "manager_mary@example.com"
STUDY_FILTER = "patient._has:Group:member:_id"
# 30001 "Lifespan Study on BP & HR" (base seed), 30006 "CGM & Wearables Demo" (rich demo)
STUDIES = [30001, 30006]
TIMEOUT = 60


@pytest.fixture(scope="module")
def api(sandbox) -> requests.Session:
    """Direct access to the sandbox's own API, independent of the client under test."""
    return sandbox.session(MARY)


@pytest.fixture(scope="module")
def client(sandbox) -> JupyterHealthClient:
    # The client takes a ready bearer token (JHE_TOKEN or token=); it does no OAuth itself.
    return JupyterHealthClient(sandbox.url, token=sandbox.token(MARY))


def admin_walk(api: requests.Session, url: str, params: dict | None = None) -> tuple[int, list[dict]]:
    """Walk an Admin API list by its `next` links; return (count, results)."""
    r = api.get(url, params={**(params or {}), "page_size": 1000}, timeout=TIMEOUT)
    r.raise_for_status()
    body = r.json()
    count = body["count"]
    results = list(body["results"])
    while body.get("next"):
        r = api.get(body["next"], timeout=TIMEOUT)
        r.raise_for_status()
        body = r.json()
        assert body["count"] == count, "count changed while paging"
        results.extend(body["results"])
    return count, results


def fhir_total(sandbox, api: requests.Session, resource: str = "Observation", **params) -> int:
    r = api.get(
        f"{sandbox.url}/FHIR/R5/{resource}",
        params={**params, "_summary": "count"},
        timeout=TIMEOUT,
    )
    r.raise_for_status()
    bundle = r.json()
    assert bundle["resourceType"] == "Bundle", bundle
    assert bundle["entry"] == [], "_summary=count must return an empty entry list"
    return bundle["total"]


def study_patient_ids(sandbox, api, study_id: int) -> list[int]:
    count, patients = admin_walk(api, f"{sandbox.url}/api/v1/studies/{study_id}/patients")
    assert len(patients) == count
    return [p["id"] for p in patients]


# --------------------------------------------------------------------------------------------
# identity and studies


def test_health(sandbox):
    r = requests.get(f"{sandbox.url}/health", timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


def test_api_key_is_base64_client_id_and_secret(sandbox):
    p = sandbox.practitioner(MARY)
    if "clientId" in p and "clientSecret" in p and "apiKey" in p:
        assert base64.b64decode(p["apiKey"]).decode() == f"{p['clientId']}:{p['clientSecret']}"


def test_get_user_is_the_key_owner(client):
    user = client.get_user()
    assert user["email"] == MARY


def test_list_studies_matches_sandbox(sandbox, api, client):
    count, expected = admin_walk(api, f"{sandbox.url}/api/v1/studies")
    assert len(expected) == count
    got = list(client.list_studies())
    got_ids = [s["id"] for s in got]
    assert len(got_ids) == len(set(got_ids)), f"duplicate studies: {got_ids}"
    assert got_ids == [s["id"] for s in expected]
    assert len(got) == count
    for study_id in STUDIES:
        assert study_id in got_ids, f"study {study_id} is not visible to {MARY}: {got_ids}"


@pytest.mark.parametrize("study_id", STUDIES)
def test_get_study(sandbox, api, client, study_id):
    study = client.get_study(study_id)
    assert study["id"] == study_id
    r = api.get(f"{sandbox.url}/api/v1/studies/{study_id}", timeout=TIMEOUT)
    r.raise_for_status()
    assert study == r.json()


# --------------------------------------------------------------------------------------------
# patients


@pytest.mark.parametrize("study_id", STUDIES)
def test_list_patients_matches_study_patients(sandbox, api, client, study_id):
    expected = study_patient_ids(sandbox, api, study_id)
    assert expected, f"study {study_id} has no patients"
    got = [p["id"] for p in client.list_patients(study_id=study_id)]
    assert len(got) == len(set(got)), f"duplicate patients: {got}"
    assert sorted(got) == sorted(expected)


@pytest.mark.parametrize("study_id", STUDIES)
def test_list_patients_small_pages(sandbox, api, client, study_id):
    """Force the client's Admin pager (`_list_api_request`) through many `next` links."""
    expected = study_patient_ids(sandbox, api, study_id)
    got = [
        p["id"]
        for p in client._list_api_request(
            "patients", params={"study_id": study_id, "page_size": 1}
        )
    ]
    assert got == sorted(expected)  # /api/v1/patients is ordered by id


@pytest.mark.parametrize("study_id", STUDIES)
def test_get_patient(sandbox, api, client, study_id):
    patient_id = study_patient_ids(sandbox, api, study_id)[0]
    patient = client.get_patient(patient_id)
    assert patient["id"] == patient_id
    r = api.get(f"{sandbox.url}/api/v1/patients/{patient_id}", timeout=TIMEOUT)
    r.raise_for_status()
    assert patient == r.json()


# --------------------------------------------------------------------------------------------
# observations


@pytest.fixture(scope="module")
def observations_df(client):
    """list_observations_df per study, fetched once (limit=None: the client's default is 2000)."""
    cache: dict[int, pd.DataFrame] = {}

    def get(study_id: int) -> pd.DataFrame:
        if study_id not in cache:
            cache[study_id] = client.list_observations_df(study_id=study_id, limit=None)
        return cache[study_id]

    return get


@pytest.mark.parametrize("study_id", STUDIES)
def test_list_observations_df_matches_fhir_total(sandbox, api, observations_df, study_id):
    total = fhir_total(sandbox, api, **{STUDY_FILTER: study_id})
    assert total > 0, f"study {study_id} has no observations in the sandbox"
    df = observations_df(study_id)
    assert len(df) == total
    assert df["id"].is_unique, "duplicate observation ids"

    # every row belongs to a patient of the study, and per-patient counts agree
    patients = study_patient_ids(sandbox, api, study_id)
    per_patient = Counter(df["subject_reference"])
    assert set(per_patient) <= {f"Patient/{p}" for p in patients}
    for patient_id in patients:
        expected = fhir_total(sandbox, api, **{STUDY_FILTER: study_id, "patient": patient_id})
        assert per_patient.get(f"Patient/{patient_id}", 0) == expected, f"patient {patient_id}"

    # per-code counts agree with the sandbox's code filter (system|code, as the client sends it)
    per_code = Counter(zip(df["code_coding_0_system"], df["code_coding_0_code"]))
    for (system, code), n in per_code.items():
        expected = fhir_total(sandbox, api, **{STUDY_FILTER: study_id, "code": f"{system}|{code}"})
        assert n == expected, f"{system}|{code}"
    assert sum(per_code.values()) == total


@pytest.mark.parametrize("study_id", STUDIES)
def test_tidy_columns(observations_df, study_id):
    """tidy_observation decoded every valueAttachment and found a time frame in every row."""
    df = observations_df(study_id)
    assert (df["code"] == df["code_coding_0_code"]).all()
    assert df["subject_reference"].str.match(r"^Patient/\d+$").all()
    time_cols = [
        c
        for c in (
            "effective_time_frame_date_time",
            "effective_time_frame_time_interval_start_date_time",
        )
        if c in df.columns
    ]
    assert time_cols, f"no OMH time frame columns in {list(df.columns)}"
    for c in time_cols:
        assert str(df[c].dtype).endswith(", UTC]"), f"{c} is {df[c].dtype}"
        assert f"{c}_local" in df.columns
    assert df[time_cols].notna().any(axis=1).all(), "rows without an OMH time frame"
    # every measurement has a value column such as blood_glucose_value
    value_cols = [
        c
        for c in df.columns
        if c.endswith("_value") and not c.startswith(("identifier_", "subject_"))
    ]
    assert value_cols, f"no *_value column in {list(df.columns)}"


def test_list_observations_default_limit(sandbox, api, client):
    """Without limit=None the client stops at 2000 records; the sandbox must not break that."""
    study_id = 30006
    total = fhir_total(sandbox, api, **{STUDY_FILTER: study_id})
    n = sum(1 for _ in client.list_observations(study_id=study_id))
    assert n == min(total, 2000)


@pytest.mark.parametrize("study_id", STUDIES)
def test_fhir_small_pages_lose_and_duplicate_nothing(sandbox, api, client, observations_df, study_id):
    """Walk the FHIR `next` links with a small _count, raw and through the client."""
    total = fhir_total(sandbox, api, **{STUDY_FILTER: study_id})
    page_size = max(1, total // 7)  # about 8 pages

    # raw walk: the client silently drops repeated ids, so count duplicates ourselves
    ids: list[str] = []
    r = api.get(
        f"{sandbox.url}/FHIR/R5/Observation",
        params={STUDY_FILTER: study_id, "_count": page_size},
        timeout=TIMEOUT,
    )
    pages = 0
    while True:
        r.raise_for_status()
        bundle = r.json()
        pages += 1
        assert bundle["total"] == total
        ids += [e["resource"]["id"] for e in bundle["entry"]]
        nxt = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
        if not nxt:
            break
        assert pages <= total + 1, "next links never end"
        r = api.get(nxt[0], timeout=TIMEOUT)
    assert len(ids) == total
    assert len(set(ids)) == total, "the same observation on two pages"
    assert set(ids) == set(observations_df(study_id)["id"])

    # the client's own FHIR pager over the same small pages
    got = [
        o["id"]
        for o in client.list_fhir("Observation", study_id=study_id, params={"_count": page_size})
    ]
    assert len(got) == total
    assert set(got) == set(ids)
