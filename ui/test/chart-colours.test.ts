// The charts' colours have one home, crates/jhe-engine/src/chart/paint.rs (`Paint`: a CSS custom
// property and its light and dark values), whose Rust test checks WCAG AA contrast against the
// card background and the chart text colour it states. styles.css declares the same properties
// and backgrounds; this test keeps the two files from drifting apart.
import { describe, expect, it } from 'vitest';

// Node's fs, without @types/node (Vite will not import a file outside ui/).
const fs = (globalThis as unknown as { process: { getBuiltinModule(id: 'node:fs'): { readFileSync(path: URL, encoding: 'utf8'): string } } }).process.getBuiltinModule('node:fs');
const read = (rel: string) => fs.readFileSync(new URL(rel, import.meta.url), 'utf8');
const css = read('../src/styles.css');
// The paints, and the backgrounds the Rust contrast test (in draw.rs) assumes.
const draw = read('../../crates/jhe-engine/src/chart/paint.rs') + read('../../crates/jhe-engine/src/chart/draw.rs');

/** `--name: value;` declarations of one block. */
function vars(block: string): Map<string, string> {
  return new Map([...block.matchAll(/(--[a-z0-9-]+)\s*:\s*([^;]+);/gi)].map((m) => [m[1]!, m[2]!.trim().toLowerCase()]));
}
const light = vars(/(?:^|\n):root\s*\{([^}]*)\}/.exec(css)![1]!);
const dark = vars(/@media\s*\(prefers-color-scheme:\s*dark\)\s*\{\s*:root\s*\{([^}]*)\}/.exec(css)![1]!);
const rule = (selector: string) => new RegExp(`(?:^|\\n)${selector.replace('.', '\\.')}\\s*\\{([^}]*)\\}`).exec(css)?.[1] ?? '';
const hex = (n: string) => `#${n.toLowerCase()}`;

describe('Chart colours', () => {
  it("the backgrounds and text colour the Rust contrast test assumes are styles.css's", () => {
    const consts = new Map([...draw.matchAll(/const (SURFACE|MUTED)_(LIGHT|DARK): u32 = 0x([0-9a-f]{6});/gi)].map((m) => [`${m[1]}_${m[2]}`, hex(m[3]!)]));
    expect(consts.size).toBe(4);
    expect(light.get('--surface')).toBe(consts.get('SURFACE_LIGHT'));
    expect(dark.get('--surface')).toBe(consts.get('SURFACE_DARK'));
    expect(light.get('--muted')).toBe(consts.get('MUTED_LIGHT'));
    expect(dark.get('--muted')).toBe(consts.get('MUTED_DARK'));
    // A chart is drawn on a card's background, in the muted text colour.
    expect(rule('.card')).toMatch(/background:\s*var\(--surface\)/);
    expect(rule('.chart')).toMatch(/(^|[^-])color:\s*var\(--muted\)/);
    expect(rule('.chart')).not.toMatch(/background/);
    expect(rule('.type-card')).not.toMatch(/background/);
  });

  it('styles.css declares every chart paint with its light and dark value', () => {
    const paints = [...draw.matchAll(/var: "(--chart-[a-z-]+)",\s*light: 0x([0-9A-Fa-f]{6}),\s*dark: 0x([0-9A-Fa-f]{6})/g)].map((m) => ({
      name: m[1]!,
      light: hex(m[2]!),
      dark: hex(m[3]!),
    }));
    expect(paints.length).toBeGreaterThanOrEqual(6);
    for (const p of paints) {
      expect(light.get(p.name), `${p.name} (light)`).toBe(p.light);
      expect(dark.get(p.name), `${p.name} (dark)`).toBe(p.dark);
    }
    // And nothing the Rust side does not know of.
    const declared = [...light.keys()].filter((k) => k.startsWith('--chart-'));
    expect(declared.sort()).toEqual(paints.map((p) => p.name).sort());
  });
});
