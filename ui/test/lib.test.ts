import { describe, expect, it } from 'vitest';
import indexHtml from '../index.html?raw';
import type { ErrorKind } from '../src/backend/types';
import { ERROR_HELP, helpFor } from '../src/lib/errors';
import { bytes, daysAgo } from '../src/lib/format';
import { sanitizeSvg } from '../src/lib/sanitize-svg';
import { virtualWindow } from '../src/lib/virtual';

describe('sanitizeSvg', () => {
  it('keeps drawing and drops everything that could run', () => {
    const svg = sanitizeSvg(`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" onload="alert(1)">
      <script>alert(2)</script>
      <foreignObject><div xmlns="http://www.w3.org/1999/xhtml"><img src="x" onerror="alert(3)"/></div></foreignObject>
      <style>@import url(https://evil.example)</style>
      <a href="javascript:alert(4)"><text>link</text></a>
      <use xlink:href="https://evil.example/x.svg#a"/>
      <use href="#local"/>
      <path d="M0 0L1 1" stroke="blue" onmouseover="alert(5)" style="fill: url(https://evil.example)"/>
      <animate attributeName="href" to="javascript:alert(6)"/>
      <text x="1" y="2">mg/dL</text>
    </svg>`)!;
    const out = svg.outerHTML;
    expect(out).not.toMatch(/alert|javascript|evil|script|foreignObject|<style|<animate|onload|onmouseover/i);
    expect(svg.querySelector('path')!.getAttribute('d')).toBe('M0 0L1 1');
    expect(svg.querySelector('text')!.textContent).toBe('link');
    expect(svg.querySelectorAll('use')[1]!.getAttribute('href')).toBe('#local');
    expect(out).toContain('mg/dL');
  });

  it('refuses what is not SVG', () => {
    expect(sanitizeSvg('<html><body>hi</body></html>')).toBeNull();
    expect(sanitizeSvg('<svg><unclosed></svg>')).toBeNull();
  });
});

describe('virtualWindow', () => {
  it('covers the viewport plus a margin and never runs past the ends', () => {
    expect(virtualWindow(1200, 40, 0, 400, 5)).toEqual({ start: 0, end: 15, offset: 0, height: 48_000 });
    expect(virtualWindow(1200, 40, 40_000, 400, 5)).toEqual({ start: 995, end: 1015, offset: 39_800, height: 48_000 });
    expect(virtualWindow(1200, 40, 47_800, 400, 5).end).toBe(1200);
    expect(virtualWindow(0, 40, 0, 400).end).toBe(0);
  });
});

describe('errors', () => {
  it('has a title and a next step for every kind the UI or the engine can send', () => {
    // Every kind Rust can send (ErrorKind is generated from Rust: tsc fails when one is missing here).
    const every: Record<ErrorKind, true> = {
      invalid_url: true, insecure_url: true, not_jhe: true, network: true, forbidden: true, server: true, cancelled: true, io: true,
      unreachable: true, sign_in_failed: true, sign_in_again: true, not_signed_in: true, patient_account: true, not_found: true,
      rate_limited: true, rejected: true, bad_response: true, keychain: true, invalid_input: true, export: true, internal: true,
      local_copy: true, passphrase: true,
    };
    const kinds = Object.keys(every) as ErrorKind[];
    expect(kinds).toHaveLength(23);
    for (const k of kinds) {
      expect(ERROR_HELP[k], k).toBeDefined();
      expect(ERROR_HELP[k]!.next.length).toBeGreaterThan(20);
    }
    expect(helpFor({ kind: 'brand_new_kind', message: 'x' }).next).toContain('Try again');
  });

  it('speaks plain language', () => {
    const all = Object.values(ERROR_HELP).map((h) => `${h.title} ${h.next}`).join(' ');
    expect(all).not.toMatch(/\b(FHIR|OMH|scope|token|HTTP|40\d|50\d)\b/);
  });
});

describe('format', () => {
  it('says sizes and ages in words', () => {
    expect(bytes(512)).toBe('512 bytes');
    expect(bytes(7_741_440)).toBe('7.4 MB');
    expect(daysAgo(undefined)).toBe('Never');
    expect(daysAgo(0)).toBe('Today');
    expect(daysAgo(1)).toBe('Yesterday');
    expect(daysAgo(5)).toBe('5 days ago');
  });
});

describe('index.html', () => {
  it('has a strict CSP that Tauri can work with, and no inline script', () => {
    const csp = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(indexHtml)![1]!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("img-src 'self' data:");
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
    expect(csp).toContain('connect-src \'self\' ipc: http://ipc.localhost');
    expect(csp).not.toMatch(/unsafe-eval|script-src[^;]*unsafe-inline|https?:\/\/(?!ipc\.localhost)/);
    expect(indexHtml).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });
});
