//! The IPC payloads as TypeScript declarations (ts-rs), in the order of
//! `ui/src/backend/generated/ipc.ts`: every type the commands send or take. `src-tauri`'s
//! `bindings` writes the file and its test fails when the committed file differs.

use ts_rs::TS;

use crate::ipc::*;

fn decl<T: TS>() -> String {
    let docs = T::docs()
        .map(|d| d.trim_end().to_string() + "\n")
        .unwrap_or_default();
    format!("{docs}export {}\n", T::decl())
}

/// Each type's declaration, with its doc comment.
pub fn declarations() -> Vec<String> {
    vec![
        decl::<ErrorKind>(),
        decl::<BackendError>(),
        decl::<ServerCheck>(),
        decl::<SignInMethod>(),
        decl::<SignInKind>(),
        decl::<User>(),
        decl::<Session>(),
        decl::<RecentServer>(),
        decl::<RememberedSignIn>(),
        decl::<Role>(),
        decl::<Organization>(),
        decl::<Study>(),
        decl::<ScopeType>(),
        decl::<ConsentState>(),
        decl::<Identifier>(),
        decl::<PatientRow>(),
        decl::<StudyOverview>(),
        decl::<OverviewProgress>(),
        decl::<DateRange>(),
        decl::<Stats>(),
        decl::<SeriesPoint>(),
        decl::<ChartXAxis>(),
        decl::<Band>(),
        decl::<Metric>(),
        decl::<Profile>(),
        decl::<Summary>(),
        decl::<TypeSeries>(),
        decl::<PatientData>(),
        decl::<RowColumn>(),
        decl::<Cell>(),
        decl::<RowsPage>(),
        decl::<ExportScope>(),
        decl::<ExportFormat>(),
        decl::<ExportLayout>(),
        decl::<DeidentifyShift>(),
        decl::<ExportRequest>(),
        decl::<ExportPhase>(),
        decl::<ExportProgress>(),
        decl::<ExportedFile>(),
        decl::<ExportResult>(),
        decl::<Discarded>(),
        decl::<OfflineReview>(),
        decl::<LocalCopyInfo>(),
        decl::<SyncProgress>(),
        decl::<SyncResult>(),
        decl::<StudyNews>(),
        decl::<ReportRequest>(),
        decl::<ReportWritten>(),
        decl::<ServerAbout>(),
        decl::<AboutInfo>(),
        decl::<UpdateSettings>(),
        decl::<UpdateFound>(),
        decl::<AuditRow>(),
        decl::<AuditCheck>(),
    ]
}
