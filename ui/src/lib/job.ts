// Job ids: the UI names each long operation (an export, a study overview) so that
// `Backend.cancelExport(jobId)` can stop it.
export function newJobId(): string {
  return globalThis.crypto?.randomUUID?.() ?? `job-${Date.now()}-${Math.random().toString(36).slice(2)}`;
}
