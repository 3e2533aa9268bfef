// The About dialog (from the header on every screen), "Copy diagnostics" and the opt-in question
// about checking for new versions, against the fake backend.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { $, button, fake, mount, settle, text, waitFor } from './helpers';

// Node's fs, without @types/node (as in chart-colours.test.ts); vitest runs in ui/.
const node = (globalThis as unknown as {
  process: { cwd(): string; getBuiltinModule(id: 'node:fs'): { readFileSync(path: string, encoding: 'utf8'): string } };
}).process;

function stubClipboard(): ReturnType<typeof vi.fn> {
  const writeText = vi.fn(async (_text: string) => {});
  Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
  return writeText;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('About', () => {
  it('opens from the header on the sign-in screen and shows the version', async () => {
    const m = mount(fake());
    await settle();
    $(m.root, '#open-about').click();
    await waitFor(() => m.root.querySelector('.about-version'), 'about dialog');
    const dialog = $(m.root, '[role="dialog"]');
    expect(dialog.getAttribute('aria-labelledby')).toBe('about-title');
    expect(text($(m.root, '.about-version'))).toBe('0.1.0');
    expect(text(dialog)).toContain('from commit preview');
    expect(text($(m.root, '.about-server'))).toContain('Not signed in.');
    expect($(m.root, '.screen').hasAttribute('inert')).toBe(true);
    button(m.root, 'Close').click();
    await settle();
    expect(m.root.querySelector('[role="dialog"]')).toBeNull();
    expect(document.activeElement).toBe($(m.root, '#open-about'));
  });

  it('shows the server and its JHE version once signed in, and is on every screen', async () => {
    const m = mount(fake());
    button(m.root, 'Explore the demo exchange').click();
    await waitFor(() => m.root.querySelector('.study-card'), 'studies');
    $(m.root, '#open-about').click();
    await waitFor(() => m.root.querySelector('.about-version'), 'about dialog');
    expect(text($(m.root, '.about-server'))).toContain('Signed in to the built-in demo exchange (127.0.0.1)');
    expect(text($(m.root, '.server-version'))).toBe('v0.0.13');
  });

  it('says "not reported" when the server reports no version', async () => {
    const m = mount(fake({ remembered: { server: 'https://jhe.example.org', name: 'Mary Manager', method: 'apiKey' } }));
    await waitFor(() => text(m.root).includes('Continue as'), 'continue');
    button(m.root, 'Continue as').click();
    await waitFor(() => m.root.querySelector('.study-card'), 'studies');
    $(m.root, '#open-about').click();
    await waitFor(() => m.root.querySelector('.server-version'), 'about dialog');
    expect(text($(m.root, '.about-server'))).toContain('jhe.example.org');
    expect(text($(m.root, '.server-version'))).toBe('not reported');
  });

  it('copies diagnostics with the error kinds but not what the errors said', async () => {
    const writeText = stubClipboard();
    const m = mount(fake());
    m.backend.failNext('startDemo', { kind: 'network', message: 'Could not reach the server for participant Jane Doe.' });
    button(m.root, 'Explore the demo exchange').click();
    await waitFor(() => m.root.querySelector('[data-kind="network"]'), 'error notice');
    button(m.root, 'Explore the demo exchange').click();
    await waitFor(() => m.root.querySelector('.study-card'), 'studies');
    $(m.root, '#open-about').click();
    await waitFor(() => m.root.querySelector('.about-version'), 'about dialog');
    $(m.root, '#copy-diagnostics').click();
    await waitFor(() => m.root.querySelector('[role="status"]'), 'copied');
    expect(text($(m.root, '[role="status"]'))).toContain('Copied');
    expect(writeText).toHaveBeenCalledTimes(1);
    expect(writeText.mock.calls[0]![0]).toBe(
      [
        'JHE Desktop 0.1.0',
        'Commit: preview',
        'Built: 2025-06-15',
        'System: Browser preview any',
        'Web view: not reported',
        'Server: 127.0.0.1 (demo exchange), JHE version v0.0.13',
        'Recent error kinds (oldest first): network',
        '',
      ].join('\n'),
    );
    expect(writeText.mock.calls[0]![0]).not.toContain('Jane');
  });

  it('shows the text to copy by hand when the clipboard cannot be used', async () => {
    Object.defineProperty(navigator, 'clipboard', {
      value: { writeText: vi.fn(async () => Promise.reject(new Error('denied'))) },
      configurable: true,
    });
    const m = mount(fake());
    $(m.root, '#open-about').click();
    await waitFor(() => m.root.querySelector('.about-version'), 'about dialog');
    $(m.root, '#copy-diagnostics').click();
    await waitFor(() => m.root.querySelector('textarea.diagnostics'), 'fallback text');
    expect(($(m.root, 'textarea.diagnostics') as HTMLTextAreaElement).value).toContain('JHE Desktop 0.1.0');
  });

  it('lists the licences of the bundled packages', async () => {
    const list = node.getBuiltinModule('node:fs').readFileSync(`${node.cwd()}/public/licenses.json`, 'utf8');
    const fetchMock = vi.fn(async () => new Response(list, { status: 200 }));
    vi.stubGlobal('fetch', fetchMock);
    const m = mount(fake());
    $(m.root, '#open-about').click();
    await waitFor(() => m.root.querySelector('.about-version'), 'about dialog');
    $(m.root, '#show-licenses').click();
    await waitFor(() => m.root.querySelector('#licenses li'), 'licences');
    expect(fetchMock).toHaveBeenCalledWith('licenses.json');
    const names = Array.from(m.root.querySelectorAll('#licenses .pkg')).map((e) => e.textContent!);
    expect(names.some((n) => n.startsWith('lit-html '))).toBe(true);
    expect(names.some((n) => n.startsWith('tauri '))).toBe(true);
    // A licence text is rendered when its package is opened.
    const first = $(m.root, '#licenses details') as HTMLDetailsElement;
    first.open = true;
    first.dispatchEvent(new Event('toggle'));
    await settle();
    expect(first.querySelector('pre, p')).not.toBeNull();
  });
});

describe('Checking for new versions', () => {
  it('asks once, remembers the answer, and checks only after yes', async () => {
    const backend = fake({ updateCheck: null, update: { version: '0.2.0', notes: null } });
    const m = mount(backend);
    await waitFor(() => m.root.querySelector('.update-ask'), 'question');
    expect(text($(m.root, '.update-ask'))).toContain(
      'Check for new versions of JHE Desktop when it starts? It only asks github.com for the latest version number',
    );
    expect(backend.calls.some((c) => c.method === 'checkForUpdate')).toBe(false);
    $(m.root, '#update-yes').click();
    await waitFor(() => m.root.querySelector('.update-found'), 'new version note');
    expect(m.root.querySelector('.update-ask')).toBeNull();
    expect(backend.calls.filter((c) => c.method === 'setUpdateCheck').map((c) => c.args)).toEqual([[true]]);
    expect(text($(m.root, '.update-found'))).toContain('JHE Desktop 0.2.0 is available.');

    // The next launch does not ask again, and checks (the user said yes).
    const again = mount(backend);
    await waitFor(() => again.root.querySelector('.update-found'), 'new version note');
    expect(again.root.querySelector('.update-ask')).toBeNull();
    expect(backend.calls.filter((c) => c.method === 'checkForUpdate')).toHaveLength(2);

    // Switched off in the About dialog.
    $(again.root, '#open-about').click();
    await waitFor(() => again.root.querySelector('#about-update-check'), 'about dialog');
    const box = $(again.root, '#about-update-check') as HTMLInputElement;
    expect(box.checked).toBe(true);
    box.checked = false;
    box.dispatchEvent(new Event('change', { bubbles: true }));
    await settle();
    expect(backend.calls.filter((c) => c.method === 'setUpdateCheck').map((c) => c.args)).toEqual([[true], [false]]);
    const third = mount(backend);
    await settle();
    expect(third.root.querySelector('.update-ask')).toBeNull();
    expect(third.root.querySelector('.update-found')).toBeNull();
    expect(backend.calls.filter((c) => c.method === 'checkForUpdate')).toHaveLength(2);
  });

  it('never checks after no, and asks nothing in a build without an update address', async () => {
    const backend = fake({ updateCheck: null });
    const m = mount(backend);
    await waitFor(() => m.root.querySelector('#update-no'), 'question');
    $(m.root, '#update-no').click();
    await settle();
    expect(m.root.querySelector('.update-ask')).toBeNull();
    mount(backend);
    await settle();
    expect(backend.calls.some((c) => c.method === 'checkForUpdate')).toBe(false);

    const none = fake({ updateCheck: null, updateHost: null });
    const n = mount(none);
    await settle();
    expect(n.root.querySelector('.update-ask')).toBeNull();
    $(n.root, '#open-about').click();
    await waitFor(() => n.root.querySelector('.about-version'), 'about dialog');
    expect(text(n.root)).toContain('This copy of JHE Desktop does not check for new versions.');
  });

  it('does not ask or check by default in the other tests', async () => {
    const backend = fake();
    const m = mount(backend);
    await settle();
    expect(m.root.querySelector('.update-ask')).toBeNull();
    expect(backend.calls.some((c) => c.method === 'checkForUpdate')).toBe(false);
  });
});
