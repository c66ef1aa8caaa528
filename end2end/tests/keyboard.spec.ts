import { Page } from '@playwright/test';
import { dataKey, expect, jsEnabled, ready, signIn, snapshot, status, test } from './fixtures';

// Keyboard alone: where focus is after each step, and that the status region says what
// happened. Focus is moved by the page's script, so these run with JavaScript.
const customers: Record<string, string> = {
  'desktop-js': 'Foxglove Florists',
  'phone-js': 'Granite Peak Outdoor',
};

const focusedId = (page: Page) => page.evaluate(() => document.activeElement?.id ?? '');
const focusedText = (page: Page) => page.evaluate(() => document.activeElement?.textContent?.trim() ?? '');

async function customerHref(page: Page, name: string): Promise<string> {
  await page.getByLabel('Search customers').fill(name);
  await page.getByLabel('Search customers').press('Enter');
  const link = page.getByRole('link', { name });
  await expect(link).toBeVisible();
  return (await link.getAttribute('href')) ?? '';
}

test('keyboard only: override and save, cancel, revert; add a tag, an error, remove it', async ({ page }, testInfo) => {
  test.skip(!jsEnabled(testInfo), 'focus is moved by the page script');
  const customer = customers[dataKey(testInfo)];
  await signIn(page, testInfo, 'admin');
  const href = await customerHref(page, customer);
  await page.goto(`${href}/configuration`);
  await ready(page, testInfo);

  // The skip link is the first stop and leads to the page.
  await page.keyboard.press('Tab');
  expect(await focusedText(page)).toBe('Skip to main content');
  await page.keyboard.press('Enter');
  expect(await focusedId(page)).toBe('main');

  const key = 'billing.payment_terms_days';
  const override = '#override-billing-payment_terms_days';
  await page.locator(override).focus();
  await page.keyboard.press('Enter');
  // Opening the editor puts the cursor in its input.
  await expect.poll(() => focusedId(page)).toBe('value-billing-payment_terms_days');
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type('500');
  const refused = page.waitForResponse((r) => r.url().includes('/api/save_override'));
  await page.keyboard.press('Enter');
  expect((await refused).status()).toBe(400);
  await expect(page.locator('#value-billing-payment_terms_days-error')).toContainText('from 0 to 120');
  await expect.poll(() => focusedId(page)).toBe('value-billing-payment_terms_days');
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type('60');
  await page.keyboard.press('Enter');
  await expect(status(page)).toHaveText(`Saved: Payment terms (days) is 60 for ${customer}.`);
  await expect(page.getByRole('status').filter({ hasText: 'Saved:' })).toBeVisible();
  // Focus is back on the setting's row.
  await expect.poll(() => focusedId(page)).toBe('override-billing-payment_terms_days');

  // Cancel returns to the row too.
  await page.keyboard.press('Enter');
  await expect.poll(() => focusedId(page)).toBe('value-billing-payment_terms_days');
  await page.keyboard.press('Tab'); // Save
  await page.keyboard.press('Tab'); // Cancel
  expect(await focusedText(page)).toBe('Cancel');
  await page.keyboard.press('Enter');
  await expect(page.locator(`li.setting[data-key="${key}"] .setting-editor`)).toHaveCount(0);
  await expect.poll(() => focusedId(page)).toBe('override-billing-payment_terms_days');

  // Revert asks first, with focus on the answer that changes nothing.
  await page.keyboard.press('Tab');
  expect(await focusedId(page)).toBe('revert-billing-payment_terms_days');
  await page.keyboard.press('Enter');
  await expect.poll(() => focusedText(page)).toBe('Cancel');
  await page.keyboard.press('Shift+Tab');
  expect(await focusedText(page)).toBe('Yes, revert');
  await page.keyboard.press('Enter');
  await expect(status(page)).toHaveText(
    `Reverted: Payment terms (days) follows the global default (30) for ${customer}.`,
  );
  await expect.poll(() => focusedId(page)).toBe('override-billing-payment_terms_days');

  // A section link: focus moves to the new page's heading, which is announced.
  await page.locator('nav.sections').getByRole('link', { name: 'Define Tags' }).focus();
  await page.keyboard.press('Enter');
  await expect.poll(() => focusedId(page)).toBe('page-heading');
  await expect(page.getByTestId('page-announcer')).toHaveText('Define Tags');
  await expect(page).toHaveTitle(`Define Tags · ${customer} · CSP Portal`);
  // The last page's message does not follow to this one.
  await expect(status(page)).toHaveText('');

  // An error: focus goes to the field in error.
  await page.getByLabel('Value', { exact: true }).focus();
  await page.keyboard.type('Teal');
  await page.keyboard.press('Enter');
  await expect(page.locator('#tag-name-error')).toHaveText('Enter a tag name.');
  await expect.poll(() => focusedId(page)).toBe('tag-name');
  const tagName = `Keys ${testInfo.project.name}`;
  await page.keyboard.type(tagName);
  await page.keyboard.press('Enter');
  await expect(status(page)).toHaveText(`Added tag ${tagName}: Teal to ${customer}.`);
  // After Add tag: the name field of an empty form, for the next one.
  await expect.poll(() => focusedId(page)).toBe('tag-name');
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue('');
  await expect(page.getByLabel('Value', { exact: true })).toHaveValue('');

  // Removing asks first; Cancel returns to the Remove link.
  const removeLink = page.getByRole('link', { name: `Remove tag ${tagName}` });
  await removeLink.focus();
  await page.keyboard.press('Enter');
  await expect.poll(() => focusedText(page)).toBe('Cancel');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('group', { name: 'Confirm' })).toHaveCount(0);
  await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(`Remove tag ${tagName}`);
  await page.keyboard.press('Enter');
  await expect.poll(() => focusedText(page)).toBe('Cancel');
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Enter');
  await expect(status(page)).toHaveText(`Removed tag ${tagName}: Teal from ${customer}.`);
  await expect(page.locator('.tag-list')).not.toContainText(tagName);
  await expect.poll(() => focusedId(page)).toBe('page-heading');
});

