#!/usr/bin/env python3
"""Generate the committed golden files for jhe-engine's compat tests.

Runs the official Python client's ``tidy_observation`` (package ``jupyterhealth-client``) on

* every FHIR Observation captured from a real JHE server in ``tests/fixtures/jhe-contract/`` and
* a set of synthetic observations (made here, shaped exactly like JHE renders them) that cover
  what the captures lack: UTC offsets, naive times, intervals with a duration, unit variants,
  physical activity, sleep, unknown schemas, body-only payloads,

and writes, next to this script:

* ``inputs_fhir.json``: the FHIR Observation resources (captured + synthetic), in order;
* ``inputs_admin.json``: Admin API ``results[]`` items for the same observations where the
  capture has them (captured) or where they can be made (synthetic);
* ``inputs_malformed.json``: broken observations (bad base64, invalid JSON, no time frame, ...);
* ``compat_golden.json``: for every FHIR input, the tidy record (keys in order, typed values),
  and for groups of inputs, the column order and dtypes of ``pd.DataFrame.from_records``
  (what ``JupyterHealthClient.list_observations_df`` returns).

Usage (from anywhere)::

    python3 -m venv /tmp/jhc && /tmp/jhc/bin/pip install jupyterhealth-client
    /tmp/jhc/bin/python crates/jhe-engine/tests/golden/make_golden.py [--contract DIR] [--check]

``--check`` regenerates in memory and exits 1 if ``compat_golden.json`` would change.
``--records-for inputs_fhir.json`` prints the tidy records of those inputs as JSON on stdout (used
by the Rust test ``golden_live_python`` when a Python with the package is available).
"""

from __future__ import annotations

import argparse
import base64
import glob
import json
import math
import os
import sys
from importlib import metadata

import pandas as pd
from jupyterhealth_client._utils import tidy_observation

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CONTRACT = os.path.normpath(os.path.join(HERE, "../../../../tests/fixtures/jhe-contract"))

OMH = "https://w3id.org/openmhealth"
JHE_USER_ID_SYSTEM = "https://jupyterhealth.org/fhir/identifier/jhe-user-id"
SOURCE = "https://jupyterhealth.org/jhe"
DISPLAY = {
    "omh:blood-glucose:4.0": "Blood glucose",
    "omh:blood-pressure:4.0": "Blood pressure",
    "omh:body-temperature:4.0": "Body temperature",
    "omh:heart-rate:2.0": "Heart Rate",
    "omh:oxygen-saturation:2.0": "Oxygen saturation",
    "omh:respiratory-rate:2.0": "Respiratory rate",
    "omh:rr-interval:1.0": "RR Interval",
    "omh:body-weight:3.0": "Body weight",
    "omh:physical-activity:1.2": "Physical activity",
    "omh:step-count:3.0": "Step count",
    "ieee:sleep-stage-summary:1.0": "Sleep stage summary",
    "omh:sleep-episode:1.1": "Sleep episode",
    "omh:sleep-duration:2.0": "Sleep duration",
}
SYSTEM = {"ieee:sleep-stage-summary:1.0": "https://w3id.org/ieee1752"}


# --------------------------------------------------------------------------------------------
# JHE rendering rules (what the server does to a stored observation)


def jsonb_order(v):
    """PostgreSQL jsonb key order: shorter keys first, then bytewise."""
    if isinstance(v, dict):
        return {k: jsonb_order(v[k]) for k in sorted(v, key=lambda k: (len(k.encode()), k.encode()))}
    if isinstance(v, list):
        return [jsonb_order(x) for x in v]
    return v


def iso_z(ts: pd.Timestamp) -> str:
    """Python isoformat() of a UTC datetime with +00:00 as Z (microseconds only if non-zero)."""
    ts = ts.tz_convert("UTC")
    s = ts.to_pydatetime().isoformat()
    return s.replace("+00:00", "Z")


DUR = {"sec": 1, "min": 60, "h": 3600, "d": 86400, "ms": 1e-3, "wk": 604800}


def parse_utc(s: str) -> pd.Timestamp:
    return pd.to_datetime(s, utc=True)


