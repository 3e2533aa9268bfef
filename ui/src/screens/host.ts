// What every screen gets from the app shell: the backend, a way to ask for a re-render, a clock
// (tests pin it), and navigation.
import type { Backend, ExportScope, OfflineReview, PatientRow, ScopeType, Session, Study, StudyNews, StudyOverview } from '../backend/types';

export interface ExportTarget {
  scope: ExportScope;
  /** The dialog's heading, e.g. "Export study: CGM & Wearables Demo". */
  title: string;
  /** e.g. "1,200 participants" or "Aarav Berg (participant 40012)". */
  subtitle: string;
  types: ScopeType[];
  /** The identifier systems the participants have (for participants.csv), labelled. */
  identifierSystems?: { system: string; label: string }[];
  /** The study is saved on this computer (the export is made from its copy unless asked). */
  saved?: boolean;
}

export interface Host {
  readonly backend: Backend;
  readonly session: Session | null;
  /** Files under review, or a study's local copy opened without network (`syncedAt` set). */
  readonly offline: { path: string; syncedAt?: string } | null;
  /** What the background check found, by study id (the study list's badges). */
  readonly news: ReadonlyMap<number, StudyNews>;
  requestUpdate(): void;
  /** Move keyboard focus here after the next render. */
  focusAfterRender(selector: string): void;
  now(): Date;
  signedIn(session: Session): void;
  openedFiles(review: OfflineReview): void;
  openStudy(study: Study): void;
  /** The user opened this study: its news badge goes. */
  seenNews(studyId: number): void;
  openParticipant(overview: StudyOverview, row: PatientRow): void;
  back(): void;
  openExport(target: ExportTarget, opener: string): void;
}
