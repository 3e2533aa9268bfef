// One participant: who they are, and one card per data type for the chosen period.
import { html, nothing, type TemplateResult } from 'lit-html';
import { toBackendError, type BackendError, type DateRange, type PatientData, type PatientRow, type StudyOverview } from '../backend/types';
import { date, daysAgo, utc } from '../lib/format';
import { DataTypeCard } from './DataTypeCard';
import { DateRangePicker } from './DateRangePicker';
import { errorNotice } from './ErrorNotice';
import { ReportControl } from './ReportControl';
import type { Host } from './host';
import { displayName, identifierOf, identifierSystems } from './ParticipantsTable';

export class ParticipantScreen {
  data: PatientData | null = null;
  cards: DataTypeCard[] = [];
  loading = false;
  error: BackendError | null = null;
  readonly picker: DateRangePicker;
  readonly report: ReportControl;
  private seq = 0;

  constructor(
    private readonly host: Host,
    private readonly overview: StudyOverview,
    readonly row: PatientRow,
  ) {
    // Offline, "the last 14 days" means the last 14 days in the file, not before today; and a
    // participant whose data ended before the last 14 days opens on their own last 14 days of
    // data (an old study is not an empty screen).
    const offline = host.offline !== null;
    const last = row.lastDate ? new Date(row.lastDate) : null;
    const old = last !== null && host.now().getTime() - last.getTime() > 14 * 86_400_000;
    const anchor = () => ((offline || old) && last ? last : host.now());
    const label = offline ? 'the last day in the files' : old ? `the last data, ${date(row.lastDate)}` : 'today';
    this.picker = new DateRangePicker(anchor, () => host.requestUpdate(), (r) => void this.load(r), '14', label);
    this.report = new ReportControl(
      host,
      () => ({ studyId: this.overview.study.id, patientId: this.row.id, range: this.picker.range() }),
      'participant',
    );
    void this.load(this.picker.range());
  }

  get crumb(): string {
    return displayName(this.row);
  }

  load = async (range: DateRange): Promise<void> => {
    const mine = ++this.seq;
    this.loading = true;
    this.error = null;
    this.host.requestUpdate();
    try {
      const d = await this.host.backend.getPatientData(this.overview.study.id, this.row.id, range);
      if (mine !== this.seq) return; // a newer period was chosen meanwhile
      this.data = d;
      this.cards = d.types.map((s) => new DataTypeCard(this.host, this.row.id, s, range, this.row.consent[s.code]));
    } catch (e) {
      if (mine !== this.seq) return;
      this.error = toBackendError(e);
    }
    this.loading = false;
    this.host.requestUpdate();
  };

  private exportOne = (): void => {
    const r = this.row;
    this.host.openExport(
      {
        scope: { kind: 'patient', patientId: r.id, studyId: this.overview.study.id },
        title: `Export participant: ${displayName(r)}`,
        subtitle: `Participant ${r.id}${identifierOf(r) ? ` · ${identifierOf(r)!.value}` : ''} · ${this.overview.study.name}`,
        types: this.overview.types,
        identifierSystems: identifierSystems([r]),
      },
      '#export-participant',
    );
  };

  render(): TemplateResult {
    const r = this.row;
    const id = identifierOf(r);
    return html`<main class="page participant" aria-labelledby="screen-title" aria-busy=${this.loading ? 'true' : 'false'}>
      <div class="page-head">
        <div>
          <button type="button" class="btn link back" @click=${() => this.host.back()}>
            <span aria-hidden="true">←</span> All participants in ${this.overview.study.name}
          </button>
          <h1 id="screen-title" tabindex="-1">${displayName(r)}</h1>
          <p class="muted">
            Participant ${r.id}${id ? html` · ${id.label} <span class="mono">${id.value}</span>` : nothing} · Data from
            <span title=${utc(r.firstDate) || nothing}>${date(r.firstDate)}</span> to
            <span title=${utc(r.lastDate) || nothing}>${date(r.lastDate)}</span> · Last upload: ${daysAgo(r.daysSinceLastUpload).toLowerCase()}
          </p>
        </div>
        <div class="head-actions">
          ${this.report.button()}
          ${this.host.offline && !this.host.offline.syncedAt
            ? nothing
            : html`<button type="button" id="export-participant" class="btn primary" @click=${this.exportOne}>Export this participant…</button>`}
        </div>
      </div>
      ${this.report.notice()}
      <div class="range-bar">
        ${this.picker.render()}
        <span class="status-inline" role="status" aria-live="polite">
          ${this.loading ? html`<span class="spinner" aria-hidden="true"></span> Updating…` : nothing}
        </span>
      </div>
      ${this.error ? errorNotice(this.error, { retry: () => void this.load(this.picker.range()) }) : nothing}
      <div class="cards">${this.cards.map((c) => c.render())}</div>
    </main>`;
  }
}