def effective(omh: dict) -> dict:
    tf = omh.get("body", omh).get("effective_time_frame")
    if not tf:
        return {}
    if "date_time" in tf:
        return {"effectiveDateTime": iso_z(parse_utc(tf["date_time"]))}
    ti = tf.get("time_interval", {})
    s = ti.get("start_date_time")
    e = ti.get("end_date_time")
    d = ti.get("duration")
    if s and e:
        s, e = parse_utc(s), parse_utc(e)
    elif s and d:
        s = parse_utc(s)
        e = s + pd.Timedelta(seconds=d["value"] * DUR[d["unit"]])
    elif e and d:
        e = parse_utc(e)
        s = e - pd.Timedelta(seconds=d["value"] * DUR[d["unit"]])
    elif "date" in ti:
        s = pd.Timestamp(ti["date"], tz="UTC")
        e = s + pd.Timedelta(days=1)
    else:
        return {}
    return {"effectivePeriod": {"start": iso_z(s), "end": iso_z(e)}}


def py_dumps(v) -> str:
    return json.dumps(v)


def fhir_resource(oid, patient, jhe_user, code, omh, last_updated, identifiers=()):
    r = {"meta": {"lastUpdated": last_updated, "source": SOURCE}, "id": str(oid)}
    if identifiers:
        r["identifier"] = [{"system": s, "value": v} for s, v in identifiers]
    r["status"] = "final"
    r["code"] = {"coding": [{"system": SYSTEM.get(code, OMH), "code": code, "display": DISPLAY.get(code, code)}]}
    r.update(effective(omh))
    r["subject"] = {
        "reference": f"Patient/{patient}",
        "identifier": {"system": JHE_USER_ID_SYSTEM, "value": str(jhe_user)},
    }
    data = base64.b64encode(py_dumps(omh).encode()).decode()
    r["valueAttachment"] = {"contentType": "application/json", "data": data}
    r["resourceType"] = "Observation"
    return r


def admin_result(oid, patient, jhe_user, code, omh, last_updated):
    return {
        "id": oid,
        "subjectPatientId": patient,
        "patientNameFamily": "Synthetic",
        "patientNameGiven": "Pat",
        "jheUserId": jhe_user,
        "codeableConceptId": 50000,
        "codingSystem": SYSTEM.get(code, OMH),
        "codingCode": code,
        "codingText": DISPLAY.get(code, code),
        "lastUpdated": last_updated,
        "omhData": omh,
    }


# --------------------------------------------------------------------------------------------
# synthetic observations


def header(name, version, uuid, created, ns="omh", modality="sensed", provenance=None, datasheet=None):
    h = {
        "uuid": uuid,
        "modality": modality,
        "schema_id": {"name": name, "version": version, "namespace": ns},
        "source_creation_date_time": created,
    }
    if provenance:
        h["acquisition_provenance"] = {"source_name": provenance}
    if datasheet:
        h["external_datasheets"] = [{"datasheet_type": "manufacturer", "datasheet_reference": datasheet}]
    return h


