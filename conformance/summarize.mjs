#!/usr/bin/env node
// Turns the upstream ConformanceReport (plus the suite's log and Portico's claims file) into a
// short Markdown summary: tests passed per profile, extended features, failures, and skips with
// their reasons.
//
//   node conformance/summarize.mjs REPORT.yaml SUITE.log conformance/portico.yaml > SUMMARY.md

import { readFileSync, existsSync } from 'node:fs';
import { parse } from 'yaml';

const [reportPath, logPath, claimsPath] = process.argv.slice(2);
if (!reportPath) {
  console.error('usage: summarize.mjs REPORT.yaml [SUITE.log] [portico.yaml]');
  process.exit(2);
}
const report = parse(readFileSync(reportPath, 'utf8'));
const claims = claimsPath && existsSync(claimsPath) ? parse(readFileSync(claimsPath, 'utf8')) : {};
const skipReasons = new Map((claims.skipTests ?? []).map((s) => [s.test, s.reason]));

const stat = (s, k) => s?.statistics?.[k] ?? s?.statistics?.[k.toLowerCase()] ?? 0;
const out = [];
out.push(`# Portico conformance summary`);
out.push('');
out.push(`- Report: \`${reportPath.split('/').slice(-2).join('/')}\` (${report.date ?? 'no date'})`);
out.push(`- Gateway API ${report.gatewayAPIVersion} (${report.gatewayAPIChannel} channel), mode \`${report.mode}\`, ` +
  `${report.implementation?.project} ${report.implementation?.version}`);
out.push('');
out.push('| profile | core passed | core failed | core skipped | core result | extended passed | extended failed | extended skipped | extended result |');
out.push('|---|---|---|---|---|---|---|---|---|');
for (const p of report.profiles ?? []) {
  const e = p.extended;
  out.push(`| ${p.name} | ${stat(p.core, 'Passed')} | ${stat(p.core, 'Failed')} | ${stat(p.core, 'Skipped')} | ${p.core?.result ?? ''} | ` +
    (e ? `${stat(e, 'Passed')} | ${stat(e, 'Failed')} | ${stat(e, 'Skipped')} | ${e.result} |` : '- | - | - | - |'));
}
out.push('');
for (const p of report.profiles ?? []) {
  out.push(`## ${p.name}`);
  out.push('');
  if (p.summary) out.push(`${p.summary}`, '');
  const e = p.extended;
  if (e?.supportedFeatures?.length) out.push(`Extended features claimed: ${e.supportedFeatures.join(', ')}`, '');
  if (e?.unsupportedFeatures?.length) out.push(`Extended features not claimed: ${e.unsupportedFeatures.join(', ')}`, '');
  for (const [level, s] of [['core', p.core], ['extended', e]]) {
    if (!s) continue;
    if (s.failedTests?.length) out.push(`Failed (${level}): ${s.failedTests.join(', ')}`, '');
    if (s.skippedTests?.length) {
      out.push(`Skipped (${level}):`);
      for (const t of s.skippedTests) out.push(`- ${t}: ${skipReasons.get(t) ?? 'not run by the suite (see its log)'}`);
      out.push('');
    }
  }
}
if (report.succeededProvisionalTests?.length) {
  out.push(`Provisional tests passed: ${report.succeededProvisionalTests.join(', ')}`, '');
}
if (logPath && existsSync(logPath)) {
  const log = readFileSync(logPath, 'utf8');
  const failed = [...log.matchAll(/^\s*--- FAIL: TestPortico\/(\S+)/gm)].map((m) => m[1]).filter((n) => !n.includes('/'));
  if (failed.length) out.push(`Failed subtests in the suite log (top level): ${[...new Set(failed)].join(', ')}`, '');
}
// Last, the plain count line CI logs are read for.
let passed = 0, failed = 0, skipped = 0;
for (const p of report.profiles ?? []) {
  for (const s of [p.core, p.extended]) {
    passed += stat(s, 'Passed');
    failed += stat(s, 'Failed');
    skipped += stat(s, 'Skipped');
  }
}
out.push(`conformance: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.stdout.write(out.join('\n') + '\n');
