import { defineConfig } from '@playwright/test';
import * as os from 'node:os';
import * as path from 'node:path';

// The test command builds the app and says where: PORTAL_BIN (the server binary) and
// LEPTOS_SITE_ROOT (the built browser assets). The server runs the demo on a fresh database.
const port = Number(process.env.E2E_PORT ?? 3100);
const bin = process.env.PORTAL_BIN ?? path.resolve(__dirname, '../target/debug/portal');
const siteRoot = process.env.LEPTOS_SITE_ROOT ?? path.resolve(__dirname, '../target/site');
const database = path.join(os.tmpdir(), `portal-e2e-${process.pid}`, 'e2e.db');
// When set (the test command sets it when PostgreSQL answers), one more project runs the
// desktop JavaScript tests against a second demo server on that PostgreSQL database.
const postgresUrl = process.env.E2E_POSTGRES_URL;

const serverEnv = (databaseUrl: string) => ({
  DATABASE_URL: databaseUrl,
  LEPTOS_SITE_ROOT: siteRoot,
  PORTAL_LOG: 'warn',
  // Every test signs in from 127.0.0.1; the per-address sign-in limit is for real clients.
  PORTAL_SIGN_IN_PER_MINUTE: '100000',
  // The demo's Partner Center allows 500 requests a minute like Microsoft's; the tests need not wait on it.
  PARTNER_CENTER_RATE_PER_MINUTE: '6000',
});
const server = (serverPort: number, databaseUrl: string) => ({
  command: `"${bin}" demo --addr 127.0.0.1:${serverPort}`,
  url: `http://127.0.0.1:${serverPort}/healthz`,
  reuseExistingServer: false,
  timeout: 60_000,
  // The server's log (PORTAL_LOG=warn: warnings and errors only) goes into the test output.
  stdout: 'pipe' as const,
  stderr: 'pipe' as const,
  env: serverEnv(databaseUrl),
});

const desktop = { width: 1280, height: 800 };
const phone = { width: 390, height: 844 };

export default defineConfig({
  testDir: './tests',
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 2,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [
    { name: 'desktop-js', use: { viewport: desktop, javaScriptEnabled: true } },
    { name: 'desktop-nojs', use: { viewport: desktop, javaScriptEnabled: false } },
    { name: 'phone-js', use: { viewport: phone, isMobile: true, hasTouch: true, javaScriptEnabled: true } },
    { name: 'phone-nojs', use: { viewport: phone, isMobile: true, hasTouch: true, javaScriptEnabled: false } },
    ...(postgresUrl
      ? [
          {
            name: 'desktop-js-postgres',
            use: { viewport: desktop, javaScriptEnabled: true, baseURL: `http://127.0.0.1:${port + 1}` },
          },
        ]
      : []),
  ],
  webServer: [
    server(port, `sqlite://${database}`),
    ...(postgresUrl ? [server(port + 1, postgresUrl)] : []),
  ],
});