def synthetic():
    """(id, patient, jhe_user, code, omh) tuples; every one valid for tidy_observation."""
    u = lambda n: f"00000000-0000-4000-8000-{n:012d}"  # noqa: E731
    P, U = 49001, 19001
    out = []

    def add(oid, code, name, version, body, created, ns="omh", **kw):
        out.append((oid, P, U, code, {"header": header(name, version, u(oid), created, ns=ns, **kw), "body": body}))

    # glucose in mmol/L, US Pacific offset, fractional seconds
    add(900001, "omh:blood-glucose:4.0", "blood-glucose", "4.0",
        {"blood_glucose": {"unit": "mmol/L", "value": 5.5},
         "effective_time_frame": {"date_time": "2026-11-20T07:45:12.250000-08:00"},
         "temporal_relationship_to_meal": "fasting"},
        "2026-11-20T07:46:00-08:00", datasheet="Dexcom")
    # glucose with the legacy unit spelling MGDL (Health Connect via CommonHealth), integer value
    add(900002, "omh:blood-glucose:4.0", "blood-glucose", "4.0",
        {"blood_glucose": {"unit": "MGDL", "value": 97},
         "effective_time_frame": {"date_time": "2026-11-20T17:28:33.271Z"},
         "temporal_relationship_to_meal": "unknown"},
        "2026-11-20T17:28:33.271Z", modality="self-reported", datasheet="Health Connect")
    # glucose, lowercase mg/dl, India offset +05:30
    add(900003, "omh:blood-glucose:4.0", "blood-glucose", "4.0",
        {"blood_glucose": {"unit": "mg/dl", "value": 141.5},
         "effective_time_frame": {"date_time": "2026-11-21T08:15:00+05:30"}},
        "2026-11-21T08:16:00+05:30", provenance="demo-cgm-generator")
    # blood pressure, Nepal offset +05:45
    add(900004, "omh:blood-pressure:4.0", "blood-pressure", "4.0",
        {"systolic_blood_pressure": {"unit": "mmHg", "value": 131},
         "diastolic_blood_pressure": {"unit": "mmHg", "value": 84},
         "effective_time_frame": {"date_time": "2026-11-21T06:30:00+05:45"},
         "body_posture": "sitting"},
        "2026-11-21T06:31:00+05:45", datasheet="CareX")
    # heart rate, naive local time (no offset: read as UTC)
    add(900005, "omh:heart-rate:2.0", "heart-rate", "2.0",
        {"heart_rate": {"unit": "beats/min", "value": 72},
         "effective_time_frame": {"date_time": "2026-11-21T09:05:00"},
         "temporal_relationship_to_physical_activity": "at rest"},
        "2026-11-21T09:06:00", datasheet="Oura")
    # heart rate, nightly average over an interval with start+end
    add(900006, "omh:heart-rate:2.0", "heart-rate", "2.0",
        {"heart_rate": {"unit": "beats/min", "value": 58.4},
         "effective_time_frame": {"time_interval": {"start_date_time": "2026-11-21T23:10:00-05:00",
                                                    "end_date_time": "2026-11-22T06:40:00-05:00"}},
         "descriptive_statistic": "average", "temporal_relationship_to_sleep": "during sleep"},
        "2026-11-22T07:00:00-05:00", provenance="demo-synthea-omh-ieee-generator")
    # steps, start + duration (hours), Tokyo offset
    add(900007, "omh:step-count:3.0", "step-count", "3.0",
        {"step_count": {"unit": "steps", "value": 10234},
         "effective_time_frame": {"time_interval": {"start_date_time": "2026-11-21T00:00:00+09:00",
                                                    "duration": {"unit": "h", "value": 24}}}},
        "2026-11-22T00:05:00+09:00", datasheet="Oura")
    # steps, end + duration (minutes), UTC
    add(900008, "omh:step-count:3.0", "step-count", "3.0",
        {"step_count": {"unit": "steps", "value": 812},
         "effective_time_frame": {"time_interval": {"end_date_time": "2026-11-21T13:00:00Z",
                                                    "duration": {"unit": "min", "value": 60}}}},
        "2026-11-21T13:00:05Z")
    # body weight in pounds
    add(900009, "omh:body-weight:3.0", "body-weight", "3.0",
        {"body_weight": {"unit": "lb", "value": 165.2},
         "effective_time_frame": {"date_time": "2026-11-21T07:30:00-06:00"}},
        "2026-11-21T07:31:00-06:00", modality="self-reported")
    # body temperature in Fahrenheit
    add(900010, "omh:body-temperature:4.0", "body-temperature", "4.0",
        {"body_temperature": {"unit": "F", "value": 99.5},
         "effective_time_frame": {"date_time": "2026-11-21T22:00:00+01:00"},
         "measurement_location": "oral"},
        "2026-11-21T22:00:30+01:00", datasheet="iHealth")
    # body temperature in Celsius
    add(900011, "omh:body-temperature:4.0", "body-temperature", "4.0",
        {"body_temperature": {"unit": "C", "value": 36.8},
         "effective_time_frame": {"date_time": "2026-11-22T06:55:00+01:00"},
         "temporal_relationship_to_sleep": "on waking"},
        "2026-11-22T06:55:10+01:00")
    # SpO2 over an interval
    add(900012, "omh:oxygen-saturation:2.0", "oxygen-saturation", "2.0",
        {"oxygen_saturation": {"unit": "%", "value": 95.1},
         "effective_time_frame": {"time_interval": {"start_date_time": "2026-11-21T23:29:00Z",
                                                    "end_date_time": "2026-11-22T06:54:01Z"}},
         "system": "peripheral capillary", "measurement_method": "pulse oximetry",
         "descriptive_statistic": "average"},
        "2026-11-22T08:00:00Z", provenance="demo-synthea-omh-ieee-generator")
    # respiratory rate
    add(900013, "omh:respiratory-rate:2.0", "respiratory-rate", "2.0",
        {"respiratory_rate": {"unit": "breaths/min", "value": 14},
         "effective_time_frame": {"date_time": "2026-11-22T06:00:00-03:00"}},
        "2026-11-22T06:00:01-03:00")
    # sleep duration in hours across a DST change (start -07:00, end -08:00)
    add(900014, "omh:sleep-duration:2.0", "sleep-duration", "2.0",
        {"sleep_duration": {"unit": "h", "value": 7.25},
         "effective_time_frame": {"time_interval": {"start_date_time": "2026-11-01T00:30:00-07:00",
                                                    "end_date_time": "2026-11-01T06:45:00-08:00"}}},
        "2026-11-01T07:00:00-08:00")
    # physical activity with distance in miles and kcal
    add(900015, "omh:physical-activity:1.2", "physical-activity", "1.2",
        {"activity_name": "walking",
         "effective_time_frame": {"time_interval": {"start_date_time": "2026-11-22T17:00:00-05:00",
                                                    "end_date_time": "2026-11-22T17:45:00-05:00"}},
         "distance": {"unit": "mi", "value": 2.1}, "kcal_burned": {"unit": "kcal", "value": 180},
         "reported_activity_intensity": "moderate"},
        "2026-11-22T17:46:00-05:00")
    # physical activity at an instant with distance in km
    add(900016, "omh:physical-activity:1.2", "physical-activity", "1.2",
        {"activity_name": "cycling",
         "effective_time_frame": {"date_time": "2026-11-23T07:00:00+02:00"},
         "distance": {"unit": "km", "value": 12.5}},
        "2026-11-23T08:00:00+02:00")
    # an IEEE type we do not model: flattened generically
    add(900017, "ieee:sleep-stage-summary:1.0", "sleep-stage-summary", "1.0",
        {"sleep_stage_summary": {"total_sleep_time": {"unit": "min", "value": 402},
                                 "rem_sleep_duration": {"unit": "min", "value": 95},
                                 "rem_sleep_episode_count": 4},
         "effective_time_frame": {"time_interval": {"start_date_time": "2026-11-22T23:00:00-08:00",
                                                    "end_date_time": "2026-11-23T06:30:00-08:00"}}},
        "2026-11-23T07:00:00-08:00", ns="ieee")
    # an OMH type we do not model, with a boolean, an array and a date-only interval
    add(900018, "omh:sleep-episode:1.1", "sleep-episode", "1.1",
        {"is_main_sleep": True, "number_of_awakenings": 2,
         "total_sleep_time": {"unit": "min", "value": 390},
         "effective_time_frame": {"time_interval": {"date": "2026-11-23", "part_of_day": "night"}}},
        "2026-11-23T07:00:00Z")
    # rr interval (seeded scope, no clear view): generic
    add(900019, "omh:rr-interval:1.0", "rr-interval", "1.0",
        {"rr_interval": {"value": 30, "unit": "ms"},
         "effective_time_frame": {"date_time": "2025-01-01T00:07:00-08:00"}},
        "2025-01-01T00:07:01-08:00", datasheet="iHealth")
    # minutes-only time with offset
    add(900020, "omh:heart-rate:2.0", "heart-rate", "2.0",
        {"heart_rate": {"unit": "beats/min", "value": 80},
         "effective_time_frame": {"date_time": "2026-11-23T07:00-04:00"}},
        "2026-11-23T07:01-04:00")
    # body-only payload (no header wrapper), an older shape tidy_observation still accepts
    out.append((900021, P, U, "omh:heart-rate:2.0",
                {"heart_rate": {"unit": "beats/min", "value": 64},
                 "effective_time_frame": {"date_time": "2026-11-23T08:00:00Z"}}))
    # glucose on a second patient, with a value 0 and a float that looks like an int
    out.append((900022, 49002, 19002, "omh:blood-glucose:4.0",
                {"header": header("blood-glucose", "4.0", u(900022), "2026-11-23T09:00:00Z"),
                 "body": {"blood_glucose": {"unit": "mg/dL", "value": 101.0},
                          "effective_time_frame": {"date_time": "2026-11-23T09:00:00Z"}}}))
    # body weight in kg with a negative UTC offset of -10:00 and an end-of-day time
    add(900023, "omh:body-weight:3.0", "body-weight", "3.0",
        {"body_weight": {"unit": "kg", "value": 80},
         "effective_time_frame": {"date_time": "2026-11-23T23:59:59.999999-10:00"}},
        "2026-11-24T00:00:00-10:00")
    return out


