#!/usr/bin/env node
// Re-saves BPMN files with the bpmn.io modeler (bpmn-js, the library inside Camunda Modeler and
// on bpmn.io), so that the XML we commit is exactly what a standard modeler writes.
//
// Usage:
//   node scripts/bpmn-resave.mjs FILE.bpmn [FILE.bpmn ...]
//
// Each file is imported into a bpmn-js Modeler running in headless Chromium and written back
// with the modeler's own `saveXML({ format: true })`. The definitions' `exporter` and
// `exporterVersion` are set to "bpmn-js (https://bpmn.io)" and the bpmn-js version used, so the
// file says honestly what wrote it. The script prints which files changed; it exits non-zero
// when a file does not import cleanly or when an attribute of ours would be lost.
//
// What it keeps:
//   - camunda:* attributes and camunda:properties, through the Camunda moddle extension
//     (camunda-bpmn-moddle's resources/camunda.json);
//   - yiwang:* attributes (namespace https://yiwang.example/bpmn: candidateOrgs,
//     limitWorkingDays, escalation) and other unknown-namespace attributes (e.g.
//     modeler:executionPlatform): bpmn-js keeps attributes of namespaces it has no descriptor
//     for as $attrs and writes them back, as a stock Camunda Modeler does, so no descriptor is
//     loaded for them;
//   After each save the script checks that every camunda:/yiwang: attribute of the input is
//   still there with the same value, and fails if not.
//
// Setup (kept out of the repository; nothing is fetched at run time):
//   npm install --prefix /var/tmp/bpmn-tools bpmn-js@latest camunda-bpmn-moddle@latest
// BPMN_JS_DIR points at another node_modules folder holding bpmn-js and camunda-bpmn-moddle
// (default /var/tmp/bpmn-tools/node_modules). Chromium comes from YIWANG_CHROMIUM
// (default /usr/bin/chromium), launched through the playwright-core of tests/e2e.
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const modulesDir = resolve(process.env.BPMN_JS_DIR || '/var/tmp/bpmn-tools/node_modules');
const chromiumPath = process.env.YIWANG_CHROMIUM || '/usr/bin/chromium';

const files = process.argv.slice(2);
if (files.length === 0 || files.includes('-h') || files.includes('--help')) {
  console.error('usage: node scripts/bpmn-resave.mjs FILE.bpmn [FILE.bpmn ...]');
  process.exit(files.length === 0 ? 2 : 0);
}

const bpmnJsPkg = JSON.parse(await readFile(join(modulesDir, 'bpmn-js/package.json'), 'utf8'));
const bundlePath = join(modulesDir, 'bpmn-js/dist/bpmn-modeler.development.js');
const camundaDescriptor = JSON.parse(
  await readFile(join(modulesDir, 'camunda-bpmn-moddle/resources/camunda.json'), 'utf8'),
);

const exporter = 'bpmn-js (https://bpmn.io)';
const exporterVersion = bpmnJsPkg.version;

// playwright-core from the browser tests' node_modules.
const requireE2e = createRequire(join(repo, 'tests/e2e/package.json'));
const playwright = await import(pathToFileURL(requireE2e.resolve('playwright-core')).href);
const chromium = playwright.chromium ?? playwright.default.chromium;

/** Every camunda:/yiwang: attribute (element id, name, value) in a document, for checking. */
function extensionAttrs(xml) {
  const out = new Set();
  const tag = /<([A-Za-z][\w.-]*:[\w.-]+)((?:\s+[\w.:-]+\s*=\s*"[^"]*")*)\s*\/?>/g;
  for (const m of xml.matchAll(tag)) {
    const attrs = [...m[2].matchAll(/([\w.:-]+)\s*=\s*"([^"]*)"/g)];
    const id = attrs.find(([, k]) => k === 'id')?.[2] ?? m[1];
    for (const [, k, v] of attrs) {
      if (/^(camunda|yiwang):/.test(k)) out.add(`${id} ${k}=${v}`);
    }
    if (/^camunda:property$/.test(m[1])) {
      out.add(`property ${attrs.map(([, k, v]) => `${k}=${v}`).join(' ')}`);
    }
  }
  return out;
}

const browser = await chromium.launch({
  executablePath: chromiumPath,
  headless: true,
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
let failed = false;
try {
  const page = await browser.newPage();
  await page.setContent('<!doctype html><html><body><div id="canvas" style="width:1600px;height:900px"></div></body></html>');
  await page.addScriptTag({ path: bundlePath });

  for (const file of files) {
    const before = await readFile(file, 'utf8');
    const result = await page.evaluate(
      async ({ xml, camunda, exporter, exporterVersion }) => {
        const container = document.getElementById('canvas');
        container.innerHTML = '';
        const modeler = new window.BpmnJS({ container, moddleExtensions: { camunda } });
        try {
          const { warnings } = await modeler.importXML(xml);
          const definitions = modeler.getDefinitions();
          definitions.set('exporter', exporter);
          definitions.set('exporterVersion', exporterVersion);
          const { xml: out } = await modeler.saveXML({ format: true });
          return { xml: out, warnings: warnings.map((w) => String(w.message)) };
        } finally {
          modeler.destroy();
        }
      },
      { xml: before, camunda: camundaDescriptor, exporter, exporterVersion },
    );
    if (result.warnings.length) {
      failed = true;
      console.error(`${file}: import warnings, not written:\n  ${result.warnings.join('\n  ')}`);
      continue;
    }
    const after = result.xml.endsWith('\n') ? result.xml : `${result.xml}\n`;
    const had = extensionAttrs(before);
    const has = extensionAttrs(after);
    const lost = [...had].filter((a) => !has.has(a));
    if (lost.length) {
      failed = true;
      console.error(`${file}: would lose ${lost.join('; ')}; not written`);
      continue;
    }
    if (after === before) {
      console.log(`unchanged ${file}`);
    } else {
      await writeFile(file, after);
      console.log(`changed   ${file}`);
    }
  }
} finally {
  await browser.close();
}
console.log(`(bpmn-js ${exporterVersion})`);
process.exit(failed ? 1 : 0);
