import { test, expect, signIn, navigate, status, dataKey, ready, snapshot } from './fixtures';
import type { Page, TestInfo } from '@playwright/test';

// Each project links tenants of its own (the demo's Partner Center lists them unlinked), so the
// projects sharing one demo database do not meet. The PostgreSQL project reuses desktop-js's.
const tenantsOf: Record<string, { existing: string; customer: string; asNew: string[]; suggested: [string, string] }> = {
  'desktop-js': {
    existing: 'Dovetail Joinery',
    customer: 'Larkspur Design Studio',
    asNew: ['Aspenwood Dental Lab', 'Bramble & Finch Bakery', 'Canyon Ridge Veterinary'],
    suggested: ['Driftwood Marketing EU', 'Driftwood Marketing'],
  },
  'desktop-nojs': {
    existing: 'Heronsgate Legal',
    customer: 'Lighthouse Charity Foundation',
    asNew: ['Emberline Fitness', 'Fernhill Optometry', 'Glasshouse Coffee Roasters'],
    suggested: ['Eastgate Pharmacy (Online Store)', 'Eastgate Pharmacy'],
  },
  'phone-js': {
    existing: 'Lanternfish Studios',
    customer: 'Maple Grove Dairy',
    asNew: ['Inkwell Print Co', 'Jasper Lane Realty', 'Kestrel Security'],
    suggested: ['Meridian Consulting GmbH', 'Meridian Consulting'],
  },
  'phone-nojs': {
    existing: 'Parsnip & Pea Catering',
    customer: 'Millbrook Bakery',
    asNew: ['Marigold Home Care', 'Nettlebed Farm Shop', 'Otter Creek Outfitters'],
    suggested: ['Redwood Analytics, Inc.', 'Redwood Analytics'],
  },
};

async function openDirectory(page: Page, testInfo: TestInfo) {
  await navigate(page, 'Provider directory');
  await expect(page.getByRole('heading', { level: 1, name: 'Provider directory' })).toBeVisible();
  await ready(page, testInfo);
}

/** The directory row of a tenant, by its company name. */
const row = (page: Page, company: string) =>
  page.locator('table.directory tbody tr').filter({ has: page.getByText(company, { exact: true }) });

test('an admin refreshes the directory, links a tenant to an existing customer and unlinks it', async ({ page }, testInfo) => {
  const data = tenantsOf[dataKey(testInfo)];
  await signIn(page, testInfo, 'admin');
  await openDirectory(page, testInfo);
  await expect(page.getByTestId('directory-taken')).toContainText('Taken from Partner Center');

  await page.getByRole('button', { name: 'Refresh from Partner Center' }).click();
  await expect(status(page)).toContainText('Provider directory refreshed:');
  await expect(status(page)).toContainText('0 gone');

  // The ambiguous tenant names both customers and is left to a person.
  await expect(row(page, 'Tidewater Marine, Inc.')).toContainText('Ambiguous');
  await expect(row(page, 'Tidewater Marine, Inc.')).toContainText('Tidewater Marine or Tidewater Marine Ltd');
  await snapshot(page, testInfo, 'provider-directory');

  // Search finds the tenant; its Link… opens the choice of new or existing customer.
  await page.getByLabel('Search', { exact: true }).fill(data.existing);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(page.getByTestId('list-range')).toHaveText(`1 tenant unlinked matching “${data.existing}”`);
  await ready(page, testInfo);
  await page.getByRole('link', { name: `Link ${data.existing}` }).click();
  await expect(page.getByRole('heading', { name: `Link ${data.existing}` })).toBeVisible();
  await expect(page.getByLabel('Customer name')).toHaveValue(data.existing);
  await ready(page, testInfo);
  await page.getByLabel('Find the customer').fill(data.customer);
  await page.getByRole('button', { name: 'Find', exact: true }).click();
  await expect(page.getByRole('radio', { name: new RegExp(data.customer) })).toBeChecked();
  await snapshot(page, testInfo, 'provider-link-existing');
  await ready(page, testInfo);
  await page.getByRole('button', { name: 'Link 1 tenant to this customer' }).click();

  // The customer's Provider Tenants section shows it, waiting for its first sync.
  await expect(page).toHaveURL(/\/customers\/\d+\/tenants$/);
  await expect(status(page)).toHaveText(`Linked 1 tenant to ${data.customer}. Its first sync is queued.`);
  const tenant = page.locator('li.tenant').filter({ hasText: data.existing });
  await expect(tenant).toBeVisible();
  await ready(page, testInfo);

  // Unlink asks first; the tenant then leaves the customer.
  await page.getByRole('link', { name: `Unlink ${data.existing}` }).click();
  await expect(page.getByRole('group', { name: 'Confirm' })).toContainText(`Unlink ${data.existing} from this customer?`);
  await page.getByRole('button', { name: 'Yes, unlink' }).click();
  await expect(status(page)).toHaveText(
    `Unlinked ${data.existing} from ${data.customer}; the tenant is back in the provider directory as unlinked.`,
  );
  await expect(page.locator('li.tenant').filter({ hasText: data.existing })).toHaveCount(0);
});

