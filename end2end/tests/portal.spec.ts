import { dataKey, expect, jsEnabled, navigate, openMenu, ready, signIn, snapshot, status, test } from './fixtures';

test('a wrong password gets a clear message that does not say whether the user exists', async ({ page }, testInfo) => {
  await page.goto('/sign-in');
  await ready(page, testInfo);
  await snapshot(page, testInfo, 'sign-in');
  await page.getByLabel('E-mail address').fill('admin@demo.test');
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const message = page.locator('#password-error');
  await expect(message).toHaveText('That e-mail address and password do not match an account.');
  await expect(page).toHaveURL(/\/sign-in/);

  await page.getByLabel('E-mail address').fill(`nobody-${testInfo.project.name}@demo.test`);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(message).toHaveText('That e-mail address and password do not match an account.');
});

test('an admin lists, searches, opens a customer, adds and removes a tag, and signs out', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'admin');
  await expect(page.getByTestId('signed-in-as')).toHaveText('admin@demo.test');
  await expect(page.getByRole('link', { name: 'Alder Creek Dental' })).toBeVisible();
  await snapshot(page, testInfo, 'customers');

  // Keyset paging: the second page starts after the first, and each says where it is.
  await expect(page.getByTestId('list-range')).toHaveText(/^1–25 of \d+ customers$/);
  await page.getByRole('link', { name: 'Next page »' }).click();
  await expect(page.getByTestId('list-range')).toHaveText(/^26–50 of \d+ customers$/);
  await expect(page.getByRole('link', { name: 'Zephyr Wind Energy' })).toHaveCount(0);
  await expect(page.getByRole('link', { name: '« First page' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Alder Creek Dental' })).toHaveCount(0);

  await page.getByLabel('Search customers').fill('northwind');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/q=northwind/);
  await expect(page.getByRole('link', { name: 'Northwind Traders' })).toBeVisible();
  await expect(page.locator('table.customers tbody tr')).toHaveCount(1);

  await page.getByRole('link', { name: 'Northwind Traders' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Northwind Traders' })).toBeVisible();
  await expect(page.getByText('northwind-traders.com')).toBeVisible();
  await ready(page, testInfo);
  await snapshot(page, testInfo, 'customer');

  await page.getByRole('link', { name: 'Define Tags' }).first().click();
  await expect(page.getByRole('heading', { name: 'Define Tags' })).toBeVisible();
  await ready(page, testInfo);

  // Invalid input: the reason shows next to the field and nothing is saved.
  const name = page.getByLabel('Name', { exact: true });
  const value = page.getByLabel('Value', { exact: true });
  await name.fill('x'.repeat(65));
  await value.fill('anything');
  await page.getByRole('button', { name: 'Add tag' }).click();
  await expect(page.locator('#tag-name-error')).toContainText('65 characters');
  await expect(page.locator('.tag-list')).not.toContainText('xxxxxxxxxx');

  await name.fill('');
  await value.fill('anything');
  await page.getByRole('button', { name: 'Add tag' }).click();
  await expect(page.locator('#tag-name-error')).toHaveText('Enter a tag name.');

  const tagName = `E2E ${testInfo.project.name}`;
  await name.fill(tagName);
  await value.fill('Blue');
  await page.getByRole('button', { name: 'Add tag' }).click();
  const added = page.locator('.tag-list li', { hasText: tagName });
  await expect(added).toContainText('Blue');
  await expect(page.locator('#tag-name-error')).toHaveCount(0);
  await expect(status(page)).toHaveText(`Added tag ${tagName}: Blue to Northwind Traders.`);
  await snapshot(page, testInfo, 'tags');

  // Removing a tag asks first; Cancel changes nothing.
  await page.getByRole('link', { name: `Remove tag ${tagName}` }).click();
  await expect(added.getByRole('group', { name: 'Confirm' })).toContainText('Help Desk staff whose scope is this tag');
  await added.getByRole('link', { name: 'Cancel' }).click();
  await expect(added.getByRole('group', { name: 'Confirm' })).toHaveCount(0);
  await page.getByRole('link', { name: `Remove tag ${tagName}` }).click();
  await added.getByRole('button', { name: 'Yes, remove' }).click();
  await expect(added).toHaveCount(0);
  await expect(status(page)).toHaveText(`Removed tag ${tagName}: Blue from Northwind Traders.`);

  await page.getByRole('link', { name: 'Account Manager Details' }).first().click();
  await expect(page.getByRole('heading', { name: 'Account Manager Details' })).toBeVisible();
  await expect(page.locator('.manager-name').first()).toBeVisible();
  await snapshot(page, testInfo, 'account-managers');

  await openMenu(page);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await page.goto('/customers');
  await expect(page).toHaveURL(/\/sign-in$/);
});

test('a reader sees tags but cannot change them', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'reader');
  await page.getByLabel('Search customers').fill('Northwind');
  await page.getByRole('button', { name: 'Search' }).click();
  // The search's own navigation first, so it cannot follow the link's (the address may
  // already hold an earlier search: wait for this one's).
  await expect(page).toHaveURL((url) => url.searchParams.get('q') === 'Northwind');
  await page.getByRole('link', { name: 'Northwind Traders' }).click();
  await page.getByRole('link', { name: 'Define Tags' }).first().click();
  await expect(page.locator('.tag-list')).toContainText('Region');
  await expect(page.getByRole('button', { name: 'Add tag' })).toHaveCount(0);
  await expect(page.getByRole('link', { name: /^Remove tag/ })).toHaveCount(0);
  await expect(page.getByTestId('read-only')).toHaveText("You can view this customer's tags; changing them needs System Admin.");
  await snapshot(page, testInfo, 'tags-reader');
});

