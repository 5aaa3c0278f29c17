import { useApolloClient, useMutation } from '@apollo/client/react';
import { SignIn } from './account/SignIn.tsx';
import { Catalogue } from './catalogue/Catalogue.tsx';
import { SignOutDocument } from './generated/graphql/graphql.ts';
import { href, navigate, useRoute } from './navigation.ts';
import { MyOrders } from './orders/MyOrders.tsx';
import { ProductPage } from './product/ProductPage.tsx';
import { session, useSession } from './session.ts';

export function App() {
  const route = useRoute();
  return (
    <>
      <Header />
      <main>
        {route.page === 'catalogue' && <Catalogue />}
        {route.page === 'product' && <ProductPage key={route.id} id={route.id} />}
        {route.page === 'sign-in' && <SignIn then={route.then} />}
        {route.page === 'orders' && <MyOrders />}
        {route.page === 'not-found' && (
          <p>
            Nothing here. <a href={href.catalogue()}>Back to the catalogue</a>
          </p>
        )}
      </main>
    </>
  );
}

function Header() {
  const current = useSession();
  const client = useApolloClient();
  const [signOut] = useMutation(SignOutDocument, { context: { anonymous: true } });
  const leave = async () => {
    const refreshToken = current?.refreshToken;
    session.end();
    // Personal data (orders, email) must not outlive the session in this tab's cache.
    await client.clearStore();
    navigate(href.catalogue());
    if (refreshToken) await signOut({ variables: { refreshToken } }).catch(() => undefined);
  };
  return (
    <header>
      <a className="brand" href={href.catalogue()}>
        Commerce
      </a>
      <nav>
        <a href={href.catalogue()}>Catalogue</a>
        {current && <a href={href.orders()}>My orders</a>}
      </nav>
      <div className="session" aria-live="polite">
        {current ? (
          <>
            <span data-testid="signed-in-as">Signed in as {current.user.name}</span>
            <button type="button" onClick={leave}>
              Sign out
            </button>
          </>
        ) : (
          <a href={href.signIn()}>Sign in</a>
        )}
      </div>
    </header>
  );
}
