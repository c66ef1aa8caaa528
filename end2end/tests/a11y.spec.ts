import AxeBuilder from '@axe-core/playwright';
import { Page, TestInfo } from '@playwright/test';
import { dataKey, expect, jsEnabled, openMenu, ready, signIn, status, test } from './fixtures';

// Each project makes an override of its own, so the matrix has a row to select.
const ownCustomer: Record<string, string> = {
  'desktop-js': 'Harborline Shipping',
  'desktop-nojs': 'Hawthorne Family Practice',
  'phone-js': 'Horizon Travel Group',
  'phone-nojs': 'Ironbridge Manufacturing',
};

// axe-core on every page and page state a link can open, in all four projects: no WCAG 2.1 A
// or AA violation.
const wcag = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** axe runs in the page's own script, which a project without JavaScript has none of: there,
 * the page as that project received it (its HTML, without the scripts it never ran) is checked
 * in a page of the same size that allows axe to run. */
async function analyze(page: Page, testInfo: TestInfo) {
  if (jsEnabled(testInfo)) {
    return new AxeBuilder({ page }).withTags(wcag).analyze();
  }
  const html = (await page.content()).replace(/<script\b[\s\S]*?<\/script>/gi, '');
  const url = page.url();
  const { viewport, isMobile, hasTouch } = testInfo.project.use;
  // (A context made in a test takes the project's options unless told otherwise.)
  const context = await page.context().browser()!.newContext({ viewport, isMobile, hasTouch, javaScriptEnabled: true });
  const copy = await context.newPage();
  // A request's address has no fragment (`#…`): matched without it, or the copy would load the
  // real page instead (signed out, with scripts).
  const requested = url.split('#')[0];
  await copy.route((address) => address.href === requested, (route) => route.fulfill({ contentType: 'text/html', body: html }));
  await copy.goto(url);
  const results = await new AxeBuilder({ page: copy }).withTags(wcag).analyze();
  await context.close();
  return results;
}

async function noViolations(page: Page, testInfo: TestInfo, what: string) {
  await ready(page, testInfo);
  const results = await analyze(page, testInfo);
  const found = results.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
  expect(found, `accessibility violations on ${what}`).toEqual([]);
}

