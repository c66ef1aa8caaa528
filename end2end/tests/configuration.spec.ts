import { Browser, Page, TestInfo } from '@playwright/test';
import { dataKey, expect, navigate, ready, signIn, snapshot, status, test } from './fixtures';

// The four projects share one demo database and run at the same time, so each test works on a
// customer of its own per project.
const customers: Record<string, string[]> = {
  'desktop-js': ['Alpine Ridge Logistics', 'Amberfield Accounting', 'Bayview Veterinary Clinic'],
  'desktop-nojs': ['Beacon Hill Architects', 'Birchwood Primary School', 'Blue Harbor Seafood'],
  'phone-js': ['Brightline Solar', 'Cascade Legal Partners', 'Clearwater Physiotherapy'],
  'phone-nojs': ['Cobalt Engineering', 'Copperleaf Hotels', 'Crestview Insurance Brokers'],
};
const customerFor = (testInfo: TestInfo, n: number) => customers[dataKey(testInfo)][n];

async function openConfiguration(page: Page, testInfo: TestInfo, customer: string) {
  await page.getByLabel('Search customers').fill(customer);
  await page.getByRole('button', { name: 'Search' }).click();
  // The search's own navigation first, so it cannot follow the link's (the address may
  // already hold an earlier search: wait for this one's).
  await expect(page).toHaveURL((url) => url.searchParams.get('q') === customer);
  await page.getByRole('link', { name: customer }).click();
  await expect(page.getByRole('heading', { level: 1, name: customer })).toBeVisible();
  await page.getByRole('link', { name: 'Customer Configuration' }).first().click();
  await expect(page.getByRole('heading', { name: 'Customer Configuration' })).toBeVisible();
  await ready(page, testInfo);
}

const setting = (page: Page, key: string) => page.locator(`li.setting[data-key="${key}"]`);

test('an admin reads the help, overrides a value, sees it kept, reverts it and restores it from history', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'admin');
  await openConfiguration(page, testInfo, customerFor(testInfo, 0));
  // The current section and the top bar's current place are marked for screen readers.
  await expect(page.locator('nav.sections a[aria-current="page"]')).toHaveText('Customer Configuration');
  await expect(page.locator('a[aria-current="page"][href="/customers"]')).toHaveCount(1);
  const terms = setting(page, 'billing.payment_terms_days');
  await expect(terms.locator('.value')).toHaveText('30');
  await expect(terms.locator('.badge')).toHaveText('Global default');

  // The (i) opens the help text on a tap or click, with or without JavaScript; on a phone it
  // opens above the setting, so the value stays in view.
  const tip = terms.getByRole('tooltip');
  await expect(tip).toBeHidden();
  await terms.getByLabel('About Payment terms (days)').click();
  await expect(tip).toBeVisible();
  await expect(tip).toContainText('Days the customer has to pay an invoice');
  const [tipBox, valueBox] = [await tip.boundingBox(), await terms.locator('.value').boundingBox()];
  const overlaps = tipBox!.y < valueBox!.y + valueBox!.height && valueBox!.y < tipBox!.y + tipBox!.height
    && tipBox!.x < valueBox!.x + valueBox!.width && valueBox!.x < tipBox!.x + tipBox!.width;
  expect(overlaps, 'the help text covers the value it explains').toBe(false);
  await snapshot(page, testInfo, 'configuration');
  await terms.getByLabel('About Payment terms (days)').click();
  await expect(tip).toBeHidden();

  await terms.getByRole('link', { name: 'Override Payment terms (days)' }).click();
  const input = page.getByLabel('New value for Payment terms (days)');
  await input.fill('500');
  await terms.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#value-billing-payment_terms_days-error')).toContainText('from 0 to 120');
  await snapshot(page, testInfo, 'configuration-invalid');
  await expect(terms.locator('.badge')).toHaveText('Global default');

  await page.getByLabel('New value for Payment terms (days)').fill('45');
  await terms.getByRole('button', { name: 'Save' }).click();
  await expect(terms.locator('.value')).toHaveText('45');
  await expect(terms.locator('.badge')).toHaveText('Overridden');
  await expect(status(page)).toHaveText(`Saved: Payment terms (days) is 45 for ${customerFor(testInfo, 0)}.`);

  await page.reload();
  await ready(page, testInfo);
  await expect(terms.locator('.value')).toHaveText('45');
  await expect(terms.locator('.badge')).toHaveText('Overridden');
  await expect(terms.locator('.replaces')).toContainText('30');

  await terms.getByRole('link', { name: 'Revert Payment terms (days)' }).click();
  await expect(terms.getByText('to the global default (30)?')).toBeVisible();
  await terms.getByRole('button', { name: 'Yes, revert' }).click();
  await expect(terms.locator('.badge')).toHaveText('Global default');
  await expect(terms.locator('.value')).toHaveText('30');
  await expect(status(page)).toHaveText(`Reverted: Payment terms (days) follows the global default (30) for ${customerFor(testInfo, 0)}.`);

  await terms.getByRole('link', { name: 'History of Payment terms (days)' }).click();
  const entries = terms.locator('.history-list li');
  await expect(entries).toHaveCount(2);
  await expect(entries.nth(0)).toContainText('Reverted to the global default');
  await expect(entries.nth(1)).toContainText('Overridden');
  await expect(entries.nth(1)).toContainText('admin@demo.test');
  await snapshot(page, testInfo, 'configuration-history');
  await terms.getByRole('button', { name: 'Restore 45' }).click();
  await expect(terms.locator('.badge')).toHaveText('Overridden');
  await expect(terms.locator('.value')).toHaveText('45');
  await expect(status(page)).toHaveText(`Restored: Payment terms (days) is 45 for ${customerFor(testInfo, 0)}.`);
  await terms.getByRole('link', { name: 'History of Payment terms (days)' }).click();
  await expect(entries.nth(0)).toContainText('Restored a past value');
});

