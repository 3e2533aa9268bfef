// Which rows of a long list to put in the DOM: the visible ones plus a margin, so scrolling a
// 1,200-participant table (or 30,000 glucose readings) costs the same as scrolling 40 rows.
export interface VirtualWindow {
  start: number;
  end: number; // exclusive
  offset: number; // px from the top of the list to row `start`
  height: number; // px, the whole list
}

/** jsdom and hidden elements report 0; assume a typical window then. */
export const FALLBACK_VIEWPORT = 560;

export function virtualWindow(count: number, rowHeight: number, scrollTop: number, viewport: number, overscan = 8): VirtualWindow {
  const vp = viewport > 0 ? viewport : FALLBACK_VIEWPORT;
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((scrollTop + vp) / rowHeight) + overscan);
  return { start: Math.min(first, count), end: last, offset: Math.min(first, count) * rowHeight, height: count * rowHeight };
}