test('a help desk user sees only the customers of their tag', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'helpdesk');
  const rows = page.locator('table.customers tbody tr');
  await expect(rows).toHaveCount(15);
  await expect(page.getByTestId('list-range')).toHaveText('15 customers');
  for (const text of await rows.allInnerTexts()) {
    expect(text).toContain('Region: North');
  }
});

test('a search typed before the page is hydrated is still there after', async ({ page }, testInfo) => {
  test.skip(!jsEnabled(testInfo), 'hydration needs JavaScript');
  await signIn(page, testInfo, 'admin');
  // Hold the client back until the person has typed.
  let release: () => void = () => {};
  const typed = new Promise<void>((resolve) => (release = resolve));
  await page.route(/\/pkg\/portal(\.[0-9a-f]+)?\.wasm$/, async (route) => {
    await typed;
    await route.continue();
  });
  await page.goto('/customers?q=co');
  const box = page.getByLabel('Search customers');
  await expect(box).toHaveValue('co');
  await box.fill('contoso typed early');
  release();
  await ready(page, testInfo);
  await expect(box).toHaveValue('contoso typed early');
  // Later changes of the address still show in the box: a search, then Back.
  await box.fill('fa');
  await box.press('Enter');
  await expect(page).toHaveURL(/q=fa/);
  await page.goBack();
  await expect(page).toHaveURL(/q=co$/);
  await expect(box).toHaveValue('co');
});

// Customers only this test deletes and restores.
const deletable: Record<string, string> = {
  'desktop-js': 'Southbank Theatre',
  'desktop-nojs': 'Timberline Construction',
  'phone-js': 'Skyward Aviation Services',
  'phone-nojs': 'Summit Sports Clinic',
};

test('an admin deletes a customer with its name typed back, finds it gone, and restores it', async ({ page }, testInfo) => {
  const customer = deletable[dataKey(testInfo)];
  await signIn(page, testInfo, 'admin');
  await page.getByLabel('Search customers').fill(customer);
  await page.getByRole('button', { name: 'Search' }).click();
  // The search's own navigation first, so it cannot follow the link's (the address may
  // already hold an earlier search: wait for this one's).
  await expect(page).toHaveURL((url) => url.searchParams.get('q') === customer);
  await page.getByRole('link', { name: customer }).click();
  await page.getByRole('navigation', { name: 'Customer settings' }).getByRole('link', { name: 'Delete Customer' }).click();
  await expect(page.getByRole('heading', { name: 'Delete Customer' })).toBeVisible();
  await expect(page.getByTestId('deletion-list')).toContainText('tenant link');
  const belongings = await page.getByTestId('deletion-list').locator('li').allInnerTexts();
  await ready(page, testInfo);

  // A name not typed exactly is refused next to the field, and nothing is deleted.
  const field = page.getByLabel(`Type the customer's name, ${customer}, to delete it`);
  await field.fill(customer.toLowerCase());
  await page.getByRole('button', { name: 'Delete customer' }).click();
  await expect(page.locator('#confirm-name-error')).toContainText('Type the customer\'s name exactly as shown');
  await ready(page, testInfo);
  await page.getByLabel(`Type the customer's name, ${customer}, to delete it`).fill(customer);
  await page.getByRole('button', { name: 'Delete customer' }).click();
  await expect(status(page)).toContainText(`Deleted ${customer} from the portal (not from Partner Center)`);
  await expect(page.getByRole('heading', { name: 'Deleted customers' })).toBeVisible();
  await expect(page.locator('table.deleted-customers')).toContainText(customer);

  // Gone from the list and its search.
  await navigate(page, 'Customers');
  await page.getByLabel('Search customers').fill(customer);
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByRole('link', { name: customer })).toHaveCount(0);

  // Restored from the deleted customers page (linked from the list), it is back with all that
  // went with it.
  await ready(page, testInfo);
  await page.getByLabel('Search customers').fill('');
  await page.getByRole('button', { name: 'Search' }).click();
  // The search's own navigation first, so it cannot follow the link's (the address may
  // already hold an earlier search: wait for this one's).
  await expect(page).toHaveURL((url) => url.searchParams.get('q') === '');
  await page.getByRole('link', { name: 'Deleted customers' }).click();
  await expect(page.getByRole('heading', { name: 'Deleted customers' })).toBeVisible();
  await ready(page, testInfo);
  await page.getByRole('button', { name: `Restore ${customer}` }).click();
  await expect(status(page)).toHaveText(`Restored ${customer}.`);
  await expect(page.getByRole('heading', { level: 1, name: customer })).toBeVisible();
  await page.getByRole('navigation', { name: 'Customer settings' }).getByRole('link', { name: 'Delete Customer' }).click();
  await expect(page.getByTestId('deletion-list').locator('li')).toHaveText(belongings);
});

