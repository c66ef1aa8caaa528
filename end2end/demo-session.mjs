// Shared by the scripts run outside Playwright (lighthouse.mjs, bench-web.mjs): signs in to a
// running demo as its System Admin and finds a customer to open.

/**
 * Signs in as admin@demo.test and returns the session's cookies as `[name, value]` pairs.
 * @param {string} base the portal's address, e.g. http://127.0.0.1:3000
 */
export async function signInAsDemoAdmin(base) {
  const res = await fetch(`${base}/api/sign_in`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email: 'admin@demo.test', password: 'demo-admin' }),
    redirect: 'manual',
  });
  const cookies = res.headers.getSetCookie().map((c) => c.split(';')[0]);
  if (res.status >= 400 || cookies.length === 0) {
    throw new Error(`signing in as admin@demo.test failed: ${res.status} ${await res.text()}`);
  }
  return cookies.map((c) => {
    const at = c.indexOf('=');
    return [c.slice(0, at), c.slice(at + 1)];
  });
}

/** The cookies as one `Cookie` request header. */
export function cookieHeader(cookies) {
  return cookies.map(([name, value]) => `${name}=${value}`).join('; ');
}

/** The id of the first customer the customer list links to. */
export async function firstCustomerId(base, cookies) {
  const list = await (await fetch(`${base}/customers`, { headers: { cookie: cookieHeader(cookies) } })).text();
  const id = list.match(/href="\/customers\/(\d+)"/)?.[1];
  if (!id) throw new Error('no customer link on /customers');
  return id;
}
