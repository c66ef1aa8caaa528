import { dataKey, expect, jsEnabled, navigate, ready, signIn, snapshot, status, test } from './fixtures';

const customers: Record<string, string> = {
  'desktop-js': 'Oakridge Financial Advisors',
  'desktop-nojs': 'Orchard Lane Nursery',
  'phone-js': 'Pinecrest Retirement Living',
  'phone-nojs': 'Quarry Hill Stone',
};

test('finance adopts the billed record, edits a quantity, sees the typed difference and acknowledges it', async ({ page }, testInfo) => {
  const customer = customers[dataKey(testInfo)];
  await signIn(page, testInfo, 'finance');
  await page.getByLabel('Search customers').fill(customer);
  await page.getByRole('button', { name: 'Search' }).click();
  // The search's own navigation first, so it cannot follow the link's (the address may
  // already hold an earlier search: wait for this one's).
  await expect(page).toHaveURL((url) => url.searchParams.get('q') === customer);
  await page.getByRole('link', { name: customer }).click();

  // Partner Center's side first: a reload of the customer.
  await page.getByRole('link', { name: 'Provider Tenants' }).first().click();
  await ready(page, testInfo);
  await page.getByRole('button', { name: 'Reload reconciliation' }).click();
  await expect(status(page)).toContainText(customer);
  // With JavaScript the section follows the queued reload by itself; without, it is reloaded.
  if (!jsEnabled(testInfo)) {
    await expect(async () => {
      await page.reload();
      await expect(page.getByTestId('sync-status').locator('.badge')).toHaveText('Synced', { timeout: 1000 });
    }).toPass({ timeout: 30_000 });
  }
  await expect(page.getByTestId('sync-status').locator('.badge')).toHaveText('Synced', { timeout: 30_000 });

  await page.getByRole('navigation', { name: 'Customer settings' }).getByRole('link', { name: 'Reports' }).click();
  await expect(page.getByRole('heading', { name: 'License Reconciliation' })).toBeVisible();
  await ready(page, testInfo);
  // The demo bills most subscriptions; some are "Not billed". (With JavaScript the report
  // arrives after the heading: wait for it before counting.)
  await expect(page.getByTestId('recon-summary')).toBeVisible();
  const notBilled = page.locator('li[data-kind="missing_in_portal"]');
  const unbilled = await notBilled.count();
  expect(unbilled).toBeGreaterThan(0);
  await page.getByRole('button', { name: /^Adopt \d+ unbilled subscriptions? from Partner Center$/ }).click();
  await expect(status(page)).toHaveText(
    `Adopted ${unbilled} subscription${unbilled === 1 ? '' : 's'} from Partner Center into the billed record.`,
  );
  await expect(notBilled).toHaveCount(0);

  // Billing one fewer than bought: a typed difference with both numbers.
  const row = page.locator('table.reconciliation tbody tr').first();
  const bought = Number(await row.locator('td[data-label="Bought"]').innerText());
  await ready(page, testInfo);
  await row.getByRole('link', { name: /^Edit billed row/ }).click();
  await expect(page.getByRole('heading', { name: /^Billed row \d+:/ })).toBeVisible();
  await ready(page, testInfo);
  await page.getByLabel('Quantity').fill(String(bought - 1));
  await page.getByRole('button', { name: 'Save billed row' }).click();
  await expect(status(page)).toContainText('Saved billed row');
  const difference = row.locator('li[data-kind="quantity_bought_over_billed"]');
  await expect(difference).toContainText(`Bought more than billed ${bought} bought, ${bought - 1} billed`);
  await snapshot(page, testInfo, 'reconciliation');

  // Acknowledged with a note, it leaves the open differences until asked for.
  await ready(page, testInfo);
  await difference.getByRole('link', { name: 'Acknowledge: Bought more than billed' }).click();
  await ready(page, testInfo);
  await page.getByLabel('Why is it acknowledged?').fill('One seat is free this quarter.');
  await page.getByRole('button', { name: 'Acknowledge', exact: true }).click();
  await expect(status(page)).toHaveText('Difference acknowledged.');
  await expect(difference).toHaveCount(0);
  await page.getByRole('link', { name: 'Show acknowledged differences' }).click();
  await expect(difference).toContainText('Acknowledged');
  // Who acknowledged it, when and why.
  await expect(difference.getByTestId('ack-note')).toContainText(/^by finance@demo\.test on \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC: One seat is free this quarter\.$/);

  // The synced customer's licences count in the partner-wide consumption, and in its CSV.
  await navigate(page, 'Reports');
  await ready(page, testInfo);
  await page.getByRole('link', { name: 'License Consumption' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'License Consumption' })).toBeVisible();
  await expect(page.locator('li.usage').first()).toBeVisible();
  await expect(page.locator('li.usage svg.usage-bar').first()).toBeVisible();
  const csv = await page.request.get('/api/reports/consumption.csv');
  expect(csv.status()).toBe(200);
  const text = await csv.text();
  expect(text.split('\r\n')[0]).toBe(
    'customer_id,customer,tenant_id,product,sku_part_number,purchased,active,warning,suspended,assigned,unassigned,utilisation_percent,over_assigned,under_used',
  );
  expect(text).toContain(customer);
});

