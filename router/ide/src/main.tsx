// First: reads the router's page config and gives <style> elements the CSP nonce before any
// other module can create one.
import { pageConfig } from './page-config.ts';
import './workers.ts';
import 'graphiql/style.css';
import './ide.css';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { authorizedFetch } from './session.ts';
import { SignInAs } from './SignInAs.tsx';
import type { ExampleTab } from './tabs.ts';

/** Baked in by the build (vite.config.ts) from tabs.ts and the supergraph. */
declare const __EXAMPLE_TABS__: ExampleTab[];

const fetcher = createGraphiQLFetcher({
  url: pageConfig.graphqlPath,
  fetch: authorizedFetch,
  // Plain JSON POSTs: no multipart, no websockets.
  enableIncrementalDelivery: false,
});

/** GraphiQL keeps tabs and history in localStorage; under its own prefix, beside other apps on this origin. */
const PREFIX = 'commerce-ide:';
const storage: Storage = {
  get length() {
    return Object.keys(localStorage).filter((key) => key.startsWith(PREFIX)).length;
  },
  clear: () => Object.keys(localStorage).filter((key) => key.startsWith(PREFIX)).forEach((key) => localStorage.removeItem(key)),
  getItem: (key) => localStorage.getItem(PREFIX + key),
  key: (index) => Object.keys(localStorage).filter((key) => key.startsWith(PREFIX))[index]?.slice(PREFIX.length) ?? null,
  removeItem: (key) => localStorage.removeItem(PREFIX + key),
  setItem: (key, value) => localStorage.setItem(PREFIX + key, value),
};

function Ide() {
  return (
    <GraphiQL fetcher={fetcher} defaultTabs={__EXAMPLE_TABS__} storage={storage} defaultEditorToolsVisibility>
      <GraphiQL.Logo>{pageConfig.devSignIn ? <SignInAs /> : <span className="ide-title">Commerce graph</span>}</GraphiQL.Logo>
    </GraphiQL>
  );
}

const root = document.getElementById('root');
if (!root) throw new Error('#root is missing from the page');
createRoot(root).render(
  <StrictMode>
    <Ide />
  </StrictMode>,
);