test('every page and state has no WCAG 2.1 AA violation', async ({ page }, testInfo) => {
  // About twenty-five pages, each checked in full.
  test.setTimeout(300_000);
  await page.goto('/sign-in');
  await noViolations(page, testInfo, 'sign-in');
  await signIn(page, testInfo, 'admin');
  const href = (await page.locator('table a[href^="/customers/"]').first().getAttribute('href')) ?? '';
  const id = href.split('/')[2];

  const pages = [
    '/customers',
    '/customers?q=co',
    `/customers?after=${id}`,
    `/customers/${id}`,
    `/customers/${id}/configuration`,
    `/customers/${id}/configuration?filter=invoice`,
    `/customers/${id}/configuration?filter=nothing-matches-this`,
    `/customers/${id}/configuration?edit=billing.currency#setting-billing-currency`,
    `/customers/${id}/configuration?edit=notifications.contact_email`,
    `/customers/${id}/configuration?history=billing.cycle`,
    `/customers/${id}/tenants`,
    `/customers/${id}/tags`,
    `/customers/${id}/account-managers`,
    `/customers/${id}/delete`,
    `/customers/${id}/billing`,
    `/customers/${id}/billing?check=cus_NffrFeUfNV2Hib`,
    `/customers/${id}/billing?check=not-an-id`,
    `/customers/${id}/reports/reconciliation`,
    `/customers/${id}/reports/reconciliation?edit=new`,
    `/customers/${id}/reports/consumption`,
    '/reports/reconciliation',
    '/reports/reconciliation?kind=missing_in_partner_center&acknowledged=1',
    '/reports/reconciliation?tag=North',
    '/reports/consumption',
    '/reports/consumption?tag=North',
    '/reports/billed-import',
    '/deleted-customers',
    '/audit',
    '/audit?from=yesterday',
    '/admin/staff',
    '/admin/staff/1',
    '/admin/api-tokens',
    '/account',
    '/settings/defaults',
    '/settings/defaults?edit=commerce.max_trials',
    '/settings/overrides',
    '/settings/overrides?confirm=1',
    '/sync',
    '/provider',
    '/provider?show=all',
    '/provider?all=1&step=link&customer_q=al',
    '/provider?all=1&step=accept',
  ];
  for (const path of pages) {
    await page.goto(path);
    await noViolations(page, testInfo, path);
  }

  // An uploaded billing export's dry run, a line of it rejected (nothing is imported).
  await page.goto('/reports/billed-import');
  await ready(page, testInfo);
  await page.getByLabel('CSV file').setInputFiles({
    name: 'a11y.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(`customer,product,quantity\n${id},Visio Plan 2,2\nnobody,Visio Plan 2,x\n`),
  });
  await page.getByRole('button', { name: 'Check the file' }).click();
  await expect(page.getByTestId('import-summary')).toBeVisible();
  await noViolations(page, testInfo, 'billed import dry run');

  // States reached from the page: a tag's removal question, a revert question, an open help
  // text, the phone menu.
  await page.goto(`/customers/${id}/tags`);
  const remove = page.getByRole('link', { name: /^Remove tag/ }).first();
  await page.goto((await remove.getAttribute('href')) ?? '');
  await expect(page.getByRole('group', { name: 'Confirm' })).toBeVisible();
  await noViolations(page, testInfo, 'tag removal question');

  await page.goto(`/customers/${id}/tenants`);
  const unlink = page.getByRole('link', { name: /^Unlink/ }).first();
  await page.goto((await unlink.getAttribute('href')) ?? '');
  await expect(page.getByRole('group', { name: 'Confirm' })).toBeVisible();
  await noViolations(page, testInfo, 'unlink question');

  const own = ownCustomer[dataKey(testInfo)];
  await page.goto(`/customers?q=${encodeURIComponent(own)}`);
  const ownHref = (await page.getByRole('link', { name: own }).getAttribute('href')) ?? '';
  await page.goto(`${ownHref}/configuration?edit=portal.language`);
  await ready(page, testInfo);
  await page.getByLabel('New value for Language').selectOption('Nederlands');
  await page.locator('li.setting[data-key="portal.language"]').getByRole('button', { name: 'Save' }).click();
  await expect(status(page)).toContainText('Saved: Language is Nederlands');
  await page.goto('/settings/overrides?setting=portal.language');
  // (A box ticked while the page hydrates is put back just after; checking it right away would
  // see the moment in between. The hydration sweep tests that case.)
  await ready(page, testInfo);
  const row = page.locator('table.matrix tbody tr', { hasText: own });
  await row.getByRole('checkbox').check();
  await page.getByRole('button', { name: 'Revert selected to the global default…' }).click();
  await expect(page.getByRole('group', { name: 'Confirm' })).toBeVisible();
  await noViolations(page, testInfo, 'bulk revert question');

  await page.goto(`/customers/${id}/configuration`);
  await page.getByLabel('About Billing cycle').click();
  await expect(page.locator('li.setting[data-key="billing.cycle"]').getByRole('tooltip')).toBeVisible();
  await noViolations(page, testInfo, 'open help text');

  if (jsEnabled(testInfo)) {
    // (Without JavaScript the open menu is the same markup, shown by the browser.)
    await openMenu(page);
    await noViolations(page, testInfo, 'menu');
  }
});

test('a reader sees why nothing is editable, on every section', async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  await signIn(page, testInfo, 'reader');
  const href = (await page.locator('table a[href^="/customers/"]').first().getAttribute('href')) ?? '';
  const notes: Record<string, string> = {
    configuration: "You can view this customer's configuration; changes need System Admin or Help Desk.",
    tags: "You can view this customer's tags; changing them needs System Admin.",
    'account-managers': "You can view this customer's account managers; assigning them needs System Admin.",
    tenants: "You can view this customer's tenants; Reload Reconciliation needs System Admin, Finance Admin or Help Desk.",
  };
  for (const [section, note] of Object.entries(notes)) {
    await page.goto(`${href}/${section}`);
    await expect(page.getByTestId('read-only')).toHaveText(note);
    await noViolations(page, testInfo, `${section} as a reader`);
  }
});
