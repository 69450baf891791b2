// Binary search over sorted strings (JavaScript's `<` order, the order of Array.prototype.sort()).

/** The first index at or after `from` whose string is not below `s` (`list` sorted). */
export function sortedIndex(list: readonly string[], s: string, from = 0): number {
  let lo = from;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! < s) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