test('a reader sees the reconciliation but no way to change the billed record', async ({ page }, testInfo) => {
  const customer = customers[dataKey(testInfo)];
  await signIn(page, testInfo, 'reader');
  await page.getByLabel('Search customers').fill(customer);
  await page.getByRole('button', { name: 'Search' }).click();
  // The search's own navigation first, so it cannot follow the link's (the address may
  // already hold an earlier search: wait for this one's).
  await expect(page).toHaveURL((url) => url.searchParams.get('q') === customer);
  await page.getByRole('link', { name: customer }).click();
  await page.getByRole('navigation', { name: 'Customer settings' }).getByRole('link', { name: 'Reports' }).click();
  await expect(page.getByRole('heading', { name: 'License Reconciliation' })).toBeVisible();
  await expect(page.getByTestId('read-only')).toContainText('the billed record is kept by System Admin or Finance Admin');
  // The report is there (the finance test billed this customer), without a way to change it.
  await expect(page.locator('table.reconciliation tbody tr').first()).toBeVisible();
  await expect(page.getByRole('link', { name: /Edit billed row|Acknowledge/ })).toHaveCount(0);
  await expect(page.getByRole('button', { name: /Adopt/ })).toHaveCount(0);
});

test('the consumption report shows a chart per product and both reports download as CSV', async ({ page }, testInfo) => {
  const customer = customers[dataKey(testInfo)];
  await signIn(page, testInfo, 'reader');
  await page.getByLabel('Search customers').fill(customer);
  await page.getByRole('button', { name: 'Search' }).click();
  // The search's own navigation first, so it cannot follow the link's (the address may
  // already hold an earlier search: wait for this one's).
  await expect(page).toHaveURL((url) => url.searchParams.get('q') === customer);
  await page.getByRole('link', { name: customer }).click();
  await page.getByRole('navigation', { name: 'Customer settings' }).getByRole('link', { name: 'Reports' }).click();
  await page.getByRole('link', { name: 'License Consumption' }).click();
  await expect(page.getByRole('heading', { name: 'License Consumption' })).toBeVisible();
  await ready(page, testInfo);
  // With JavaScript the tab's report arrives after its heading: wait for the first bar.
  const bars = page.locator('svg.usage-bar');
  await expect(bars.first()).toBeVisible();
  await expect(bars.first()).toHaveAttribute('aria-label', /assigned of \d+ purchased/);
  await snapshot(page, testInfo, 'consumption');

  for (const [tab, header] of [
    ['License Consumption', 'customer_id,customer,tenant_id,product,sku_part_number,purchased,active,warning,suspended,assigned,unassigned,utilisation_percent,over_assigned,under_used,subscription_id,subscription_offer,subscription_quantity,term,billing_cycle,commitment_end,renewal_decision_date'],
    ['License Reconciliation', 'customer_id,customer,product,offer_id,pc_subscription_id,tenant_id,bought,assigned,billed,billed_row_id,difference,pc_value,billed_value,acknowledged,snapshot_at'],
  ]) {
    await page.getByRole('link', { name: tab }).click();
    await expect(page.getByRole('heading', { name: tab })).toBeVisible();
    await ready(page, testInfo);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/\.csv$/);
    const stream = await download.createReadStream();
    let text = '';
    for await (const chunk of stream) text += chunk.toString();
    expect(text.split('\r\n')[0]).toBe(header);
    expect(text.split('\r\n').length).toBeGreaterThan(2);
  }
});

