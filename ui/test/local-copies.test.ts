// The study kept on this computer: saved when first opened, shown from the copy the next time
// with how fresh it is, opened from the sign-in screen without network, removed on request or at
// sign-out; and the background check's news on the study list.
import { describe, expect, it } from 'vitest';
import { $, button, choose, fake, mount, NOW, text, type, waitFor } from './helpers';

const SERVER = 'https://jhe.example.org';

async function signIn(m: ReturnType<typeof mount>): Promise<void> {
  type($(m.root, '#server-url'), SERVER);
  button(m.root, 'Use an API key').click();
  await waitFor(() => m.root.querySelector('#api-key'), 'the key field');
  type($(m.root, '#api-key'), 'a-long-practitioner-key');
  button(m.root, 'Sign in').click();
  await waitFor(() => m.root.querySelector('.study-card'), 'studies');
}

async function openCgm(m: ReturnType<typeof mount>): Promise<void> {
  $(m.root, '[data-study="30006"]').click();
  await waitFor(() => m.root.querySelector('[role="table"]'), 'participants table');
}

describe('local study copies', () => {
  it('saves a study on this computer when it is opened, and shows it from the copy the next time', async () => {
    const m = mount(fake());
    await signIn(m);
    await openCgm(m);
    // The first open: the table from the server, the copy made in the background.
    await waitFor(() => m.root.querySelector('#remove-copy'), 'the saved status');
    const status = text($(m.root, '.copy-status'));
    expect(status).toContain('Saved on this computer for offline use · last synced just now');
    expect(status).toMatch(/\+[\d,]+ readings from 1,200 participants, 0 removed/);
    expect(status).toMatch(/\d+(\.\d)? MB/);
    expect(m.backend.calls.filter((c) => c.method === 'syncStudy')).toHaveLength(1);

    // Back to the studies: the card says it is saved, with its size; a second open is from the copy.
    button(m.root, 'Studies').click();
    await waitFor(() => m.root.querySelector('[data-saved="30006"]'), 'the saved note on the card');
    expect(text($(m.root, '[data-saved="30006"]'))).toMatch(/Saved on this computer · [\d.]+ MB · synced just now/);
    await openCgm(m);
    await waitFor(() => m.backend.calls.filter((c) => c.method === 'syncStudy').length === 2 && m.root.querySelector('#remove-copy'), 'the second sync');
    expect(text($(m.root, '.copy-status'))).toContain('+0 readings from 0 participants, 0 removed');

    // "Remove local copy" deletes it and says so.
    ($(m.root, '#remove-copy') as HTMLButtonElement).click();
    await waitFor(() => /was removed/.test(text($(m.root, '.copy-status'))), 'removed');
    expect(m.backend.calls.some((c) => c.method === 'removeLocalCopy' && (c.args as unknown[])[1] === 30006)).toBe(true);
    expect(await m.backend.localCopies()).toHaveLength(0);
  });

  it('opens a saved study from the sign-in screen without network, marked offline with when it was synced', async () => {
    const backend = fake();
    let m = mount(backend);
    await signIn(m);
    await openCgm(m);
    await waitFor(() => m.root.querySelector('#remove-copy'), 'saved');
    // The app starts again (the same fake "computer"): the sign-in screen lists the saved study.
    m = mount(backend);
    await waitFor(() => m.root.querySelector('[data-copy="30006"]'), 'the saved study on the sign-in screen');
    expect(text(m.root)).toContain('Studies on this computer');
    expect(text(m.root)).toMatch(/jhe\.example\.org · 1,200 participants · synced just now · [\d.]+ MB/);
    $(m.root, '[data-copy="30006"]').click();
    await waitFor(() => m.root.querySelector('[role="table"]'), 'the study from its copy');
    const banner = text($(m.root, '.banner.offline'));
    expect(banner).toContain('Offline — last synced just now.');
    expect(banner).toContain('nothing is downloaded');
    // A copy keeps consent (exports do not): the consent filter is there.
    expect(m.root.querySelector('#consent-filter')).not.toBeNull();
    // Nothing is synced while offline.
    expect(m.root.querySelector('.copy-status')).toBeNull();
    expect(NOW).toBeTruthy();
  });

  it('asks at sign-out whether to delete the local copies, and deletes them when asked', async () => {
    const m = mount(fake());
    await signIn(m);
    await openCgm(m);
    await waitFor(() => m.root.querySelector('#remove-copy'), 'saved');
    $(m.root, '#sign-out').click();
    await waitFor(() => m.root.querySelector('#signout-delete'), 'the question');
    expect(text(m.root)).toContain('Also delete the local copy of this study from this computer?');
    expect(m.backend.calls.some((c) => c.method === 'signOut')).toBe(false);
    $(m.root, '#signout-delete').click();
    await waitFor(() => m.root.querySelector('#server-url'), 'the sign-in screen');
    expect(m.backend.calls.some((c) => c.method === 'removeServerCopies')).toBe(true);
    expect(m.backend.calls.some((c) => c.method === 'signOut')).toBe(true);
    expect(m.root.querySelector('[data-copy]')).toBeNull();
  });

  it('shows the background check’s news as a badge on the study, gone once the study is opened; the check interval is adjustable', async () => {
    const backend = fake();
    const m = mount(backend);
    await signIn(m);
    await openCgm(m);
    await waitFor(() => m.root.querySelector('#remove-copy'), 'saved');
    button(m.root, 'Studies').click();
    await waitFor(() => m.root.querySelector('#sync-every'), 'the interval control');
    expect(($(m.root, '#sync-every') as HTMLSelectElement).value).toBe('15');
    choose($(m.root, '#sync-every'), '60');
    await waitFor(() => m.backend.calls.some((c) => c.method === 'setSyncEvery' && (c.args as unknown[])[0] === 60), 'the new interval');
    choose($(m.root, '#sync-every'), '0');
    await waitFor(() => m.backend.calls.some((c) => c.method === 'setSyncEvery' && (c.args as unknown[])[0] === 0), 'off');
    expect(await backend.syncEvery()).toBe(0);

    backend.addNews({ studyId: 30006, studyName: 'CGM & Wearables Demo', added: 12, participants: 3, stoppedUploading: 2, text: '12 new readings from 3 participants; 2 participants stopped uploading' });
    await waitFor(() => m.root.querySelector('[data-news="30006"]'), 'the badge', 8000);
    expect(text($(m.root, '[data-news="30006"]'))).toBe('12 new readings from 3 participants; 2 participants stopped uploading');
    await openCgm(m);
    button(m.root, 'Studies').click();
    await waitFor(() => m.root.querySelector('.study-card'), 'studies');
    expect(m.root.querySelector('[data-news="30006"]')).toBeNull();
    expect(await backend.studyNews()).toHaveLength(0);
  }, 15_000);
});
