import { useApolloClient, useMutation } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { DEVELOPMENT_PASSWORD } from '../config.ts';
import { Failure } from '../Failure.tsx';
import { SignInDocument } from '../generated/graphql/graphql.ts';
import { href, navigate } from '../navigation.ts';
import { session } from '../session.ts';

export function SignIn({ then }: { then: string | null }) {
  const client = useApolloClient();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [signIn, { error, loading }] = useMutation(SignInDocument, { context: { anonymous: true }, fetchPolicy: 'no-cache' });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await signIn({ variables: { email, password } }).catch(() => null);
    if (!result?.data) return;
    session.start(result.data.signIn);
    // What was fetched as nobody is fetched again as the user.
    await client.resetStore().catch(() => undefined);
    navigate(then ?? href.catalogue());
  };

  return (
    <section className="sign-in">
      <h1>Sign in</h1>
      <form onSubmit={submit}>
        <label>
          Email <input type="email" autoComplete="username" required value={email} onChange={(event) => setEmail(event.target.value)} />
        </label>
        <label>
          Password <input type="password" autoComplete="current-password" required value={password} onChange={(event) => setPassword(event.target.value)} />
        </label>
        <button type="submit" disabled={loading}>
          {loading ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      {error && <Failure error={error} />}
      {import.meta.env.DEV && (
        <p className="hint">
          Development: every seeded user (user1@example.com … user50@example.com) has the password <code>{DEVELOPMENT_PASSWORD}</code>.
        </p>
      )}
    </section>
  );
}
