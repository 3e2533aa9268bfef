import { describe, expect, it } from 'vitest';
import type { BackendError, ErrorKind } from '../src/backend/types';
import { ERROR_HELP } from '../src/lib/errors';
import { $, button, fake, mount, settle, text, type, waitFor } from './helpers';

describe('Sign in', () => {
  it('signs in with an API key and shows the studies', async () => {
    const m = mount(fake());
    type($(m.root, '#server-url'), 'jhe.example.org');
    button(m.root, 'Use an API key').click();
    await settle();
    const key = $(m.root, '#api-key') as HTMLInputElement;
    expect(key.type).toBe('password');
    expect(text($(m.root, '#api-key-hint'))).toContain('In JHE: Profile → API Key');
    expect(document.activeElement).toBe(key);
    type(key, 'a-long-practitioner-key');
    button(m.root, /^\s*Sign in\s*$/).click();
    await waitFor(() => m.root.querySelector('.study-card'), 'studies');
    expect($(m.root, 'h1').textContent).toBe('Your studies');
    expect(m.backend.calls.map((c) => c.method)).toEqual(expect.arrayContaining(['checkServer', 'signIn']));
    const signIn = m.backend.calls.find((c) => c.method === 'signIn')!;
    // The address is normalised by checkServer before it is used.
    expect(signIn.args).toEqual(['https://jhe.example.org', { kind: 'apiKey', apiKey: 'a-long-practitioner-key' }]);
  });

  it('signs in with the browser', async () => {
    const m = mount(fake());
    type($(m.root, '#server-url'), 'https://jhe.example.org');
    button(m.root, 'Sign in with your browser').click();
    await waitFor(() => m.root.querySelector('.study-card'), 'studies');
    expect(m.backend.calls.find((c) => c.method === 'signIn')!.args[1]).toEqual({ kind: 'browser' });
  });

  it('lets the user stop waiting for the browser', async () => {
    const m = mount(fake({ latencyMs: 30 }));
    type($(m.root, '#server-url'), 'https://jhe.example.org');
    button(m.root, 'Sign in with your browser').click();
    await waitFor(() => text(m.root).includes('Finish signing in in the browser'), 'browser hint');
    button(m.root, 'Cancel').click();
    await waitFor(() => m.root.querySelector('[data-kind="cancelled"]'), 'cancelled notice');
    expect(text(m.root)).toContain('Sign-in was cancelled.');
    expect(m.root.querySelector('.study-card')).toBeNull();
  });

  it('asks for the address before anything else', async () => {
    const m = mount(fake());
    button(m.root, 'Use an API key').click();
    await settle();
    expect(text($(m.root, '#server-url-error'))).toContain('Type the address');
    expect($(m.root, '#server-url').getAttribute('aria-invalid')).toBe('true');
    expect(m.root.querySelector('#api-key')).toBeNull();
  });

  it.each([
    ['http://jhe.example.org', 'insecure_url'],
    ['not a server', 'invalid_url'],
    ['https://offline.example.org', 'network'],
    ['https://www.example.org', 'not_jhe'],
  ] as [string, ErrorKind][])('explains what is wrong with %s (%s)', async (url, kind) => {
    const m = mount(fake());
    type($(m.root, '#server-url'), url);
    button(m.root, 'Sign in with your browser').click();
    const note = await waitFor(() => m.root.querySelector(`#server-url-error[data-kind="${kind}"]`), kind);
    expect(note.getAttribute('role')).toBe('alert');
    expect(text(note)).toContain(ERROR_HELP[kind]!.next);
  });

  const kinds: ErrorKind[] = [
    'invalid_url', 'insecure_url', 'not_jhe', 'network', 'forbidden', 'server', 'cancelled', 'io',
    'unreachable', 'sign_in_failed', 'sign_in_again', 'patient_account', 'rate_limited', 'bad_response', 'keychain', 'internal',
  ];
  it.each(kinds)('shows the message and a next step for %s', async (kind) => {
    const backend = fake();
    const err: BackendError = { kind, message: `Plain words from Rust about ${kind}.` };
    backend.failNext('signIn', err);
    const m = mount(backend);
    type($(m.root, '#server-url'), 'https://jhe.example.org');
    button(m.root, 'Use an API key').click();
    await settle();
    type($(m.root, '#api-key'), 'a-long-practitioner-key');
    button(m.root, /^\s*Sign in\s*$/).click();
    const note = await waitFor(() => m.root.querySelector<HTMLElement>(`[data-kind="${kind}"]`), kind);
    const help = ERROR_HELP[kind]!;
    expect(text(note)).toContain(err.message);
    expect(text(note)).toContain(help.title);
    expect(text(note)).toContain(`What to do: ${help.next}`);
    expect(note.getAttribute('role')).toBe('alert');
    // Errors about the key sit under the key field, errors about the address under the address.
    if (['sign_in_failed', 'patient_account'].includes(kind)) expect(note.id).toBe('api-key-error');
    if (['invalid_url', 'insecure_url', 'not_jhe', 'network', 'unreachable'].includes(kind)) expect(note.id).toBe('server-url-error');
  });

  it('rejects a wrong key with the key field marked', async () => {
    const m = mount(fake());
    type($(m.root, '#server-url'), 'https://jhe.example.org');
    button(m.root, 'Use an API key').click();
    await settle();
    type($(m.root, '#api-key'), 'short');
    button(m.root, /^\s*Sign in\s*$/).click();
    await waitFor(() => m.root.querySelector('#api-key-error'), 'key error');
    expect($(m.root, '#api-key').getAttribute('aria-invalid')).toBe('true');
    expect($(m.root, '#api-key').getAttribute('aria-describedby')).toContain('api-key-error');
  });

  it('trims an address pasted from the browser bar to the server and says so', async () => {
    const m = mount(fake());
    type($(m.root, '#server-url'), 'https://jhe.example.org/portal/studies');
    button(m.root, 'Use an API key').click();
    await settle();
    type($(m.root, '#api-key'), 'short');
    button(m.root, /^\s*Sign in\s*$/).click();
    await waitFor(() => m.root.querySelector('#api-key-error'), 'key error');
    expect(($(m.root, '#server-url') as HTMLInputElement).value).toBe('https://jhe.example.org');
    expect(text($(m.root, '#server-url-trimmed'))).toContain("Using https://jhe.example.org, the server's own address");
  });

  it('fills the address from a recent server', async () => {
    const m = mount(fake());
    await waitFor(() => m.root.querySelector('.chip'), 'recent servers');
    (m.root.querySelector('.chip') as HTMLElement).click();
    await settle();
    expect(($(m.root, '#server-url') as HTMLInputElement).value).toBe('https://jhe.example.org');
    // It was last used with an API key, so the key field is ready.
    expect(m.root.querySelector('#api-key')).not.toBeNull();
  });

  it('opens the demo exchange without an account', async () => {
    const backend = fake();
    // As inside the app window: the demo banner comes from the session, not from the fake.
    Object.defineProperty(backend, 'label', { value: 'tauri' });
    const m = mount(backend);
    expect(text(m.root)).toMatch(/no account needed/i);
    button(m.root, 'Explore the demo exchange').click();
    await waitFor(() => m.root.querySelector('.study-card'), 'studies');
    expect(m.backend.calls.some((c) => c.method === 'startDemo')).toBe(true);
    const banner = $(m.root, '.banner.demo');
    expect(text(banner)).toContain('Demo data');
    expect(text(banner)).not.toContain('offline preview');
  });

  it('labels the browser preview as demo data', () => {
    const m = mount(fake());
    expect(text($(m.root, '.banner.demo'))).toContain('Demo data (offline preview)');
  });

  it('uses plain words only', () => {
    const m = mount(fake());
    expect(text(m.root)).not.toMatch(/\b(FHIR|OMH|scope|token)\b/i);
  });

  describe('coming back', () => {
    const KEPT = { server: 'https://jhe.example.org', name: 'Mary Manager', method: 'apiKey' } as const;

    it('offers "Continue as …" for a kept sign-in and reaches the studies without the key', async () => {
      const m = mount(fake({ remembered: KEPT }));
      const go = await waitFor(() => m.root.querySelector<HTMLButtonElement>('#continue-sign-in'), 'continue button');
      expect(text(go).trim()).toBe('Continue as Mary Manager');
      expect(text(m.root)).toContain('jhe.example.org');
      expect(document.activeElement).toBe(go);
      expect(m.root.querySelector('#api-key')).toBeNull();
      go.click();
      await waitFor(() => m.root.querySelector('.study-card'), 'studies');
      expect(m.backend.calls.find((c) => c.method === 'continueSignIn')!.args).toEqual(['https://jhe.example.org']);
      expect(m.backend.calls.some((c) => c.method === 'signIn')).toBe(false);
    });

    it('a restart after a sign-in offers to continue; after "Sign out" it does not', async () => {
      const backend = fake();
      let m = mount(backend);
      type($(m.root, '#server-url'), 'https://jhe.example.org');
      button(m.root, 'Use an API key').click();
      await settle();
      type($(m.root, '#api-key'), 'a-long-practitioner-key');
      button(m.root, /^\s*Sign in\s*$/).click();
      await waitFor(() => m.root.querySelector('.study-card'), 'studies');
      // The window closes and opens again (the same keychain).
      m = mount(backend);
      await waitFor(() => m.root.querySelector('#continue-sign-in'), 'continue after a restart');
      button(m.root, 'Continue as').click();
      await waitFor(() => m.root.querySelector('.study-card'), 'studies again');
      button(m.root, 'Sign out').click();
      await waitFor(() => m.root.querySelector('#server-url'), 'the sign-in form');
      await settle();
      expect(m.root.querySelector('#continue-sign-in')).toBeNull();
      m = mount(backend);
      await settle();
      expect(m.root.querySelector('#continue-sign-in')).toBeNull();
      expect(m.root.querySelector('#server-url')).not.toBeNull();
    });

    it('"Sign in as someone else" shows the form with the address filled in', async () => {
      const m = mount(fake({ remembered: KEPT }));
      await waitFor(() => m.root.querySelector('#sign-in-other'), 'someone else');
      button(m.root, 'Sign in as someone else').click();
      await settle();
      const url = $(m.root, '#server-url') as HTMLInputElement;
      expect(url.value).toBe('https://jhe.example.org');
      expect(document.activeElement).toBe(url);
      expect(m.root.querySelector('#continue-sign-in')).toBeNull();
    });

    it('a kept sign-in the server no longer accepts shows the form, the address and the reason', async () => {
      const backend = fake({ remembered: KEPT });
      backend.failNext('continueSignIn', { kind: 'sign_in_again', message: 'Your sign-in has expired. Sign in again.' });
      const m = mount(backend);
      (await waitFor(() => m.root.querySelector<HTMLButtonElement>('#continue-sign-in'), 'continue')).click();
      const note = await waitFor(() => m.root.querySelector<HTMLElement>('[data-kind="sign_in_again"]'), 'the reason');
      expect(text(note)).toContain('Your sign-in has expired');
      expect(($(m.root, '#server-url') as HTMLInputElement).value).toBe('https://jhe.example.org');
      expect(document.activeElement).toBe($(m.root, '#api-key'));
    });

    it('fills in the last server and puts the cursor in the address field at launch', async () => {
      const m = mount(fake());
      await settle();
      expect(document.activeElement).toBe($(m.root, '#server-url'));
      await waitFor(() => ($(m.root, '#server-url') as HTMLInputElement).value, 'the last address');
      expect(($(m.root, '#server-url') as HTMLInputElement).value).toBe('https://jhe.example.org');
    });

    it('says when the sign-in could not be kept (no keychain), until the user closes the note', async () => {
      const m = mount(fake({ keychain: false }));
      type($(m.root, '#server-url'), 'https://jhe.example.org');
      button(m.root, 'Use an API key').click();
      await settle();
      type($(m.root, '#api-key'), 'a-long-practitioner-key');
      button(m.root, /^\s*Sign in\s*$/).click();
      await waitFor(() => m.root.querySelector('.study-card'), 'studies');
      expect(text($(m.root, '.banner.warn'))).toContain('you will need your key again next time');
      $(m.root, '#dismiss-not-kept').click();
      await settle();
      expect(m.root.querySelector('.banner.warn')).toBeNull();
      m.app.signOut();
      await settle();
      expect(m.root.querySelector('#continue-sign-in')).toBeNull();
    });
  });
});
