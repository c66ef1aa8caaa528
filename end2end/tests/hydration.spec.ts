import type { Page, TestInfo } from '@playwright/test';
import { expect, jsEnabled, navigate, ready, signIn, test } from './fixtures';

// Every page state a link can open directly (a reload, a shared link, a tap before the client
// has arrived) must hydrate without an error; the fixture fails the test on any console error
// or page error. After each load, one click must still work.
const keys = ['billing.currency', 'notifications.contact_email', 'portal.support_url', 'usage.suspend_on_danger_threshold'];

test('every section and query state hydrates and stays alive', async ({ page }, testInfo) => {
  test.skip(!jsEnabled(testInfo), 'hydration needs JavaScript');
  await signIn(page, testInfo, 'admin');
  const first = page.locator('table a[href^="/customers/"]').first();
  const href = (await first.getAttribute('href')) ?? '';
  const id = href.split('/')[2];
  expect(Number(id)).toBeGreaterThan(0);

  // The list: a search and a second page.
  await page.goto('/customers?q=co');
  await ready(page, testInfo);
  await page.goto(`/customers?after=${id}`);
  await ready(page, testInfo);
  await navigate(page, 'Customers');
  await expect(page).toHaveURL(/\/customers$/);
  await page.goto('/settings/overrides?confirm=1');
  await ready(page, testInfo);
  for (const state of ['', '?kind=missing_in_partner_center&acknowledged=1&page=2', '?tag=North']) {
    await page.goto(`/reports/reconciliation${state}`);
    await ready(page, testInfo);
    await page.goto(`/reports/consumption${state}`);
    await ready(page, testInfo);
  }
  await page.goto('/settings/defaults?edit=billing.currency');
  await ready(page, testInfo);
  await page.goto('/deleted-customers');
  await ready(page, testInfo);
  for (const state of ['', '?action=setting.override', '?from=yesterday']) {
    await page.goto(`/audit${state}`);
    await ready(page, testInfo);
  }
  for (const path of ['/admin/staff', '/admin/staff/1', '/admin/api-tokens', '/account']) {
    await page.goto(path);
    await ready(page, testInfo);
  }
  // A billing export's page, opened directly after its upload.
  await page.goto('/reports/billed-import');
  await ready(page, testInfo);
  await page.getByLabel('CSV file').setInputFiles({
    name: 'hydration.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(`customer,product,quantity\n${id},Visio Plan 2,x\n`),
  });
  await page.getByRole('button', { name: 'Check the file' }).click();
  await expect(page.getByTestId('import-rejected')).toBeVisible();
  await page.reload();
  await ready(page, testInfo);

  // The provider directory and the questions before a link, opened directly.
  for (const state of ['', '?show=all', '?show=linked&q=a', '?all=1&step=link', '?all=1&step=accept', '?all=1&step=link&customer_q=al', '?step=link']) {
    await page.goto(`/provider${state}`);
    await ready(page, testInfo);
  }
  const tenant = (await page.locator('table.directory input[name="select"]').first().getAttribute('value')) ?? '';
  await page.goto(`/provider?select=${tenant}&step=link&customer_q=a`);
  await ready(page, testInfo);
  await page.goto(`/customers/${id}/tenants?unlink=${tenant}`);
  await ready(page, testInfo);

  for (const section of ['', '/tenants', '/tags', '/tags?remove=1', '/account-managers', '/delete', '/billing', '/billing?check=cus_NffrFeUfNV2Hib', '/billing?check=x', '/configuration', '/configuration?filter=invoice']) {
    await page.goto(`/customers/${id}${section}`);
    await ready(page, testInfo);
  }
  for (const key of keys) {
    for (const state of ['edit', 'history', 'revert']) {
      await page.goto(`/customers/${id}/configuration?${state}=${key}`);
      await ready(page, testInfo);
    }
    // The page is alive: History opened from a direct link closes with a click.
    await page.goto(`/customers/${id}/configuration?history=${key}`);
    await ready(page, testInfo);
    const item = page.locator(`li.setting[data-key="${key}"]`);
    await expect(item.locator('.history')).toBeVisible();
    await item.getByRole('link', { name: 'Close' }).click();
    await expect(item.locator('.history')).toHaveCount(0);
    await expect(page).not.toHaveURL(/history=/);
  }
});

