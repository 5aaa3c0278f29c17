/** Types of undici's Pool module, which the router imports alone (src/fetcher.ts says why). */
declare module 'undici/lib/dispatcher/pool.js' {
  import type { Pool } from 'undici';
  const PoolClass: typeof Pool;
  export default PoolClass;
}
