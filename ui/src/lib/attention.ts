// "Who needs a nudge": rules over the study overview's rows (days since the last upload, counts
// and consent per type, all computed by the Rust side). The coordinator can change the rules;
// they are remembered on this computer.
import type { PatientRow, ScopeType } from '../backend/types';

export interface AttentionRules {
  /** Flag participants whose last upload is more than this many days ago. */
  noUploadDays: number;
  /** Flag participants who never uploaded anything. */
  neverUploaded: boolean;
  /** Flag participants who consented to a type but have no readings of it. */
  consentedNoData: boolean;
  /** Flag participants with a consent still pending. */
  consentPending: boolean;
}

export const DEFAULT_RULES: AttentionRules = {
  noUploadDays: 3,
  neverUploaded: true,
  consentedNoData: true,
  consentPending: true,
};

const KEY = 'jhe.attentionRules';

export function loadRules(storage: Pick<Storage, 'getItem'> | undefined = globalThis.localStorage): AttentionRules {
  try {
    const saved = JSON.parse(storage?.getItem(KEY) ?? 'null') as Partial<AttentionRules> | null;
    if (!saved || typeof saved !== 'object') return { ...DEFAULT_RULES };
    const days = Number(saved.noUploadDays);
    return {
      noUploadDays: Number.isFinite(days) && days >= 1 && days <= 365 ? Math.round(days) : DEFAULT_RULES.noUploadDays,
      neverUploaded: saved.neverUploaded ?? DEFAULT_RULES.neverUploaded,
      consentedNoData: saved.consentedNoData ?? DEFAULT_RULES.consentedNoData,
      consentPending: saved.consentPending ?? DEFAULT_RULES.consentPending,
    };
  } catch {
    return { ...DEFAULT_RULES };
  }
}

export function saveRules(r: AttentionRules, storage: Pick<Storage, 'setItem'> | undefined = globalThis.localStorage): void {
  try {
    storage?.setItem(KEY, JSON.stringify(r));
  } catch {
    // private mode or full: the rules just are not remembered
  }
}

/** One reason a participant needs attention: `text` is short enough for one line of the list,
 * `detail` (when set) the full wording, for the tooltip and screen readers. */
export interface Reason {
  text: string;
  detail?: string;
}

/** "sleep duration, weight" for two types or fewer, else "5 types" with the full list as detail. */
function typesPhrase(prefix: string, names: string[], suffix = ''): Reason {
  const full = `${prefix}${names.join(', ')}${suffix}`;
  return names.length <= 2 ? { text: full } : { text: `${prefix}${names.length} types${suffix}`, detail: full };
}

/** Why a participant needs attention under `rules`, in plain words; empty when they do not. */
export function reasons(p: PatientRow, types: ScopeType[], rules: AttentionRules): Reason[] {
  const out: Reason[] = [];
  const d = p.daysSinceLastUpload;
  if (d === undefined) {
    if (rules.neverUploaded) out.push({ text: 'never uploaded' });
  } else if (d > rules.noUploadDays) {
    out.push({ text: `no upload for ${d} days` });
  }
  const label = (t: ScopeType) => t.label.toLowerCase();
  if (rules.consentedNoData) {
    const empty = types.filter((t) => p.consent[t.code] === 'consented' && (p.counts[t.code] ?? 0) === 0);
    if (empty.length && d !== undefined) out.push(typesPhrase('consented but no data of ', empty.map(label)));
  }
  if (rules.consentPending) {
    const pending = types.filter((t) => p.consent[t.code] === 'pending');
    if (pending.length) out.push(typesPhrase('consent pending for ', pending.map(label)));
  }
  return out;
}