/** Holds the client back until the returned function is called, so a test can act on the
 * server-rendered page before hydration, as a person on a slow phone does. */
async function holdClient(page: Page): Promise<() => void> {
  let release: () => void = () => {};
  const acted = new Promise<void>((resolve) => (release = resolve));
  await page.route(
    /\/pkg\/portal(\.[0-9a-f]+)?\.wasm$/,
    async (route) => {
      await acted;
      await route.continue();
    },
    { times: 1 },
  );
  return release;
}

test('what a person ticks, types or chooses before the page is hydrated survives it', async ({ page }, testInfo) => {
  test.skip(!jsEnabled(testInfo), 'hydration needs JavaScript');
  await signIn(page, testInfo, 'admin');
  const href = (await page.locator('table a[href^="/customers/"]').first().getAttribute('href')) ?? '';

  // A tick box and a search box of the provider directory.
  let release = await holdClient(page);
  await page.goto('/provider');
  const box = page.locator('table.directory input[name="select"]').first();
  await box.check();
  const all = page.getByRole('checkbox', { name: /^All [\d,]+ matching tenants/ });
  await all.check();
  await page.getByLabel('Search', { exact: true }).fill('typed early');
  release();
  await ready(page, testInfo);
  await expect(box).toBeChecked();
  await expect(all).toBeChecked();
  await expect(page.getByLabel('Search', { exact: true })).toHaveValue('typed early');

  // A choice in a setting's editor.
  release = await holdClient(page);
  await page.goto(`${href}/configuration?edit=portal.language`);
  const choice = page.getByLabel('New value for Language');
  await choice.selectOption('Nederlands');
  release();
  await ready(page, testInfo);
  await expect(choice.locator('option:checked')).toHaveText('Nederlands');

  // The same while the client, already running, waits for the page's chunk to hydrate it.
  const chunk = await holdChunk(page);
  await page.goto('/provider');
  await chunk.requested;
  // Meanwhile the title is the one the server wrote.
  await expect(page).toHaveTitle('Provider directory · CSP Portal');
  await box.check();
  await page.getByLabel('Search', { exact: true }).fill('typed while waiting');
  chunk.release();
  await ready(page, testInfo);
  await expect(box).toBeChecked();
  await expect(page.getByLabel('Search', { exact: true })).toHaveValue('typed while waiting');
});

/** Holds back the page's chunk of the client (its request shows the client is running) until
 * `release` is called. */
async function holdChunk(page: Page): Promise<{ requested: Promise<void>; release: () => void }> {
  let release: () => void = () => {};
  let requested: () => void = () => {};
  const acted = new Promise<void>((resolve) => (release = resolve));
  const asked = new Promise<void>((resolve) => (requested = resolve));
  await page.route(
    /\/pkg\/split_[a-z_]+\.[0-9a-f]+\.wasm$/,
    async (route) => {
      requested();
      await acted;
      await route.continue();
    },
    { times: 1 },
  );
  return { requested: asked, release };
}