test('an admin links three tenants as new customers and accepts a suggestion; the customer list shows them', async ({ page }, testInfo) => {
  const data = tenantsOf[dataKey(testInfo)];
  await signIn(page, testInfo, 'admin');
  await openDirectory(page, testInfo);

  for (const name of data.asNew) {
    await page.getByRole('checkbox', { name: `Select ${name}` }).check();
  }
  await page.getByRole('button', { name: 'Link selected…' }).click();
  await expect(page.getByRole('heading', { name: 'Link 3 tenants' })).toBeVisible();
  await expect(page.getByTestId('selection-list')).toContainText(data.asNew[0]);
  await ready(page, testInfo);
  await page.getByRole('button', { name: 'Create 3 customers and link' }).click();
  await expect(status(page)).toHaveText(
    'Linked 3 tenants as 3 new customers. The first sync of each customer is queued.',
  );
  await expect(row(page, data.asNew[0])).toHaveCount(0);
  await ready(page, testInfo);

  // Accept suggestions: the question lists what will be linked to what.
  const [tenant, customer] = data.suggested;
  await expect(row(page, tenant)).toContainText(customer);
  await page.getByRole('checkbox', { name: `Select ${tenant}` }).check();
  await page.getByRole('button', { name: 'Accept suggestions…' }).click();
  await expect(page.getByTestId('accept-list')).toContainText(`${tenant} → ${customer}`);
  await ready(page, testInfo);
  await page.getByRole('button', { name: 'Yes, link 1 tenant' }).click();
  await expect(status(page)).toHaveText(
    'Accepted suggestions: linked 1 tenant to 1 customer. Its first sync is queued.',
  );
  await expect(row(page, tenant)).toHaveCount(0);

  // Every tenant of the page can be ticked at once, and unticked.
  await ready(page, testInfo);
  await page.getByRole('link', { name: 'Tick every tenant on this page' }).click();
  const boxes = page.locator('table.directory input[name="select"]');
  await expect(boxes.first()).toBeChecked();
  expect(await boxes.evaluateAll((all) => all.every((b) => (b as HTMLInputElement).checked))).toBe(true);
  await ready(page, testInfo);
  await page.getByRole('link', { name: 'Untick this page' }).click();
  await expect(boxes.first()).not.toBeChecked();

  // The customer list shows the new customers.
  await navigate(page, 'Customers');
  await ready(page, testInfo);
  await page.getByLabel('Search customers').fill(data.asNew[1]);
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByRole('link', { name: data.asNew[1], exact: true })).toBeVisible();
  await page.getByRole('link', { name: data.asNew[1], exact: true }).click();
  await page.getByRole('link', { name: 'Provider Tenants' }).first().click();
  await expect(page.locator('li.tenant')).toContainText(data.asNew[1]);
});

test('a reader sees the directory but no way to link', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'reader');
  await openDirectory(page, testInfo);
  await expect(page.getByTestId('read-only')).toContainText('linking tenants needs System Admin');
  await expect(page.getByRole('button', { name: 'Refresh from Partner Center' })).toHaveCount(0);
  await expect(page.getByRole('checkbox')).toHaveCount(0);
  await expect(page.getByRole('link', { name: /^Link / })).toHaveCount(0);
});
