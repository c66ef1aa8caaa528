import { Browser, Page, TestInfo } from '@playwright/test';
import { dataKey, expect, navigate, ready, snapshot, status, test } from './fixtures';

/** A second browser of the same kind as the project's (JavaScript on or off, phone or desktop). */
async function secondBrowser(browser: Browser, testInfo: TestInfo): Promise<Page> {
  const context = await browser.newContext({
    baseURL: testInfo.project.use.baseURL,
    javaScriptEnabled: testInfo.project.use.javaScriptEnabled,
    viewport: testInfo.project.use.viewport,
  });
  return context.newPage();
}

test('an admin adds a Help Desk member, who sees only their scope, then changes the scope and disables them; the audit log has each step', async ({ page, browser }, testInfo) => {
  const key = dataKey(testInfo);
  const email = `helpdesk-${key}@demo.test`;
  const name = `Casey ${key}`;
  // The admin adds the member.
  await page.goto('/sign-in');
  await ready(page, testInfo);
  await page.getByLabel('E-mail address').fill('admin@demo.test');
  await page.getByLabel('Password').fill('demo-admin');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Customers' })).toBeVisible();
  await ready(page, testInfo);
  await navigate(page, 'Staff');
  await expect(page.getByRole('heading', { name: 'Staff', exact: true })).toBeVisible();
  await ready(page, testInfo);
  await page.getByText('Add a staff member').click();
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Role').selectOption('helpdesk');
  await page.getByLabel('Tag scopes (Help Desk)').fill('Region=North');
  // A common password is refused next to its field, and what was typed stays.
  await page.getByLabel('First password').fill('password12345');
  await page.getByRole('button', { name: 'Add staff member' }).click();
  await expect(page.locator('#member-password-error')).toContainText('most common');
  await ready(page, testInfo);
  if (!(await page.getByLabel('E-mail address').isVisible())) await page.getByText('Add a staff member').click();
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Role').selectOption('helpdesk');
  await page.getByLabel('Tag scopes (Help Desk)').fill('Region=North');
  await page.getByLabel('First password').fill('violet kettle orbit');
  await page.getByRole('button', { name: 'Add staff member' }).click();
  await expect(status(page)).toContainText(`Added ${email}.`);
  await expect(page.locator('.staff-list')).toContainText(name);
  await snapshot(page, testInfo, 'staff');

  // They sign in elsewhere, must choose their own password, then see only North customers.
  const member = await secondBrowser(browser, testInfo);
  await member.goto('/sign-in');
  await ready(member, testInfo);
  await member.getByLabel('E-mail address').fill(email);
  await member.getByLabel('Password').fill('violet kettle orbit');
  await member.getByRole('button', { name: 'Sign in' }).click();
  await expect(member.getByRole('heading', { name: 'My account' })).toBeVisible();
  await expect(member).toHaveURL(/\/account$/);
  await ready(member, testInfo);
  await member.getByLabel('Current password').fill('violet kettle orbit');
  await member.getByLabel('New password', { exact: true }).fill('amber falcon river');
  await member.getByLabel('New password again').fill('amber falcon river');
  await member.getByRole('button', { name: 'Change password' }).click();
  await expect(member.getByTestId('status')).toContainText('Password changed');
  await member.goto('/customers');
  const rows = member.locator('table.customers tbody tr');
  await expect(rows.first()).toBeVisible();
  for (const text of await rows.allInnerTexts()) expect(text).toContain('Region: North');

  // The admin changes their scope: the member's next page shows South instead.
  await page.getByRole('link', { name: `Manage ${email}` }).click();
  await expect(page.getByRole('heading', { name })).toBeVisible();
  await ready(page, testInfo);
  await page.getByLabel('Customers with any of these tags').fill('Region=South');
  await page.getByRole('button', { name: 'Save scopes' }).click();
  await expect(status(page)).toHaveText('Tag scopes saved.');
  await expect(page.locator('.session-list li')).toHaveCount(1);
  await snapshot(page, testInfo, 'staff-member');
  await member.goto('/customers');
  await expect(rows.first()).toBeVisible();
  for (const text of await rows.allInnerTexts()) expect(text).toContain('Region: South');

  // Disabled, their session ends at once.
  await ready(page, testInfo);
  await page.getByRole('button', { name: 'Disable' }).click();
  await expect(status(page)).toHaveText('Disabled; their sessions have ended.');
  await member.goto('/customers');
  await expect(member).toHaveURL(/\/sign-in$/);
  await member.context().close();

  // The audit log shows each step with before and after.
  await page.goto(`/audit?action=staff.scopes&staff=admin%40demo.test`);
  const entry = page.locator('li.audit-entry').filter({ hasText: email }).first();
  await expect(entry).toContainText('region=North');
  await expect(entry).toContainText('region=South');
  for (const action of ['staff.add', 'staff.disable']) {
    await page.goto(`/audit?action=${action}`);
    await expect(page.locator('li.audit-entry').filter({ hasText: email })).toHaveCount(1);
  }
});

test('a new API token is shown once and listed with its scope', async ({ page }, testInfo) => {
  const key = dataKey(testInfo);
  await page.goto('/sign-in');
  await ready(page, testInfo);
  await page.getByLabel('E-mail address').fill('admin@demo.test');
  await page.getByLabel('Password').fill('demo-admin');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Customers' })).toBeVisible();
  await page.goto('/admin/api-tokens');
  await expect(page.getByRole('heading', { name: 'API tokens' })).toBeVisible();
  await ready(page, testInfo);
  await page.getByLabel('Name').fill(`PSA ${key}`);
  await page.getByLabel('Expires after (days)').fill('30');
  await page.getByRole('button', { name: 'Create token' }).click();
  const token = await page.getByTestId('new-token').textContent();
  expect(token).toMatch(/^pcp_[0-9a-f]{64}$/);
  await expect(page.locator('table.tokens')).toContainText(`PSA ${key}`);
  await snapshot(page, testInfo, 'api-tokens');
  // The token reads the JSON API.
  const res = await page.request.get('/api/reports/reconciliation', {
    headers: { Authorization: `Bearer ${token}` },
  });
  expect(res.status()).toBe(200);
  await page.reload();
  await expect(page.getByTestId('new-token')).toHaveCount(0);
});
