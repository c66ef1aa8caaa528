import { dataKey, expect, jsEnabled, navigate, ready, signIn, snapshot, status, test } from './fixtures';

const customers: Record<string, string> = {
  'desktop-js': 'Elmstead Property Management',
  'desktop-nojs': 'Evergreen Landscaping',
  'phone-js': 'Fairway Golf Club',
  'phone-nojs': 'Falcon Freight',
};

test('a finance user reloads one customer and sees its sync status change', async ({ page }, testInfo) => {
  const customer = customers[dataKey(testInfo)];
  await signIn(page, testInfo, 'finance');
  await page.getByLabel('Search customers').fill(customer);
  await page.getByRole('button', { name: 'Search' }).click();
  // The search's own navigation first, so it cannot follow the link's (the address may
  // already hold an earlier search: wait for this one's).
  await expect(page).toHaveURL((url) => url.searchParams.get('q') === customer);
  await page.getByRole('link', { name: customer }).click();
  await page.getByRole('link', { name: 'Provider Tenants' }).first().click();
  await expect(page.getByRole('heading', { name: 'Provider Tenants' })).toBeVisible();
  await ready(page, testInfo);
  const tenant = page.locator('.tenant').first();
  await expect(tenant.locator('code.copyable')).toHaveText(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  const syncStatus = page.getByTestId('sync-status');
  const before = await syncStatus.innerText();
  await page.getByRole('button', { name: 'Reload reconciliation' }).click();
  await expect(status(page)).toContainText(customer);
  // The reload is queued for the sync worker; the section follows it.
  if (testInfo.project.use.javaScriptEnabled === false) {
    await expect(async () => {
      await page.reload();
      await expect(page.getByTestId('reload-queued')).toHaveCount(0, { timeout: 1000 });
    }).toPass({ timeout: 30_000 });
  }
  await expect(syncStatus.locator('.badge')).toHaveText('Synced', { timeout: 30_000 });
  await expect(syncStatus).not.toHaveText(before);
  await expect(tenant).not.toContainText('Last sync: never');
  await expect(page.getByRole('button', { name: 'Reload reconciliation' })).toBeEnabled();
  await snapshot(page, testInfo, 'provider-tenants');
});

test('an admin reloads all customers and the progress reaches 100%', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'admin');
  await navigate(page, 'Sync');
  await expect(page.getByRole('heading', { name: 'Reload reconciliation' })).toBeVisible();
  await ready(page, testInfo);
  // The four projects may each start or join the same job: both are fine.
  await page.getByRole('button', { name: /Reload all customers|Join the running reload/ }).click();
  await expect(page).toHaveURL(/\/sync/);
  await expect(status(page)).toContainText('all customers');
  const figures = page.getByTestId('job-figures');
  if (testInfo.project.use.javaScriptEnabled === false) {
    // Without JavaScript the page shows the progress as of each load.
    await expect(async () => {
      await page.reload();
      await expect(figures).toContainText('100%', { timeout: 1000 });
    }).toPass({ timeout: 30_000 });
  } else {
    await expect(figures).toContainText('100%', { timeout: 30_000 });
  }
  await expect(figures).toContainText('0 remaining');
  await expect(page.locator('progress')).toBeVisible();
  await snapshot(page, testInfo, 'sync');
});

test('the sync page asks for progress only while a job runs', async ({ page }, testInfo) => {
  test.skip(!jsEnabled(testInfo), 'polling needs JavaScript');
  // The page's timers run only when the test moves this clock on.
  await page.clock.install();
  await signIn(page, testInfo, 'admin');
  await page.goto('/sync');
  await ready(page, testInfo);
  // The reload's answer, and the progress the page asks for after it: from then on the page
  // shows this job, not one that ended before.
  const refetched = page.waitForResponse((r) => r.url().includes('/api/get_sync_page'));
  const started = page.waitForResponse((r) => r.url().includes('/api/reload_all_customers'));
  await page.getByRole('button', { name: /Reload all customers|Join the running reload/ }).click();
  await started;
  await refetched;
  // Until the page has seen the job end (its button offers a new reload again).
  await expect(async () => {
    await page.clock.runFor(1000);
    await expect(page.getByRole('button', { name: 'Reload all customers' })).toBeVisible({ timeout: 500 });
  }).toPass({ timeout: 30_000 });
  await expect(page.getByTestId('job-figures')).toContainText('100%');
  let asked = 0;
  page.on('request', (request) => {
    if (request.url().includes('/api/get_sync_page')) asked += 1;
  });
  await page.clock.runFor(10_000);
  expect(asked).toBe(0);
});
