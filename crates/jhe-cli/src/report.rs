//! `jhe report`: one self-contained HTML report of a study or one participant (charts inline,
//! prints to PDF from any browser), written atomically and readable by this user only.

use std::path::{Path, PathBuf};

use jhe_engine::audit::Action;
use jhe_engine::cancel::CancelToken;
use jhe_engine::error::Error;
use jhe_engine::jobs::{self, Progress, ReportRequest};
use jhe_engine::report;

use crate::{bar, ctrl_c_cancels, output, spinner_style, Ctx, Failure, Selection};

/// The file written when `--out` is not given, in the current folder.
pub fn default_name(study: u64, patient: Option<u64>) -> PathBuf {
    match patient {
        Some(p) => PathBuf::from(format!("report-study-{study}-participant-{p}.html")),
        None => PathBuf::from(format!("report-study-{study}.html")),
    }
}

pub async fn run(ctx: &Ctx, sel: Selection, out: Option<PathBuf>) -> Result<(), Failure> {
    let req = ReportRequest {
        study_id: sel.study,
        patient: sel.patient,
        from: sel.from,
        to: sel.to,
        parallelism: sel.parallel,
        generated_by: format!("jhe {}", env!("CARGO_PKG_VERSION")),
    };
    let out = out.unwrap_or_else(|| default_name(req.study_id, req.patient));
    if out.is_dir() {
        return Err(Error::InvalidInput(format!(
            "{} is a folder. Give the report's file name, e.g. --out {}.",
            out.display(),
            out.join(default_name(req.study_id, req.patient)).display()
        ))
        .into());
    }
    let s = ctx.session().await?;
    let cancel = CancelToken::new();
    ctrl_c_cancels(&cancel, ctx.quiet);
    let pb = bar(ctx);
    pb.set_style(spinner_style());
    pb.set_message("Reading participants…");
    let pb2 = pb.clone();
    let progress = move |p: Progress| {
        pb2.set_message(format!(
            "Reading participants: {}/{}",
            p.units_done, p.units_total
        ));
    };
    let res = jobs::report_input(&s, &req, progress, cancel).await;
    pb.finish_and_clear();
    let input = res?;
    let (html, stats) = report::render(&input);
    save(&out, &html)?;
    crate::audit::record(
        crate::audit::draft(Action::Report, &s)
            .study(req.study_id)
            .report_of(&input)
            .window(req.from, req.to)
            .rows(stats.observations)
            .written_to(&out),
    );
    if ctx.json {
        output::print_json(&serde_json::json!({ "path": out, "stats": stats }));
    } else {
        ctx.note(&format!(
            "Wrote {} ({} participant(s), {} observations, {} charts, {} findings). Open it in a web browser; print it to PDF from there.",
            out.display(),
            stats.participants,
            stats.observations,
            stats.charts,
            stats.findings
        ));
    }
    Ok(())
}

fn save(path: &Path, html: &str) -> Result<(), Error> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::InvalidInput(format!(
                "Could not create the folder {}: {e}. Choose a folder you can write to (--out).",
                dir.display()
            ))
        })?;
    }
    jhe_engine::export::save_private(path, html.as_bytes()).map_err(|e| {
        Error::InvalidInput(format!(
            "Could not write the report to {}: {e}. Choose a folder you can write to (--out).",
            path.display()
        ))
    })
}