async function secondPage(browser: Browser, testInfo: TestInfo): Promise<Page> {
  const { viewport, javaScriptEnabled, isMobile, hasTouch } = testInfo.project.use;
  const context = await browser.newContext({ viewport, javaScriptEnabled, isMobile, hasTouch, baseURL: testInfo.project.use.baseURL });
  return context.newPage();
}

test('when two people change the same setting, the second is told who changed it and can retry', async ({ page, browser }, testInfo) => {
  const customer = customerFor(testInfo, 1);
  const other = await secondPage(browser, testInfo);
  for (const p of [page, other]) {
    await signIn(p, testInfo, 'admin');
    await openConfiguration(p, testInfo, customer);
    await setting(p, 'billing.invoice_footer').getByRole('link', { name: 'Override Invoice footer line' }).click();
    await expect(p.getByLabel('New value for Invoice footer line')).toBeVisible();
  }
  const stamp = `${testInfo.project.name} ${Date.now()}`;
  await page.getByLabel('New value for Invoice footer line').fill(`First ${stamp}`);
  await setting(page, 'billing.invoice_footer').getByRole('button', { name: 'Save' }).click();
  await expect(setting(page, 'billing.invoice_footer').locator('.value')).toHaveText(`First ${stamp}`);

  const footer = setting(other, 'billing.invoice_footer');
  await other.getByLabel('New value for Invoice footer line').fill(`Second ${stamp}`);
  await footer.getByRole('button', { name: 'Save' }).click();
  const conflict = footer.locator('.error-box');
  await expect(conflict).toContainText('admin@demo.test changed');
  await expect(conflict).toContainText(`First ${stamp}`);
  await snapshot(other, testInfo, 'configuration-conflict');

  // The editor now holds the current version: saving again goes through.
  await other.getByLabel('New value for Invoice footer line').fill(`Second ${stamp}`);
  await footer.getByRole('button', { name: 'Save' }).click();
  await expect(footer.locator('.value')).toHaveText(`Second ${stamp}`);
  await other.context().close();
});

