import { test as base, expect, Page, TestInfo } from '@playwright/test';

/** Chromium logs every refused fetch as a console error. A 400 (invalid input) or 409
 * (conflict) is the server's answer to a form the page then explains next to its fields, so
 * those are expected; every other console error fails the test. */
const expectedRefusal = /^Failed to load resource: the server responded with a status of (400|409) /;

/** A page that fails its test on any console error or uncaught exception. */
export const test = base.extend<{ page: Page }>({
  page: async ({ page }, use, testInfo) => {
    const problems: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !expectedRefusal.test(msg.text())) {
        problems.push(`console error: ${msg.text()}`);
      }
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    await use(page);
    expect(problems, `no console errors in ${testInfo.title}`).toEqual([]);
  },
});
export { expect };

export const password = (role: string) => `demo-${role}`;

/** The key of a project's test data: the PostgreSQL project has a server and database of its
 * own, so it reuses the data of the project it mirrors. */
export function dataKey(testInfo: TestInfo): string {
  return testInfo.project.name.replace(/-postgres$/, '');
}

export function jsEnabled(testInfo: TestInfo): boolean {
  return testInfo.project.use.javaScriptEnabled !== false;
}

/** With JavaScript on, waits until the page is hydrated, so clicks exercise the hydrated app. */
export async function ready(page: Page, testInfo: TestInfo) {
  if (jsEnabled(testInfo)) {
    await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1);
  }
}

export async function signIn(page: Page, testInfo: TestInfo, role: string) {
  await page.goto('/sign-in');
  await ready(page, testInfo);
  await page.getByLabel('E-mail address').fill(`${role}@demo.test`);
  await page.getByLabel('Password').fill(password(role));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Customers' })).toBeVisible();
  await expect(page).toHaveURL(/\/customers$/);
  await ready(page, testInfo);
}

/** Opens the top bar's menu when it is folded behind the Menu button (on a phone). */
export async function openMenu(page: Page) {
  const menu = page.getByRole('button', { name: 'Menu' });
  if (await menu.isVisible()) {
    await menu.click();
    await expect(page.locator('#main-menu')).toBeVisible();
  }
}

/** Follows a link of the main navigation (through the menu on a phone). */
export async function navigate(page: Page, name: string) {
  await openMenu(page);
  const link = page.locator('#main-menu').getByRole('link', { name, exact: true });
  const href = (await link.getAttribute('href')) ?? '';
  await link.click();
  // The address changes once the page is shown (a page whose code is in a chunk of the client
  // not yet fetched is shown after the chunk arrives).
  await expect(page).toHaveURL((url) => url.pathname === href);
}

/** The status region's message after a change. */
export const status = (page: Page) => page.getByTestId('status');

/** Saves a full-page screenshot under screenshots/<project>/<name>.png and checks the page
 * does not scroll sideways. */
export async function snapshot(page: Page, testInfo: TestInfo, name: string) {
  const [overflow, culprits] = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    // The innermost elements that reach past the right edge, to name in a failure.
    const wide = Array.from(document.querySelectorAll('body *'))
      .filter((e) => e.getBoundingClientRect().right > width + 1)
      .filter((e) => !Array.from(e.children).some((c) => c.getBoundingClientRect().right > width + 1))
      .slice(0, 5)
      .map((e) => `${e.tagName.toLowerCase()}.${e.className} "${(e.textContent ?? '').trim().slice(0, 60)}"`);
    return [document.documentElement.scrollWidth - width, wide] as const;
  });
  expect(overflow, `${name} scrolls sideways by ${overflow}px: ${culprits.join('; ')}`).toBeLessThanOrEqual(0);
  await page.screenshot({ path: `screenshots/${testInfo.project.name}/${name}.png`, fullPage: true });
}