def malformed():
    """Broken inputs; each is a FHIR resource and (where it makes sense) an Admin result."""
    good_omh = {"header": header("heart-rate", "2.0", "00000000-0000-4000-8000-000000999999", "2026-11-23T08:00:00Z"),
                "body": {"heart_rate": {"unit": "beats/min", "value": 64},
                         "effective_time_frame": {"date_time": "2026-11-23T08:00:00Z"}}}
    cases = []
    r = fhir_resource(990001, 49001, 19001, "omh:heart-rate:2.0", good_omh, "2026-11-23T08:00:01Z")
    r["valueAttachment"]["data"] = "eyJib2R5IjogeyJoZWFydF9yYXRl!!!not base64"
    cases.append({"why": "bad base64", "fhir": r})
    r = fhir_resource(990002, 49001, 19001, "omh:heart-rate:2.0", good_omh, "2026-11-23T08:00:01Z")
    r["valueAttachment"]["data"] = base64.b64encode(b'{"body": {"heart_rate": ').decode()
    cases.append({"why": "invalid JSON", "fhir": r})
    no_tf = json.loads(json.dumps(good_omh))
    del no_tf["body"]["effective_time_frame"]
    cases.append({"why": "no time frame",
                  "fhir": fhir_resource(990003, 49001, 19001, "omh:heart-rate:2.0", no_tf, "2026-11-23T08:00:01Z"),
                  "admin": admin_result(990003, 49001, 19001, "omh:heart-rate:2.0", no_tf, "2026-11-23T08:00:01Z")})
    bad_t = json.loads(json.dumps(good_omh))
    bad_t["body"]["effective_time_frame"] = {"date_time": "yesterday at noon"}
    r = fhir_resource(990004, 49001, 19001, "omh:heart-rate:2.0", good_omh, "2026-11-23T08:00:01Z")
    r["valueAttachment"]["data"] = base64.b64encode(json.dumps(bad_t).encode()).decode()
    cases.append({"why": "unparseable time", "fhir": r,
                  "admin": admin_result(990004, 49001, 19001, "omh:heart-rate:2.0", bad_t, "2026-11-23T08:00:01Z")})
    no_val = json.loads(json.dumps(good_omh))
    del no_val["body"]["heart_rate"]["value"]
    cases.append({"why": "no value",
                  "fhir": fhir_resource(990005, 49001, 19001, "omh:heart-rate:2.0", no_val, "2026-11-23T08:00:01Z"),
                  "admin": admin_result(990005, 49001, 19001, "omh:heart-rate:2.0", no_val, "2026-11-23T08:00:01Z")})
    r = fhir_resource(990006, 49001, 19001, "omh:heart-rate:2.0", good_omh, "2026-11-23T08:00:01Z")
    r["valueAttachment"]["data"] = base64.b64encode(b'[1, 2, 3]').decode()
    cases.append({"why": "not an object", "fhir": r})
    return cases