test('the partner-wide reconciliation lists customers with differences, filters them by kind and opens one', async ({ page }, testInfo) => {
  await signIn(page, testInfo, 'finance');
  await navigate(page, 'Reports');
  await expect(page.getByRole('heading', { level: 1, name: 'License Reconciliation' })).toBeVisible();
  // (With JavaScript the lines arrive after the heading: wait for them before counting.)
  await expect(page.getByTestId('partner-summary')).toContainText('have differences');
  const lines = page.locator('table.partner-recon tbody tr');
  expect(await lines.count()).toBeGreaterThan(0);

  await ready(page, testInfo);
  await page.getByLabel('Kind of difference').selectOption({ label: 'Billed, not in Partner Center' });
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/kind=missing_in_partner_center/);
  await expect(page.getByTestId('partner-summary')).toContainText('a difference “Billed, not in Partner Center”');
  const first = lines.first();
  await expect(first.locator('li[data-kind="missing_in_partner_center"]')).toBeVisible();
  // The demo's billed rows have prices: the first line says what is at stake.
  await expect(first.locator('td[data-label="Money at stake"]')).toContainText(/[A-Z]{3} \d+\.\d{2}/);
  await snapshot(page, testInfo, 'partner-reconciliation');
  await ready(page, testInfo);
  // The filtered list downloads as CSV: a line per customer (and currency), the kind filter kept.
  // (Other tests sync and import meanwhile, so the lines are checked by their kind, not counted.)
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download CSV' }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^reconciliation-all-customers-\d{4}-\d{2}-\d{2}\.csv$/);
  let text = '';
  for await (const chunk of await download.createReadStream()) text += chunk.toString();
  const csvLines = text.split('\r\n').filter((l) => l !== '');
  expect(csvLines[0]).toBe(
    'customer_id,customer,differences,missing_in_portal,missing_in_partner_center,quantity_bought_over_billed,quantity_billed_over_bought,assigned_over_bought,billed_over_assigned,status,billing_cycle,term,auto_renew,duplicate_billed,currency,money_at_stake,snapshot_at,stale,report',
  );
  expect(csvLines.length).toBeGreaterThan(1);
  // The cells of a line (a quoted cell may hold a comma).
  const cells = (line: string) => {
    const out: string[] = [];
    let cell = '';
    let quoted = false;
    for (const ch of line) {
      if (ch === '"') quoted = !quoted;
      else if (ch === ',' && !quoted) {
        out.push(cell);
        cell = '';
      } else cell += ch;
    }
    out.push(cell);
    return out;
  };
  for (const line of csvLines.slice(1)) {
    // missing_in_partner_center, the fifth column, counts at least one on every line.
    expect(Number(cells(line)[4]), line).toBeGreaterThan(0);
  }
  await first.locator('td.name a').click();
  await expect(page).toHaveURL(/\/customers\/\d+\/reports\/reconciliation$/);
  await expect(page.getByTestId('recon-summary')).toBeVisible();

  // A tag filter that cannot be read is said next to its field.
  await page.goto('/reports/reconciliation?tag=North');
  await expect(page.locator('#filter-tag-error')).toHaveText('Write the tag as Name=Value, e.g. Region=North.');
  await expect(page.getByLabel('Customer tag')).toHaveAttribute('aria-invalid', 'true');
});

// Customers whose billed record only this test replaces.
const importers: Record<string, string> = {
  'desktop-js': 'Greenway Recycling',
  'desktop-nojs': 'Rosewood Interiors',
  'phone-js': 'Sandstone Realty',
  'phone-nojs': 'Silverline Telecom',
};

test('finance imports a billing export: the dry run says what each line does, and a rejected line stops it all', async ({ page }, testInfo) => {
  const customer = importers[dataKey(testInfo)];
  await signIn(page, testInfo, 'finance');
  await page.getByLabel('Search customers').fill(customer);
  await page.getByRole('button', { name: 'Search' }).click();
  // The search's own navigation first, so it cannot follow the link's (the address may
  // already hold an earlier search: wait for this one's).
  await expect(page).toHaveURL((url) => url.searchParams.get('q') === customer);
  await page.getByRole('link', { name: customer }).click();
  await expect(page).toHaveURL(/\/customers\/\d+/);
  const id = /\/customers\/(\d+)/.exec(page.url())![1];

  await navigate(page, 'Reports');
  await ready(page, testInfo);
  await page.getByRole('link', { name: 'Import the billed record from a file…' }).click();
  await expect(page.getByRole('heading', { name: 'Import the billed record' })).toBeVisible();
  await ready(page, testInfo);
  const file = (lines: string[]) => ({
    name: 'billing-export.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(['customer,product,quantity,unit_price,currency', ...lines].join('\r\n') + '\r\n'),
  });

  // One line cannot be read: it is shown first with why, and nothing can be imported.
  await page.getByLabel('CSV file').setInputFiles(
    file([`${id},Visio Plan 2,3,15.00,EUR`, `${id},Project Plan 3,lots,,`]),
  );
  await page.getByRole('button', { name: 'Check the file' }).click();
  await expect(page.getByTestId('import-summary')).toContainText('2 lines: 1 new, 0 changed, 0 unchanged, 1 rejected');
  await ready(page, testInfo);
  const rejected = page.locator('table.import-lines tbody tr').first();
  await expect(rejected).toHaveAttribute('data-action', 'reject');
  await expect(rejected).toContainText('quantity: "lots" is not a whole number');
  await expect(page.getByTestId('import-rejected')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Import', exact: true })).toHaveCount(0);

  // Corrected: the dry run, then the import.
  await page.getByRole('link', { name: 'Upload another file' }).click();
  await ready(page, testInfo);
  await page.getByLabel('CSV file').setInputFiles(
    file([`${id},Visio Plan 2,3,15.00,EUR`, `${id},Project Plan 3,2,,`]),
  );
  await page.getByRole('button', { name: 'Check the file' }).click();
  await expect(page.getByTestId('import-summary')).toContainText('2 lines: 2 new, 0 changed, 0 unchanged, 0 rejected');
  await ready(page, testInfo);
  await snapshot(page, testInfo, 'billed-import');
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(status(page)).toContainText('Imported billing-export.csv: 2 new billed rows');
  await expect(page.getByTestId('import-done')).toContainText('Imported by finance@demo.test');

  // The customer's billed record is the file's now.
  await page.goto(`/customers/${id}/reports/reconciliation`);
  await ready(page, testInfo);
  await expect(page.getByTestId('recon-summary')).toBeVisible();
  await expect(page.locator('table.reconciliation')).toContainText('Visio Plan 2');
  await expect(page.locator('table.reconciliation')).toContainText('Project Plan 3');
});
