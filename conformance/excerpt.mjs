#!/usr/bin/env node
// What a CI log needs to explain one failed conformance test without the work directory: the
// test's own lines from the suite log (the end of them, where it gave up), and the controller's
// lines from the same seconds (run.sh stamps each controller line with an ISO time).
//
//   node conformance/excerpt.mjs SUITE.log CONTROLLER.log TestName [lines]

import { readFileSync } from 'node:fs';

const [suitePath, controllerPath, test, linesArg] = process.argv.slice(2);
if (!suitePath || !controllerPath || !test) {
  console.error('usage: excerpt.mjs SUITE.log CONTROLLER.log TestName [lines]');
  process.exit(2);
}
const max = Number(linesArg ?? 80);
const suite = readFileSync(suitePath, 'utf8').split('\n');

// go test -v interleaves: a test's lines follow "=== RUN/CONT/NAME  TestPortico/<test>[/sub]" until the
// next such header names another test.
const header = /^=== (?:RUN|CONT|NAME|PAUSE)\s+TestPortico\/([^/\s]+)/;
const own = [];
let inside = false;
for (const line of suite) {
  const h = header.exec(line);
  if (h) inside = h[1] === test;
  else if (/^\s*--- (?:PASS|FAIL|SKIP): TestPortico\/([^/\s]+)/.test(line)) inside = line.includes(`TestPortico/${test}`);
  if (inside) own.push(line);
}
if (own.length === 0) {
  console.log(`(no lines of ${test} in ${suitePath})`);
  process.exit(0);
}
console.log(`--- ${test}: last ${Math.min(max, own.length)} of its ${own.length} suite log lines`);
for (const l of own.slice(-max)) console.log(l.length > 400 ? `${l.slice(0, 400)}...` : l);

const stamp = /(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z)/;
const times = own.map((l) => stamp.exec(l)?.[1]).filter(Boolean).map((t) => Date.parse(t));
if (times.length === 0) process.exit(0);
const from = Math.min(...times) - 2000;
const to = Math.max(...times) + 1000;
let controller;
try {
  controller = readFileSync(controllerPath, 'utf8').split('\n');
} catch {
  process.exit(0);
}
const during = controller.filter((l) => {
  const t = stamp.exec(l.slice(0, 40))?.[1];
  return t !== undefined && Date.parse(t) >= from && Date.parse(t) <= to;
});
console.log(`--- controller log from ${new Date(from).toISOString()} to ${new Date(to).toISOString()}: last ${Math.min(max, during.length)} of ${during.length} lines`);
for (const l of during.slice(-max)) console.log(l.length > 400 ? `${l.slice(0, 400)}...` : l);