test('a page fetches the main module and its own chunk of the client, and another chunk only when a page of it is shown', async ({ page }, testInfo) => {
  test.skip(!jsEnabled(testInfo), 'the client needs JavaScript');
  const { href, wasm } = await signInWatchingWasm(page, testInfo);
  const fetched = (chunk: string) => wasm.some((path) => path.startsWith(`/pkg/split_${chunk}_chunk.`));
  const others = (except: string[]) =>
    ['sign_in', 'customer_list', 'customer_sections', 'partner'].filter((c) => !except.includes(c) && fetched(c));
  const main = () => wasm.filter((path) => /^\/pkg\/portal\.[0-9a-f]+\.wasm$/.test(path));

  // A new load of a customer section (the browser's cache may keep files; count what the page
  // asks for).
  await page.goto(`${href}/tags`);
  await ready(page, testInfo);
  expect(main()).toHaveLength(1);
  expect(fetched('customer_sections')).toBe(true);
  expect(others(['customer_sections'])).toEqual([]);
  // The server's head names the page's chunk and the files it needs: exactly those the page
  // fetched besides the main module (the loader preloads them).
  const head = async (path: string) => (await (await page.request.get(path)).text()).split('</head>')[0];
  const named = chunkFiles(await head(`${href}/tags`));
  expect(named[0]).toMatch(/^\/pkg\/split_customer_sections_chunk\.[0-9a-f]+\.wasm$/);
  expect(new Set(named)).toEqual(new Set(wasm.filter((path) => !main().includes(path))));

  // Moving to the configuration, which the main module holds, fetches nothing more.
  const before = wasm.length;
  await page.getByRole('navigation', { name: 'Customer settings' }).getByRole('link', { name: 'Customer Configuration' }).click();
  await expect(page.getByRole('heading', { name: 'Customer Configuration' })).toBeVisible();
  await expect(page.getByTestId('settings-count')).toContainText('settings');
  expect(wasm.length).toBe(before);
  expect(chunkFiles(await head(`${href}/configuration`))).toEqual([]);

  // Moving to a page of another chunk fetches that chunk and shows the page, alive.
  await navigate(page, 'Customers');
  await expect(page).toHaveURL(/\/customers$/);
  expect(fetched('customer_list')).toBe(true);
  expect(others(['customer_sections', 'customer_list'])).toEqual([]);
  await page.getByLabel('Search customers').fill('co');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(page).toHaveURL(/\/customers\?q=co(&|$)/);
});

/** Signs in as the admin and records the path of every wasm file the page asks for from then
 * on; `href` is the first customer's address. */
async function signInWatchingWasm(page: Page, testInfo: TestInfo): Promise<{ href: string; wasm: string[] }> {
  await signIn(page, testInfo, 'admin');
  const href = (await page.locator('table a[href^="/customers/"]').first().getAttribute('href')) ?? '';
  const wasm: string[] = [];
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (path.endsWith('.wasm')) wasm.push(path);
  });
  return { href, wasm };
}

/** The files the page's head names as its chunk of the client. */
function chunkFiles(head: string): string[] {
  return /<meta name="portal-client-chunk" content="([^"]+)"/.exec(head)?.[1].split(' ') ?? [];
}

test('a page\'s chunk of the client is fetched beside the main module, not after it; without JavaScript, nothing of the client is', async ({ page }, testInfo) => {
  const { href, wasm } = await signInWatchingWasm(page, testInfo);
  if (!jsEnabled(testInfo)) {
    // The head still names the chunk (the server cannot tell), but nothing fetches it.
    const response = await page.goto(`${href}/tags`);
    expect(chunkFiles((await response?.text()) ?? '')).not.toEqual([]);
    await expect(page.getByRole('heading', { name: 'Define Tags' })).toBeVisible();
    expect(wasm).toEqual([]);
    return;
  }
  // The main module is held back until the chunk is asked for: without the preload the chunk
  // would be asked for only once the main module runs, and this would wait in vain.
  const chunkAsked = page.waitForRequest(/\/pkg\/split_customer_sections_chunk\.[0-9a-f]+\.wasm$/);
  await page.route(/\/pkg\/portal\.[0-9a-f]+\.wasm$/, async (route) => {
    await chunkAsked.catch(() => {});
    await route.continue();
  }, { times: 1 });
  const response = await page.goto(`${href}/tags`);
  await chunkAsked;
  await ready(page, testInfo);
  await expect(page.getByRole('heading', { name: 'Define Tags' })).toBeVisible();
  // Each of the chunk's files is fetched once: the loader's request is the preload's.
  const named = chunkFiles((await response?.text()) ?? '');
  expect(named.length).toBeGreaterThan(1);
  for (const file of named) expect(wasm.filter((path) => path === file), file).toHaveLength(1);
});
