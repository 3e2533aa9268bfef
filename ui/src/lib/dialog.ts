// What every dialog does with the keyboard: Escape closes it (and goes no further).
export function closeOnEscape(close: () => void): (e: KeyboardEvent) => void {
  return (e) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      close();
    }
  };
}
