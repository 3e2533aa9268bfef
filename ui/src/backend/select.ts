// One decision at startup: inside the Tauri window talk to Rust; anywhere else (a plain browser
// running `npm run dev`, a test) use the in-memory fake, which the UI labels as demo data.
import type { Backend } from './types';

export function inTauri(w: unknown = globalThis): boolean {
  return typeof w === 'object' && w !== null && '__TAURI_INTERNALS__' in w;
}

export async function pickBackend(w: unknown = globalThis): Promise<Backend> {
  if (inTauri(w)) {
    const { TauriBackend } = await import('./tauri');
    return new TauriBackend();
  }
  const { FakeBackend } = await import('./fake');
  return new FakeBackend();
}