# --------------------------------------------------------------------------------------------
# typed values


def typed(v):
    if isinstance(v, pd.Timestamp):
        if v.tzinfo is not None:
            return ["ts_utc", v.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S.%f")]
        return ["ts_naive", v.strftime("%Y-%m-%dT%H:%M:%S.%f")]
    if v is None:
        return ["null", None]
    if isinstance(v, bool):
        return ["bool", v]
    if isinstance(v, int):
        return ["int", v]
    if isinstance(v, float):
        if math.isnan(v):
            return ["null", None]
        return ["float", v]
    if isinstance(v, str):
        return ["str", v]
    raise TypeError(f"unexpected {type(v)}: {v!r}")


def load_contract(contract_dir):
    fhir, admin = {}, {}

    def walk(x, f):
        if isinstance(x, dict):
            if "omhData" in x and "id" in x:
                admin.setdefault(x["id"], x)
            if x.get("resourceType") == "Observation" and "valueAttachment" in x:
                fhir.setdefault(int(x["id"]), (f, x))
            for v in x.values():
                walk(v, f)
        elif isinstance(x, list):
            for v in x:
                walk(v, f)

    files = sorted(glob.glob(os.path.join(contract_dir, "*.json")))
    if not files:
        sys.exit(f"no contract files in {contract_dir}")
    for f in files:
        name = os.path.basename(f)
        if name.startswith("err_"):
            continue
        with open(f) as fh:
            walk(json.load(fh), name)
    return fhir, admin, files


def build(contract_dir):
    fhir_c, admin_c, files = load_contract(contract_dir)
    inputs_fhir, inputs_admin = [], []
    for oid in sorted(fhir_c):
        f, r = fhir_c[oid]
        inputs_fhir.append({"origin": f"contract/{f}", "resource": r})
        if oid in admin_c:
            inputs_admin.append({"origin": "contract", "result": admin_c[oid]})
    # a few CGM rows and rich-demo wearable rows that only the Admin captures have
    extra = [i for i in sorted(admin_c) if i not in fhir_c]
    cgm = [i for i in extra if admin_c[i]["codingCode"] == "omh:blood-glucose:4.0"][:20]
    other = [i for i in extra if admin_c[i]["codingCode"] != "omh:blood-glucose:4.0"]
    for i in cgm + other:
        inputs_admin.append({"origin": "contract", "result": admin_c[i]})

    base_lu = pd.Timestamp("2026-11-26T01:00:00.000001Z")
    for n, (oid, patient, user, code, omh) in enumerate(synthetic()):
        omh = jsonb_order(omh)
        lu = iso_z(base_lu + pd.Timedelta(milliseconds=137 * n))
        inputs_fhir.append({"origin": "synthetic",
                            "resource": fhir_resource(oid, patient, user, code, omh, lu)})
        inputs_admin.append({"origin": "synthetic",
                             "result": admin_result(oid, patient, user, code, omh, lu)})

    records = []
    for item in inputs_fhir:
        rec = tidy_observation(item["resource"])
        records.append({"id": int(item["resource"]["id"]), "origin": item["origin"],
                        "row": [[k, *typed(v)] for k, v in rec.items()]})

    def frame(name, resources):
        df = pd.DataFrame.from_records([tidy_observation(r) for r in resources])
        return {"name": name, "ids": [int(r["id"]) for r in resources],
                "columns": list(df.columns), "dtypes": [str(t) for t in df.dtypes]}

    frames = []
    # every Bundle capture, as list_observations_df would build it (first page only)
    for f in files:
        name = os.path.basename(f)
        if name.startswith("err_") or not name.startswith("fhir_Observation_search"):
            continue
        with open(f) as fh:
            b = json.load(fh)
        res = [e["resource"] for e in b.get("entry", []) if e.get("resource", {}).get("resourceType") == "Observation"]
        if res:
            frames.append(frame(f"contract/{name}", res))
    syn = [i["resource"] for i in inputs_fhir if i["origin"] == "synthetic"]
    frames.append(frame("synthetic/all", syn))
    frames.append(frame("all", [i["resource"] for i in inputs_fhir]))

    golden = {
        "generator": {
            "script": "crates/jhe-engine/tests/golden/make_golden.py",
            "jupyterhealth_client": metadata.version("jupyterhealth-client"),
            "pandas": pd.__version__,
        },
        "records": records,
        "frames": frames,
    }
    return inputs_fhir, inputs_admin, malformed(), golden


def dump(path, obj):
    with open(path, "w") as fh:
        json.dump(obj, fh, indent=1, ensure_ascii=False)
        fh.write("\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--contract", default=DEFAULT_CONTRACT)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--records-for", metavar="INPUTS_JSON",
                    help="only print (JSON, stdout) the tidy records of the FHIR inputs in this file")
    a = ap.parse_args()
    if a.records_for:
        with open(a.records_for) as fh:
            items = json.load(fh)
        out = []
        for item in items:
            rec = tidy_observation(item["resource"])
            out.append({"id": int(item["resource"]["id"]),
                        "row": [[k, *typed(v)] for k, v in rec.items()]})
        json.dump({"jupyterhealth_client": metadata.version("jupyterhealth-client"), "records": out},
                  sys.stdout)
        return
    inputs_fhir, inputs_admin, bad, golden = build(a.contract)
    if a.check:
        with open(os.path.join(HERE, "compat_golden.json")) as fh:
            old = json.load(fh)
        old.pop("generator", None)
        new = json.loads(json.dumps({k: v for k, v in golden.items() if k != "generator"}))
        if old != new:
            print("compat_golden.json is out of date with the installed jupyterhealth-client")
            sys.exit(1)
        print("compat_golden.json matches the installed jupyterhealth-client")
        return
    dump(os.path.join(HERE, "inputs_fhir.json"), inputs_fhir)
    dump(os.path.join(HERE, "inputs_admin.json"), inputs_admin)
    dump(os.path.join(HERE, "inputs_malformed.json"), bad)
    dump(os.path.join(HERE, "compat_golden.json"), golden)
    print(f"wrote {len(inputs_fhir)} FHIR inputs, {len(inputs_admin)} Admin inputs, "
          f"{len(bad)} malformed, {len(golden['records'])} golden records, {len(golden['frames'])} frames")


if __name__ == "__main__":
    main()
