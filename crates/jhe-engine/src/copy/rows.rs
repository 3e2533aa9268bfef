//! A local copy's rows — each observation as the server sent it (its OMH JSON and FHIR
//! envelope, so every layer above decodes it exactly as if it had just been fetched) plus the
//! fields the copy indexes — and their Parquet form (zstd), which `seal` then encrypts.

use std::io::Cursor;

use polars::prelude::*;

use super::CopyError;
use crate::omh::{self, Envelope, OmhSource, RawObservation};

/// One stored observation.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub id: u64,
    pub patient_id: u64,
    pub system: String,
    pub code: String,
    /// `meta.lastUpdated` exactly as sent (microseconds kept: it is the sync cursor).
    pub last_updated: String,
    pub lu_us: i64,
    /// Measurement time (or interval start), UTC microseconds, when the envelope has one.
    pub t_us: Option<i64>,
    /// The OMH data point, as JSON text.
    pub omh: String,
    /// The FHIR envelope (status, identifiers, effective time …), as JSON text.
    pub envelope: String,
}

impl Row {
    /// The stored form of a fetched observation; `None` when the server sent no readable
    /// `lastUpdated` (such a row cannot be synced; the fetch already reports it).
    pub fn from_raw(raw: RawObservation) -> Option<Row> {
        let last_updated = raw.last_updated?;
        let lu_us = omh::time::parse_date_time(&last_updated)?.utc_us;
        let t_us = match &raw.envelope.effective {
            Some(omh::Effective::DateTime(t)) => Some(t.as_str()),
            Some(omh::Effective::Period { start, end }) => start.as_deref().or(end.as_deref()),
            None => None,
        }
        .and_then(omh::time::parse_date_time)
        .map(|t| t.utc_us);
        let omh = match raw.omh {
            OmhSource::Base64(b) => {
                use base64::Engine;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b.trim())
                    .unwrap_or_default();
                String::from_utf8(bytes).unwrap_or_default()
            }
            OmhSource::Json(serde_json::Value::String(s)) => s,
            OmhSource::Json(v) => v.to_string(),
        };
        Some(Row {
            id: raw.id,
            patient_id: raw.patient_id,
            system: raw.coding_system,
            code: raw.coding_code,
            last_updated,
            lu_us,
            t_us,
            omh,
            envelope: serde_json::to_string(&raw.envelope).unwrap_or_default(),
        })
    }

    /// The observation again, as the decoder takes it.
    pub fn to_raw(&self) -> RawObservation {
        RawObservation {
            id: self.id,
            patient_id: self.patient_id,
            coding_system: self.system.clone(),
            coding_code: self.code.clone(),
            last_updated: Some(self.last_updated.clone()),
            omh: OmhSource::Json(serde_json::Value::String(self.omh.clone())),
            envelope: serde_json::from_str::<Envelope>(&self.envelope).unwrap_or_default(),
        }
    }

    /// Whether the server's version differs from this one (content or write time).
    pub fn differs(&self, other: &Row) -> bool {
        self.lu_us != other.lu_us || self.omh != other.omh || self.envelope != other.envelope
    }
}

const COLUMNS: [&str; 9] = [
    "id",
    "patient_id",
    "system",
    "code",
    "last_updated",
    "lu_us",
    "t_us",
    "omh",
    "envelope",
];

/// Rows as Parquet bytes.
pub fn to_parquet(rows: &[Row]) -> Result<Vec<u8>, CopyError> {
    let col = |name: &str, s: Series| s.with_name(name.into()).into_column();
    let mut df = DataFrame::new(
        rows.len(),
        vec![
            col(
                COLUMNS[0],
                Series::new("".into(), rows.iter().map(|r| r.id).collect::<Vec<_>>()),
            ),
            col(
                COLUMNS[1],
                Series::new(
                    "".into(),
                    rows.iter().map(|r| r.patient_id).collect::<Vec<_>>(),
                ),
            ),
            col(
                COLUMNS[2],
                Series::new(
                    "".into(),
                    rows.iter().map(|r| r.system.as_str()).collect::<Vec<_>>(),
                ),
            ),
            col(
                COLUMNS[3],
                Series::new(
                    "".into(),
                    rows.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(),
                ),
            ),
            col(
                COLUMNS[4],
                Series::new(
                    "".into(),
                    rows.iter()
                        .map(|r| r.last_updated.as_str())
                        .collect::<Vec<_>>(),
                ),
            ),
            col(
                COLUMNS[5],
                Series::new("".into(), rows.iter().map(|r| r.lu_us).collect::<Vec<_>>()),
            ),
            col(
                COLUMNS[6],
                Series::new("".into(), rows.iter().map(|r| r.t_us).collect::<Vec<_>>()),
            ),
            col(
                COLUMNS[7],
                Series::new(
                    "".into(),
                    rows.iter().map(|r| r.omh.as_str()).collect::<Vec<_>>(),
                ),
            ),
            col(
                COLUMNS[8],
                Series::new(
                    "".into(),
                    rows.iter().map(|r| r.envelope.as_str()).collect::<Vec<_>>(),
                ),
            ),
        ],
    )
    .map_err(polars_err)?;
    parquet_bytes(&mut df)
}

