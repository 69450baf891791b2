// The seeded generator the property tests share: linear congruential, read from its high bits
// (the low bits of this generator repeat with a short period). rand(n) is a whole number in [0, n).

export function lcg(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return Math.floor((s / 2147483648) * n);
  };
}
