/**
 * "Sign in as": the development control at the top right of the IDE. Choose a seeded user, sign
 * in through the router, and every tab's requests carry that user's token (see session.ts).
 */
import { useEffect, useState } from 'react';
import { request, signInAs, signOut, useSession } from './session.ts';
import { SEEDED_USERS } from './tabs.ts';

interface SeededUser {
  id: number;
  name: string;
}

const numbered = (): SeededUser[] => Array.from({ length: SEEDED_USERS }, (_, i) => ({ id: i + 1, name: `user ${i + 1}` }));

/** The seeded users' names (readable by anyone), so the list says who is who; numbers if the graph cannot answer. */
function useSeededUsers(): SeededUser[] {
  const [users, setUsers] = useState<SeededUser[]>(numbered);
  useEffect(() => {
    let live = true;
    request<{ users: { nodes: { id: string; name: string }[] } }>(`query IdeSeededUsers { users(first: ${SEEDED_USERS}) { nodes { id name } } }`)
      .then(({ users: page }) => {
        const named = page.nodes.map((user) => ({ id: Number(user.id), name: user.name })).filter((user) => user.id >= 1 && user.id <= SEEDED_USERS);
        if (live && named.length > 0) setUsers(named);
      })
      .catch(() => {
        // Keep the numbered list: signing in tells who it was.
      });
    return () => {
      live = false;
    };
  }, []);
  return users;
}

export function SignInAs() {
  const { session, notice } = useSession();
  const users = useSeededUsers();
  const [chosen, setChosen] = useState('1');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  if (session) {
    return (
      <div className="ide-session" role="status">
        <span>
          Signed in as <strong>{session.name}</strong> (user {session.userId}
          {session.admin ? ', admin' : ''})
        </span>
        <button type="button" className="ide-button" onClick={() => void signOut()}>
          Sign out
        </button>
      </div>
    );
  }

  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      await signInAs(Number(chosen));
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="ide-session">
      <label htmlFor="ide-sign-in-user">Sign in as</label>
      <select id="ide-sign-in-user" value={chosen} onChange={(event) => setChosen(event.target.value)} disabled={busy}>
        {users.map((user) => (
          <option key={user.id} value={String(user.id)}>
            {user.name} (user {user.id}
            {user.id === 1 ? ', admin' : ''})
          </option>
        ))}
      </select>
      <button type="button" className="ide-button" onClick={() => void submit()} disabled={busy}>
        Sign in
      </button>
      {(error ?? notice) ? (
        <span className="ide-notice" role="alert">
          {error ?? notice}
        </span>
      ) : null}
    </div>
  );
}
