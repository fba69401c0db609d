/** The SCRAM server exchange against RFC 7677's SCRAM-SHA-256 example, and its refusals. */
import { describe, expect, it } from 'vitest';
import { ScramExchange, scramCredential } from '../../src/wire/scram.js';

const SALT = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
const SERVER_NONCE = '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
const CLIENT_FIRST = 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO';
const SERVER_FIRST = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
const CLIENT_FINAL = 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=';
const SERVER_FINAL = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';

async function exchange(password = 'pencil', user = 'user'): Promise<ScramExchange> {
  const credential = await scramCredential('sha256', password, 4096, SALT);
  return new ScramExchange('sha256', (u) => (u === user ? credential : undefined), Buffer.alloc(32), () => SERVER_NONCE);
}

describe('SCRAM-SHA-256 (RFC 7677 section 3)', () => {
  it('answers the RFC example message for message', async () => {
    const x = await exchange();
    expect(x.step(CLIENT_FIRST)).toEqual({ ok: true, reply: SERVER_FIRST, done: false });
    expect(x.step(CLIENT_FINAL)).toEqual({ ok: true, reply: SERVER_FINAL, done: true });
    expect(x.user).toBe('user');
  });

  it('refuses a wrong password, an unknown user (after a made-up salt), and a changed nonce or channel binding', async () => {
    expect((await exchange('other')).step(CLIENT_FIRST).ok).toBe(true);
    const wrong = await exchange('other');
    wrong.step(CLIENT_FIRST);
    expect(wrong.step(CLIENT_FINAL)).toEqual({ ok: false, message: 'Authentication failed: Invalid user credentials' });
    const unknown = await exchange('pencil', 'someone');
    const first = unknown.step(CLIENT_FIRST);
    expect(first.ok && first.reply).toMatch(/^r=rOprNGfwEbeRWgbNEkqO.*,s=[A-Za-z0-9+/=]+,i=4096$/);
    expect(unknown.step(CLIENT_FINAL).ok).toBe(false);
    const nonce = await exchange();
    nonce.step(CLIENT_FIRST);
    expect(nonce.step(CLIENT_FINAL.replace('NEkqO%', 'NEkqX%'))).toMatchObject({ ok: false, message: expect.stringMatching(/nonce/) });
    const binding = await exchange();
    binding.step(CLIENT_FIRST);
    expect(binding.step(CLIENT_FINAL.replace('c=biws', 'c=eSws'))).toMatchObject({ ok: false, message: expect.stringMatching(/channel binding/) });
  });

  it('refuses channel binding, mandatory extensions, a malformed name and a third message', async () => {
    expect((await exchange()).step('p=tls-unique,,n=user,r=abc')).toMatchObject({ ok: false, message: expect.stringMatching(/channel binding/) });
    expect((await exchange()).step('n,,m=ext,n=user,r=abc')).toMatchObject({ ok: false, message: expect.stringMatching(/mandatory/) });
    expect((await exchange()).step('n,,n=us=er,r=abc')).toMatchObject({ ok: false, message: expect.stringMatching(/user name/) });
    expect((await exchange()).step('garbage')).toMatchObject({ ok: false });
    const x = await exchange();
    x.step(CLIENT_FIRST);
    x.step(CLIENT_FINAL);
    expect(x.step(CLIENT_FINAL).ok).toBe(false);
  });

  it('decodes =2C and =3D in user names', async () => {
    const x = await exchange('pencil', 'a,b=c');
    expect(x.step('n,,n=a=2Cb=3Dc,r=abc').ok).toBe(true);
    expect(x.user).toBe('a,b=c');
  });
});
