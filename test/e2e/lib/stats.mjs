// Latency summary for diagnostics (the tests record figures, they do not assert on them).
export function summarize(ms) {
  const s = [...ms].sort((a, b) => a - b)
  const pct = (p) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]
  const f = (v) => `${v.toFixed(1)} ms`
  return { p50: pct(50), max: s[s.length - 1], text: `n=${s.length} p50=${f(pct(50))} max=${f(s[s.length - 1])}` }
}
