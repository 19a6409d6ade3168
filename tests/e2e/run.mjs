#!/usr/bin/env node
// Runs the browser tests against a fresh server.
//
//   node tests/e2e/run.mjs --bin target/debug/yiwang [FILE.test.mjs ...]
//   node tests/e2e/run.mjs --base-url http://127.0.0.1:8080 [FILE.test.mjs ...]
//
// With --bin: starts `BIN serve --demo --listen 127.0.0.1:PORT --data-dir TMPDIR` on a free port
// with a fresh data dir, logs to $TMPDIR/yiwang-e2e/server.log, waits for GET /healthz = 200
// (YIWANG_E2E_START_TIMEOUT seconds, default 60), exports YIWANG_BASE_URL and YIWANG_E2E_DATA_DIR
// (the server's data dir: its dev outbox of SMS codes is outbox/messages.jsonl), runs every
// tests/e2e/*.test.mjs (or the files given) with node:test and the spec reporter, always stops
// the server, and ends with the line "N passed, N failed" (test cases). Exit status 0 only when
// all passed. With --base-url: tests that server instead of starting one.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

function usage(code) {
  const lines = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1);
  const text = lines.slice(0, lines.findIndex((l) => !l.startsWith('//')));
  (code ? console.error : console.log)(text.map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(code);
}

// --- arguments -----------------------------------------------------------------------------------
const opts = { bin: process.env.YIWANG_BIN || '', baseUrl: '', keepData: false, files: [] };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--bin') opts.bin = argv[++i] ?? usage(2);
  else if (a.startsWith('--bin=')) opts.bin = a.slice(6);
  else if (a === '--base-url') opts.baseUrl = argv[++i] ?? usage(2);
  else if (a.startsWith('--base-url=')) opts.baseUrl = a.slice(11);
  else if (a === '--keep-data') opts.keepData = true;
  else if (a === '-h' || a === '--help') usage(0);
  else if (a.startsWith('-')) usage(2);
  else opts.files.push(resolve(a));
}
if (!opts.bin && !opts.baseUrl) usage(2);

const files = opts.files.length
  ? opts.files
  : readdirSync(HERE).filter((f) => f.endsWith('.test.mjs')).sort().map((f) => join(HERE, f));

const artifacts = process.env.YIWANG_E2E_ARTIFACTS || join(tmpdir(), 'yiwang-e2e');
process.env.YIWANG_E2E_ARTIFACTS = artifacts;
mkdirSync(artifacts, { recursive: true });
for (const f of readdirSync(artifacts)) {
  if (/\.(png|html|log)$/.test(f)) rmSync(join(artifacts, f), { force: true });
}
const logPath = join(artifacts, 'server.log');

// --- the server under test ---------------------------------------------------------------------
let server = null; // ChildProcess
let serverExit = null; // { code, signal } once it exited
let dataDir = null;
let serverReady = false;
const abort = new AbortController(); // cancels the test files' processes on a signal

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

function logTail(lines = 60) {
  if (!existsSync(logPath)) return '(no server log)';
  const all = readFileSync(logPath, 'utf8').split('\n');
  return all.slice(-lines).join('\n');
}

