import { describe, expect, it } from 'vitest';
import { $, $$, button, fake, mount, text, waitFor } from './helpers';

describe('Studies', () => {
  it('lists organizations with the user’s role and their studies with participant counts', async () => {
    const m = mount(fake());
    button(m.root, 'Explore the demo exchange').click();
    await waitFor(() => m.root.querySelector('.study-card'), 'studies');
    const orgs = $$(m.root, 'section.org');
    expect(orgs.map((o) => $(o, 'h2').textContent)).toEqual([
      'Planetary Research Institute',
      'Saturn School of Data Science',
      'Lifespan Lab',
    ]);
    // The role is a word (with "Your role:" for screen readers), not just a colour.
    expect(orgs.map((o) => text($(o, '.badge')).trim())).toEqual(['Your role: Manager', 'Your role: Member', 'Your role: Viewer']);
    const cgm = $(m.root, '[data-study="30006"]');
    expect(text(cgm)).toContain('CGM & Wearables Demo');
    expect(text(cgm)).toContain('1,200 participants');
    expect($$(m.root, '.study-card')).toHaveLength(3);
    // The heading takes focus so screen-reader users hear where they are.
    expect(document.activeElement).toBe($(m.root, '#screen-title'));
  });

  it('shows what went wrong and retries', async () => {
    const backend = fake().failNext('listStudies', { kind: 'server', message: 'The server had a problem (502 Bad Gateway).' });
    const m = mount(backend);
    button(m.root, 'Explore the demo exchange').click();
    await waitFor(() => m.root.querySelector('[data-kind="server"]'), 'error');
    expect(text(m.root)).toContain('The server had a problem (502 Bad Gateway).');
    expect(text(m.root)).toContain('What to do: Wait a few minutes and try again.');
    button(m.root, 'Try again').click();
    await waitFor(() => m.root.querySelector('.study-card'), 'studies after retry');
    expect(m.root.querySelector('[data-kind="server"]')).toBeNull();
  });

  it('keeps the demo banner on every screen and signs out', async () => {
    const m = mount(fake());
    button(m.root, 'Explore the demo exchange').click();
    await waitFor(() => m.root.querySelector('.study-card'), 'studies');
    expect(m.root.querySelector('.banner.demo')).not.toBeNull();
    button(m.root, 'Sign out').click();
    await waitFor(() => m.root.querySelector('#server-url'), 'sign-in screen');
    expect(m.backend.calls.some((c) => c.method === 'signOut')).toBe(true);
  });

  it('cancels reading a study and goes back to the studies', async () => {
    const m = mount(fake({ latencyMs: 50 }));
    button(m.root, 'Explore the demo exchange').click();
    await waitFor(() => m.root.querySelector('.study-card'), 'studies');
    button(m.root, 'CGM & Wearables Demo').click();
    await waitFor(() => m.root.querySelector('#overview-cancel'), 'the cancel button while reading');
    ($(m.root, '#overview-cancel') as HTMLButtonElement).click();
    await waitFor(() => m.root.querySelector('.study-card'), 'back to the studies');
    const call = m.backend.calls.find((c) => c.method === 'cancelExport');
    expect(call).toBeTruthy();
    expect(m.root.querySelector('[role="table"]')).toBeNull();
    expect(m.root.querySelector('[data-kind="cancelled"]')).toBeNull();
  });
});

