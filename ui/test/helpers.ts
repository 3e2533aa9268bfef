// Mount the whole app on the fake backend (no latency, pinned clock) and drive it like a user.
import { FakeBackend, type FakeOptions } from '../src/backend/fake';
import type { Backend } from '../src/backend/types';
import { App } from '../src/screens/App';

export const NOW = new Date('2025-06-15T12:00:00Z');

export function fake(opts: FakeOptions = {}): FakeBackend {
  return new FakeBackend({ latencyMs: 0, tickMs: 0, now: NOW, ...opts });
}

export interface Mounted<B extends Backend> {
  app: App;
  root: HTMLElement;
  backend: B;
}

export function mount<B extends Backend>(backend: B): Mounted<B> {
  document.body.innerHTML = '';
  const root = document.createElement('div');
  root.id = 'app';
  document.body.append(root);
  const app = new App(root, backend, { now: () => NOW }).start();
  return { app, root, backend };
}

/** Let pending promises, timers and the render microtask run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setTimeout(r, 0));
}

export async function waitFor<T>(fn: () => T | null | undefined | false, what = 'condition', timeoutMs = 3000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function $(root: ParentNode, sel: string): HTMLElement {
  const el = root.querySelector<HTMLElement>(sel);
  if (!el) throw new Error(`no element matches ${sel}`);
  return el;
}

export function $$(root: ParentNode, sel: string): HTMLElement[] {
  return Array.from(root.querySelectorAll<HTMLElement>(sel));
}

export function button(root: ParentNode, text: string | RegExp): HTMLButtonElement {
  const b = $$(root, 'button').find((el) => (typeof text === 'string' ? el.textContent!.trim().includes(text) : text.test(el.textContent!)));
  if (!b) throw new Error(`no button with text ${String(text)}`);
  return b as HTMLButtonElement;
}

export function type(input: HTMLElement, value: string): void {
  (input as HTMLInputElement).value = value;
  input.dispatchEvent(new Event('input', { bubbles: true }));
}

export function choose(select: HTMLElement, value: string): void {
  (select as HTMLSelectElement).value = value;
  select.dispatchEvent(new Event('change', { bubbles: true }));
}

export function text(root: ParentNode = document.body): string {
  return (root as HTMLElement).textContent!.replace(/\s+/g, ' ');
}

/** Signs in to the demo exchange and opens a study; returns once its table is on screen. */
export async function openStudy(m: Mounted<Backend>, name = 'CGM & Wearables Demo'): Promise<void> {
  button(m.root, 'Explore the demo exchange').click();
  await waitFor(() => m.root.querySelector('.study-card'), 'studies');
  button(m.root, name).click();
  await waitFor(() => m.root.querySelector('[role="table"]'), 'participants table');
}
