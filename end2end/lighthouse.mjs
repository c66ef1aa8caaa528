// Lighthouse (mobile preset: a mid-range phone on slow 4G, simulated) in Debian's Chromium on
// the portal's sign-in page, customer list and a customer's configuration, signed in through the
// session cookie passed as a header. Prints each page's performance and accessibility scores and
// exits 1 when one is below the floor (performance 90, accessibility 100).
//   node lighthouse.mjs BASE_URL [--json FILE]
// BASE_URL: a running portal with the demo data (admin@demo.test).
import lighthouse from 'lighthouse';
import * as chromeLauncher from 'chrome-launcher';
import { writeFileSync } from 'node:fs';
import { cookieHeader, firstCustomerId, signInAsDemoAdmin } from './demo-session.mjs';

const base = process.argv[2];
if (!base) {
  console.error('usage: node lighthouse.mjs BASE_URL [--json FILE]');
  process.exit(2);
}
const jsonOut = process.argv.indexOf('--json') > 0 ? process.argv[process.argv.indexOf('--json') + 1] : null;
const floors = {
  performance: Number(process.env.LIGHTHOUSE_MIN_PERFORMANCE ?? 90),
  accessibility: Number(process.env.LIGHTHOUSE_MIN_ACCESSIBILITY ?? 100),
};

const session = await signInAsDemoAdmin(base);
const cookie = cookieHeader(session);
const customerId = await firstCustomerId(base, session);
const pages = [
  { path: '/sign-in', signedIn: false },
  { path: '/customers', signedIn: true },
  { path: `/customers/${customerId}/configuration`, signedIn: true },
];

const chrome = await chromeLauncher.launch({
  chromePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  chromeFlags: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
const results = [];
let failed = false;
try {
  for (const page of pages) {
    const url = `${base}${page.path}`;
    let lhr;
    // Lighthouse itself sometimes fails to record a trace (NO_NAVSTART, "run Lighthouse
    // again"): such a run measured nothing and is run again, at most twice. Scores are never
    // retried.
    for (let attempt = 1; ; attempt++) {
      const runner = await lighthouse(url, {
        port: chrome.port,
        output: 'json',
        logLevel: 'error',
        onlyCategories: ['performance', 'accessibility'],
        extraHeaders: page.signedIn ? { Cookie: cookie } : undefined,
        // Each page from an empty cache, as a first visit.
        disableStorageReset: false,
      });
      lhr = runner.lhr;
      if (!lhr.runtimeError) break;
      if (attempt === 3) throw new Error(`${page.path}: ${lhr.runtimeError.code}: ${lhr.runtimeError.message}`);
      console.log(`lighthouse: ${page.path}: ${lhr.runtimeError.code}, running it again`);
    }
    if (lhr.finalDisplayedUrl && !lhr.finalDisplayedUrl.startsWith(url)) {
      throw new Error(`${page.path} ended at ${lhr.finalDisplayedUrl} (was the cookie refused?)`);
    }
    const score = (name) => Math.round((lhr.categories[name].score ?? 0) * 100);
    const audit = (id) => lhr.audits[id]?.numericValue;
    const row = {
      page: page.path,
      performance: score('performance'),
      accessibility: score('accessibility'),
      fcp_ms: Math.round(audit('first-contentful-paint')),
      lcp_ms: Math.round(audit('largest-contentful-paint')),
      tbt_ms: Math.round(audit('total-blocking-time')),
      transfer_bytes: Math.round(audit('total-byte-weight')),
    };
    const low = Object.entries(floors).filter(([name, floor]) => row[name] < floor);
    for (const [name] of low) {
      failed = true;
      const missed = Object.values(lhr.audits)
        .filter((a) => a.score !== null && a.score < 1 && lhr.categories[name].auditRefs.some((r) => r.id === a.id && r.weight > 0))
        .map((a) => `${a.id} (${a.displayValue ?? a.score})`);
      row[`${name}_missed`] = missed;
      if (name === 'performance') {
        const lcp = lhr.audits['largest-contentful-paint-element']?.details?.items?.[0]?.items?.[0]?.node;
        if (lcp) missed.push(`LCP element ${lcp.selector} "${(lcp.nodeLabel ?? '').slice(0, 60)}"`);
      }
    }
    results.push(row);
    console.log(
      `lighthouse ${row.page.padEnd(34)} performance ${String(row.performance).padStart(3)}  ` +
        `accessibility ${String(row.accessibility).padStart(3)}  FCP ${row.fcp_ms} ms  LCP ${row.lcp_ms} ms  ` +
        `TBT ${row.tbt_ms} ms  transfer ${row.transfer_bytes} bytes` +
        (low.length ? `  BELOW ${low.map(([n, f]) => `${n} ${f}`).join(', ')}: ${low.map(([n]) => row[`${n}_missed`].join(', ')).join('; ')}` : ''),
    );
  }
} finally {
  await chrome.kill();
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(results, null, 2));
process.exit(failed ? 1 : 0);