/** Stops the server and everything it started (its own process group). Synchronous. */
function killServer(signal) {
  if (!server || serverExit) return;
  try {
    process.kill(-server.pid, signal);
  } catch {
    try {
      server.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

async function stopServer() {
  if (server && !serverExit) {
    killServer('SIGTERM');
    const deadline = Date.now() + 10_000;
    while (!serverExit && Date.now() < deadline) await sleep(100);
    if (!serverExit) {
      console.log('server did not stop within 10 s of SIGTERM: SIGKILL');
      killServer('SIGKILL');
      while (!serverExit && Date.now() < deadline + 5_000) await sleep(100);
    }
  }
  // Children the server left in its group, if any.
  if (server) {
    try {
      process.kill(-server.pid, 'SIGKILL');
    } catch {
      /* none */
    }
  }
  if (dataDir && !opts.keepData) rmSync(dataDir, { recursive: true, force: true });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Whatever happens, the server does not outlive this process.
process.on('exit', () => {
  killServer('SIGKILL');
  if (server) {
    try {
      process.kill(-server.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, async () => {
    console.log(`\n${sig}: stopping the tests and the server`);
    abort.abort();
    await stopServer();
    process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 })[sig]);
  });
}

async function startServer() {
  const port = await freePort();
  dataDir = await mkdtemp(join(tmpdir(), 'yiwang-e2e-data-'));
  process.env.YIWANG_E2E_DATA_DIR = dataDir;
  process.env.YIWANG_BIN = opts.bin;
  const args = ['serve', '--demo', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir];
  console.log(`starting: ${opts.bin} ${args.join(' ')}`);
  console.log(`server log: ${logPath}`);
  const fd = openSync(logPath, 'a');
  server = spawn(opts.bin, args, { stdio: ['ignore', fd, fd], detached: true, env: process.env });
  closeSync(fd);
  server.on('exit', (code, signal) => {
    serverExit = { code, signal };
  });
  const spawnError = new Promise((res) =>
    server.on('error', (err) => {
      serverExit ??= { code: null, signal: null };
      res(err);
    }),
  );

  const base = `http://127.0.0.1:${port}`;
  const timeoutS = Number(process.env.YIWANG_E2E_START_TIMEOUT || 60);
  const deadline = Date.now() + timeoutS * 1000;
  const started = Date.now();
  while (Date.now() < deadline) {
    const err = await Promise.race([spawnError, sleep(0).then(() => null)]);
    if (err) throw new Error(`cannot start ${opts.bin}: ${err.message}`);
    if (serverExit) throw new Error(`the server exited during start (code ${serverExit.code}, signal ${serverExit.signal})`);
    try {
      const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) {
        serverReady = true;
        console.log(`server ready at ${base} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
        return base;
      }
    } catch {
      /* not listening yet */
    }
    await sleep(250);
  }
  throw new Error(`GET ${base}/healthz did not answer 200 within ${timeoutS} s`);
}

// --- the tests -----------------------------------------------------------------------------------
/**
 * Runs the files with node:test; prints the spec report; returns { passed, failed, skipped }
 * counted over test cases (leaves: a suite or a test with subtests is not counted itself; a file
 * that fails to load counts as one failure).
 */
async function runTests() {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  const childSeen = new Map(); // `${file}\0${nesting}` -> a test at this nesting finished since its parent
  const stream = run({ files, concurrency: 1, timeout: 180_000, signal: abort.signal });
  const onDone = (failed) => (d) => {
    const key = (n) => `${d.file ?? ''}\0${n}`;
    const isLeaf = !childSeen.get(key(d.nesting + 1)) && d.details?.type !== 'suite';
    childSeen.set(key(d.nesting + 1), false);
    childSeen.set(key(d.nesting), true);
    if (!isLeaf) {
      if (failed && d.details?.error?.failureType !== 'subtestsFailed') counts.failed++; // a hook failed
      return;
    }
    if (d.skip || d.todo) counts.skipped++;
    else if (failed) counts.failed++;
    else counts.passed++;
  };
  stream.on('test:pass', onDone(false));
  stream.on('test:fail', onDone(true));
  const report = stream.compose(new spec());
  report.pipe(process.stdout, { end: false });
  await new Promise((res, rej) => {
    report.on('end', res);
    report.on('error', rej);
  });
  process.stdout.write('\n');
  return counts;
}

function summary({ passed, failed, skipped }) {
  return `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
}

let counts = { passed: 0, failed: 0, skipped: 0 };
let ok = false;
try {
  if (!files.length) throw new Error(`no *.test.mjs files in ${HERE}`);
  process.env.YIWANG_BASE_URL = opts.baseUrl ? opts.baseUrl.replace(/\/+$/, '') : await startServer();
  console.log(`YIWANG_BASE_URL=${process.env.YIWANG_BASE_URL}; ${files.length} file(s): ${files.map((f) => basename(f)).join(' ')}\n`);
  counts = await runTests();
  ok = counts.failed === 0 && counts.passed > 0;
  if (counts.passed === 0 && counts.failed === 0) {
    console.log('no test case ran');
    counts.failed = 1;
  }
} catch (err) {
  console.log(`\ne2e: ${err.message}`);
  if (counts.failed === 0) counts.failed = 1;
}
if (serverReady && serverExit && !opts.baseUrl) {
  console.log(`the server exited during the tests (code ${serverExit.code}, signal ${serverExit.signal}): counted as a failure`);
  counts.failed++;
  ok = false;
}
await stopServer();

if (!ok && !opts.baseUrl) {
  console.log(`\n--- last lines of the server log (${logPath}) ---\n${logTail()}\n--- end of server log ---`);
}
const shots = readdirSync(artifacts).filter((f) => f.endsWith('.png'));
if (shots.length) console.log(`screenshots of failing pages in ${artifacts}: ${shots.join(' ')}`);
console.log(summary(counts));
process.exit(ok ? 0 : 1);
