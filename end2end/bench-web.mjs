// The page-weight benchmark's browser half (run by .ci/bench-web): a phone profile in Debian's
// Chromium opens a customer's configuration page signed in, and reports
//   - what the first visit transfers with an empty cache, and a second visit with a warm one
//     (bytes on the wire, per resource, and the wasm's sum: the main module and the page's
//     chunks);
//   - time to interactive (the client has hydrated the page: body[data-hydrated]) from a cold
//     cache on slow 4G and on 4G, with Chrome DevTools' network presets and a 4x slower CPU
//     (a mid-range phone), the median of RUNS runs;
//   - the main thread's longest tasks on an unthrottled cold load, with what each spent its time
//     on (a Chrome trace): where the blocking time of hydration comes from.
//   node bench-web.mjs BASE_URL [RUNS]
import { chromium } from '@playwright/test';
import { firstCustomerId, signInAsDemoAdmin } from './demo-session.mjs';

const base = process.argv[2];
const runs = Number(process.argv[3] ?? 3);
if (!base) {
  console.error('usage: node bench-web.mjs BASE_URL [RUNS]');
  process.exit(2);
}

// Chrome DevTools' presets: bytes per second (90% of the nominal rate) and added latency.
const networks = {
  'slow 4G': { latency: 562.5, downloadThroughput: (1.6e6 / 8) * 0.9, uploadThroughput: (750e3 / 8) * 0.9 },
  '4G': { latency: 165, downloadThroughput: (9e6 / 8) * 0.9, uploadThroughput: (1.5e6 / 8) * 0.9 },
};
const cpuSlowdown = 4;

const session = await signInAsDemoAdmin(base);
const cookies = session.map(([name, value]) => ({ name, value, url: base }));
const id = await firstCustomerId(base, session);
const url = `${base}/customers/${id}/configuration`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});

async function phone() {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 3,
    isMobile: true,
    hasTouch: true,
  });
  await context.addCookies(cookies);
  // The moment the client marks the page hydrated, on the page's own clock.
  await context.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (document.body?.dataset.hydrated === 'true') {
        window.__hydratedAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-hydrated'] });
  });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  const transfers = new Map();
  cdp.on('Network.responseReceived', (e) => {
    transfers.set(e.requestId, { url: e.response.url, status: e.response.status, bytes: 0, cached: e.response.fromDiskCache || e.response.fromMemoryCache });
  });
  cdp.on('Network.loadingFinished', (e) => {
    const t = transfers.get(e.requestId);
    if (t) t.bytes = e.encodedDataLength;
  });
  return { context, page, cdp, transfers };
}

async function visit(page) {
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(() => window.__hydratedAt !== undefined, null, { timeout: 120_000 });
  await page.waitForLoadState('networkidle');
  return page.evaluate(() => window.__hydratedAt);
}

function describe(transfers) {
  const rows = [...transfers.values()].filter((t) => !t.cached && t.bytes > 0);
  const total = rows.reduce((sum, t) => sum + t.bytes, 0);
  const lines = rows.map((t) => `      ${String(t.bytes).padStart(9)} bytes  ${t.status}  ${t.url.replace(base, '')}`);
  // The client's wasm for this page: the main module and the chunks of the page's code.
  const wasm = rows.filter((t) => new URL(t.url).pathname.endsWith('.wasm'));
  const wasmBytes = wasm.reduce((sum, t) => sum + t.bytes, 0);
  lines.push(`      the page's wasm (bytes on the wire, brotli): ${wasmBytes} bytes in ${wasm.length} files`);
  return { total, lines };
}

// Transfer: cold cache, then a second visit (a new navigation, as a person coming back).
{
  const { context, page, transfers } = await phone();
  await visit(page);
  const cold = describe(transfers);
  transfers.clear();
  await visit(page);
  const warm = describe(transfers);
  console.log(`first visit, empty cache:  ${cold.total} bytes`);
  console.log(cold.lines.join('\n'));
  console.log(`second visit, warm cache:  ${warm.total} bytes`);
  console.log(warm.lines.join('\n'));
  await context.close();
}

// Time to interactive on a throttled phone, cold cache each run.
for (const [name, conditions] of Object.entries(networks)) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const { context, page, cdp } = await phone();
    await cdp.send('Network.emulateNetworkConditions', { offline: false, ...conditions });
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: cpuSlowdown });
    times.push(await visit(page));
    await context.close();
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  console.log(
    `time to interactive, ${name.padEnd(8)} (${conditions.latency} ms, ${Math.round((conditions.downloadThroughput * 8) / 1e3)} kbit/s, CPU /${cpuSlowdown}): ` +
      `median ${(median / 1000).toFixed(2)} s of ${runs} (${times.map((t) => (t / 1000).toFixed(2)).join(', ')})`,
  );
}
// The main thread's longest tasks on an unthrottled cold load, from a Chrome trace, with the trace
// events that took most of each (an event's time includes the events inside it).
{
  const { context, page, cdp } = await phone();
  const events = [];
  cdp.on('Tracing.dataCollected', (d) => events.push(...d.value));
  const complete = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
  await cdp.send('Tracing.start', {
    categories: 'devtools.timeline,v8,v8.wasm,disabled-by-default-devtools.timeline',
    transferMode: 'ReportEvents',
  });
  await visit(page);
  await cdp.send('Tracing.end');
  await complete;
  await context.close();
  // The page's main thread: the renderer main thread with the most events.
  const count = new Map();
  for (const e of events) count.set(`${e.pid}:${e.tid}`, (count.get(`${e.pid}:${e.tid}`) ?? 0) + 1);
  const main = events
    .filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain')
    .map((e) => `${e.pid}:${e.tid}`)
    .sort((a, b) => count.get(b) - count.get(a))[0];
  const onMain = events.filter((e) => `${e.pid}:${e.tid}` === main && e.ph === 'X');
  const tasks = onMain.filter((e) => e.name === 'RunTask').sort((a, b) => b.dur - a.dur).slice(0, 4);
  console.log('longest main-thread tasks, unthrottled cold load (ms; top events inside):');
  for (const task of tasks) {
    const inside = new Map();
    for (const e of onMain) {
      if (e !== task && e.name !== 'RunTask' && e.ts >= task.ts && e.ts + (e.dur ?? 0) <= task.ts + task.dur) {
        inside.set(e.name, (inside.get(e.name) ?? 0) + (e.dur ?? 0));
      }
    }
    const top = [...inside].sort((a, b) => b[1] - a[1]).slice(0, 5);
    console.log(`  ${(task.dur / 1000).toFixed(1).padStart(6)}  ${top.map(([name, dur]) => `${name} ${(dur / 1000).toFixed(1)}`).join(', ')}`);
  }
}
await browser.close();