// Each project links its own customer to its own Stripe test customer (one billing customer
// belongs to one portal customer).
const billing: Record<string, [string, string, string]> = {
  'desktop-js': ['Greenway Recycling', 'cus_Q3ZCqnd3JtX2Ld', 'Alpine Ridge Logistics'],
  'desktop-nojs': ['Rosewood Interiors', 'cus_R8TmWq1BvXy7Ka', 'Amberfield Accounting'],
  'phone-js': ['Sandstone Realty', 'cus_S2LpHd9KzQw4Rb', 'Bayview Veterinary Clinic'],
  'phone-nojs': ['Silverline Telecom', 'cus_T7VnBc3MxLq8Pd', 'Beacon Hill Architects'],
};

test('finance links a Stripe customer after seeing what Stripe says, verifies it and unlinks it', async ({ page }, testInfo) => {
  const [customer, stripeId, stripeName] = billing[dataKey(testInfo)];
  await signIn(page, testInfo, 'finance');
  await page.getByLabel('Search customers').fill(customer);
  await page.getByRole('button', { name: 'Search' }).click();
  // The search's own navigation first, so it cannot follow the link's (the address may
  // already hold an earlier search: wait for this one's).
  await expect(page).toHaveURL((url) => url.searchParams.get('q') === customer);
  await page.getByRole('link', { name: customer }).click();
  await page.getByRole('navigation', { name: 'Customer settings' }).getByRole('link', { name: 'Link to Billing Profile' }).click();
  await expect(page.getByRole('heading', { name: 'Link to Billing Profile' })).toBeVisible();
  await expect(page.getByTestId('test-mode')).toContainText("Stripe's test mode");
  await ready(page, testInfo);

  // An id of the wrong form is said next to the field; nothing is looked up or saved.
  await page.getByLabel('Stripe customer id').fill('12345');
  await page.getByRole('button', { name: 'Look up' }).click();
  await expect(page.locator('#billing-id-error')).toContainText('is not a Stripe customer id');
  await ready(page, testInfo);

  // Looked up (spaces around it are trimmed): Stripe's name and e-mail, then Link.
  await page.getByLabel('Stripe customer id').fill(` ${stripeId} `);
  await page.getByRole('button', { name: 'Look up' }).click();
  await expect(page.getByTestId('billing-confirm')).toContainText(`${stripeId} — ${stripeName}`);
  await ready(page, testInfo);
  await page.getByRole('button', { name: `Link ${stripeId}` }).click();
  await expect(status(page)).toHaveText(`Linked to ${stripeId} (${stripeName}).`);
  await expect(page.getByTestId('billing-link')).toContainText(`${stripeId} — ${stripeName}`);
  await snapshot(page, testInfo, 'billing');
  await ready(page, testInfo);

  await page.getByRole('button', { name: 'Verify now' }).click();
  await expect(status(page)).toHaveText(`${stripeId} is still there: ${stripeName}.`);
  await ready(page, testInfo);
  await page.getByRole('button', { name: 'Unlink' }).click();
  await expect(status(page)).toHaveText(`Unlinked ${stripeId}.`);
  await expect(page.getByTestId('billing-link')).toContainText('No Stripe customer is linked');
});

test('the audit log shows each change with its fields before and after, filtered by staff member and action', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'admin');
  await navigate(page, 'Audit log');
  await expect(page.getByRole('heading', { name: 'Audit log' })).toBeVisible();
  await expect(page.getByTestId('audit-entries')).toBeVisible();
  await ready(page, testInfo);
  await page.getByLabel('Staff member').fill('admin@demo.test');
  await page.getByLabel('Action').fill('setting.override');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/staff=admin%40demo\.test|staff=admin@demo\.test/);
  const entries = page.locator('li.audit-entry');
  await expect(entries.first()).toHaveAttribute('data-action', 'setting.override');
  const actions = await entries.evaluateAll((els) => els.map((e) => e.getAttribute('data-action')));
  expect(new Set(actions)).toEqual(new Set(['setting.override']));
  await expect(entries.first().locator('table.audit-changes')).toContainText('value');
  await snapshot(page, testInfo, 'audit');
  await ready(page, testInfo);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download CSV' }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^audit-log-\d{4}-\d{2}-\d{2}\.csv$/);
  let text = '';
  for await (const chunk of await download.createReadStream()) text += chunk.toString();
  const lines = text.split('\r\n').filter((l) => l !== '');
  expect(lines[0]).toBe('id,at,actor,action,customer_id,customer,subject,field,before,after');
  expect(lines.length).toBeGreaterThan(1);
  expect(lines.slice(1).every((l) => l.includes(',admin@demo.test,setting.override,'))).toBe(true);

  // A day that cannot be read is said next to its field.
  await page.goto('/audit?from=yesterday');
  await expect(page.locator('#audit-from-error')).toContainText('is not a date');
});
