// What every screen gets from the app shell: the backend, a way to ask for a re-render, a clock
// (tests pin it), and navigation.
import type { Backend, ExportScope, OfflineReview, PatientRow, ScopeType, Session, Study, StudyOverview } from '../backend/types';

export interface ExportTarget {
  scope: ExportScope;
  /** The dialog's heading, e.g. "Export study: CGM & Wearables Demo". */
  title: string;
  /** e.g. "1,200 participants" or "Aarav Berg (participant 40012)". */
  subtitle: string;
  types: ScopeType[];
  /** The identifier systems the participants have (for participants.csv), labelled. */
  identifierSystems?: { system: string; label: string }[];
}

export interface Host {
  readonly backend: Backend;
  readonly session: Session | null;
  readonly offline: { path: string } | null;
  requestUpdate(): void;
  /** Move keyboard focus here after the next render. */
  focusAfterRender(selector: string): void;
  now(): Date;
  signedIn(session: Session): void;
  openedFiles(review: OfflineReview): void;
  openStudy(study: Study): void;
  openParticipant(overview: StudyOverview, row: PatientRow): void;
  back(): void;
  openExport(target: ExportTarget, opener: string): void;
}
