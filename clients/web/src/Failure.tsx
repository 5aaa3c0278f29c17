import { describeError } from './apollo.ts';

/** An operation's failure, in the server's words where it gave any. */
export function Failure({ error, retry }: { error: unknown; retry?: () => void }) {
  return (
    <p className="failure" role="alert">
      {describeError(error)}{' '}
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </p>
  );
}
