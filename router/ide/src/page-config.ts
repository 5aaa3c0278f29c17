/**
 * What the router tells the page when it serves it, in `data-config` on #root (JSON): where the
 * graph answers, whether the development "Sign in as" control is offered, and this response's
 * CSP nonce for <style> elements. Read once, then removed from the DOM.
 *
 * Importing this module also gives every <style> element the nonce, before any other module runs:
 * Monaco and Radix create <style> elements at run time and offer no nonce option of their own,
 * and the page's CSP admits a <style> element only with this response's nonce.
 */
export interface PageConfig {
  graphqlPath: string;
  devSignIn: boolean;
  styleNonce: string;
}

function readConfig(): PageConfig {
  const root = document.getElementById('root');
  const raw = root?.dataset.config;
  root?.removeAttribute('data-config');
  let parsed: Partial<PageConfig> = {};
  try {
    parsed = raw ? (JSON.parse(raw) as Partial<PageConfig>) : {};
  } catch {
    // Not served by the router (e.g. a preview of the build): the defaults, and no nonce to give.
  }
  return {
    graphqlPath: typeof parsed.graphqlPath === 'string' ? parsed.graphqlPath : '/graphql',
    devSignIn: parsed.devSignIn === true,
    styleNonce: typeof parsed.styleNonce === 'string' ? parsed.styleNonce : '',
  };
}

export const pageConfig = readConfig();

if (pageConfig.styleNonce) {
  const create = document.createElement;
  document.createElement = function createElement(this: Document, tagName: string, options?: ElementCreationOptions) {
    const element = create.call(this, tagName, options);
    if (element instanceof HTMLStyleElement) element.nonce = pageConfig.styleNonce;
    return element;
  } as typeof document.createElement;
}