test('help text: opens on hover and can be hovered, closes with Escape', async ({ page }, testInfo) => {
  test.skip(!jsEnabled(testInfo) || dataKey(testInfo) !== 'desktop-js', 'hover is a desktop pointer');
  await signIn(page, testInfo, 'reader');
  const href = (await page.locator('table a[href^="/customers/"]').first().getAttribute('href')) ?? '';
  await page.goto(`${href}/configuration`);
  await ready(page, testInfo);
  const row = page.locator('li.setting[data-key="billing.cycle"]');
  const tip = row.getByRole('tooltip');
  await row.getByLabel('About Billing cycle').hover();
  await expect(tip).toBeVisible();
  await tip.hover();
  await expect(tip).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(tip).toBeHidden();
  await page.mouse.move(0, 0);
  await row.getByLabel('About Billing cycle').focus();
  await page.keyboard.press('Enter');
  await expect(tip).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(tip).toBeHidden();
});

test('Copy says Copied only when the clipboard took the tenant ID', async ({ page, context }, testInfo) => {
  test.skip(!jsEnabled(testInfo), 'the clipboard needs JavaScript');
  await signIn(page, testInfo, 'reader');
  await page.goto('/customers?q=northwind');
  await page.getByRole('link', { name: 'Northwind Traders' }).click();
  await page.getByRole('link', { name: 'Provider Tenants' }).first().click();
  await ready(page, testInfo);
  const tenant = page.locator('.tenant').first();
  const id = (await tenant.locator('code.copyable').innerText()).trim();
  const copy = tenant.getByRole('button', { name: /^Copy tenant ID/ });

  // The browser refuses: no "Copied", and a way out.
  await page.evaluate(() => {
    navigator.clipboard.writeText = () => Promise.reject(new DOMException('denied', 'NotAllowedError'));
  });
  await copy.click();
  await expect(tenant).toContainText('The browser did not allow copying: select the ID and copy it.');
  await expect(copy).toHaveText('Copy');

  await page.reload();
  await ready(page, testInfo);
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await copy.click();
  await expect(copy).toHaveText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(id);
});

test('on a phone the top bar is one row and the customer content starts in the first screen', async ({ page }, testInfo) => {
  test.skip(!dataKey(testInfo).startsWith('phone'), 'a phone profile');
  await signIn(page, testInfo, 'admin');
  const bar = await page.locator('header.topbar').boundingBox();
  expect(bar!.height).toBeLessThanOrEqual(64);
  const href = (await page.locator('table a[href^="/customers/"]').first().getAttribute('href')) ?? '';
  for (const section of ['configuration', 'tags', 'account-managers']) {
    await page.goto(`${href}/${section}`);
    await ready(page, testInfo);
    const nav = page.locator('nav.sections');
    const links = await nav.getByRole('link').all();
    const tops = new Set(await Promise.all(links.map(async (l) => Math.round((await l.boundingBox())!.y))));
    expect(tops.size, 'the section navigation is one row').toBe(1);
    const heading = await page.locator('#page-heading').boundingBox();
    const viewport = page.viewportSize()!;
    expect(heading!.y + heading!.height).toBeLessThan(viewport.height * 0.5);
    await snapshot(page, testInfo, `phone-first-screen-${section}`);
  }
  // Touch targets: 44 x 44 at least for the (i), the section links, checkboxes' cells.
  await page.goto(`${href}/configuration`);
  for (const target of [
    page.locator('.help-icon').first(),
    page.locator('nav.sections a').first(),
    page.locator('a.button').first(),
  ]) {
    await expect(target).toBeVisible();
    const box = await target.boundingBox();
    expect(box!.width).toBeGreaterThanOrEqual(44);
    expect(box!.height).toBeGreaterThanOrEqual(44);
  }
  await page.goto('/settings/overrides');
  const cell = await page.locator('.check-target').first().boundingBox();
  expect(cell!.width).toBeGreaterThanOrEqual(44);
  expect(cell!.height).toBeGreaterThanOrEqual(44);
});