test('the override matrix lists an override and a bulk revert clears it', async ({ page }, testInfo) => {
  const customer = customerFor(testInfo, 2);
  await signIn(page, testInfo, 'admin');
  await openConfiguration(page, testInfo, customer);
  const language = setting(page, 'portal.language');
  await language.getByRole('link', { name: 'Override Language' }).click();
  await page.getByLabel('New value for Language').selectOption('Nederlands');
  await language.getByRole('button', { name: 'Save' }).click();
  await expect(language.locator('.value')).toHaveText('Nederlands');

  await navigate(page, 'Override matrix');
  await ready(page, testInfo);
  await page.getByLabel('Setting').selectOption({ label: 'Customer portal — Language' });
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/setting=portal(\.|%2E)language/);
  const row = page.locator('table.matrix tbody tr', { hasText: customer });
  await expect(row).toContainText('Nederlands');
  await ready(page, testInfo);
  await snapshot(page, testInfo, 'override-matrix');
  // Reverting asks first, with the count; nothing selected is said plainly.
  await page.getByRole('button', { name: 'Revert selected to the global default…' }).click();
  await expect(page.locator('#select-error')).toHaveText('Select at least one override to revert.');
  await expect(row).toContainText('Nederlands');
  await row.getByRole('checkbox').check();
  await page.getByRole('button', { name: 'Revert selected to the global default…' }).click();
  await expect(page.getByRole('group', { name: 'Confirm' })).toContainText('Revert 1 selected override to the global default?');
  await expect(row).toContainText('Nederlands');
  await page.getByRole('button', { name: 'Yes, revert 1 override' }).click();
  await expect(row).toHaveCount(0);
  await expect(status(page)).toHaveText('Reverted 1 override to the global default.');
  await expect(page).toHaveURL(/setting=portal(\.|%2E)language/);
});

test('a reader sees the configuration and the matrix but no way to change them', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'reader');
  await openConfiguration(page, testInfo, 'Northwind Traders');
  await expect(setting(page, 'billing.cycle').locator('.value')).toBeVisible();
  const settings = page.locator('ul.settings');
  await expect(settings.getByRole('link', { name: /^Override / })).toHaveCount(0);
  await expect(settings.getByRole('link', { name: /^Revert / })).toHaveCount(0);
  await expect(settings.getByRole('link', { name: /^History of / }).first()).toBeVisible();
  await expect(page.getByTestId('read-only')).toHaveText(
    "You can view this customer's configuration; changes need System Admin or Help Desk.",
  );
  await navigate(page, 'Override matrix');
  await expect(page.getByRole('heading', { name: 'Override matrix' })).toBeVisible();
  await expect(page.getByRole('checkbox')).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Global defaults' })).toHaveCount(0);
});

// Each project changes a different default, so the runs do not race each other.
const defaults: Record<string, [string, string, string, string]> = {
  'desktop-js': ['notifications.renewal_reminder_days', 'Renewal reminder (days before)', '7', '7'],
  'desktop-nojs': ['commerce.max_trials', 'Trial subscriptions allowed at once', '3', '3'],
  'phone-js': ['commerce.seat_limit', 'Seat limit per plan', '25', '25'],
  'phone-nojs': ['usage.danger_threshold_percent', 'Danger threshold', '90', '90 %'],
};

test('an admin changes a global default on its page', async ({ page }, testInfo) => {
  const [key, label, value, shown] = defaults[dataKey(testInfo)];
  await signIn(page, testInfo, 'admin');
  await navigate(page, 'Global defaults');
  await expect(page.getByRole('heading', { name: 'Global defaults' })).toBeVisible();
  await ready(page, testInfo);
  const item = setting(page, key);
  await item.getByRole('link', { name: `Change default of ${label}` }).click();
  await page.getByLabel(`New default for ${label}`).fill('-3');
  await item.getByRole('button', { name: 'Save' }).click();
  await expect(item.locator('.field-error')).toContainText('out of range');
  await page.getByLabel(`New default for ${label}`).fill(value);
  await item.getByRole('button', { name: 'Save' }).click();
  await expect(item.locator('.value')).toHaveText(shown);
  await expect(item).toContainText('Last changed by admin@demo.test');
  await expect(status(page)).toHaveText(`Saved: the global default of ${label} is ${shown}.`);
  await snapshot(page, testInfo, 'global-defaults');
});
