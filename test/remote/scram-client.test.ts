/** The SCRAM client exchange against RFC 7677's SCRAM-SHA-256 example, and what it refuses to believe of a server. */
import { describe, expect, it } from 'vitest';
import { ScramClient } from '../../src/remote/scram-client.js';

const CLIENT_NONCE = 'rOprNGfwEbeRWgbNEkqO';
const CLIENT_FIRST = 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO';
const SERVER_FIRST = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
const CLIENT_FINAL = 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=';
const SERVER_FINAL = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';

const client = (user = 'user', password = 'pencil') => new ScramClient('sha256', user, password, CLIENT_NONCE);

describe('ScramClient (RFC 7677 section 3)', () => {
  it('sends the RFC example message for message and accepts the server signature', async () => {
    const c = client();
    expect(c.first()).toBe(CLIENT_FIRST);
    expect(await c.final(SERVER_FIRST)).toEqual({ ok: true, message: CLIENT_FINAL });
    expect(c.verify(SERVER_FINAL)).toEqual({ ok: true, message: '' });
  });

  it('escapes , and = in the user name (saslname)', () => {
    expect(client('b,o=b').first()).toBe(`n,,n=b=2Co=3Db,r=${CLIENT_NONCE}`);
  });

  it('refuses a server that does not extend its nonce, sends no salt, too few iterations, an error, or a wrong signature', async () => {
    const first = (s: string) => {
      const c = client();
      c.first();
      return c.final(s);
    };
    expect(await first(SERVER_FIRST.replace('r=rOprNGfwEbeRWgbNEkqO%', 'r=XOprNGfwEbeRWgbNEkqO%'))).toEqual({ ok: false, why: "the server's nonce does not extend the client's" });
    expect(await first(`r=${CLIENT_NONCE},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`)).toMatchObject({ ok: false, why: expect.stringMatching(/nonce/) });
    expect(await first(SERVER_FIRST.replace(/s=[^,]*/, 's='))).toEqual({ ok: false, why: 'the server sent no salt' });
    expect(await first(SERVER_FIRST.replace('i=4096', 'i=1'))).toEqual({ ok: false, why: 'the server asks for 1 iterations (at least 4096 are required)' });
    expect(await first('e=unknown-user')).toEqual({ ok: false, why: 'unknown-user' });
    expect(await first('garbage')).toMatchObject({ ok: false, why: expect.stringMatching(/malformed/) });
    const wrongPassword = client('user', 'other');
    wrongPassword.first();
    await wrongPassword.final(SERVER_FIRST);
    expect(wrongPassword.verify(SERVER_FINAL)).toMatchObject({ ok: false, why: expect.stringMatching(/signature does not match/) });
    const c = client();
    c.first();
    await c.final(SERVER_FIRST);
    expect(c.verify('e=invalid-proof')).toEqual({ ok: false, why: 'invalid-proof' });
    expect(client().verify(SERVER_FINAL)).toMatchObject({ ok: false, why: expect.stringMatching(/not at its final step/) });
  });
});
