import { expect, ready, signIn, snapshot, test } from './fixtures';

const customers: Record<string, string> = {
  'desktop-js': 'Elmstead Property Management',
  'desktop-nojs': 'Evergreen Landscaping',
  'phone-js': 'Fairway Golf Club',
  'phone-nojs': 'Falcon Freight',
};

test('a finance user reloads one customer and sees its sync status change', async ({ page }, testInfo) => {
  const customer = customers[testInfo.project.name];
  await signIn(page, testInfo, 'finance');
  await page.getByLabel('Search customers').fill(customer);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('link', { name: customer }).click();
  await page.getByRole('link', { name: 'Provider Tenants' }).first().click();
  await expect(page.getByRole('heading', { name: 'Provider Tenants' })).toBeVisible();
  await ready(page, testInfo);
  const tenant = page.locator('.tenant').first();
  await expect(tenant.locator('code.copyable')).toHaveText(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  const status = page.getByTestId('sync-status');
  const before = await status.innerText();
  await page.getByRole('button', { name: 'Reload reconciliation' }).click();
  await expect(status.locator('.badge')).toHaveText('Synced');
  await expect(status).not.toHaveText(before);
  await expect(tenant).not.toContainText('Last sync: never');
  await expect(page.getByRole('button', { name: 'Reload reconciliation' })).toBeEnabled();
  await snapshot(page, testInfo, 'provider-tenants');
});

test('an admin reloads all customers and the progress reaches 100%', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'admin');
  await page.getByRole('link', { name: 'Sync', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Reload reconciliation' })).toBeVisible();
  await ready(page, testInfo);
  // The four projects may each start or join the same job: both are fine.
  await page.getByRole('button', { name: /Reload all customers|Join the running reload/ }).click();
  await expect(page).toHaveURL(/\/sync/);
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