/// A frame as zstd-compressed Parquet bytes (a copy's data and index files, before sealing).
pub(super) fn parquet_bytes(df: &mut DataFrame) -> Result<Vec<u8>, CopyError> {
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf)
        .with_compression(ParquetCompression::Zstd(None))
        .finish(df)
        .map_err(polars_err)?;
    Ok(buf)
}

/// Rows back from [`to_parquet`]'s bytes.
pub fn from_parquet(bytes: &[u8]) -> Result<Vec<Row>, CopyError> {
    let df = ParquetReader::new(Cursor::new(bytes))
        .finish()
        .map_err(polars_err)?;
    let u64s = |n: &str| -> Result<Vec<Option<u64>>, CopyError> {
        Ok(df
            .column(n)
            .map_err(polars_err)?
            .u64()
            .map_err(polars_err)?
            .iter()
            .collect())
    };
    let i64s = |n: &str| -> Result<Vec<Option<i64>>, CopyError> {
        Ok(df
            .column(n)
            .map_err(polars_err)?
            .i64()
            .map_err(polars_err)?
            .iter()
            .collect())
    };
    let strs = |n: &str| -> Result<Vec<String>, CopyError> {
        Ok(df
            .column(n)
            .map_err(polars_err)?
            .str()
            .map_err(polars_err)?
            .iter()
            .map(|s| s.unwrap_or_default().to_string())
            .collect())
    };
    let (ids, patients) = (u64s(COLUMNS[0])?, u64s(COLUMNS[1])?);
    let (systems, codes, lus) = (strs(COLUMNS[2])?, strs(COLUMNS[3])?, strs(COLUMNS[4])?);
    let (lu_us, t_us) = (i64s(COLUMNS[5])?, i64s(COLUMNS[6])?);
    let (omh, env) = (strs(COLUMNS[7])?, strs(COLUMNS[8])?);
    let mut out = Vec::with_capacity(ids.len());
    for (i, id) in ids.into_iter().enumerate() {
        out.push(Row {
            id: id.ok_or_else(|| CopyError::Damaged("a row without an id".into()))?,
            patient_id: patients[i].unwrap_or_default(),
            system: systems[i].clone(),
            code: codes[i].clone(),
            last_updated: lus[i].clone(),
            lu_us: lu_us[i].unwrap_or_default(),
            t_us: t_us[i],
            omh: omh[i].clone(),
            envelope: env[i].clone(),
        });
    }
    Ok(out)
}

pub(super) fn polars_err(e: PolarsError) -> CopyError {
    CopyError::Damaged(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_survive_parquet_and_decode_as_when_fetched() {
        let raw = RawObservation {
            id: 7,
            patient_id: 40001,
            coding_system: "https://w3id.org/openmhealth".into(),
            coding_code: "omh:heart-rate:2.0".into(),
            last_updated: Some("2026-11-20T10:00:00.123456Z".into()),
            omh: OmhSource::Json(serde_json::json!({"header": {"uuid": "u"},
                "body": {"heart_rate": {"value": 61, "unit": "beats/min"},
                "effective_time_frame": {"date_time": "2026-11-20T09:59:00Z"}}})),
            envelope: Envelope::default(),
        };
        let row = Row::from_raw(raw.clone()).expect("row");
        assert_eq!(row.lu_us % 1_000_000, 123_456);
        let back =
            from_parquet(&to_parquet(std::slice::from_ref(&row)).expect("write")).expect("read");
        assert_eq!(back, vec![row.clone()]);
        let (a, b) = (omh::decode(&raw), omh::decode(&back[0].to_raw()));
        let (a, b) = (a.expect("decodes"), b.expect("decodes"));
        assert_eq!(format!("{:?}", a.values), format!("{:?}", b.values));
        assert_eq!(
            format!("{:?}", (a.time, a.header)),
            format!("{:?}", (b.time, b.header))
        );
    }
}
