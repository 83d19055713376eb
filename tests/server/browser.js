// tests/server/browser.js - a CAB member in a real browser: Debian's
// Chromium driven by playwright-core (Chrome DevTools Protocol) logs in,
// opens a candidate, approves it and checks what the page then says.
// Usage: node browser.js URL USER PASSWORD CANDIDATE OUTDIR
// Exit 0: every check held; 1: one did not; 77: Chromium could not start.
'use strict';
const path = require('path');
const fs = require('fs');
const { chromium } = require(process.env.PLAYWRIGHT_CORE || 'playwright-core');

const [url, user, password, candidate, outdir] = process.argv.slice(2);
const note = 'evidence <b>reviewed</b> & "fine"';
let failures = 0;

function check(what, cond, detail) {
  if (cond) {
    console.log(`ok - ${what}`);
  } else {
    failures++;
    console.log(`not ok - ${what}${detail === undefined ? '' : ': ' + detail}`);
  }
}

async function main() {
  const profile = fs.mkdtempSync(path.join(outdir, 'profile-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
             '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 900 },
      timeout: 60000,
    });
  } catch (e) {
    console.log(`chromium did not start: ${e.message.split('\n')[0]}`);
    process.exit(77);
  }
  const page = context.pages()[0] || await context.newPage();
  const consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.setDefaultTimeout(20000);

  // not logged in: the candidate's page sends the browser to the login form
  await page.goto(`${url}/candidates/${candidate}`);
  check('redirected to the login form', new URL(page.url()).pathname === '/login', page.url());
  await page.screenshot({ path: path.join(outdir, '1-login.png'), fullPage: true });

  await page.fill('#user', user);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('#login-submit')]);
  check('back on the candidate after the login',
        new URL(page.url()).pathname === `/candidates/${candidate}`, page.url());
  const cookies = await context.cookies(url);
  const session = cookies.find((c) => c.name === 'pl_session');
  check('a session cookie, HttpOnly, Secure, SameSite=Strict',
        session && session.httpOnly && session.secure && session.sameSite === 'Strict',
        JSON.stringify(session));
  check('the page shows state passed', (await page.textContent('#state')).trim() === 'passed',
        await page.textContent('#state'));
  const bg = await page.$eval('header.top', (e) => getComputedStyle(e).backgroundColor);
  check('the stylesheet loaded under the CSP', bg === 'rgb(26, 54, 93)', bg);
  check('the lab run is on the page', (await page.content()).includes('run r-good on debian-12'));
  await page.screenshot({ path: path.join(outdir, '2-candidate.png'), fullPage: true });

  await page.fill('#approve-note', note);
  await Promise.all([page.waitForNavigation(), page.click('#approve')]);
  check('the page shows the new state: approved',
        (await page.textContent('#state')).trim() === 'approved', await page.textContent('#state'));
  check('the page confirms the approval',
        ((await page.textContent('#flash')) || '').includes('your approval is recorded'));
  const decisions = await page.innerText('#decisions');
  check('the note is shown as text', decisions.includes(note), decisions);
  check('the note made no element', (await page.locator('#decisions b').count()) === 0);
  check('the approver is the logged-in user', decisions.includes(user), decisions);
  await page.screenshot({ path: path.join(outdir, '3-approved.png'), fullPage: true });

  // a reload re-shows the page (post, redirect, get): nothing is decided twice
  await page.reload();
  check('a reload keeps one approval',
        (await page.innerText('#decisions')).split(note).length - 1 === 1);

  await page.goto(`${url}/`);
  check('the dashboard draws its charts', (await page.locator('svg.chart').count()) >= 2);
  await page.screenshot({ path: path.join(outdir, '4-dashboard.png'), fullPage: true });
  check('no errors in the console (CSP violations would be)', consoleErrors.length === 0,
        consoleErrors.join(' | '));
  await context.close();
  console.log(`${failures === 0 ? 'all' : failures} ${failures === 0 ? 'browser checks held' : 'browser checks failed'}`);
  process.exit(failures ? 1 : 0);
}

main().catch((e) => { console.log(`browser test broke: ${e.stack}`); process.exit(1); });
